/**
 * criticality — is a run's reasoning graph in the critical regime of self-organising graph reasoning
 * (Buehler, arXiv 2502.13025 / 2503.18852; definitions in spec/criticality.md)? Structural and semantic von
 * Neumann entropies, the critical discovery parameter D, the surprising-edge share α with a fixed τ, and
 * clustering, Louvain modularity, hubs, bridges and degree distribution, per snapshot G(s); a monitor that
 * records them as trace events during a run; and the `thicket criticality` command's implementation.
 *
 * @example
 *   import { computeCriticality, parseGraph } from '../criticality/index.ts';
 *   const metrics = await computeCriticality(parseGraph(json), { tau: 0.2 });
 *   console.log(metrics.discovery, metrics.surprisingShare);
 */
export {
  computeCriticality,
  criticalitySeries,
  snapshotMetrics,
  evenSnapshotSteps,
  nodeTexts,
  type CriticalityMetrics,
  type CriticalityOptions,
} from './metrics.ts';
export {
  createCriticalityMonitor,
  summary as criticalitySummary,
  MONITOR_DEFAULTS,
  type CriticalityFlag,
  type CriticalityMonitor,
  type CriticalityMonitorOptions,
  type CriticalityReading,
  type ObservedTrace,
} from './monitor.ts';
export { criticalityCommand, parseSnapshotsFlag, renderReport, type CriticalityCommandOptions, type CriticalityReport } from './command.ts';
export { parseGraph, graphJsonSchema } from './schema.ts';
export { DEFAULT_TAU, defaultEmbedder, embedTexts, surprisingEdges, cosine, type Embedder, type SurprisingEdges } from './semantic.ts';
export {
  vonNeumannEntropy,
  discoveryParameter,
  structuralEntropy,
  semanticEntropy,
  semanticLaplacianEntropy,
  laplacianSpectrum,
  DEFAULT_DENSE_LIMIT,
  MAX_SEMANTIC_NODES,
  type EntropyMethod,
  type EntropyOptions,
  type EntropyResult,
  type SemanticEntropyOptions,
} from './entropy.ts';
export {
  calibrateNullThreshold,
  nullThreshold,
  setNullThreshold,
  cachedNullThreshold,
  nullCorpus,
  nullSimilarities,
  DEFAULT_NULL_THRESHOLD,
  NULL_QUANTILE,
  type NullCalibration,
} from './calibration.ts';
export { symmetricEigenvalues, tridiagonalize, tridiagonalEigenvalues } from './eigen.ts';
export { estimateTrace, QUADRATURE_DEFAULTS, type MatrixVectorProduct, type QuadratureOptions } from './lanczos.ts';
export {
  undirectedGraph,
  connectedComponents,
  snapshotAt,
  canonicalize,
  graphSteps,
  type CriticalityGraph,
  type CriticalityNode,
  type CriticalityEdge,
  type Snapshot,
  type UndirectedGraph,
} from './graph.ts';
export { clustering, betweenness, degreeDistribution, type Betweenness, type BetweennessOptions, type Clustering } from './structure.ts';
export { louvain, modularity, type Communities } from './louvain.ts';
