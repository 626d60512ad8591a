/**
 * Von Neumann entropies of the structural and semantic graphs (criticality.md): the normalised Laplacian
 * L = I − D^(−1/2) W D^(−1/2), its eigenvalues λ_i, p_i = λ_i / Σλ, S = −Σ p_i ln p_i over p_i > 0, and the
 * critical discovery parameter D = (S_struct − S_sem) / (S_struct + S_sem).
 *
 * Isolated nodes (zero degree) get a zero row and column, as in Chung's definition and networkx: they add an
 * eigenvalue 0 and so nothing to the entropy (the literal I − D^(−1/2)WD^(−1/2) with D^(−1/2) := 0 would give
 * them eigenvalue 1, making a set of unconnected nodes look maximally "diverse"). Hence Σλ = tr L = the
 * number of non-isolated nodes. An empty or edgeless graph has S = 0, and D = 0 when both entropies are 0.
 *
 * Up to `denseLimit` nodes the spectrum is exact (Householder + QL, eigen.ts); past it the entropy is a
 * stochastic Lanczos quadrature estimate (lanczos.ts) and is reported as such. The structural graph is split
 * into connected components first — L is block-diagonal, so its spectrum is the union of theirs — which keeps
 * a fragmented graph's cost at the size of its largest component.
 */
import { InvalidInputError } from '../core/index.ts';
import { symmetricEigenvalues } from './eigen.ts';
import { estimateTrace, type QuadratureOptions } from './lanczos.ts';
import { connectedComponents, degree, type UndirectedGraph } from './graph.ts';

export type EntropyMethod = 'dense' | 'lanczos';

export interface EntropyResult {
  entropy: number;
  method: EntropyMethod;
}

export interface EntropyOptions {
  /** Largest matrix decomposed exactly (default 2000 rows). */
  denseLimit?: number;
  quadrature?: QuadratureOptions;
}

export interface SemanticEntropyOptions extends EntropyOptions {
  /**
   * The null threshold τ₀ of the semantic graph: a pair is joined only when cos > τ₀, with weight
   * (cos − τ₀)/(1 − τ₀) — how far above the null it is, on [0, 1]. 0 gives the raw W = max(0, cos).
   * Must lie in [0, 1).
   */
  threshold?: number;
}

export const DEFAULT_DENSE_LIMIT = 2000;

/**
 * The semantic graph is dense: past this many nodes its n² weights (4 bytes each under Lanczos) would need
 * over 400 MB, so the metrics refuse rather than exhaust memory. (The published final graph has 3,835 nodes.)
 */
export const MAX_SEMANTIC_NODES = 10_000;

/** Eigenvalues below this are zero up to rounding (normalised-Laplacian spectra lie in [0, 2]). */
const ZERO_EIGENVALUE = 1e-12;

/** −Σ p ln p with p_i = λ_i / Σλ over the positive eigenvalues; 0 for an empty or all-zero spectrum. */
export function vonNeumannEntropy(eigenvalues: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < eigenvalues.length; i++) if (eigenvalues[i]! > ZERO_EIGENVALUE) total += eigenvalues[i]!;
  return total > 0 ? entropyTerms(eigenvalues, total) : 0;
}

/** Σ −(λ/total) ln(λ/total) over positive λ: one component's share of an entropy normalised by `total`. */
function entropyTerms(eigenvalues: ArrayLike<number>, total: number): number {
  let entropy = 0;
  for (let i = 0; i < eigenvalues.length; i++) entropy += entropyTerm(eigenvalues[i]!, total);
  return entropy;
}

function entropyTerm(eigenvalue: number, total: number): number {
  if (eigenvalue <= ZERO_EIGENVALUE) return 0;
  const p = eigenvalue / total;
  return -p * Math.log(p);
}

/** D = (S_struct − S_sem) / (S_struct + S_sem), defined as 0 when both are 0. */
export function discoveryParameter(structural: number, semantic: number): number {
  const sum = structural + semantic;
  return sum > 0 ? (structural - semantic) / sum : 0;
}

/** Eigenvalues of the normalised Laplacian of an unweighted graph (dense; for tests and small graphs). */
export function laplacianSpectrum(graph: UndirectedGraph): Float64Array {
  return symmetricEigenvalues(
    denseStructuralLaplacian(
      graph,
      Array.from({ length: graph.n }, (_, i) => i),
    ),
    graph.n,
  );
}

/** Von Neumann entropy of the normalised Laplacian of the (unweighted) structural graph. */
export function structuralEntropy(graph: UndirectedGraph, options: EntropyOptions = {}): EntropyResult {
  const denseLimit = options.denseLimit ?? DEFAULT_DENSE_LIMIT;
  let total = 0;
  for (let i = 0; i < graph.n; i++) if (degree(graph, i) > 0) total++;
  if (total === 0) return { entropy: 0, method: 'dense' };
  let entropy = 0;
  let method: EntropyMethod = 'dense';
  for (const members of connectedComponents(graph).members) {
    if (members.length === 1) continue;
    // A single edge: spectrum {0, 2} in closed form, no decomposition needed (common in fragmented graphs).
    if (members.length === 2) entropy += entropyTerm(2, total);
    else if (members.length <= denseLimit)
      entropy += entropyTerms(symmetricEigenvalues(denseStructuralLaplacian(graph, members), members.length), total);
    else {
      method = 'lanczos';
      entropy += estimateTrace(
        sparseLaplacianProduct(graph, members),
        members.length,
        (lambda) => entropyTerm(lambda, total),
        options.quadrature,
      );
    }
  }
  return { entropy, method };
}

