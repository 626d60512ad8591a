/** Graph generators (connectivity, degree structure, determinism), Delaunay correctness, instances and the round rule. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/index.ts';
import { diameter, edgeCount, edgesOf, graphFromEdges, isConnected, maxDegree } from '../graph.ts';
import { delaunayEdges } from './delaunay.ts';
import { generateGraph } from './generators.ts';
import { graphInstances, taskInstance } from './instances.ts';
import { groupsFor, parseTasks, roundsFor } from './tasks.ts';

const SIZES = [4, 8, 16, 50, 100];

describe('graph generators', () => {
  it('always produce connected simple graphs of the requested size', () => {
    for (const family of ['ws', 'ba', 'dt'] as const) {
      for (const size of SIZES) {
        for (const sample of [0, 1, 2]) {
          const graph = generateGraph(family, size, 42, sample);
          assert.equal(graph.nodeCount, size);
          assert.ok(isConnected(graph), `${family}-${size}-${sample} is connected`);
          graph.adjacency.forEach((neighbours, node) => {
            assert.ok(!neighbours.includes(node), 'no self-loops');
            assert.equal(new Set(neighbours).size, neighbours.length, 'no multi-edges');
            for (const other of neighbours) assert.ok(graph.adjacency[other]!.includes(node), 'symmetric');
          });
        }
      }
    }
  });

  it('Watts–Strogatz keeps the lattice edge count (k·n/2) and rewires about p of it', () => {
    for (const size of [16, 50, 100]) assert.equal(edgeCount(generateGraph('ws', size, 42, 0)), 2 * size);
    assert.equal(edgeCount(generateGraph('ws', 4, 42, 0)), 6, 'k ≥ n: the complete graph');
    // Unrewired ring-lattice edges join nodes at ring distance ≤ 2; with p = 0.4 about 60% stay.
    const graph = generateGraph('ws', 1000, 42, 0);
    const lattice = edgesOf(graph).filter(([u, v]) => Math.min(v - u, 1000 - (v - u)) <= 2).length;
    assert.ok(lattice / 2000 > 0.55 && lattice / 2000 < 0.68, `lattice share ${lattice / 2000}`);
  });

  it('Barabási–Albert has m(n − m − 1) + m edges, minimum degree ≥ 1 and a hub', () => {
    for (const size of [16, 50, 100]) {
      const graph = generateGraph('ba', size, 42, 1);
      assert.equal(edgeCount(graph), 2 * (size - 3) + 2);
      assert.ok(graph.adjacency.every((neighbours) => neighbours.length >= 1));
      // Every node added after the seed star brings m = 2 edges.
      assert.ok(graph.adjacency.slice(3).every((neighbours) => neighbours.length >= 2));
    }
    // Preferential attachment: a hub far above the mean degree (≈ 4).
    assert.ok(maxDegree(generateGraph('ba', 1000, 42, 0)) >= 40);
  });

  it('Delaunay graphs are planar triangulations: at most 3n − 6 edges, at least 2n − 3', () => {
    for (const size of [8, 16, 50, 100]) {
      const edges = edgeCount(generateGraph('dt', size, 42, 2));
      assert.ok(edges <= 3 * size - 6 && edges >= 2 * size - 3, `${size} nodes, ${edges} edges`);
    }
  });

  it('is deterministic in (seed, family, size, sample) and varies with each', () => {
    const key = (family: 'ws' | 'ba' | 'dt', seed: number, sample: number): string =>
      JSON.stringify(generateGraph(family, 30, seed, sample).adjacency);
    for (const family of ['ws', 'ba', 'dt'] as const) {
      assert.equal(key(family, 5, 0), key(family, 5, 0));
      assert.notEqual(key(family, 5, 0), key(family, 6, 0));
      assert.notEqual(key(family, 5, 0), key(family, 5, 1));
    }
  });
});

describe('Delaunay triangulation (Bowyer–Watson)', () => {
  it('triangulates a square with its centre into the four spokes and the hull', () => {
    const edges = delaunayEdges([
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0.5, 0.5],
    ]);
    assert.deepEqual(edges, [
      [0, 1],
      [0, 3],
      [0, 4],
      [1, 2],
      [1, 4],
      [2, 3],
      [2, 4],
      [3, 4],
    ]);
  });

  it('has the empty-circumcircle property on random points', () => {
    const rng = createRng(3);
    const points = Array.from({ length: 60 }, () => [rng.next(), rng.next()] as const);
    const graph = graphFromEdges(60, delaunayEdges(points));
    // Count triples of mutual neighbours whose circumcircle holds no other point.
    let faces = 0;
    for (const [a, b] of edgesOf(graph)) {
      for (const c of graph.adjacency[a]!) {
        if (c <= b || !graph.adjacency[b]!.includes(c)) continue;
        const [ax, ay] = points[a]!;
        const [bx, by] = points[b]!;
        const [cx, cy] = points[c]!;
        const d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
        const ux = ((ax * ax + ay * ay) * (by - cy) + (bx * bx + by * by) * (cy - ay) + (cx * cx + cy * cy) * (ay - by)) / d;
        const uy = ((ax * ax + ay * ay) * (cx - bx) + (bx * bx + by * by) * (ax - cx) + (cx * cx + cy * cy) * (bx - ax)) / d;
        const r2 = (ax - ux) ** 2 + (ay - uy) ** 2;
        const inside = points.filter(
          ([x, y], index) => index !== a && index !== b && index !== c && (x - ux) ** 2 + (y - uy) ** 2 < r2 * (1 - 1e-9),
        ).length;
        if (inside === 0) faces++;
      }
    }
    // Euler for a triangulation (one outer face): faces = edges − n + 1. Every face has an empty circumcircle
    // and any other triangle of mutual neighbours encloses a point, so the counts must agree exactly.
    assert.equal(faces, edgeCount(graph) - 60 + 1);
  });
});

describe('instances and rounds', () => {
  it('uses R = 2·diameter + 1 for consensus and leader election, and for every task above 16 agents', () => {
    assert.equal(roundsFor('consensus', 4, 2), 5);
    assert.equal(roundsFor('leader_election', 16, 4), 9);
    assert.equal(roundsFor('coloring', 20, 3), 7);
    assert.equal(roundsFor('vertex_cover', 100, 7), 15);
  });
  it('uses 4, 5, 6 rounds for the other tasks at 4, 8, 16 agents', () => {
    assert.deepEqual(
      [4, 8, 16].map((size) => roundsFor('coloring', size, 3)),
      [4, 5, 6],
    );
    assert.deepEqual(
      [4, 8, 16].map((size) => roundsFor('matching', size, 1)),
      [4, 5, 6],
    );
    assert.equal(roundsFor('vertex_cover', 10, 3), 6, 'sizes in between take the next listed size');
  });
  it('builds 9 graphs per size with names, diameter and k = max degree + 1', () => {
    const graphs = graphInstances(16, 42);
    assert.equal(graphs.length, 9);
    assert.deepEqual(graphs.map((graph) => graph.id).slice(0, 4), ['ws-16-0', 'ws-16-1', 'ws-16-2', 'ba-16-0']);
    for (const instance of graphs) {
      assert.equal(new Set(instance.names).size, 16);
      assert.equal(instance.diameter, diameter(instance.graph));
      const coloring = taskInstance('coloring', instance);
      assert.equal(coloring.groups, groupsFor(maxDegree(instance.graph)));
      assert.equal(coloring.rounds, 6);
      assert.equal(taskInstance('leader_election', instance).rounds, 2 * instance.diameter + 1);
    }
  });
  it('parses task lists with aliases', () => {
    assert.deepEqual(parseTasks('all').length, 5);
    assert.deepEqual(parseTasks('colouring, leader,vc'), ['coloring', 'leader_election', 'vertex_cover']);
    assert.throws(() => parseTasks('sudoku'), /Unknown AgentsNet task/);
  });
});
