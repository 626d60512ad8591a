/**
 * The Lanczos estimate (used above `denseLimit` nodes) agrees with the exact dense spectra on the same graph.
 * Timings live in the benchmark (`bench/criticality.ts`), not here: tests never assert on wall-clock time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeCriticality } from './metrics.ts';
import { syntheticGraph } from './testing/synthetic.ts';

describe('dense vs Lanczos', () => {
  const graph = syntheticGraph(600);

  it('the Lanczos path agrees with the exact entropies within 0.5% (S_struct) and 2.5% (S_sem) and is marked as an estimate', async () => {
    const exact = await computeCriticality(graph);
    assert.equal(exact.nodes, 600);
    assert.deepEqual(exact.methods, { structuralEntropy: 'dense', semanticEntropy: 'dense', betweenness: 'exact' });
    // Entropies of a connected n-node graph sit just below ln(n−1).
    assert.ok(exact.structuralEntropy > 5.5 && exact.structuralEntropy < Math.log(599), String(exact.structuralEntropy));
    const estimated = await computeCriticality(graph, { denseLimit: 200 });
    assert.deepEqual(estimated.methods, { structuralEntropy: 'lanczos', semanticEntropy: 'lanczos', betweenness: 'exact' });
    assert.ok(
      Math.abs(estimated.structuralEntropy / exact.structuralEntropy - 1) < 0.005,
      `${estimated.structuralEntropy} vs ${exact.structuralEntropy}`,
    );
    // S_sem's estimate is coarser (1.8% here): its kernel has a kink at λ = 0 (negative eigenvalues are cut off).
    assert.ok(
      Math.abs(estimated.semanticEntropy / exact.semanticEntropy - 1) < 0.025,
      `${estimated.semanticEntropy} vs ${exact.semanticEntropy}`,
    );
  });
});
