/**
 * AgentsNet's three graph families, each generated from a seed:
 *   ws — small world: connected Watts–Strogatz, k = 4, rewiring p = 0.4 (regenerated until connected);
 *   ba — scale free: Barabási–Albert, m = 2 (star seed graph, preferential attachment);
 *   dt — geometric: Delaunay triangulation of n uniform random points in the unit square.
 * The algorithms follow networkx's (which the reference calls), so the graphs have the same distribution —
 * not the same samples: the random streams differ.
 */
import { InvalidInputError, rngFor, type Rng } from '../../core/index.ts';
import { graphFromEdges, isConnected, type AgentGraph } from '../graph.ts';
import { delaunayEdges } from './delaunay.ts';

export type GraphFamily = 'ws' | 'ba' | 'dt';
export const GRAPH_FAMILIES: readonly GraphFamily[] = ['ws', 'ba', 'dt'];

const WS_K = 4;
const WS_P = 0.4;
const BA_M = 2;
const CONNECT_TRIES = 100;

function completeGraph(n: number): AgentGraph {
  const edges: Array<[number, number]> = [];
  for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) edges.push([u, v]);
  return graphFromEdges(n, edges);
}

/** One Watts–Strogatz draw: ring lattice (each node to its k/2 nearest on each side), then rewiring. */
function wattsStrogatz(n: number, k: number, p: number, rng: Rng): AgentGraph {
  if (k >= n) return completeGraph(n);
  const adjacency = Array.from({ length: n }, () => new Set<number>());
  const link = (u: number, v: number): void => {
    adjacency[u]!.add(v);
    adjacency[v]!.add(u);
  };
  const half = Math.floor(k / 2);
  for (let j = 1; j <= half; j++) for (let u = 0; u < n; u++) link(u, (u + j) % n);
  for (let j = 1; j <= half; j++) {
    for (let u = 0; u < n; u++) {
      if (rng.next() >= p) continue;
      const v = (u + j) % n;
      // A node already linked to everybody keeps its edge (networkx's escape from the retry loop).
      if (adjacency[u]!.size >= n - 1) continue;
      let w = rng.int(n);
      while (w === u || adjacency[u]!.has(w)) w = rng.int(n);
      adjacency[u]!.delete(v);
      adjacency[v]!.delete(u);
      link(u, w);
    }
  }
  return { nodeCount: n, adjacency: adjacency.map((set) => [...set].sort((a, b) => a - b)) };
}

function connectedWattsStrogatz(n: number, rng: Rng): AgentGraph {
  for (let attempt = 0; attempt < CONNECT_TRIES; attempt++) {
    const graph = wattsStrogatz(n, WS_K, WS_P, rng);
    if (isConnected(graph)) return graph;
  }
  throw new InvalidInputError('Cannot generate graph', [
    { path: 'ws', message: `no connected Watts–Strogatz graph on ${n} nodes in ${CONNECT_TRIES} tries` },
  ]);
}

/** Barabási–Albert: a star on m+1 nodes, then each new node links to m distinct degree-weighted targets. */
function barabasiAlbert(n: number, m: number, rng: Rng): AgentGraph {
  if (n <= m + 1) return completeGraph(n);
  const edges: Array<[number, number]> = [];
  // Every node appears once per incident edge, so a uniform pick from this list is degree-proportional.
  const repeated: number[] = [];
  for (let leaf = 1; leaf <= m; leaf++) {
    edges.push([0, leaf]);
    repeated.push(0, leaf);
  }
  for (let source = m + 1; source < n; source++) {
    const targets = new Set<number>();
    while (targets.size < m) targets.add(repeated[rng.int(repeated.length)]!);
    for (const target of targets) {
      edges.push([source, target]);
      repeated.push(target, source);
    }
  }
  return graphFromEdges(n, edges);
}

function delaunayGraph(n: number, rng: Rng): AgentGraph {
  for (let attempt = 0; attempt < CONNECT_TRIES; attempt++) {
    const points = Array.from({ length: n }, () => [rng.next(), rng.next()] as const);
    const graph = graphFromEdges(n, delaunayEdges(points));
    if (isConnected(graph)) return graph;
  }
  throw new InvalidInputError('Cannot generate graph', [
    { path: 'dt', message: `no connected triangulation of ${n} points in ${CONNECT_TRIES} tries` },
  ]);
}

/** The graph of `family` on `nodeCount` nodes for this seed and sample index; same arguments, same graph. */
export function generateGraph(family: GraphFamily, nodeCount: number, seed: number, sample = 0): AgentGraph {
  if (!Number.isInteger(nodeCount) || nodeCount < 2)
    throw new InvalidInputError('Cannot generate graph', [{ path: 'size', message: `needs at least 2 nodes, got ${nodeCount}` }]);
  const rng = rngFor(seed, 'agentsnet-graph', family, nodeCount, sample);
  switch (family) {
    case 'ws':
      return connectedWattsStrogatz(nodeCount, rng);
    case 'ba':
      return barabasiAlbert(nodeCount, BA_M, rng);
    case 'dt':
      return delaunayGraph(nodeCount, rng);
  }
}
