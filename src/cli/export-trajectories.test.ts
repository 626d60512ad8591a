/**
 * Issue 15d end to end: `thicket solve --strategy auto` on the simulated fleet, then `thicket export
 * trajectories`: the governed run is exported whatever arm the governor chose (before, only planner-generated
 * workflows were, so a fixed-strategy decision wrote nothing).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

describe('export trajectories (issue 15d)', () => {
  const dir = makeTempDir();
  after(() => dir.remove());

  it('a governed solve is exported with its features, decision, cost and outcome', { timeout: 120_000 }, async () => {
    const db = dir.file('journal.db');
    const solved = await runCli(
      [
        'solve',
        'What is 17*23?',
        '--model',
        'sim:small',
        '--strategy',
        'auto',
        '--budget-tokens',
        '20000',
        '--db',
        db,
        '--run-id',
        'gov-1',
        '--json',
      ],
      { timeoutMs: 60_000 },
    );
    expectExit(solved, 0);
    const result = parseSingleJson<{ answer: string | null; status: string; usage: { totalTokens: number } }>(solved);

    const exported = await runCli(['export', 'trajectories', '--db', db], { timeoutMs: 60_000 });
    expectExit(exported, 0);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const governed = lines.filter((line) => line['source'] === 'governor');
    assert.equal(governed.length, 1);
    const record = governed[0] as {
      runId: string;
      query: string;
      features: { bin: string; probeSamples: number; family?: string; frontierChoice?: string; frontierLevel?: number };
      decision: { arm: string; strategy: string };
      cost: { planning: { totalTokens: number }; execution: { totalTokens: number } };
      outcome: { answer?: string; status: string };
    };
    assert.equal(record.runId, 'gov-1');
    assert.equal(record.query, 'What is 17*23?');
    // The built-in frontier table for arithmetic on sim:small decides at 20,000 tokens: a fixed strategy runs
    // unprobed; an adaptive arm (or the probe path) probes first.
    assert.equal(record.features.family, 'arithmetic');
    assert.ok(record.features.frontierChoice && record.features.frontierChoice.length > 0);
    assert.equal(record.features.frontierLevel, 20_000);
    if (record.features.bin === 'unprobed') assert.equal(record.features.probeSamples, 0);
    else {
      assert.ok(['easy', 'medium', 'hard'].includes(record.features.bin));
      assert.ok(record.features.probeSamples > 0);
    }
    assert.ok(record.decision.arm.length > 0 && record.decision.strategy.length > 0);
    assert.equal(record.cost.planning.totalTokens + record.cost.execution.totalTokens, result.usage.totalTokens);
    assert.equal(record.outcome.status, result.status);
    assert.equal(record.outcome.answer ?? null, result.answer);
  });
});
