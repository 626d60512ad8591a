/**
 * `thicket agentsnet` end to end (child processes, as in src/cli/cli.test.ts): flag validation, resuming a
 * run by --run-id (finished instances reused with no calls at all, only the missing ones run), and budget
 * exhaustion reported as `budget_exhausted` with exit 3, like `thicket solve`. Simulated model (sim:large),
 * virtual clock: every figure here is deterministic.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import {
  countRuns,
  describeResult,
  makeTempDir,
  parseSingleJson,
  runCli,
  tryCountCalls,
  withJournalReadonly,
  type CliResult,
} from '../testing/run-cli.ts';

interface Instance {
  task: string;
  graph: string;
  score: number;
  answers: Array<string | null>;
  calls: number;
  replayedCalls: number;
  inputTokens: number;
  outputTokens: number;
  budgetExhaustedAgents: number;
  reused: boolean;
}

interface AgentsnetJson {
  runId: string;
  status: 'ok' | 'budget_exhausted';
  resumed: boolean;
  simulated: boolean;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number; usd: number; calls: number };
  error?: { code: string; message: string };
  reusedInstances: number;
  budgetExhaustedInstances: number;
  instances: Instance[];
}

interface ErrorJson {
  status: 'error';
  error: { code: string; message: string };
  issues: Array<{ path: string; message: string }>;
}

function expectExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, `expected exit ${code}\n${describeResult(result)}`);
}

/** Two small instances (coloring and consensus on one 4-agent small-world graph). */
const SMALL = ['agentsnet', '--task', 'coloring,consensus', '--sizes', '4', '--graphs', 'ws', '--samples', '1', '--json'];

/** What must not change between a run and its resumption: the measured outcome of each instance. */
const outcome = (instance: Instance) => ({
  task: instance.task,
  graph: instance.graph,
  score: instance.score,
  answers: instance.answers,
  calls: instance.calls,
  inputTokens: instance.inputTokens,
  outputTokens: instance.outputTokens,
});

