/**
 * Community detection by Louvain (Blondel et al. 2008) and Newman–Girvan modularity
 * Q = Σ_c [ L_c/m − (d_c/2m)² ] (L_c edges inside c, d_c total degree of c, m edges).
 *
 * Deterministic: nodes are visited in index order and a node moves only for a strictly positive gain, so the
 * same graph always gives the same partition (the monitor compares snapshots; random visiting orders would
 * add noise to that comparison).
 */
import type { UndirectedGraph } from './graph.ts';

export interface Communities {
  /** Community index per node, numbered 0.. in order of each community's first node. */
  membership: Int32Array;
  count: number;
  modularity: number;
}

/** A weighted graph for one Louvain level; selfLoops[i] counts internal weight in both directions. */
interface Level {
  n: number;
  neighbors: number[][];
  weights: number[][];
  selfLoops: Float64Array;
}

export function louvain(graph: UndirectedGraph): Communities {
  const n = graph.n;
  let level: Level = {
    n,
    neighbors: Array.from({ length: n }, (_, i) => Array.from(graph.neighbors.subarray(graph.offsets[i], graph.offsets[i + 1]))),
    weights: Array.from({ length: n }, (_, i) => new Array<number>(graph.offsets[i + 1]! - graph.offsets[i]!).fill(1)),
    selfLoops: new Float64Array(n),
  };
  let membership = Int32Array.from({ length: n }, (_, i) => i);
  if (graph.edgeFrom.length === 0) return { membership, count: n, modularity: 0 };
  for (;;) {
    const { community, moved } = localMoving(level);
    if (!moved) break;
    const renumbered = renumber(community);
    membership = membership.map((c) => renumbered.index[c]!);
    level = aggregate(level, renumbered.index, renumbered.count);
  }
  const final = renumber(membership);
  return { membership: final.index, count: final.count, modularity: modularity(graph, final.index) };
}

function localMoving(level: Level): { community: Int32Array; moved: boolean } {
  const { n, neighbors, weights, selfLoops } = level;
  const community = Int32Array.from({ length: n }, (_, i) => i);
  const strength = new Float64Array(n);
  let total2m = 0;
  for (let i = 0; i < n; i++) {
    strength[i] = selfLoops[i]! + weights[i]!.reduce((sum, w) => sum + w, 0);
    total2m += strength[i]!;
  }
  const communityTotal = Float64Array.from(strength);
  const linkTo = new Float64Array(n);
  const touched: number[] = [];
  let moved = false;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++) {
      const own = community[i]!;
      for (let k = 0; k < neighbors[i]!.length; k++) {
        const c = community[neighbors[i]![k]!]!;
        if (linkTo[c] === 0) touched.push(c);
        linkTo[c]! += weights[i]![k]!;
      }
      communityTotal[own]! -= strength[i]!;
      // Gain of joining c, up to a positive factor: k_i,in(c) − Σ_tot(c)·k_i / 2m. Staying is the baseline.
      let best = own;
      let bestGain = linkTo[own]! - (communityTotal[own]! * strength[i]!) / total2m;
      for (const c of touched) {
        const gain = linkTo[c]! - (communityTotal[c]! * strength[i]!) / total2m;
        if (gain > bestGain + 1e-12) {
          best = c;
          bestGain = gain;
        }
      }
      communityTotal[best]! += strength[i]!;
      if (best !== own) {
        community[i] = best;
        changed = true;
        moved = true;
      }
      for (const c of touched) linkTo[c] = 0;
      touched.length = 0;
    }
  }
  return { community, moved };
}

function renumber(community: Int32Array): { index: Int32Array; count: number } {
  const map = new Map<number, number>();
  const index = community.map((c) => {
    let value = map.get(c);
    if (value === undefined) map.set(c, (value = map.size));
    return value;
  });
  return { index, count: map.size };
}

function aggregate(level: Level, community: Int32Array, count: number): Level {
  const links = Array.from({ length: count }, () => new Map<number, number>());
  const selfLoops = new Float64Array(count);
  for (let i = 0; i < level.n; i++) {
    const ci = community[i]!;
    selfLoops[ci]! += level.selfLoops[i]!;
    level.neighbors[i]!.forEach((j, k) => {
      const cj = community[j]!;
      const w = level.weights[i]![k]!;
      // Each undirected edge is seen from both ends, so internal weight lands in both directions as intended.
      if (cj === ci) selfLoops[ci]! += w;
      else links[ci]!.set(cj, (links[ci]!.get(cj) ?? 0) + w);
    });
  }
  return { n: count, neighbors: links.map((map) => [...map.keys()]), weights: links.map((map) => [...map.values()]), selfLoops };
}

/** Newman–Girvan modularity of a partition of an unweighted graph (0 for an edgeless graph). */
export function modularity(graph: UndirectedGraph, membership: ArrayLike<number>): number {
  const m = graph.edgeFrom.length;
  if (m === 0) return 0;
  const inside = new Map<number, number>();
  const degreeSum = new Map<number, number>();
  for (let i = 0; i < graph.n; i++) {
    const c = membership[i]!;
    degreeSum.set(c, (degreeSum.get(c) ?? 0) + graph.offsets[i + 1]! - graph.offsets[i]!);
  }
  for (let k = 0; k < m; k++) {
    const c = membership[graph.edgeFrom[k]!]!;
    if (c === membership[graph.edgeTo[k]!]) inside.set(c, (inside.get(c) ?? 0) + 1);
  }
  let q = 0;
  for (const [c, d] of degreeSum) q += (inside.get(c) ?? 0) / m - (d / (2 * m)) ** 2;
  return q;
}