/** Dense normalised Laplacian (lower triangle, row-major) of the subgraph on `members`, one component. */
function denseStructuralLaplacian(graph: UndirectedGraph, members: readonly number[]): Float64Array {
  const size = members.length;
  const local = new Map<number, number>();
  members.forEach((node, index) => local.set(node, index));
  const matrix = new Float64Array(size * size);
  members.forEach((node, i) => {
    const degreeI = degree(graph, node);
    if (degreeI === 0) return;
    matrix[i * size + i] = 1;
    for (let k = graph.offsets[node]!; k < graph.offsets[node + 1]!; k++) {
      const j = local.get(graph.neighbors[k]!);
      if (j !== undefined && j < i) matrix[i * size + j] = -1 / Math.sqrt(degreeI * degree(graph, members[j]!));
    }
  });
  return matrix;
}

/** y = L x on the subgraph `members` (a connected component), from the sparse adjacency. */
function sparseLaplacianProduct(graph: UndirectedGraph, members: readonly number[]) {
  const size = members.length;
  const local = new Map<number, number>();
  members.forEach((node, index) => local.set(node, index));
  const inverseRoot = Float64Array.from(members, (node) => 1 / Math.sqrt(degree(graph, node)));
  const starts = new Int32Array(size + 1);
  const columns: number[] = [];
  members.forEach((node, i) => {
    for (let k = graph.offsets[node]!; k < graph.offsets[node + 1]!; k++) columns.push(local.get(graph.neighbors[k]!)!);
    starts[i + 1] = columns.length;
  });
  const cols = Int32Array.from(columns);
  return (x: Float64Array, y: Float64Array): void => {
    for (let i = 0; i < size; i++) {
      let sum = 0;
      for (let k = starts[i]!; k < starts[i + 1]!; k++) sum += x[cols[k]!]! * inverseRoot[cols[k]!]!;
      y[i] = x[i]! - inverseRoot[i]! * sum;
    }
  };
}

/** The thresholded semantic weights (lower triangle, row-major) and each node's weighted degree. */
function semanticWeights(
  vectors: readonly Float32Array[],
  threshold: number,
  dense: boolean,
): { weights: Float64Array | Float32Array; degrees: Float64Array } {
  const n = vectors.length;
  if (n > MAX_SEMANTIC_NODES) {
    throw new InvalidInputError('Graph too large for the semantic graph', [
      { path: 'nodes', message: `${n} nodes; the dense semantic graph is limited to ${MAX_SEMANTIC_NODES}` },
    ]);
  }
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`semantic entropy: threshold must be in [0, 1), got ${threshold}`);
  const scale = 1 / (1 - threshold);
  // Dense: a Float64 matrix decomposed in place. Lanczos: Float32 halves the memory of the n² weights kept
  // for repeated products; their rounding (1e-7) is far below the quadrature's own error.
  const weights = dense ? new Float64Array(n * n) : new Float32Array(n * n);
  const degrees = new Float64Array(n);
  // The n²/2 dot products cost about a tenth of the decomposition; a flat Float64 copy and four accumulators
  // (independent add chains) make them ~1.7× faster than looping over the Float32 vectors.
  const dimension = vectors[0]!.length;
  if (vectors.some((vector) => vector.length !== dimension)) throw new RangeError('semantic entropy: vectors of different dimensions');
  const flat = new Float64Array(n * dimension);
  vectors.forEach((vector, i) => flat.set(vector, i * dimension));
  const unrolled = dimension - (dimension % 4);
  for (let i = 0; i < n; i++) {
    const left = i * dimension;
    for (let j = 0; j < i; j++) {
      const right = j * dimension;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let k = 0; k < unrolled; k += 4) {
        c0 += flat[left + k]! * flat[right + k]!;
        c1 += flat[left + k + 1]! * flat[right + k + 1]!;
        c2 += flat[left + k + 2]! * flat[right + k + 2]!;
        c3 += flat[left + k + 3]! * flat[right + k + 3]!;
      }
      for (let k = unrolled; k < dimension; k++) c0 += flat[left + k]! * flat[right + k]!;
      const excess = c0 + c1 + c2 + c3 - threshold;
      if (excess <= 0) continue;
      const weight = Math.min(1, excess * scale);
      weights[i * n + j] = weight;
      degrees[i]! += weight;
      degrees[j]! += weight;
    }
  }
  return { weights, degrees };
}

/** y = M x for a symmetric n×n matrix whose lower triangle is filled: mirrors it first, then walks whole rows. */
function denseProduct(matrix: Float32Array, n: number) {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) matrix[j * n + i] = matrix[i * n + j]!;
  return (x: Float64Array, y: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += matrix[row + j]! * x[j]!;
      y[i] = sum;
    }
  };
}

