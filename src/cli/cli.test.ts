/**
 * End-to-end tests of the `thicket` command (the Foundation issue's acceptance criteria): every case spawns
 * the real `node bin/thicket.js ...` as a child process, in its own temp folder (cwd and --db), and asserts
 * on exit codes, the single JSON object printed with --json, stderr messages and what the journal holds.
 * Beside it: bad-input.test.ts (rejections), endpoint.test.ts (fleet, a real OpenAI-compatible endpoint),
 * embedded.test.ts (gguf: on the embedded engine).
 *
 * Independent suites run concurrently. Simulated runs use the virtual clock except the SIGKILL test, which
 * sets THICKET_SIM_CLOCK=real so the child is still running when it is killed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import type { SolveResult as SolveResultBase } from '../runtime/index.ts';

/** Votes are reported for the vote strategy, which every solve below uses (samples > 1) unless stated. */
type SolveResult = SolveResultBase & { vote: NonNullable<SolveResultBase['vote']> };
import {
  describeResult,
  expectExit,
  makeTempDir,
  parseSingleJson,
  pollUntil,
  runCli,
  spawnCli,
  tryCountCalls,
  withJournalReadonly,
  type CliResult,
  type TempDir,
} from './testing/run-cli.ts';

const QUERY = 'What is 17*23?';

interface ErrorJson {
  status: 'error';
  error: { code: string; message: string };
  issues?: Array<{ path: string; message: string }>;
}

interface RunsShowJson {
  run: { id: string; status: string; answer: string | null; query: string; simulated: boolean };
  totals: SolveResult['usage'];
  calls: Array<{ model: string; simulated: boolean; inputTokens: number; outputTokens: number; attempts: number; stepId: string | null }>;
}

interface RunsListJson {
  runs: Array<{ id: string; status: string; answer: string | null; simulated: boolean; totals: SolveResult['usage'] }>;
}

function solveJson(result: CliResult): SolveResult {
  return parseSingleJson<SolveResult>(result);
}

/** Token and call counts must match exactly; dollars are float sums whose order differs between runs. */
function assertSameUsage(actual: SolveResult['usage'], expected: SolveResult['usage'], what: string): void {
  const { usd: actualCost, ...actualCounts } = actual;
  const { usd: expectedCost, ...expectedCounts } = expected;
  assert.deepEqual(actualCounts, expectedCounts, `${what}: token/call counts`);
  assert.ok(Math.abs(actualCost - expectedCost) < 1e-12, `${what}: usd ${actualCost} vs ${expectedCost}`);
}

function assertUsageShape(usage: SolveResult['usage']): void {
  for (const key of ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const) {
    assert.equal(typeof usage[key], 'number', `usage.${key} is a number`);
    assert.ok(Number.isFinite(usage[key]) && usage[key] >= 0, `usage.${key} = ${usage[key]} is finite and ≥ 0`);
  }
  assert.equal(usage.totalTokens, usage.inputTokens + usage.outputTokens);
}

const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };

