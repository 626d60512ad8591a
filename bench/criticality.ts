/** Criticality metrics on a 2,000-node reasoning graph: exact (dense) spectra and the Lanczos estimate. */
import { computeCriticality } from '../src/criticality/index.ts';
import { syntheticGraph } from '../src/criticality/testing/synthetic.ts';
import type { BenchRow } from './foundation.ts';

export async function benchCriticality(): Promise<BenchRow[]> {
  const graph = syntheticGraph(2000);
  let started = performance.now();
  const exact = await computeCriticality(graph);
  const denseSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const estimate = await computeCriticality(graph, { denseLimit: 500 });
  const lanczosSeconds = (performance.now() - started) / 1000;
  const error = Math.abs(estimate.structuralEntropy / exact.structuralEntropy - 1);
  return [
    {
      name: `criticality metrics, 2,000 nodes / ${exact.edges} edges (exact spectra)`,
      value: `${denseSeconds.toFixed(1)} s`,
      target: '(no target; report)',
      met: undefined,
    },
    {
      name: 'same graph, Lanczos estimate',
      value: `${lanczosSeconds.toFixed(1)} s`,
      target: '(no target; report)',
      met: undefined,
      note: `structural entropy within ${(error * 100).toFixed(2)}% of exact`,
    },
  ];
}
