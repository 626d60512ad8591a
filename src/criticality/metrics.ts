/**
 * All criticality metrics of one snapshot G(s) of a reasoning graph (criticality.md): structural and
 * semantic von Neumann entropies, the critical discovery parameter D, the surprising-edge share α with a
 * fixed τ, and the structural context — counts, mean degree, components, clustering, Louvain modularity, hub
 * (degree) and bridge (betweenness) nodes, degree distribution.
 *
 * @example
 *   const series = await criticalitySeries(graph, [10, 20, 40], { tau: 0.2 });
 *   series.at(-1)?.discovery; // D at step 40
 */
import { snapshotAt, canonicalize, connectedComponents, graphSteps, type CriticalityGraph, type Snapshot } from './graph.ts';
import { discoveryParameter, semanticEntropy, structuralEntropy, type EntropyMethod } from './entropy.ts';
import type { QuadratureOptions } from './lanczos.ts';
import { louvain } from './louvain.ts';
import { DEFAULT_TAU, defaultEmbedder, embedTexts, surprisingEdges, type Embedder } from './semantic.ts';
import { cachedNullThreshold, nullThreshold } from './calibration.ts';
import { betweenness, clustering, degreeDistribution, degrees, topNodes, type BetweennessOptions, type Clustering } from './structure.ts';

export interface CriticalityOptions {
  /** Embeds node texts for the semantic graph and α (default: the hashing embedder, hash-v1-384). */
  embedder?: Embedder;
  /** Absolute cosine threshold of a surprising edge (default DEFAULT_TAU, calibrated for hash-v1). */
  tau?: number;
  /**
   * The semantic graph's null threshold τ₀: pairs at or below it get no edge (entropy.ts). Default: the
   * embedder's calibrated value (calibration.ts; cached per embedder id, measured on first use).
   */
  semanticThreshold?: number;
  /**
   * Merge a node into the most similar earlier node when their cosine is ≥ this (criticality.md's greedy
   * canonicalisation uses 0.85). Default: no merging — a trace's nodes are distinct contributions.
   */
  mergeThreshold?: number;
  /** Matrices up to this many rows are decomposed exactly; larger ones by Lanczos quadrature (default 2000). */
  denseLimit?: number;
  quadrature?: QuadratureOptions;
  betweenness?: BetweennessOptions;
  /** How many hub and bridge nodes to list (default 10). */
  top?: number;
}

export interface CriticalityMetrics {
  /** The last step included in the snapshot; null for a whole graph without steps asked for. */
  step: number | null;
  nodes: number;
  edges: number;
  meanDegree: number;
  /** edges / (n choose 2); 0 below two nodes. */
  density: number;
  components: number;
  largestComponent: number;
  structuralEntropy: number;
  /** Semantic diversity in nats: 0 when all texts are alike, ln n when all are unrelated (entropy.ts). */
  semanticEntropy: number;
  /** τ₀ the semantic graph was built with. */
  semanticThreshold: number;
  /** D = (S_struct − S_sem) / (S_struct + S_sem): > 0 when the content is more uniform than the structure is spread. */
  discovery: number;
  surprisingEdges: number;
  /** α = surprisingEdges / edges. */
  surprisingShare: number;
  tau: number;
  meanEdgeSimilarity: number;
  clustering: Clustering;
  modularity: number;
  communities: number;
  /** Sizes of the largest Louvain communities, descending (at most `top`). */
  largestCommunities: number[];
  hubs: Array<{ id: string; degree: number }>;
  bridges: Array<{ id: string; betweenness: number }>;
  degreeDistribution: Array<{ degree: number; count: number }>;
  /** How each spectral/path quantity was obtained: `lanczos` and `sampled` are estimates. */
  methods: { structuralEntropy: EntropyMethod; semanticEntropy: EntropyMethod; betweenness: 'exact' | 'sampled' };
  embedder: string;
  /** Nodes merged into an earlier node by canonicalisation (0 without mergeThreshold). */
  merged: number;
}

/**
 * Metrics of a snapshot whose nodes' normalised embeddings are `vectors[snapshot.sourceIndex[i]]`. τ₀ comes
 * from `options.semanticThreshold`, else the value cached for `embedderId` (criticalitySeries and the
 * monitor calibrate first); with neither, this throws.
 */
