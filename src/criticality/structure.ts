/**
 * Structural graph metrics besides the entropy: clustering (average local coefficient and transitivity),
 * betweenness centrality (Brandes), hub and bridge nodes, and the degree distribution. Definitions follow
 * networkx so numbers can be cross-checked there: average clustering counts nodes of degree < 2 as 0;
 * betweenness is normalised by (n−1)(n−2) for an undirected graph (a star's centre scores 1).
 */
import { rngFor } from '../core/index.ts';
import { degree, type UndirectedGraph } from './graph.ts';

export interface Clustering {
  /** Mean of the local clustering coefficients (degree < 2 counts as 0). */
  average: number;
  /** 3 × triangles / connected triples (global clustering). */
  transitivity: number;
  triangles: number;
}

export function clustering(graph: UndirectedGraph): Clustering {
  const perNode = new Float64Array(graph.n);
  let triangles = 0;
  // Each triangle u < v < w is found once, from its edge (u, v), by intersecting sorted neighbour lists.
  for (let k = 0; k < graph.edgeFrom.length; k++) {
    const u = graph.edgeFrom[k]!;
    const v = graph.edgeTo[k]!;
    let a = graph.offsets[u]!;
    let b = graph.offsets[v]!;
    const endA = graph.offsets[u + 1]!;
    const endB = graph.offsets[v + 1]!;
    while (a < endA && b < endB) {
      const x = graph.neighbors[a]!;
      const y = graph.neighbors[b]!;
      if (x < y) a++;
      else if (y < x) b++;
      else {
        if (x > v) {
          triangles++;
          perNode[u]!++;
          perNode[v]!++;
          perNode[x]!++;
        }
        a++;
        b++;
      }
    }
  }
  let sum = 0;
  let triples = 0;
  for (let i = 0; i < graph.n; i++) {
    const k = degree(graph, i);
    if (k < 2) continue;
    const pairs = (k * (k - 1)) / 2;
    sum += perNode[i]! / pairs;
    triples += pairs;
  }
  return { average: graph.n > 0 ? sum / graph.n : 0, transitivity: triples > 0 ? (3 * triangles) / triples : 0, triangles };
}

export interface BetweennessOptions {
  /** Exact (every node a BFS source) up to this many nodes; sampled sources past it (default 5000). */
  exactLimit?: number;
  /** Sources sampled past the limit (default 500). */
  samples?: number;
  seed?: number;
}

export interface Betweenness {
  values: Float64Array;
  method: 'exact' | 'sampled';
}

/**
 * Normalised betweenness centrality (Brandes 2001, O(n·m)). Past `exactLimit` nodes, Brandes–Pich source
 * sampling: the dependencies from k random sources, scaled by n/k, are an unbiased estimate.
 */
export function betweenness(graph: UndirectedGraph, options: BetweennessOptions = {}): Betweenness {
  const n = graph.n;
  const values = new Float64Array(n);
  const exact = n <= (options.exactLimit ?? 5000);
  let sources = Array.from({ length: n }, (_, i) => i);
  if (!exact) {
    const rng = rngFor(options.seed ?? 0, 'betweenness', n);
    // Partial Fisher–Yates: the first k entries are a uniform sample without replacement.
    const k = Math.min(n, options.samples ?? 500);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(n - i);
      [sources[i], sources[j]] = [sources[j]!, sources[i]!];
    }
    sources = sources.slice(0, k);
  }
  const sigma = new Float64Array(n);
  const distance = new Int32Array(n);
  const delta = new Float64Array(n);
  const order = new Int32Array(n);
  for (const source of sources) {
    sigma.fill(0);
    distance.fill(-1);
    delta.fill(0);
    sigma[source] = 1;
    distance[source] = 0;
    let head = 0;
    let tail = 0;
    order[tail++] = source;
    while (head < tail) {
      const node = order[head++]!;
      for (let k = graph.offsets[node]!; k < graph.offsets[node + 1]!; k++) {
        const next = graph.neighbors[k]!;
        if (distance[next] === -1) {
          distance[next] = distance[node]! + 1;
          order[tail++] = next;
        }
        if (distance[next] === distance[node]! + 1) sigma[next]! += sigma[node]!;
      }
    }
    // Dependencies accumulate in reverse BFS order; predecessors are the neighbours one step closer.
    for (let index = tail - 1; index > 0; index--) {
      const node = order[index]!;
      const share = (1 + delta[node]!) / sigma[node]!;
      for (let k = graph.offsets[node]!; k < graph.offsets[node + 1]!; k++) {
        const previous = graph.neighbors[k]!;
        if (distance[previous] === distance[node]! - 1) delta[previous]! += sigma[previous]! * share;
      }
      values[node]! += delta[node]!;
    }
  }
  // Every ordered (s, t) pair was counted; (n−1)(n−2) ordered pairs exclude each node.
  const scale = n > 2 ? (exact ? 1 : n / sources.length) / ((n - 1) * (n - 2)) : 0;
  for (let i = 0; i < n; i++) values[i]! *= scale;
  return { values, method: exact ? 'exact' : 'sampled' };
}

export interface RankedNode {
  id: string;
  value: number;
}

/** The `count` highest-valued nodes (value > 0), ties broken by input order so output is stable. */
export function topNodes(ids: readonly string[], values: ArrayLike<number>, count: number): RankedNode[] {
  const order = Array.from({ length: ids.length }, (_, i) => i).filter((i) => values[i]! > 0);
  order.sort((a, b) => values[b]! - values[a]! || a - b);
  return order.slice(0, count).map((i) => ({ id: ids[i]!, value: values[i]! }));
}

export function degrees(graph: UndirectedGraph): Int32Array {
  return Int32Array.from({ length: graph.n }, (_, i) => degree(graph, i));
}

/** [degree, number of nodes with that degree], ascending by degree. */
export function degreeDistribution(graph: UndirectedGraph): Array<{ degree: number; count: number }> {
  const counts = new Map<number, number>();
  for (let i = 0; i < graph.n; i++) counts.set(degree(graph, i), (counts.get(degree(graph, i)) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ degree: value, count }));
}