describe('thicket agentsnet (CLI)', { concurrency: 2 }, () => {
  it('rejects non-positive or fractional --concurrency / --instance-concurrency with exit 2, listing both, writing nothing', async () => {
    const dir = makeTempDir();
    try {
      const result = await runCli([...SMALL, '--concurrency', '0', '--instance-concurrency', '1.5', '--db', dir.file('journal.db')], {
        cwd: dir.path,
      });
      expectExit(result, 2);
      const json = parseSingleJson<ErrorJson>(result);
      assert.equal(json.error.code, 'INVALID_INPUT');
      assert.deepEqual(
        json.issues.map((issue) => issue.path),
        ['--concurrency', '--instance-concurrency'],
      );
      assert.match(json.issues[0]!.message, /greater than 0/);
      assert.match(json.issues[1]!.message, /whole number/);
      const text = await runCli(['agentsnet', '--concurrency', 'many', '--db', dir.file('journal.db')], { cwd: dir.path });
      expectExit(text, 2);
      assert.match(text.stderr, /--concurrency: must be a number written in plain decimal digits \(e.g. 100\), got "many"/);
      assert.ok(!existsSync(dir.file('journal.db')) || countRuns(dir.file('journal.db')) === 0, 'a rejected invocation writes no run');
    } finally {
      dir.remove();
    }
  });

  it('resumes by --run-id: finished instances are reused with 0 calls; only the unfinished one runs again', async () => {
    const dir = makeTempDir();
    const db = dir.file('journal.db');
    const run = (extra: string[] = []) => runCli([...SMALL, '--run-id', 'an-resume', '--db', db, ...extra], { cwd: dir.path });
    try {
      // The concurrency flags change scheduling only: the later runs use the defaults and must match.
      const first = await run(['--concurrency', '1', '--instance-concurrency', '2']);
      expectExit(first, 0);
      const firstJson = parseSingleJson<AgentsnetJson>(first);
      assert.equal(firstJson.status, 'ok');
      assert.equal(firstJson.resumed, false);
      assert.equal(firstJson.simulated, true);
      assert.equal(firstJson.instances.length, 2);
      assert.ok(firstJson.instances.every((instance) => !instance.reused && instance.replayedCalls === 0 && instance.calls > 0));
      const callsAfterFirst = tryCountCalls(db, 'an-resume');
      assert.equal(callsAfterFirst, firstJson.usage.calls, 'every call was journaled');

      // Everything finished: the rerun makes no calls at all and reports the same results and totals.
      const second = await run();
      expectExit(second, 0);
      const secondJson = parseSingleJson<AgentsnetJson>(second);
      assert.equal(secondJson.resumed, true);
      assert.equal(secondJson.reusedInstances, 2);
      assert.ok(secondJson.instances.every((instance) => instance.reused && instance.replayedCalls === instance.calls));
      assert.deepEqual(secondJson.instances.map(outcome), firstJson.instances.map(outcome));
      assert.deepEqual(secondJson.usage, firstJson.usage, 'reused spend is charged again, not paid again');
      assert.equal(tryCountCalls(db, 'an-resume'), callsAfterFirst, 'no new calls');

      // As if the first invocation had died during consensus: its step and calls are not in the journal.
      const consensus = firstJson.instances.find((instance) => instance.task === 'consensus')!;
      const stepId = `agentsnet/plain/persistent/consensus/${consensus.graph}`;
      const writable = new Database(db);
      try {
        assert.equal(writable.prepare('DELETE FROM steps WHERE run_id = ? AND step_id = ?').run('an-resume', stepId).changes, 1);
        const ofInstance = "run_id = ? AND json_extract(request_json, '$.metadata.stepId') LIKE ?";
        writable
          .prepare(`DELETE FROM ledger_entries WHERE run_id = ? AND call_key IN (SELECT call_key FROM calls WHERE ${ofInstance})`)
          .run('an-resume', 'an-resume', `${stepId}/%`);
        const removed = writable.prepare(`DELETE FROM calls WHERE ${ofInstance}`).run('an-resume', `${stepId}/%`).changes;
        assert.equal(removed, consensus.calls);
      } finally {
        writable.close();
      }
      const third = await run();
      expectExit(third, 0);
      const thirdJson = parseSingleJson<AgentsnetJson>(third);
      assert.equal(thirdJson.reusedInstances, 1);
      const coloring = thirdJson.instances.find((instance) => instance.task === 'coloring')!;
      const rerun = thirdJson.instances.find((instance) => instance.task === 'consensus')!;
      assert.equal(coloring.reused, true);
      assert.equal(rerun.reused, false);
      assert.equal(rerun.replayedCalls, 0, 'its calls were gone, so all were made anew');
      assert.deepEqual(thirdJson.instances.map(outcome), firstJson.instances.map(outcome), 'same seed, same results');
      assert.equal(tryCountCalls(db, 'an-resume'), callsAfterFirst, 'exactly the missing calls were made again');
    } finally {
      dir.remove();
    }
  });

  it('agents out of budget: status budget_exhausted, exit 3, spend within the cap; a rerun with more budget runs them again', async () => {
    const dir = makeTempDir();
    const db = dir.file('journal.db');
    try {
      const limited = await runCli([...SMALL, '--run-id', 'an-budget', '--db', db, '--budget-tokens', '8000'], { cwd: dir.path });
      expectExit(limited, 3);
      const json = parseSingleJson<AgentsnetJson>(limited);
      assert.equal(json.status, 'budget_exhausted');
      assert.equal(json.error?.code, 'BUDGET_EXHAUSTED');
      assert.match(json.error.message, /totalTokens: limit 8000/);
      assert.ok(json.usage.totalTokens <= 8000, `spent ${json.usage.totalTokens} tokens`);
      assert.ok(json.budgetExhaustedInstances >= 1);
      assert.equal(json.budgetExhaustedInstances, json.instances.filter((instance) => instance.budgetExhaustedAgents > 0).length);
      const stored = withJournalReadonly(db, (handle) => ({
        run: (handle.prepare('SELECT status FROM runs WHERE id = ?').get('an-budget') as { status: string }).status,
        steps: (
          handle.prepare("SELECT status FROM steps WHERE run_id = ? AND kind = 'agentsnet-instance'").all('an-budget') as Array<{
            status: string;
          }>
        ).map((row) => row.status),
      }));
      assert.equal(stored.run, 'budget_exhausted');
      assert.ok(stored.steps.includes('budget_exhausted'), `step statuses ${stored.steps.join(', ')}`);

      // Human output says so too, with the same exit code.
      const human = await runCli([...SMALL.filter((flag) => flag !== '--json'), '--db', dir.file('other.db'), '--budget-tokens', '8000'], {
        cwd: dir.path,
      });
      expectExit(human, 3);
      assert.match(human.stdout, /Budget exhausted \(exit 3\)/);

      // The budget may change on resume: exhausted instances are not reused but run again.
      const resumed = await runCli([...SMALL, '--run-id', 'an-budget', '--db', db], { cwd: dir.path });
      expectExit(resumed, 0);
      const resumedJson = parseSingleJson<AgentsnetJson>(resumed);
      assert.equal(resumedJson.status, 'ok');
      assert.equal(resumedJson.reusedInstances, json.instances.length - json.budgetExhaustedInstances);
      assert.ok(resumedJson.instances.every((instance) => instance.budgetExhaustedAgents === 0));
    } finally {
      dir.remove();
    }
  });
});
