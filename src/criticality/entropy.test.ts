/**
 * Von Neumann entropies against closed forms: K_n (ln(n−1), the spec's check), paths, stars and cycles from
 * their normalised-Laplacian spectra, hand-computed 2–4 node cases, edge cases (empty, single node, isolated
 * nodes), the semantic graph from vectors with known cosines, and the Lanczos path against the dense one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/index.ts';
import {
  MAX_SEMANTIC_NODES,
  discoveryParameter,
  laplacianSpectrum,
  semanticEntropy,
  semanticLaplacianEntropy,
  structuralEntropy,
  vonNeumannEntropy,
} from './entropy.ts';
import { undirectedGraph } from './graph.ts';
import { assertClose, complete, cycle, entropyOf, lcg, path, star } from './testing/graphs.ts';

const S = (graph: Parameters<typeof structuralEntropy>[0]) => structuralEntropy(graph).entropy;

describe('structural entropy: closed forms', () => {
  it('K_n: spectrum {0, n/(n−1) ×(n−1)} and S = ln(n−1)', () => {
    for (const n of [2, 3, 4, 5, 10, 50, 200]) {
      const spectrum = laplacianSpectrum(complete(n));
      assertClose(spectrum[0]!, 0, 1e-12);
      for (let i = 1; i < n; i++) assertClose(spectrum[i]!, n / (n - 1), 1e-12, `K_${n} λ${i}`);
      assertClose(S(complete(n)), Math.log(n - 1), 1e-12, `K_${n}`);
    }
  });

  it('P_n: spectrum 1 − cos(πk/(n−1)), k = 0..n−1', () => {
    for (const n of [3, 4, 7, 30, 150]) {
      const expected = Array.from({ length: n }, (_, k) => 1 - Math.cos((Math.PI * k) / (n - 1))).sort((a, b) => a - b);
      const spectrum = laplacianSpectrum(path(n));
      expected.forEach((value, i) => assertClose(spectrum[i]!, value, 1e-12, `P_${n} λ${i}`));
      assertClose(S(path(n)), entropyOf(expected), 1e-12, `P_${n}`);
    }
  });

  it('S_n (star, n nodes): spectrum {0, 1 ×(n−2), 2}, S = ((n−2)/n)·ln n + (2/n)·ln(n/2)', () => {
    for (const n of [3, 4, 5, 12, 100]) {
      const spectrum = laplacianSpectrum(star(n));
      assertClose(spectrum[0]!, 0, 1e-12);
      for (let i = 1; i < n - 1; i++) assertClose(spectrum[i]!, 1, 1e-12);
      assertClose(spectrum[n - 1]!, 2, 1e-12);
      assertClose(S(star(n)), ((n - 2) / n) * Math.log(n) + (2 / n) * Math.log(n / 2), 1e-12, `S_${n}`);
    }
  });

  it('C_n: spectrum 1 − cos(2πk/n)', () => {
    for (const n of [5, 6, 40]) {
      assertClose(S(cycle(n)), entropyOf(Array.from({ length: n }, (_, k) => 1 - Math.cos((2 * Math.PI * k) / n))), 1e-12, `C_${n}`);
    }
  });
});

describe('structural entropy: hand-computed small cases and edge cases', () => {
  it('one edge {0, 2} → p = (1) → S = 0', () => assert.equal(S(path(2)), 0));
  it('P_3 {0, 1, 2} → S = ln 3 − (2/3) ln 2', () => assertClose(S(path(3)), Math.log(3) - (2 / 3) * Math.log(2), 1e-14));
  it('triangle {0, 3/2, 3/2} → S = ln 2', () => assertClose(S(complete(3)), Math.log(2), 1e-14));
  it('C_4 {0, 1, 1, 2} → S = (3/2) ln 2', () => assertClose(S(cycle(4)), 1.5 * Math.log(2), 1e-14));
  it('triangle with a pendant node (4 nodes, hand-derived spectrum)', () => {
    // Edges 0-1, 0-2, 1-2, 2-3; degrees 2, 2, 3, 1. (1, −1, 0, 0) gives λ = 3/2; D^(1/2)·1 gives 0. The other
    // two satisfy λ₁ + λ₂ = tr L − 3/2 = 5/2 and λ₁² + λ₂² = tr L² − 9/4 = 35/6 − 9/4 = 43/12, so λ₁λ₂ = 4/3
    // and λ = 5/4 ± √(11/12)/2.
    const graph = undirectedGraph(4, [
      [0, 1],
      [0, 2],
      [1, 2],
      [2, 3],
    ]);
    const root = Math.sqrt(11 / 12) / 2;
    const expected = [0, 1.25 - root, 1.5, 1.25 + root];
    const spectrum = laplacianSpectrum(graph);
    expected.forEach((value, i) => assertClose(spectrum[i]!, value, 1e-12));
    assertClose(S(graph), entropyOf(expected), 1e-14);
  });
  it('empty graph, single node and edgeless graphs: S = 0, never NaN', () => {
    assert.deepEqual(structuralEntropy(undirectedGraph(0, [])), { entropy: 0, method: 'dense' });
    assert.equal(S(undirectedGraph(1, [])), 0);
    assert.equal(S(undirectedGraph(5, [])), 0);
    assert.equal(S(undirectedGraph(1, [[0, 0]])), 0, 'a self-loop is dropped');
  });
  it('isolated nodes add nothing; components combine over the global Σλ', () => {
    assertClose(
      S(
        undirectedGraph(5, [
          [0, 1],
          [1, 2],
          [0, 2],
        ]),
      ),
      Math.log(2),
      1e-14,
    );
    // Two disjoint triangles: {0, 3/2, 3/2} twice, Σλ = 6 → four p = 1/4 → ln 4.
    assertClose(
      S(
        undirectedGraph(6, [
          [0, 1],
          [1, 2],
          [0, 2],
          [3, 4],
          [4, 5],
          [3, 5],
        ]),
      ),
      Math.log(4),
      1e-14,
    );
    // Two disjoint edges: {0, 2} twice → p = 1/2, 1/2 → ln 2.
    assertClose(
      S(
        undirectedGraph(4, [
          [0, 1],
          [2, 3],
        ]),
      ),
      Math.log(2),
      1e-14,
    );
  });
  it('duplicate and reversed edges are one edge', () => {
    assertClose(
      S(
        undirectedGraph(3, [
          [0, 1],
          [1, 0],
          [1, 2],
          [2, 1],
          [1, 2],
        ]),
      ),
      S(path(3)),
      1e-15,
    );
  });
});

describe('vonNeumannEntropy and D', () => {
  it('normalises by Σλ and ignores zero and rounding-negative eigenvalues', () => {
    assertClose(vonNeumannEntropy([0, -1e-15, 1, 1, 2]), entropyOf([1, 1, 2]), 1e-15);
    assert.equal(vonNeumannEntropy([]), 0);
    assert.equal(vonNeumannEntropy([0, 0]), 0);
  });
  it('D = (S_struct − S_sem)/(S_struct + S_sem), 0 when both vanish', () => {
    assert.equal(discoveryParameter(0, 0), 0);
    assert.equal(discoveryParameter(1, 1), 0);
    assertClose(discoveryParameter(2, 1), 1 / 3, 1e-15);
    assertClose(discoveryParameter(0.97, 1.03), -0.03, 1e-15);
    assert.equal(discoveryParameter(1, 0), 1);
  });
});

const vector = (...values: number[]) => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => (norm > 0 ? value / norm : 0));
};

describe('semantic entropy S_sem (diversity: von Neumann entropy of the null-calibrated kernel K / tr K)', () => {
  it('n identical vectors: K = 11ᵀ, one eigenvalue n → S = 0 (no diversity)', () => {
    for (const n of [2, 3, 8, 30]) assertClose(semanticEntropy(Array.from({ length: n }, () => vector(1, 2, 3))).entropy, 0, 1e-9);
  });
  it('n mutually orthogonal (or opposed, or below-threshold) vectors: K = I → S = ln n (maximal)', () => {
    for (const n of [2, 5, 12]) {
      const vectors = Array.from({ length: n }, (_, i) => vector(...Array.from({ length: n }, (_, k) => (k === i ? 1 : 0))));
      assertClose(semanticEntropy(vectors).entropy, Math.log(n), 1e-9);
    }
    assertClose(semanticEntropy([vector(1, 0), vector(-1, 0)]).entropy, Math.log(2), 1e-9);
    // cos = 0.3 is below τ₀ = 0.4: no edge, as unrelated as orthogonal vectors.
    assertClose(semanticEntropy([vector(1, 0), vector(0.3, Math.sqrt(0.91))], { threshold: 0.4 }).entropy, Math.log(2), 1e-6);
  });
  it('two vectors with cosine c above τ₀: eigenvalues 1 ± w, w = (c − τ₀)/(1 − τ₀)', () => {
    const c = 0.8;
    const pair = [vector(1, 0), vector(c, Math.sqrt(1 - c * c))];
    for (const threshold of [0, 0.2, 0.5]) {
      const w = (c - threshold) / (1 - threshold);
      assertClose(semanticEntropy(pair, { threshold }).entropy, entropyOf([1 + w, 1 - w]), 1e-6, `τ₀ = ${threshold}`);
    }
  });
  it('k groups of identical vectors (orthogonal between groups) → ln k, whatever the group sizes are if equal', () => {
    const group = (axis: number, size: number) => Array.from({ length: size }, () => vector(...[0, 1, 2].map((k) => (k === axis ? 1 : 0))));
    assertClose(semanticEntropy([...group(0, 4), ...group(1, 4), ...group(2, 4)]).entropy, Math.log(3), 1e-9);
    // Unequal groups: p = size / n.
    assertClose(semanticEntropy([...group(0, 1), ...group(1, 3)]).entropy, entropyOf([1, 3]), 1e-9);
  });
  it('a zero vector (empty text) is left out; empty input gives 0; a bad threshold throws', () => {
    assertClose(semanticEntropy([vector(1, 0), vector(0, 1), vector(0, 0)]).entropy, Math.log(2), 1e-9);
    assert.equal(semanticEntropy([]).entropy, 0);
    assert.equal(semanticEntropy([vector(0, 0)]).entropy, 0);
    assert.equal(semanticEntropy([vector(1, 0)]).entropy, 0);
    assert.throws(() => semanticEntropy([vector(1, 0), vector(0, 1)], { threshold: 1 }), RangeError);
  });
  it('refuses semantic graphs past MAX_SEMANTIC_NODES instead of allocating n² weights', () => {
    assert.throws(
      () => semanticEntropy(Array.from({ length: MAX_SEMANTIC_NODES + 1 }, () => vector(1))),
      (error: unknown) => error instanceof InvalidInputError && error.issues[0]!.path === 'nodes',
    );
  });
});

describe("the spec's literal semantic entropy (normalised Laplacian of max(0, cos))", () => {
  it('n identical vectors: W = J − I, the complete graph → ln(n−1)', () => {
    for (const n of [2, 3, 8, 30])
      assertClose(semanticLaplacianEntropy(Array.from({ length: n }, () => vector(1, 2, 3))).entropy, Math.log(n - 1), 1e-6);
  });
  it('equal positive cosines of any size give the same weighted-complete-graph entropy', () => {
    // Unit vectors with pairwise cosine 1/2: e_i' = (e_i + u)/√2 with a shared orthogonal u.
    const n = 6;
    const vectors = Array.from({ length: n }, (_, i) => vector(...Array.from({ length: n + 1 }, (_, k) => (k === i || k === n ? 1 : 0))));
    assertClose(semanticLaplacianEntropy(vectors).entropy, Math.log(n - 1), 1e-6);
  });
  it('orthogonal or opposed vectors: W = 0 (negative cosines clipped) → S = 0', () => {
    assert.equal(semanticLaplacianEntropy([vector(1, 0), vector(0, 1)]).entropy, 0);
    assert.equal(semanticLaplacianEntropy([vector(1, 0), vector(-1, 0)]).entropy, 0);
    assert.equal(semanticLaplacianEntropy([]).entropy, 0);
    assert.equal(semanticLaplacianEntropy([vector(1, 0)]).entropy, 0);
  });
  it('e1, e2 and their bisector form a weighted P_3 → ln 3 − (2/3) ln 2', () => {
    assertClose(semanticLaplacianEntropy([vector(1, 0), vector(0, 1), vector(1, 1)]).entropy, Math.log(3) - (2 / 3) * Math.log(2), 1e-6);
  });
  it('refuses semantic graphs past MAX_SEMANTIC_NODES instead of allocating n² weights', () => {
    assert.throws(
      () => semanticLaplacianEntropy(Array.from({ length: MAX_SEMANTIC_NODES + 1 }, () => vector(1))),
      (error: unknown) => error instanceof InvalidInputError && error.issues[0]!.path === 'nodes',
    );
  });
  it('a zero vector (empty text) is isolated, not NaN', () => {
    assertClose(semanticLaplacianEntropy([vector(1, 0), vector(1, 0), vector(1, 0), vector(0, 0)]).entropy, Math.log(2), 1e-6);
  });
});

describe('Lanczos quadrature past the dense limit', () => {
  it('structural: a random sparse graph within 1.5% of the exact value, marked lanczos', () => {
    const random = lcg(5);
    const n = 600;
    const pairs: Array<[number, number]> = [];
    for (let i = 1; i < n; i++) for (let k = 0; k < 3; k++) pairs.push([i, Math.floor(random() * i)]);
    const graph = undirectedGraph(n, pairs);
    const exact = structuralEntropy(graph);
    const estimate = structuralEntropy(graph, { denseLimit: 100 });
    assert.equal(exact.method, 'dense');
    assert.equal(estimate.method, 'lanczos');
    assertClose(estimate.entropy, exact.entropy, 0.015 * exact.entropy);
  });
  it('semantic: random embeddings within 1.5% of the exact value, marked lanczos', () => {
    const random = lcg(9);
    const vectors = Array.from({ length: 500 }, () => vector(...Array.from({ length: 16 }, () => random() - 0.3)));
    for (const entropy of [semanticEntropy, semanticLaplacianEntropy]) {
      const exact = entropy(vectors, { threshold: 0.1 });
      const estimate = entropy(vectors, { threshold: 0.1, denseLimit: 100 });
      assert.equal(estimate.method, 'lanczos');
      assertClose(estimate.entropy, exact.entropy, 0.015 * exact.entropy, entropy.name);
    }
  });
});
