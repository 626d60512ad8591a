/**
 * Where later layers plug into the lab without the lab changing shape: the architecture registry (the
 * governor's `auto` is registered in `defaultArchitectures()`; the network layer's `agentsnet` is one line
 * there) and the criticality metrics computed from each run's reasoning graph (src/criticality).
 */
import { computeCriticality, parseGraph } from '../criticality/index.ts';
import { defaultArchitectures, type ArchitectureRegistry } from './architectures.ts';
import type { CriticalityHook } from './types.ts';

export interface StudyHooks {
  architectures: ArchitectureRegistry;
  criticality?: CriticalityHook;
}

/** Graphs smaller than this (a query and one answer) have no structure to measure: no metrics, not zeros. */
const MIN_NODES = 3;

/**
 * The scalar criticality metrics of a run's final reasoning graph (criticality.md): structural and semantic
 * von Neumann entropy, the discovery parameter D, the surprising-edge share α (default τ of the default
 * embedder), modularity, clustering and mean degree.
 */
export const criticalityMetrics: CriticalityHook = async (graph) => {
  if (graph.nodes.length < MIN_NODES || graph.edges.length === 0) return undefined;
  const metrics = await computeCriticality(parseGraph(graph, 'reasoning graph'));
  const values: Record<string, number> = {
    structuralEntropy: metrics.structuralEntropy,
    semanticEntropy: metrics.semanticEntropy,
    discovery: metrics.discovery,
    surprisingShare: metrics.surprisingShare,
    modularity: metrics.modularity,
    clustering: metrics.clustering.average,
    meanDegree: metrics.meanDegree,
  };
  for (const [key, value] of Object.entries(values)) if (!Number.isFinite(value)) delete values[key];
  return values;
};

export function defaultStudyHooks(): StudyHooks {
  return { architectures: defaultArchitectures(), criticality: criticalityMetrics };
}
