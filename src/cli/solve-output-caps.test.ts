/**
 * Issue 15a end to end: `thicket solve … --strategy solo` on the simulated fleet. With a 512-token cap the
 * structured SPP transcript is cut off on every attempt: the run fails, but every spent token is in the
 * journal (`runs show` agrees with the run's reported usage). Without an explicit cap the solo strategy gets
 * its own default (workflow `defaultMaxOutputTokens`) and answers (17*23)+(4*9) = 427.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

const QUERY = 'What is (17*23)+(4*9)?';
const SOLO = ['solve', QUERY, '--model', 'sim:medium', '--strategy', 'solo', '--budget-tokens', '20000', '--json'];

interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  usd: number;
  calls: number;
}

describe('solve --strategy solo: output caps and failed calls (issue 15a)', () => {
  const dir = makeTempDir();
  after(() => dir.remove());

  it('a truncated solo call still shows in runs show: its tokens and calls equal the run usage', { timeout: 120_000 }, async () => {
    const db = dir.file('truncated.db');
    const solved = await runCli([...SOLO, '--max-output-tokens', '512', '--db', db, '--run-id', 'trunc'], { timeoutMs: 60_000 });
    // The model replied, but its structured reply was cut off: the answer could not be parsed (exit 5, not 1).
    expectExit(solved, 5);
    const result = parseSingleJson<{ status: string; answer: string | null; usage: Usage; error?: { code: string } }>(solved);
    assert.equal(result.error?.code, 'ANSWER_UNPARSED');
    assert.equal(result.status, 'error');
    assert.equal(result.answer, null);
    assert.ok(result.usage.totalTokens > 0);

    const shown = await runCli(['runs', 'show', 'trunc', '--json', '--db', db], { timeoutMs: 60_000 });
    expectExit(shown, 0);
    const show = parseSingleJson<{ totals: Usage; calls: Array<{ failed: boolean; error?: { code: string }; attempts: number }> }>(shown);
    assert.equal(show.calls.length, 1);
    assert.equal(show.calls[0]!.failed, true);
    assert.equal(show.calls[0]!.error?.code, 'MALFORMED_OUTPUT');
    assert.equal(show.calls[0]!.attempts, result.usage.calls);
    assert.equal(show.totals.inputTokens, result.usage.inputTokens);
    assert.equal(show.totals.outputTokens, result.usage.outputTokens);
    assert.equal(show.totals.totalTokens, result.usage.totalTokens);
    assert.equal(show.totals.calls, result.usage.calls);
    assert.ok(Math.abs(show.totals.usd - result.usage.usd) < 1e-9);

    // Resuming replays the failure: nothing new is spent and the run fails the same way.
    const resumed = await runCli([...SOLO, '--max-output-tokens', '512', '--db', db, '--run-id', 'trunc'], { timeoutMs: 60_000 });
    expectExit(resumed, 5);
    const again = parseSingleJson<{ status: string; usage: Usage; newUsage: Usage; replayedCalls: number }>(resumed);
    assert.equal(again.status, 'error');
    assert.equal(again.newUsage.totalTokens, 0);
    assert.equal(again.usage.totalTokens, result.usage.totalTokens);
  });

  // The runtime leaves the cap to the strategy when --max-output-tokens is not given (solo: 1536).
  it('without --max-output-tokens, solo answers 427', { timeout: 120_000 }, async () => {
    const solved = await runCli([...SOLO, '--db', dir.file('default.db')], { timeoutMs: 60_000 });
    expectExit(solved, 0);
    const result = parseSingleJson<{ status: string; answer: string | null }>(solved);
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, String(17 * 23 + 4 * 9));
  });

  it('an explicit --max-output-tokens large enough for the transcript answers 427', { timeout: 120_000 }, async () => {
    const solved = await runCli([...SOLO, '--max-output-tokens', '1536', '--db', dir.file('explicit.db')], { timeoutMs: 60_000 });
    expectExit(solved, 0);
    const result = parseSingleJson<{ status: string; answer: string | null }>(solved);
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, '427');
  });
});
