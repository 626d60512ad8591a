/**
 * A strategy on a tiny trained model end to end, through the real `thicket` command (issue 18): vote@8 on
 * `tiny:reasoning-small` under a hard token budget — real llama.cpp inference, not simulated — stays within the
 * budget by the engine's own token meter, journals every call, and resuming the run replays them all without
 * paying again. `thicket fleet` lists the tiny models, labelled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SolveResult } from '../runtime/index.ts';
import { describeResult, makeTempDir, parseSingleJson, runCli, tryCountCalls, type TempDir } from './testing/run-cli.ts';

let dir: TempDir;
before(() => {
  dir = makeTempDir('thicket-tiny-');
});
after(() => dir.remove());

const QUERY = 'What is (17+8)*3 - 12?';
const BUDGET = 700;

describe('a strategy on a tiny trained model (tiny:reasoning-small)', () => {
  let first: SolveResult;
  const db = (): string => dir.file('journal.db');
  const solve = (runId: string) =>
    runCli(
      ['solve', QUERY, '--model', 'tiny:reasoning-small', '--strategy', 'vote', '--samples', '8', '--budget-tokens', String(BUDGET)].concat(
        ['--run-id', runId, '--seed', '3', '--json', '--db', db()],
      ),
      { cwd: dir.path, timeoutMs: 120_000 },
    );

  it('votes on real samples within the hard token budget', async () => {
    const result = await solve('t1');
    first = parseSingleJson<SolveResult>(result);
    // The budget binds: 8 samples at their worst case (prompt + 211 output tokens, the context's room) cannot
    // all be reserved in 700 tokens, so the vote degrades to fewer samples and the run says so (exit 3).
    assert.equal(first.status, 'budget_exhausted', describeResult(result));
    assert.equal(result.code, 3, describeResult(result));
    assert.ok(
      first.degraded.some((note) => /samples 8 → \d+ \(budget\)/.test(note)),
      first.degraded.join('; '),
    );
    assert.equal(first.simulated, false);
    assert.ok(first.usage.totalTokens > 0 && first.usage.totalTokens <= BUDGET, `spent ${first.usage.totalTokens} of ${BUDGET}`);
    assert.equal(first.usage.usd, 0);
    assert.ok(first.usage.calls >= 2, 'several samples were drawn');
    assert.equal(tryCountCalls(db(), 't1'), first.usage.calls);
    assert.equal(typeof first.answer, 'string');
  });

  it('resumes with the same run id: every call replayed from the journal, nothing new spent', async () => {
    const result = await solve('t1');
    assert.equal(result.code, 3, describeResult(result));
    const resumed = parseSingleJson<SolveResult & { replayedCalls: number; newUsage: { totalTokens: number; calls: number } }>(result);
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.replayedCalls, first.usage.calls);
    assert.equal(resumed.newUsage.totalTokens, 0);
    assert.equal(resumed.newUsage.calls, 0);
    assert.equal(resumed.answer, first.answer);
    assert.equal(tryCountCalls(db(), 't1'), first.usage.calls);
  });

  it('thicket fleet lists the tiny models as real, trained by Thicket', async () => {
    const result = await runCli(['fleet', '--json'], { cwd: dir.path, env: { THICKET_DB: dir.file('fleet.db') } });
    assert.equal(result.code, 0, describeResult(result));
    const listed = JSON.stringify(JSON.parse(result.stdout));
    for (const name of ['tiny:direct-small', 'tiny:reasoning-small', 'tiny:reasoning-large', 'tiny:thread-small'])
      assert.ok(listed.includes(name), name);
  });
});
