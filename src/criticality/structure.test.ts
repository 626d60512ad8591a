/**
 * Clustering, betweenness, Louvain modularity and degree distribution against hand-computed values (the
 * networkx conventions named in structure.ts), and snapshot / canonicalisation semantics of graph.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, snapshotAt, undirectedGraph, type CriticalityGraph } from './graph.ts';
import { louvain, modularity } from './louvain.ts';
import { betweenness, clustering, degreeDistribution } from './structure.ts';
import { assertClose, complete, path, star } from './testing/graphs.ts';

describe('clustering', () => {
  it('K_4: every coefficient 1; star: 0; triangle with a pendant: (1 + 1 + 1/3 + 0)/4', () => {
    assert.deepEqual(clustering(complete(4)), { average: 1, transitivity: 1, triangles: 4 });
    assert.deepEqual(clustering(star(6)), { average: 0, transitivity: 0, triangles: 0 });
    const pendant = clustering(
      undirectedGraph(4, [
        [0, 1],
        [0, 2],
        [1, 2],
        [2, 3],
      ]),
    );
    assertClose(pendant.average, (1 + 1 + 1 / 3) / 4, 1e-15);
    // 1 triangle; connected triples: 1 + 1 + 3 + 0 = 5 → transitivity 3/5.
    assertClose(pendant.transitivity, 3 / 5, 1e-15);
    assert.deepEqual(clustering(undirectedGraph(0, [])), { average: 0, transitivity: 0, triangles: 0 });
  });
});

describe('betweenness', () => {
  it('star centre 1, leaves 0; P_5: 0, 1/2, 2/3, 1/2, 0', () => {
    const starValues = betweenness(star(7)).values;
    assertClose(starValues[0]!, 1, 1e-15);
    for (let i = 1; i < 7; i++) assert.equal(starValues[i], 0);
    [0, 0.5, 2 / 3, 0.5, 0].forEach((value, i) => assertClose(betweenness(path(5)).values[i]!, value, 1e-15));
  });
  it('splits credit over equal shortest paths: C_4 gives every node 1/6', () => {
    // In C_4, each opposite pair has two shortest paths; each middle node carries 1/2 of one pair → 0.5 / 3.
    const values = betweenness(
      undirectedGraph(4, [
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 0],
      ]),
    ).values;
    for (const value of values) assertClose(value, 1 / 6, 1e-15);
  });
  it('samples sources past the exact limit and says so', () => {
    const result = betweenness(star(50), { exactLimit: 10, samples: 20, seed: 1 });
    assert.equal(result.method, 'sampled');
    // Every source other than the centre sends all its paths through the centre: the estimate is close to 1.
    assert.ok(result.values[0]! > 0.8 && result.values[0]! <= 1.05, String(result.values[0]));
  });
});

describe('louvain and modularity', () => {
  it('two K_5 joined by one edge: two communities, Q = 20/21 − 1/2', () => {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) pairs.push([i, j], [i + 5, j + 5]);
    pairs.push([4, 5]);
    const result = louvain(undirectedGraph(10, pairs));
    assert.equal(result.count, 2);
    assert.deepEqual([...result.membership], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assertClose(result.modularity, 20 / 21 - 0.5, 1e-12);
  });
  it('a ring of 6 triangles merges each triangle and is deterministic', () => {
    const pairs: Array<[number, number]> = [];
    for (let t = 0; t < 6; t++) {
      const a = 3 * t;
      pairs.push([a, a + 1], [a + 1, a + 2], [a, a + 2], [a + 2, (a + 3) % 18]);
    }
    const graph = undirectedGraph(18, pairs);
    const result = louvain(graph);
    assert.equal(result.count, 6);
    // 24 edges; each community: 3 inside, degree 8 → Q = 6 × (3/24 − (8/48)²) = 3/4 − 1/6.
    assertClose(result.modularity, 0.75 - 1 / 6, 1e-12);
    assert.deepEqual(louvain(graph), result);
  });
  it('edgeless graphs have modularity 0 and singleton communities', () => {
    assert.deepEqual(louvain(undirectedGraph(3, [])), { membership: Int32Array.of(0, 1, 2), count: 3, modularity: 0 });
    assert.equal(modularity(undirectedGraph(0, []), []), 0);
  });
});

describe('degree distribution', () => {
  it('star on 5 nodes: four of degree 1, one of degree 4', () => {
    assert.deepEqual(degreeDistribution(star(5)), [
      { degree: 1, count: 4 },
      { degree: 4, count: 1 },
    ]);
  });
});

const stepped: CriticalityGraph = {
  nodes: [
    { id: 'q', text: 'query', step: 0 },
    { id: 'a', text: 'answer a', step: 1 },
    { id: 'b', text: 'answer b', step: 3 },
  ],
  edges: [
    { from: 'a', to: 'q', step: 2 },
    { from: 'q', to: 'a', step: 2 },
    { from: 'b', to: 'q', step: 4 },
    { from: 'b', to: 'a', step: 1 }, // stamped before b exists: waits for b
    { from: 'b', to: 'b', step: 4 },
  ],
};

describe('snapshots', () => {
  it('G(s) holds nodes and edges with step ≤ s, undirected, deduplicated, without self-loops', () => {
    const at = (step: number | null) => snapshotAt(stepped, step);
    assert.deepEqual(at(0).ids, ['q']);
    assert.equal(at(1).graph.edgeFrom.length, 0);
    assert.equal(at(2).graph.edgeFrom.length, 1, 'a→q and q→a are one undirected edge');
    assert.equal(at(3).graph.edgeFrom.length, 2, 'b–a (step 1) appears once b exists');
    assert.equal(at(4).graph.edgeFrom.length, 3);
    assert.equal(at(null).graph.edgeFrom.length, 3);
  });
  it('canonicalisation merges into the most similar earlier node at cosine ≥ threshold', () => {
    const vectors = [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(0.6, 0.8)];
    assert.deepEqual([...canonicalize(stepped, vectors, 0.79)], [0, 1, 1]);
    assert.deepEqual([...canonicalize(stepped, vectors, 0.85)], [0, 1, 2]);
    const merged = snapshotAt(stepped, null, canonicalize(stepped, vectors, 0.79));
    assert.deepEqual(merged.ids, ['q', 'a']);
    assert.equal(merged.graph.edgeFrom.length, 1, 'b–q becomes a–q, b–a a self-loop: both drop');
  });
});
