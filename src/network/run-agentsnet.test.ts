/** runAgentsNet: aggregation, rendering, determinism on the sim, and resuming through the journal. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../budget/index.ts';
import { Journal } from '../journal/index.ts';
import { graphInstances, taskInstance } from './agentsnet/instances.ts';
import { runInstance } from './agentsnet/run-instance.ts';
import { agentsNetJsonl, renderAgentsNetTable, runAgentsNet, standardError, type AgentsNetProgress } from './run-agentsnet.ts';
import { simFleet } from './testing/harness.ts';

describe('runAgentsNet', () => {
  it('aggregates tasks × sizes with mean ± SEM, solved rate and costs, and renders a table', async () => {
    const events: AgentsNetProgress['type'][] = [];
    const result = await runAgentsNet({
      fleet: simFleet(),
      model: 'large',
      tasks: ['coloring', 'consensus'],
      sizes: [4, 8],
      samples: 1,
      graphs: ['ws', 'dt'],
      onProgress: (event) => events.push(event.type),
    });
    assert.equal(result.instances.length, 8);
    assert.equal(result.cells.length, 4);
    assert.equal(events.filter((type) => type === 'instance-end').length, 8);
    assert.ok(events.includes('round'));
    const cell = result.cells.find((entry) => entry.task === 'coloring' && entry.size === 8)!;
    const scores = result.instances.filter((entry) => entry.task === 'coloring' && entry.size === 8).map((entry) => entry.score);
    assert.equal(cell.instances, 2);
    assert.equal(cell.scoreMean, (scores[0]! + scores[1]!) / 2);
    assert.equal(cell.scoreSem, standardError(scores));
    assert.ok(cell.calls >= 8 * 6, 'R + 1 = 6 calls for each of 8 agents');
    assert.ok(cell.tokens > 0 && cell.usd > 0);
    const size4 = result.bySize.find((entry) => entry.size === 4)!;
    const cells4 = result.cells.filter((entry) => entry.size === 4);
    assert.equal(size4.score, (cells4[0]!.scoreMean + cells4[1]!.scoreMean) / 2);
    assert.equal(result.simulated, true);
    assert.equal(result.status, 'ok');
    assert.equal(
      result.totals.calls,
      result.instances.reduce((sum, entry) => sum + entry.calls, 0),
    );
    const table = renderAgentsNetTable(result);
    assert.match(table, /SIMULATED/);
    assert.match(table, /^coloring\s+8\s+\d\.\d\d ± \d\.\d\d\s+\d+%/m);
    assert.match(table, /^AgentsNet score\s+4/m);
    const lines = agentsNetJsonl(result).trim().split('\n');
    assert.equal(lines.length, 8);
    assert.equal((JSON.parse(lines[0]!) as { schema: unknown }).schema, 'thicket.agentsnet.v1');
  });

  it('standard error: sample standard deviation over √n', () => {
    assert.equal(standardError([1]), 0);
    assert.equal(standardError([0, 1]), 0.5);
    assert.ok(Math.abs(standardError([0, 0, 1, 1]) - Math.sqrt(1 / 3 / 4)) < 1e-12);
  });

  it('is deterministic on the sim, whatever the concurrency', async () => {
    const instance = taskInstance('matching', graphInstances(16, 5, ['ba'], 1)[0]!);
    const run = async (concurrency: number) => {
      const fleet = simFleet(11);
      return runInstance(instance, {
        fleet,
        budget: new Ledger({ clock: fleet.clock }).root,
        model: 'medium',
        stepId: 'det',
        concurrency,
        protocol: 'verified',
      });
    };
    const [serial, parallel] = [await run(1), await run(64)];
    assert.deepEqual(serial.answers, parallel.answers);
    assert.equal(serial.inputTokens, parallel.inputTokens);
    assert.equal(serial.outputTokens, parallel.outputTokens);
    assert.equal(serial.score, parallel.score);
    assert.equal(serial.wrongClaimsDelivered, parallel.wrongClaimsDelivered);
  });

  it('shares a limited budget across instances so later ones are not starved, and stays within it', async () => {
    const fleet = simFleet();
    const ledger = new Ledger({ clock: fleet.clock, limits: { usd: 0.2 } });
    const result = await runAgentsNet({ fleet, budget: ledger.root, model: 'large', tasks: ['coloring'], sizes: [4], samples: 1 });
    assert.equal(result.instances.length, 3);
    assert.ok(
      result.instances.every((entry) => entry.calls > 0),
      'every instance got to call',
    );
    assert.ok(
      result.instances.some((entry) => entry.budgetExhaustedAgents > 0),
      'the budget binds',
    );
    assert.equal(result.status, 'budget_exhausted');
    assert.equal(result.budgetExhaustedInstances, result.instances.filter((entry) => entry.budgetExhaustedAgents > 0).length);
    assert.ok(ledger.report().total.usd <= 0.2 + 1e-9);
    const slices = Object.entries(ledger.report().byBudget).filter(([path]) => path.split('/').length === 2);
    // Each instance's slice: an equal share of what the earlier ones left.
    const limitsUsd = slices.map(([, line]) => line.limits.usd!);
    assert.ok(Math.abs(limitsUsd[0]! - 0.2 / 3) < 1e-9);
    assert.ok(Math.abs(limitsUsd[1]! - (0.2 - slices[0]![1].usd) / 2) < 1e-9);
    assert.ok(Math.abs(limitsUsd[2]! - (0.2 - slices[0]![1].usd - slices[1]![1].usd)) < 1e-9);
  });

  it('runs mixed fleets, one model per node', async () => {
    const result = await runAgentsNet({
      fleet: simFleet(),
      model: ['large', 'small'],
      tasks: ['consensus'],
      sizes: [8],
      samples: 1,
      graphs: ['ws'],
    });
    assert.deepEqual(result.model, ['large', 'small']);
    assert.equal(result.instances[0]!.calls >= 8 * 6, true);
  });

  it('resumes through the journal: a rerun replays every finished call and adds the missing ones', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thicket-agentsnet-'));
    try {
      const journal = Journal.open(join(folder, 'journal.db'));
      journal.beginOrResumeRun({ id: 'an-1', command: 'agentsnet', query: 'coloring 4', simulated: true });
      const options = { model: 'large', sizes: [4], samples: 1, graphs: ['ws' as const], journal: { journal, runId: 'an-1' } };
      const first = await runAgentsNet({ ...options, fleet: simFleet(), tasks: ['coloring'] });
      assert.equal(first.instances[0]!.replayedCalls, 0);
      // The "interrupted" run is resumed with one more task: coloring comes back from the journal whole,
      // without a single call (not even a replayed one); only consensus calls the model.
      const fleet = simFleet();
      const callSteps: string[] = [];
      fleet.onEvent((event) => {
        if (event.type === 'call-end') callSteps.push(event.callKey);
      });
      const second = await runAgentsNet({ ...options, fleet, tasks: ['coloring', 'consensus'] });
      const coloring = second.instances.find((entry) => entry.task === 'coloring')!;
      assert.equal(coloring.reused, true);
      assert.equal(second.reusedInstances, 1);
      assert.equal(callSteps.length, second.instances.find((entry) => entry.task === 'consensus')!.calls, 'calls made: consensus only');
      assert.equal(coloring.replayedCalls, coloring.calls);
      assert.deepEqual(coloring.answers, first.instances[0]!.answers);
      assert.equal(coloring.inputTokens, first.instances[0]!.inputTokens, 'a replay charges what the calls cost');
      assert.equal(second.instances.find((entry) => entry.task === 'consensus')!.replayedCalls, 0);
      const steps = journal.getSteps('an-1').filter((step) => step.kind === 'agentsnet-instance');
      assert.equal(steps.length, 2);
      assert.ok(steps.every((step) => step.status === 'ok'));
      journal.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