/**
 * S_sem: the von Neumann entropy of the semantic graph's density matrix ρ = K / tr K, where K_ii = 1 and
 * K_ij = w_ij = min(1, (cos(e_i, e_j) − τ₀) / (1 − τ₀)) when the cosine exceeds the embedder's null
 * threshold τ₀ (calibration.ts), else 0. S = −Σ p ln p over K's positive eigenvalues, p = λ / tr K.
 *
 * It measures semantic diversity, in nats: n texts that are all alike give K = 11ᵀ and S = 0; n texts that
 * are mutually unrelated (every cosine at or below the null) give K = I and S = ln n, the maximum; a cluster
 * structure gives about ln(number of distinct meanings). This is the Vendi score's entropy (Friedman & Dieng,
 * "The Vendi Score", TMLR 2023) on a null-calibrated similarity kernel. The spec's literal form — the
 * normalised-Laplacian entropy of W = max(0, cos) — is `semanticLaplacianEntropy`; it is content-blind (it
 * sees connectivity, and a dense positive-weight graph is connected whatever the texts say).
 *
 * Vectors must be L2-normalised. A zero vector (an empty text) has no meaning to count: its row of K is 0.
 * The thresholded kernel is not positive semi-definite in general (chains of partial similarity — a ~ b,
 * b ~ c, a ≁ c — give negative eigenvalues), so ρ is K's projection onto the PSD cone, normalised:
 * p_i = λ_i / Σ_{λ>0} λ over the positive eigenvalues only. Past `denseLimit`, Σλ ln λ and Σλ over λ > 0 are
 * two Lanczos traces from the same probes (the kink at 0 makes this estimate coarser than the structural one).
 */
export function semanticEntropy(vectors: readonly Float32Array[], options: SemanticEntropyOptions = {}): EntropyResult {
  const n = vectors.length;
  if (n === 0) return { entropy: 0, method: 'dense' };
  const dense = n <= (options.denseLimit ?? DEFAULT_DENSE_LIMIT);
  const { weights } = semanticWeights(vectors, options.threshold ?? 0, dense);
  let nonzero = 0;
  for (let i = 0; i < n; i++) {
    if (vectors[i]!.some((value) => value !== 0)) {
      weights[i * n + i] = 1;
      nonzero++;
    }
  }
  if (nonzero === 0) return { entropy: 0, method: 'dense' };
  if (weights instanceof Float64Array) {
    const spectrum = symmetricEigenvalues(weights, n);
    let positive = 0;
    for (const lambda of spectrum) if (lambda > ZERO_EIGENVALUE) positive += lambda;
    return { entropy: entropyTerms(spectrum, positive), method: 'dense' };
  }
  // S = ln T − (1/T) Σ λ ln λ over λ > 0, T = Σ λ over λ > 0: two traces from the same probes.
  const product = denseProduct(weights, n);
  const positive = estimateTrace(product, n, (lambda) => (lambda > ZERO_EIGENVALUE ? lambda : 0), options.quadrature);
  const plogp = estimateTrace(product, n, (lambda) => (lambda > ZERO_EIGENVALUE ? lambda * Math.log(lambda) : 0), options.quadrature);
  return { entropy: positive > 0 ? Math.max(0, Math.log(positive) - plogp / positive) : 0, method: 'lanczos' };
}

/**
 * The spec's literal S_sem: von Neumann entropy of the normalised Laplacian of the semantic graph with
 * weights w_ij as in `semanticEntropy` (threshold 0: W_ij = max(0, cos(e_i, e_j)), i ≠ j). Kept for
 * comparison: it is nearly blind to content (random texts and identical texts both give ≈ ln(n − 1)).
 * Vectors must be L2-normalised (a zero vector is an isolated node).
 */
export function semanticLaplacianEntropy(vectors: readonly Float32Array[], options: SemanticEntropyOptions = {}): EntropyResult {
  const n = vectors.length;
  if (n < 2) return { entropy: 0, method: 'dense' };
  const dense = n <= (options.denseLimit ?? DEFAULT_DENSE_LIMIT);
  const { weights, degrees } = semanticWeights(vectors, options.threshold ?? 0, dense);
  let total = 0;
  const inverseRoot = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (degrees[i]! > 0) {
      total++;
      inverseRoot[i] = 1 / Math.sqrt(degrees[i]!);
    }
  }
  if (total === 0) return { entropy: 0, method: 'dense' };
  // Normalise in place: the lower triangle becomes −D^(−1/2) W D^(−1/2), the diagonal 1 (0 when isolated).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) weights[i * n + j] = -weights[i * n + j]! * inverseRoot[i]! * inverseRoot[j]!;
    weights[i * n + i] = degrees[i]! > 0 ? 1 : 0;
  }
  if (weights instanceof Float64Array) return { entropy: entropyTerms(symmetricEigenvalues(weights, n), total), method: 'dense' };
  return {
    entropy: estimateTrace(denseProduct(weights, n), n, (lambda) => entropyTerm(lambda, total), options.quadrature),
    method: 'lanczos',
  };
}
