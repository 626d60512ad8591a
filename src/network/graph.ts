/**
 * Undirected, simple graphs over nodes 0..n−1, as sorted adjacency lists: the topology an agent network
 * runs on. Small and allocation-light on purpose — the 1,000-agent benchmark computes diameters and
 * neighbour lists on every instance.
 */
import { InvalidInputError } from '../core/index.ts';

export interface AgentGraph {
  /** Number of nodes; nodes are 0..nodeCount−1. */
  nodeCount: number;
  /** Sorted, duplicate-free neighbour lists; symmetric (v ∈ adjacency[u] ⇔ u ∈ adjacency[v]). */
  adjacency: number[][];
}

/** Builds a graph from an edge list, dropping self-loops and duplicate edges. */
export function graphFromEdges(nodeCount: number, edges: Iterable<readonly [number, number]>): AgentGraph {
  const sets = Array.from({ length: nodeCount }, () => new Set<number>());
  for (const [u, v] of edges) {
    if (!Number.isInteger(u) || !Number.isInteger(v) || u < 0 || v < 0 || u >= nodeCount || v >= nodeCount) {
      throw new InvalidInputError('Invalid graph', [{ path: 'edges', message: `edge (${u}, ${v}) is outside 0..${nodeCount - 1}` }]);
    }
    if (u === v) continue;
    sets[u]!.add(v);
    sets[v]!.add(u);
  }
  return { nodeCount, adjacency: sets.map((set) => [...set].sort((a, b) => a - b)) };
}

/** Each undirected edge once, as [u, v] with u < v, in (u, v) order. */
export function edgesOf(graph: AgentGraph): Array<[number, number]> {
  const edges: Array<[number, number]> = [];
  graph.adjacency.forEach((neighbours, u) => {
    for (const v of neighbours) if (u < v) edges.push([u, v]);
  });
  return edges;
}

export function edgeCount(graph: AgentGraph): number {
  let total = 0;
  for (const neighbours of graph.adjacency) total += neighbours.length;
  return total / 2;
}

export function maxDegree(graph: AgentGraph): number {
  let max = 0;
  for (const neighbours of graph.adjacency) if (neighbours.length > max) max = neighbours.length;
  return max;
}

/** Hop distances from `source` (−1 for unreachable nodes). */
export function distancesFrom(graph: AgentGraph, source: number): Int32Array {
  const distance = new Int32Array(graph.nodeCount).fill(-1);
  const queue = new Int32Array(graph.nodeCount);
  let head = 0;
  let tail = 0;
  distance[source] = 0;
  queue[tail++] = source;
  while (head < tail) {
    const node = queue[head++]!;
    const next = distance[node]! + 1;
    for (const neighbour of graph.adjacency[node]!) {
      if (distance[neighbour] === -1) {
        distance[neighbour] = next;
        queue[tail++] = neighbour;
      }
    }
  }
  return distance;
}

export function isConnected(graph: AgentGraph): boolean {
  if (graph.nodeCount === 0) return true;
  return !distancesFrom(graph, 0).includes(-1);
}

/**
 * Longest shortest path, by a BFS from every node: O(n·m), about 3·10⁶ steps at 1,000 agents — cheap next to
 * the run itself, and exact (the round rule depends on it). Infinity for a disconnected graph.
 */
export function diameter(graph: AgentGraph): number {
  let longest = 0;
  for (let source = 0; source < graph.nodeCount; source++) {
    const distance = distancesFrom(graph, source);
    for (let node = 0; node < graph.nodeCount; node++) {
      const value = distance[node]!;
      if (value < 0) return Infinity;
      if (value > longest) longest = value;
    }
  }
  return longest;
}
