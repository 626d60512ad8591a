/**
 * The graph the metrics read: nodes with a text and the step at which they appeared, edges with their step,
 * and the undirected simple graph (no self-loops, no parallel edges) of one snapshot G(s) — everything with
 * step ≤ s. Reasoning-graph edge kinds (derived-from, supports, contradicts) and directions are dropped, as
 * criticality.md prescribes: a derived-from edge and a supports edge between the same two nodes are one edge.
 */

export interface CriticalityNode {
  id: string;
  /** What is embedded for the semantic graph (the id when the input had no text). */
  text: string;
  step: number;
}

export interface CriticalityEdge {
  from: string;
  to: string;
  step: number;
}

/** A graph with appearance steps; node ids are unique and every edge endpoint is a node (see `parseGraph`). */
export interface CriticalityGraph {
  nodes: CriticalityNode[];
  edges: CriticalityEdge[];
}

/** An undirected simple graph over nodes 0..n−1 in compressed sparse row form. */
export interface UndirectedGraph {
  n: number;
  /** Node i's neighbours are neighbors[offsets[i] .. offsets[i+1]), sorted ascending. */
  offsets: Int32Array;
  neighbors: Int32Array;
  /** Each edge once, as (u, v) with u < v: edgeFrom[k], edgeTo[k]. */
  edgeFrom: Int32Array;
  edgeTo: Int32Array;
}

export function degree(graph: UndirectedGraph, node: number): number {
  return graph.offsets[node + 1]! - graph.offsets[node]!;
}

/** Builds the simple undirected graph from index pairs, dropping self-loops and duplicates. */
export function undirectedGraph(n: number, pairs: ReadonlyArray<readonly [number, number]>): UndirectedGraph {
  const keys = new Set<number>();
  const from: number[] = [];
  const to: number[] = [];
  for (const [a, b] of pairs) {
    if (a === b) continue;
    const u = Math.min(a, b);
    const v = Math.max(a, b);
    // u·n + v is exact below 2^53, i.e. for any n a dense matrix could ever hold.
    const key = u * n + v;
    if (keys.has(key)) continue;
    keys.add(key);
    from.push(u);
    to.push(v);
  }
  const counts = new Int32Array(n + 1);
  for (let k = 0; k < from.length; k++) {
    counts[from[k]! + 1]!++;
    counts[to[k]! + 1]!++;
  }
  for (let i = 0; i < n; i++) counts[i + 1]! += counts[i]!;
  const offsets = counts.slice();
  const neighbors = new Int32Array(2 * from.length);
  const fill = counts.slice(0, n);
  for (let k = 0; k < from.length; k++) {
    neighbors[fill[from[k]!]!++] = to[k]!;
    neighbors[fill[to[k]!]!++] = from[k]!;
  }
  for (let i = 0; i < n; i++) neighbors.subarray(offsets[i], offsets[i + 1]).sort();
  return { n, offsets, neighbors, edgeFrom: Int32Array.from(from), edgeTo: Int32Array.from(to) };
}

/** Connected components: a component index per node, and the nodes of each component. */
export function connectedComponents(graph: UndirectedGraph): { component: Int32Array; members: number[][] } {
  const component = new Int32Array(graph.n).fill(-1);
  const members: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < graph.n; start++) {
    if (component[start] !== -1) continue;
    const index = members.length;
    const list: number[] = [];
    component[start] = index;
    stack.push(start);
    while (stack.length > 0) {
      const node = stack.pop()!;
      list.push(node);
      for (let k = graph.offsets[node]!; k < graph.offsets[node + 1]!; k++) {
        const next = graph.neighbors[k]!;
        if (component[next] === -1) {
          component[next] = index;
          stack.push(next);
        }
      }
    }
    members.push(list);
  }
  return { component, members };
}

/** One snapshot G(s): the nodes present (in input order), their undirected graph, and their texts. */
export interface Snapshot {
  /** The last step included, or null for the whole graph. */
  step: number | null;
  ids: string[];
  /** Index into the input graph's node list, per snapshot node (to look up cached embeddings). */
  sourceIndex: number[];
  graph: UndirectedGraph;
}

/**
 * The graph as it stood at `step` (nodes and edges with step ≤ step; null = everything). An edge is present
 * only once both its endpoints are. `canonical` (from `canonicalize`) merges duplicate nodes into their
 * representative first.
 */
export function snapshotAt(input: CriticalityGraph, step: number | null, canonical?: Int32Array): Snapshot {
  const localIndex = new Map<number, number>();
  const ids: string[] = [];
  const sourceIndex: number[] = [];
  const byId = new Map<string, number>();
  input.nodes.forEach((node, index) => byId.set(node.id, index));
  input.nodes.forEach((node, index) => {
    if (step !== null && node.step > step) return;
    const representative = canonical?.[index] ?? index;
    if (localIndex.has(representative)) return;
    localIndex.set(representative, ids.length);
    ids.push(input.nodes[representative]!.id);
    sourceIndex.push(representative);
  });
  const pairs: Array<[number, number]> = [];
  for (const edge of input.edges) {
    if (step !== null && edge.step > step) continue;
    const a = byId.get(edge.from);
    const b = byId.get(edge.to);
    if (a === undefined || b === undefined) continue;
    const u = localIndex.get(canonical?.[a] ?? a);
    const v = localIndex.get(canonical?.[b] ?? b);
    // Absent endpoint: the edge was stamped before its node (possible in hand-made graphs); it waits.
    if (u === undefined || v === undefined) continue;
    if (step !== null && (input.nodes[a]!.step > step || input.nodes[b]!.step > step)) continue;
    pairs.push([u, v]);
  }
  return { step, ids, sourceIndex, graph: undirectedGraph(ids.length, pairs) };
}

/**
 * Greedy canonicalisation (criticality.md): in order of appearance, each node is merged into the most similar
 * earlier representative when their cosine is ≥ threshold, else it becomes a representative. Vectors must be
 * L2-normalised. Returns the representative's index per node; representatives always come first in step
 * order, so every snapshot sees the same merges.
 */
export function canonicalize(input: CriticalityGraph, vectors: readonly Float32Array[], threshold: number): Int32Array {
  const order = input.nodes.map((_, index) => index).sort((a, b) => input.nodes[a]!.step - input.nodes[b]!.step || a - b);
  const canonical = new Int32Array(input.nodes.length);
  const representatives: number[] = [];
  for (const index of order) {
    let best = -1;
    let bestSimilarity = threshold;
    for (const candidate of representatives) {
      const similarity = dot(vectors[index]!, vectors[candidate]!);
      if (similarity >= bestSimilarity) {
        best = candidate;
        bestSimilarity = similarity;
      }
    }
    if (best < 0) {
      representatives.push(index);
      canonical[index] = index;
    } else canonical[index] = best;
  }
  return canonical;
}

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

/** Distinct steps of the graph, ascending (the points at which a snapshot can differ). */
export function graphSteps(input: CriticalityGraph): number[] {
  const steps = new Set<number>();
  for (const node of input.nodes) steps.add(node.step);
  for (const edge of input.edges) steps.add(edge.step);
  return [...steps].sort((a, b) => a - b);
}