describe('thicket CLI end to end', { concurrency: Math.max(2, Math.min(4, availableParallelism())) }, () => {
  // ------------------------------------------------------------------------------------------------------
  describe('solve --model sim:small --samples 9: result, determinism, resume, runs ls/show', { concurrency: false }, () => {
    let dir: TempDir;
    let db: string;
    let first: CliResult;
    let firstJson: SolveResult;
    const solveArgs = (dbPath: string, runId: string, query = QUERY): string[] => [
      'solve',
      query,
      '--model',
      'sim:small',
      '--samples',
      '9',
      '--seed',
      '0',
      '--json',
      '--db',
      dbPath,
      '--run-id',
      runId,
    ];

    before(async () => {
      dir = makeTempDir();
      db = dir.file('journal.db');
      first = await runCli(solveArgs(db, 'r1'), { cwd: dir.path });
      firstJson = solveJson(first);
    });
    after(() => dir.remove());

    it('prints exactly one JSON object: answer 391 by majority vote, simulated, usage = spend of 9 calls', () => {
      expectExit(first, 0);
      const result = firstJson;
      assert.equal(result.runId, 'r1');
      assert.equal(result.simulated, true);
      assert.equal(result.status, 'ok');
      assert.equal(result.answer, '391');
      assert.equal(result.resumed, false);
      assert.equal(result.error, undefined);
      assertUsageShape(result.usage);
      assert.equal(result.usage.calls, 9);
      assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
      assert.ok(result.usage.usd > 0);
      assert.equal(result.replayedCalls, 0);
      assert.deepEqual(result.newUsage, result.usage);
      assert.deepEqual(Object.keys(result.spendByModel), ['sim:small']);
      assert.deepEqual(result.spendByModel['sim:small'], result.usage);
      assert.deepEqual(result.budget, {});
      // The vote: 9 samples, all completed, 391 has a strict majority.
      assert.equal(result.vote.samples, 9);
      assert.equal(result.vote.completed, 9);
      assert.equal(result.vote.refusedByBudget, 0);
      assert.equal(result.vote.failed, 0);
      const votes = Object.values(result.vote.votes).reduce((sum, count) => sum + count, 0);
      assert.equal(votes, 9);
      assert.ok((result.vote.votes['391'] ?? 0) > 9 / 2, `391 wins a majority: ${JSON.stringify(result.vote.votes)}`);
      assert.equal(result.vote.agreement, result.vote.votes['391']! / 9);
      // sim:small prices: $0.10 / M input, $0.40 / M output.
      const expectedCost = (result.usage.inputTokens * 0.1 + result.usage.outputTokens * 0.4) / 1e6;
      assert.ok(Math.abs(result.usage.usd - expectedCost) < 1e-12, `cost ${result.usage.usd} = priced tokens ${expectedCost}`);
      assert.equal(first.stderr, '', 'no progress bar or warnings on stderr when piped');
    });

    it('is deterministic: the same seed with a different journal gives the same answer, usage and votes', async () => {
      const other = makeTempDir();
      try {
        const again = await runCli(solveArgs(other.file('journal.db'), 'another-id'), { cwd: other.path });
        expectExit(again, 0);
        const result = solveJson(again);
        assert.equal(result.answer, firstJson.answer);
        assert.deepEqual(result.usage, firstJson.usage);
        assert.deepEqual(result.vote, firstJson.vote);
        assert.deepEqual(result.spendByModel, firstJson.spendByModel);
      } finally {
        other.remove();
      }
    });

    it('resumes with the same --run-id: all 9 calls replayed, nothing new spent, same answer and usage', async () => {
      const resumed = await runCli(solveArgs(db, 'r1'), { cwd: dir.path });
      expectExit(resumed, 0);
      const result = solveJson(resumed);
      assert.equal(result.resumed, true);
      assert.equal(result.status, 'ok');
      assert.equal(result.replayedCalls, 9);
      assert.deepEqual(result.newUsage, ZERO_USAGE);
      assertSameUsage(result.usage, firstJson.usage, 'resumed usage');
      assert.equal(result.answer, firstJson.answer);
      assert.deepEqual(result.vote.votes, firstJson.vote.votes);
      // Still 9 recorded calls: replay records nothing new.
      assert.equal(tryCountCalls(db, 'r1'), 9);
    });

    it('refuses the same --run-id with a different query (exit 2) and leaves the run untouched', async () => {
      const before = withJournalReadonly(db, (handle) => handle.prepare('SELECT * FROM runs WHERE id = ?').get('r1'));
      const clash = await runCli(solveArgs(db, 'r1', 'What is 18*24?'), { cwd: dir.path });
      expectExit(clash, 2);
      const error = parseSingleJson<ErrorJson>(clash);
      assert.equal(error.status, 'error');
      assert.equal(error.error.code, 'INVALID_INPUT');
      assert.match(error.error.message, /r1/);
      assert.match(error.error.message, /query/);
      assert.match(clash.stderr, /INVALID_INPUT/);

      const show = await runCli(['runs', 'show', 'r1', '--json', '--db', db], { cwd: dir.path });
      expectExit(show, 0);
      const shown = parseSingleJson<RunsShowJson>(show);
      assert.equal(shown.run.query, QUERY);
      assert.equal(shown.run.status, 'ok');
      assert.equal(shown.run.answer, '391');
      assert.equal(shown.calls.length, 9);
      const after = withJournalReadonly(db, (handle) => handle.prepare('SELECT * FROM runs WHERE id = ?').get('r1'));
      assert.deepEqual(after, before, 'the runs row (status, answer, usage, timestamps) is byte-for-byte unchanged');
      // `runs show` reports 9 calls, each simulated, summing to the run's usage.
      for (const call of shown.calls) {
        assert.equal(call.simulated, true);
        assert.equal(call.model, 'sim:small');
        assert.equal(call.attempts, 1);
      }
      assert.deepEqual(
        shown.calls.map((call) => call.stepId).sort(),
        Array.from({ length: 9 }, (_, index) => `wf/vote/sample-${index}`).sort(),
      );
      assert.equal(
        shown.calls.reduce((sum, call) => sum + call.inputTokens, 0),
        firstJson.usage.inputTokens,
      );
      assert.equal(
        shown.calls.reduce((sum, call) => sum + call.outputTokens, 0),
        firstJson.usage.outputTokens,
      );
      assertSameUsage(shown.totals, firstJson.usage, 'runs show totals');
    });

    it('runs ls --json lists the run with its calls and tokens; runs show <unknown id> exits 2', async () => {
      const [listed, missing] = await Promise.all([
        runCli(['runs', 'ls', '--json', '--db', db], { cwd: dir.path }),
        runCli(['runs', 'show', 'nosuch', '--json', '--db', db], { cwd: dir.path }),
      ]);
      expectExit(listed, 0);
      const { runs } = parseSingleJson<RunsListJson>(listed);
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.equal(run.id, 'r1');
      assert.equal(run.status, 'ok');
      assert.equal(run.answer, '391');
      assert.equal(run.simulated, true);
      assertSameUsage(run.totals, firstJson.usage, 'runs ls totals');

      expectExit(missing, 2);
      const error = parseSingleJson<ErrorJson>(missing);
      assert.equal(error.error.code, 'INVALID_INPUT');
      assert.match(error.error.message, /nosuch/);
      assert.match(missing.stderr, /nosuch/);
    });
  });

  // ------------------------------------------------------------------------------------------------------
  describe('hard budgets (exit 3, status budget_exhausted, spend within the cap)', () => {
    const solveWithBudget = async (budgetFlags: string[]): Promise<{ result: CliResult; json: SolveResult; dir: TempDir }> => {
      const dir = makeTempDir();
      const result = await runCli(
        ['solve', QUERY, '--model', 'sim:small', '--samples', '9', '--json', '--db', dir.file('journal.db'), ...budgetFlags],
        { cwd: dir.path },
      );
      return { result, json: solveJson(result), dir };
    };
    const assertExhausted = (result: CliResult, json: SolveResult): void => {
      expectExit(result, 3);
      assert.equal(json.status, 'budget_exhausted');
      assert.equal(json.error?.code, 'BUDGET_EXHAUSTED');
      assertUsageShape(json.usage);
      assert.deepEqual(json.newUsage, json.usage);
      assert.equal(json.vote.failed, 0);
      assert.equal(json.vote.completed + json.vote.refusedByBudget, 9, 'every sample either completed or was refused');
      assert.ok(json.vote.refusedByBudget > 0);
    };

    it('--budget-tokens 50 (less than one prompt + minimal output): nothing is spent, answer null', async () => {
      const { result, json, dir } = await solveWithBudget(['--budget-tokens', '50']);
      try {
        assertExhausted(result, json);
        assert.deepEqual(json.budget, { totalTokens: 50 });
        assert.ok(json.usage.totalTokens <= 50);
        assert.deepEqual(json.usage, ZERO_USAGE);
        assert.equal(json.vote.completed, 0);
        assert.equal(json.answer, null);
        assert.match(json.error!.message, /totalTokens/);
        assert.match(json.error!.message, /limit 50/);
        // The run is still journaled, with its outcome.
        const status = withJournalReadonly(
          dir.file('journal.db'),
          (db) => (db.prepare('SELECT status FROM runs').get() as { status: string }).status,
        );
        assert.equal(status, 'budget_exhausted');
      } finally {
        dir.remove();
      }
    });

    it('--budget-tokens 600 (a few ~230-token samples, not 9): some samples complete, spend ≤ 600', async () => {
      const { result, json, dir } = await solveWithBudget(['--budget-tokens', '600']);
      try {
        assertExhausted(result, json);
        assert.ok(json.usage.totalTokens <= 600, `spent ${json.usage.totalTokens} tokens`);
        assert.ok(json.vote.completed >= 1 && json.vote.completed < 9, `completed ${json.vote.completed}`);
        assert.equal(json.usage.calls, json.vote.completed);
        // The answer may be non-null: it is the vote over the samples that did complete.
        if (json.answer !== null)
          assert.ok(
            (json.vote.votes[json.answer] ?? 0) >= 1,
            `answer ${json.answer} is among the votes ${JSON.stringify(json.vote.votes)}`,
          );
      } finally {
        dir.remove();
      }
    });

    it('--budget-usd 0.000001 (below one call): nothing is spent, the refusal names the dollar limit', async () => {
      const { result, json, dir } = await solveWithBudget(['--budget-usd', '0.000001']);
      try {
        assertExhausted(result, json);
        assert.deepEqual(json.budget, { usd: 0.000001 });
        assert.ok(json.usage.usd <= 0.000001);
        assert.equal(json.vote.completed, 0);
        assert.equal(json.answer, null);
        assert.match(json.error!.message, /usd/);
      } finally {
        dir.remove();
      }
    });

    it('--budget-calls 3: at most 3 calls, the rest refused', async () => {
      const { result, json, dir } = await solveWithBudget(['--budget-calls', '3']);
      try {
        assertExhausted(result, json);
        assert.ok(json.usage.calls <= 3, `calls ${json.usage.calls}`);
        assert.ok(json.vote.completed >= 1 && json.vote.completed <= 3);
        assert.equal(json.usage.calls, json.vote.completed);
        assert.match(json.error!.message, /calls/);
        assert.equal(tryCountCalls(dir.file('journal.db'), json.runId), json.vote.completed);
      } finally {
        dir.remove();
      }
    });
  });

  // ------------------------------------------------------------------------------------------------------
  it(
    'SIGKILL mid-run, then resume: finished calls are replayed and the result equals an uninterrupted run',
    { timeout: 90_000 },
    async () => {
      const dir = makeTempDir();
      try {
        const config = dir.write('thicket.config.json', {
          version: 1,
          models: {
            slow: { provider: 'sim', profile: 'small', overrides: { latency: { ttftMs: 40, perTokenMs: 0.5 } }, maxConcurrency: 2 },
          },
        });
        const db = dir.file('killed.db');
        const args = (dbPath: string, runId: string): string[] => [
          'solve',
          QUERY,
          '--model',
          'slow',
          '--samples',
          '40',
          '--seed',
          '3',
          '--config',
          config,
          '--db',
          dbPath,
          '--run-id',
          runId,
          '--json',
        ];

        // Reference: the same request, uninterrupted, in another journal under another run id (virtual clock).
        const referencePromise = runCli(args(dir.file('reference.db'), 'k-reference'), { cwd: dir.path });

        const { child, done } = spawnCli(args(db, 'k1'), { cwd: dir.path, env: { THICKET_SIM_CLOCK: 'real' }, timeoutMs: 60_000 });
        let observed: number;
        try {
          observed = await pollUntil(
            () => tryCountCalls(db, 'k1') ?? 0,
            (count) => count >= 5,
            { timeoutMs: 45_000, what: '≥ 5 recorded calls' },
          );
        } finally {
          child.kill('SIGKILL');
        }
        const killed = await done;
        assert.equal(killed.signal, 'SIGKILL', `the child died by SIGKILL\n${describeResult(killed)}`);
        assert.equal(killed.code, null);
        assert.equal(killed.stdout, '', 'a killed run printed no result');

        const atKill = withJournalReadonly(db, (handle) => ({
          calls: (handle.prepare("SELECT COUNT(*) AS n FROM calls WHERE run_id = 'k1'").get() as { n: number }).n,
          settles: (
            handle.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE run_id = 'k1' AND kind = 'settle'").get() as { n: number }
          ).n,
          status: (handle.prepare("SELECT status FROM runs WHERE id = 'k1'").get() as { status: string }).status,
        }));
        assert.ok(atKill.calls >= observed, `recorded ${atKill.calls} ≥ observed ${observed}`);
        assert.ok(atKill.calls < 40, `killed before all 40 calls were recorded (recorded ${atKill.calls})`);
        assert.equal(atKill.settles, atKill.calls, 'every recorded call has exactly one settle entry (call + ledger entry are atomic)');
        assert.equal(atKill.status, 'running', 'the killed run was never finished');

        const resumed = await runCli(args(db, 'k1'), { cwd: dir.path });
        expectExit(resumed, 0);
        const result = solveJson(resumed);
        assert.equal(result.status, 'ok');
        assert.equal(result.resumed, true);
        assert.equal(result.replayedCalls, atKill.calls, 'exactly the calls recorded before the kill are replayed');
        assert.ok(result.replayedCalls >= observed && result.replayedCalls < 40);
        assert.equal(result.usage.calls, 40);
        assert.equal(result.newUsage.calls, 40 - result.replayedCalls);
        assert.equal(result.vote.completed, 40);

        const reference = await referencePromise;
        expectExit(reference, 0);
        const referenceJson = solveJson(reference);
        assert.equal(referenceJson.usage.calls, 40);
        assert.equal(result.answer, referenceJson.answer);
        assertSameUsage(result.usage, referenceJson.usage, 'killed + resumed vs uninterrupted');
        assert.deepEqual(result.vote.votes, referenceJson.vote.votes);

        withJournalReadonly(db, (handle) => {
          assert.equal(handle.pragma('integrity_check', { simple: true }), 'ok');
          assert.equal((handle.prepare("SELECT COUNT(*) AS n FROM calls WHERE run_id = 'k1'").get() as { n: number }).n, 40);
          assert.equal(
            (handle.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE run_id = 'k1' AND kind = 'settle'").get() as { n: number }).n,
            40,
          );
          assert.equal((handle.prepare("SELECT status FROM runs WHERE id = 'k1'").get() as { status: string }).status, 'ok');
        });
      } finally {
        dir.remove();
      }
    },
  );
});
