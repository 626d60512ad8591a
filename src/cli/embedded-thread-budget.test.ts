/**
 * Defect c of issue 15: `thicket solve … --model gguf:<fixture> --strategy thread --budget-tokens 20000` used to
 * be skipped before any call (the embedded thread reserved its ~85k worst case and skipped when the room was
 * smaller). Now it reserves what the run has left, runs under those caps and, stopped part-way, answers from
 * its last conclusion. Real engine, random-weight fixture model (gibberish text): what is checked is the
 * mechanics — calls made, spend within the budget in the result and in the journal, a clear status.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SolveResult } from '../runtime/index.ts';
import { describeResult, makeTempDir, parseSingleJson, runCli, withJournalReadonly, type TempDir } from './testing/run-cli.ts';

let dir: TempDir;
let fixture: string;
before(async () => {
  dir = makeTempDir('thicket-embedded-budget-');
  fixture = dir.file('fixture.gguf');
  // Generous: writing the fixture takes seconds, but much longer on a machine busy with parallel test files.
  const written = await runCli(['models', 'fixture', fixture], { cwd: dir.path, timeoutMs: 120_000 });
  assert.equal(written.code, 0, describeResult(written));
});
after(() => dir.remove());

async function solve(db: string, ...extra: string[]): Promise<{ code: number | null; solved: SolveResult }> {
  const result = await runCli(
    ['solve', 'What is 17*23?', '--model', `gguf:${fixture}`, '--strategy', 'thread', '--json', '--db', db, ...extra],
    { cwd: dir.path, timeoutMs: 120_000 },
  );
  assert.ok(result.code === 0 || result.code === 3, describeResult(result));
  return { code: result.code, solved: parseSingleJson<SolveResult>(result) };
}

function journaledUsage(db: string): { status: string; totalTokens: number; calls: number } {
  const row = withJournalReadonly(
    db,
    (handle) =>
      handle.prepare('SELECT status, usage_json FROM runs ORDER BY rowid DESC LIMIT 1').get() as { status: string; usage_json: string },
  );
  const usage = JSON.parse(row.usage_json) as { totalTokens: number; calls: number };
  return { status: row.status, totalTokens: usage.totalTokens, calls: usage.calls };
}

describe('the embedded thread under a token budget smaller than its worst case', () => {
  it('--budget-tokens 20000: runs (calls made), spends at most 20000 tokens, ends with a clear status', async () => {
    const db = dir.file('budget-20k.db');
    for (const seed of ['1', '5']) {
      const { code, solved } = await solve(db, '--budget-tokens', '20000', '--seed', seed);
      assert.ok(solved.usage.calls >= 1, `seed ${seed}: the thread ran (${JSON.stringify(solved.usage)})`);
      assert.ok(solved.usage.totalTokens > 0 && solved.usage.totalTokens <= 20_000, JSON.stringify(solved.usage));
      assert.ok((solved.status === 'ok' && code === 0) || (solved.status === 'budget_exhausted' && code === 3), `${solved.status} ${code}`);
      const journaled = journaledUsage(db);
      assert.equal(journaled.status, solved.status);
      assert.ok(journaled.totalTokens <= 20_000 && journaled.calls >= 1, JSON.stringify(journaled));
    }
  });

  it('stopped part-way by the budget: budget-exhausted, within the budget, answering from its last conclusion', async () => {
    // Seed 1: the random model decodes a 4-task tree; 1 500 tokens hold its first conclusions but not the whole tree.
    const db = dir.file('budget-part.db');
    const { code, solved } = await solve(db, '--budget-tokens', '1500', '--seed', '1');
    assert.equal(code, 3);
    assert.equal(solved.status, 'budget_exhausted');
    assert.ok(solved.usage.calls === 1 && solved.usage.totalTokens > 0 && solved.usage.totalTokens <= 1_500, JSON.stringify(solved.usage));
    assert.ok(
      solved.degraded.some((note) => /thread stopped part-way.*last conclusion/.test(note)),
      solved.degraded.join('; '),
    );
    assert.equal(typeof solved.answer, 'string', 'the partial answer is reported');
    assert.ok(journaledUsage(db).totalTokens <= 1_500);
  });
});
