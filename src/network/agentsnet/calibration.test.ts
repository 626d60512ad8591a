/**
 * The simulated fleet against the published AgentsNet shape (anchors.md): large models good on 4–16 agents
 * (≈ 0.7–0.8; consensus easiest, vertex cover hardest), smaller models worse, hard tasks near zero at 100
 * agents; and the verifying protocol propagating fewer wrong claims than the plain one. Few graphs per cell
 * keep this fast; the seeds are fixed, so the values are too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runAgentsNet, type AgentsNetResult } from '../run-agentsnet.ts';
import { simFleet } from '../testing/harness.ts';

const taskMean = (result: AgentsNetResult, task: string): number => {
  const cells = result.cells.filter((cell) => cell.task === task);
  return cells.reduce((sum, cell) => sum + cell.scoreMean, 0) / cells.length;
};
const overall = (result: AgentsNetResult): number => result.bySize.reduce((sum, entry) => sum + entry.score, 0) / result.bySize.length;

describe('AgentsNet calibration of the simulated fleet', () => {
  it('large scores high on 4–16 agents, consensus easiest and vertex cover hardest; small scores far lower', async () => {
    const large = await runAgentsNet({ fleet: simFleet(), model: 'large', sizes: [4, 8, 16], samples: 1 });
    const small = await runAgentsNet({ fleet: simFleet(), model: 'small', sizes: [4, 8, 16], samples: 1 });
    const score = overall(large);
    assert.ok(score >= 0.65 && score <= 0.9, `large overall ${score.toFixed(3)}`);
    assert.ok(taskMean(large, 'consensus') >= 0.85, 'consensus is the easiest');
    const hardest = ['coloring', 'matching', 'leader_election', 'consensus'].map((task) => taskMean(large, task));
    assert.ok(
      hardest.every((value) => taskMean(large, 'vertex_cover') < value),
      'vertex cover is the hardest',
    );
    assert.ok(overall(small) <= score - 0.25, `small overall ${overall(small).toFixed(3)}`);
  });

  it('hard tasks fall to near zero at 100 agents', async () => {
    const result = await runAgentsNet({
      fleet: simFleet(),
      model: 'large',
      sizes: [100],
      samples: 1,
      graphs: ['ws'],
      tasks: ['leader_election', 'vertex_cover', 'coloring'],
    });
    for (const cell of result.cells) assert.ok(cell.scoreMean <= 0.1, `${cell.task} at 100: ${cell.scoreMean}`);
    assert.ok(result.instances.every((entry) => entry.rounds === 2 * entry.diameter + 1));
  });

  it('the verifying protocol propagates fewer wrong claims than the plain one, on the same instances', async () => {
    const run = (protocol: 'plain' | 'verified') =>
      runAgentsNet({
        fleet: simFleet(),
        model: 'large',
        sizes: [16],
        samples: 1,
        tasks: ['coloring', 'matching', 'vertex_cover'],
        protocol,
      });
    const [plain, verified] = [await run('plain'), await run('verified')];
    const propagation = (result: AgentsNetResult): number =>
      result.instances.reduce((sum, entry) => sum + entry.errorPropagation, 0) / result.instances.length;
    assert.deepEqual(
      plain.instances.map((entry) => entry.graph),
      verified.instances.map((entry) => entry.graph),
    );
    assert.ok(propagation(plain) > 0.04, `plain ${propagation(plain)}`);
    assert.ok(propagation(verified) < propagation(plain) / 2, `verified ${propagation(verified)} vs plain ${propagation(plain)}`);
    assert.ok(verified.instances.reduce((sum, entry) => sum + entry.flagsRaised, 0) > 0, 'conflicts are flagged');
    // Verification is not free: structured claims cost more tokens per call.
    const perCall = (result: AgentsNetResult): number => result.totals.inputTokens / result.totals.calls;
    assert.ok(perCall(verified) > perCall(plain));
  });
});