export function snapshotMetrics(
  snapshot: Snapshot,
  vectors: readonly Float32Array[],
  embedderId: string,
  options: CriticalityOptions = {},
  merged = 0,
): CriticalityMetrics {
  const graph = snapshot.graph;
  const n = graph.n;
  const m = graph.edgeFrom.length;
  const tau = options.tau ?? DEFAULT_TAU;
  const semanticThreshold = options.semanticThreshold ?? cachedNullThreshold(embedderId);
  if (semanticThreshold === undefined)
    throw new RangeError(`no null threshold for embedder "${embedderId}": pass semanticThreshold or calibrate it (nullThreshold)`);
  const top = options.top ?? 10;
  const local = snapshot.sourceIndex.map((index) => vectors[index]!);
  const entropyOptions = {
    ...(options.denseLimit !== undefined ? { denseLimit: options.denseLimit } : {}),
    ...(options.quadrature !== undefined ? { quadrature: options.quadrature } : {}),
  };
  const structural = structuralEntropy(graph, entropyOptions);
  const semantic = semanticEntropy(local, { ...entropyOptions, threshold: semanticThreshold });
  const surprising = surprisingEdges(graph, local, tau);
  const components = connectedComponents(graph).members;
  const communities = louvain(graph);
  const communitySizes = new Array<number>(communities.count).fill(0);
  for (const c of communities.membership) communitySizes[c]!++;
  const nodeDegrees = degrees(graph);
  const central = betweenness(graph, options.betweenness ?? {});
  return {
    step: snapshot.step,
    nodes: n,
    edges: m,
    meanDegree: n > 0 ? (2 * m) / n : 0,
    density: n > 1 ? (2 * m) / (n * (n - 1)) : 0,
    components: components.length,
    largestComponent: components.reduce((largest, members) => Math.max(largest, members.length), 0),
    structuralEntropy: structural.entropy,
    semanticEntropy: semantic.entropy,
    semanticThreshold,
    discovery: discoveryParameter(structural.entropy, semantic.entropy),
    surprisingEdges: surprising.count,
    surprisingShare: surprising.share,
    tau,
    meanEdgeSimilarity: surprising.meanSimilarity,
    clustering: clustering(graph),
    modularity: communities.modularity,
    communities: communities.count,
    largestCommunities: communitySizes.sort((a, b) => b - a).slice(0, top),
    hubs: topNodes(snapshot.ids, nodeDegrees, top).map(({ id, value }) => ({ id, degree: value })),
    bridges: topNodes(snapshot.ids, central.values, top).map(({ id, value }) => ({ id, betweenness: value })),
    degreeDistribution: degreeDistribution(graph),
    methods: { structuralEntropy: structural.method, semanticEntropy: semantic.method, betweenness: central.method },
    embedder: embedderId,
    merged,
  };
}

/** Texts to embed: a node's text, or its id when the text is blank (concept graphs name nodes by id). */
export function nodeTexts(graph: CriticalityGraph): string[] {
  return graph.nodes.map((node) => (node.text.trim() === '' ? node.id : node.text));
}

/**
 * Metrics at each requested step (ascending, duplicates removed); `null` in `steps` or no steps = the whole
 * graph. Every node is embedded once, whatever the number of snapshots.
 */
export async function criticalitySeries(
  graph: CriticalityGraph,
  steps: ReadonlyArray<number | null> = [null],
  options: CriticalityOptions = {},
): Promise<CriticalityMetrics[]> {
  const embedder = options.embedder ?? defaultEmbedder();
  const semanticThreshold = options.semanticThreshold ?? (await nullThreshold(embedder));
  const vectors = await embedTexts(embedder, nodeTexts(graph));
  const canonical = options.mergeThreshold !== undefined ? canonicalize(graph, vectors, options.mergeThreshold) : undefined;
  const ordered = [...new Set(steps)].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  return ordered.map((step) => {
    const snapshot = snapshotAt(graph, step, canonical);
    const merged =
      canonical === undefined
        ? 0
        : graph.nodes.filter((node, index) => (step === null || node.step <= step) && canonical[index] !== index).length;
    return snapshotMetrics(snapshot, vectors, embedder.id, { ...options, semanticThreshold }, merged);
  });
}

/** Metrics of the whole graph. */
export async function computeCriticality(graph: CriticalityGraph, options: CriticalityOptions = {}): Promise<CriticalityMetrics> {
  const [metrics] = await criticalitySeries(graph, [null], options);
  return metrics!;
}

/** `count` snapshot steps spread evenly over the graph's steps, always ending at the last one. */
export function evenSnapshotSteps(graph: CriticalityGraph, count: number): number[] {
  const steps = graphSteps(graph);
  if (steps.length === 0) return [];
  const first = steps[0]!;
  const last = steps.at(-1)!;
  if (count <= 1 || first === last) return [last];
  const picked = new Set<number>();
  for (let k = 1; k <= count; k++) picked.add(Math.round(first + ((last - first) * k) / count));
  return [...picked].sort((a, b) => a - b);
}
