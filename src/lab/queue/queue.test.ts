/**
 * Study cells on BullMQ workers, in one process against the real Redis (127.0.0.1:6379, or THICKET_REDIS_URL),
 * each test under its own key prefix: the same results as the in-process runner, resume by id, cancel, and the
 * clear errors of an unreachable Redis. The multi-process tests (kill -9, Redis restarted) are in
 * src/cli/queue-workers.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Journal } from '../../journal/index.ts';
import { CELL_STEP_KIND, evalCommand, parseStudy, runStudy, type CellResult, type StudyDefinition } from '../index.ts';
import { queueDispatcher, QueueUnreachableError, resolveRedisUrl, startWorker, type RunningWorker } from './index.ts';
import { checkRedis, redisConnection } from './redis.ts';

const REDIS_URL = process.env['THICKET_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const scratch = mkdtempSync(join(tmpdir(), 'thicket-queue-'));
const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
const newPrefix = (): string => {
  const prefix = `thicket-test-${randomBytes(6).toString('hex')}`;
  prefixes.push(prefix);
  return prefix;
};
after(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
  rmSync(scratch, { recursive: true, force: true });
});

const study = (id: string): StudyDefinition =>
  parseStudy({
    version: 1,
    id,
    suites: [
      { kind: 'arithmetic', items: 5, operations: [2, 4] },
      { kind: 'multihop', items: 4, hops: [1, 2] },
    ],
    architectures: ['single', 'vote', 'search'],
    budgets: [1500, 4000],
    models: ['sim:small', 'sim:large'],
    concurrency: 4,
  });

/** A cell's outcome without timing noise. */
const outcome = (cell: CellResult): string =>
  [cell.suite, cell.taskId, cell.architecture, cell.budget, cell.model, cell.score, cell.answer, cell.usage.totalTokens, cell.usage.calls]
    .map(String)
    .join('|') + JSON.stringify(cell.axes);

describe('study cells on queue workers (one process, real Redis)', { concurrency: false }, () => {
  let workers: RunningWorker[] = [];
  let prefix: string;
  before(async () => {
    const probe = redisConnection(REDIS_URL);
    await checkRedis(probe, REDIS_URL).catch((error: unknown) => {
      throw new Error(`These tests need Redis at ${REDIS_URL} (.ci/run starts it): ${String(error)}`);
    });
    probe.disconnect();
  });
  const startWorkers = async (count: number): Promise<void> => {
    workers = await Promise.all(
      Array.from({ length: count }, (_unused, index) => startWorker({ redisUrl: REDIS_URL, prefix, concurrency: 3, name: `w${index}` })),
    );
  };
  /** The coordinator's side, on this test's prefix and journal. */
  const dispatcherFor = (journal: Journal, path: string, pollMs: number): ReturnType<typeof queueDispatcher> =>
    queueDispatcher({ redisUrl: REDIS_URL, prefix, journal, journalTarget: path, config: { version: 1, models: {} }, pollMs });
  const stopWorkers = async (): Promise<void> => {
    await Promise.all(workers.map((worker) => worker.close()));
    workers = [];
  };

  it('two workers run every cell, journal it once, and the results equal the in-process runner’s', async () => {
    prefix = newPrefix();
    const local = Journal.open(join(scratch, 'local.db'));
    const expected = await runStudy(study('q-same'), { journal: local });
    local.close();

    const path = join(scratch, 'queued.db');
    const journal = Journal.open(path);
    await startWorkers(2);
    const reports: string[] = [];
    try {
      const run = await runStudy(study('q-same'), {
        journal,
        dispatch: dispatcherFor(journal, path, 100),
        onProgress: (progress) => reports.push(`${progress.done}/${progress.total}`),
      });
      assert.equal(run.status, 'ok');
      assert.equal(run.counts.planned, expected.counts.planned);
      assert.equal(run.counts.executed, expected.counts.planned);
      assert.deepEqual(run.cells.map(outcome), expected.cells.map(outcome));
      assert.equal(reports.at(-1), `${expected.counts.planned}/${expected.counts.planned}`);
      // Both workers took cells, and between them every cell once.
      assert.ok(
        workers.every((worker) => worker.processed > 0),
        `processed: ${workers.map((worker) => worker.processed).join(', ')}`,
      );
      assert.equal(
        workers.reduce((sum, worker) => sum + worker.processed, 0),
        expected.counts.planned,
      );
      // The workers' reports (relayed by BullMQ's events) count every call they paid for: the journal's calls.
      assert.equal(run.calls.new, journal.getCalls(run.runId).length);
      const steps = journal.getSteps(run.runId).filter((step) => step.kind === CELL_STEP_KIND);
      assert.equal(steps.length, expected.counts.planned);
      assert.equal(
        journal.runTotals(run.runId).totalTokens,
        expected.cells.reduce((sum, cell) => sum + cell.usage.totalTokens, 0),
      );
    } finally {
      await stopWorkers();
      journal.close();
    }
  });

  it('a study-wide cap holds across workers: cells hold their whole budget on the shared ledger, nothing is left held', async () => {
    prefix = newPrefix();
    const path = join(scratch, 'capped.db');
    const journal = Journal.open(path);
    await startWorkers(2);
    const capped = parseStudy({
      ...study('q-capped'),
      suites: [{ kind: 'arithmetic', items: 6, operations: [2, 4] }],
      limits: { tokens: 20_000 },
    });
    try {
      const run = await runStudy(capped, {
        journal,
        dispatch: dispatcherFor(journal, path, 100),
      });
      assert.equal(run.status, 'budget_exhausted');
      assert.ok(run.counts.executed > 0 && run.counts.notStarted > 0, JSON.stringify(run.counts));
      const spentInCells = run.cells.reduce((sum, cell) => sum + cell.usage.totalTokens, 0);
      const totals = journal.runTotals(run.runId);
      assert.ok(totals.totalTokens <= 20_000, `journal: ${totals.totalTokens} tokens`);
      assert.equal(spentInCells, totals.totalTokens);
      const { connectRedisSharedLedger } = await import('../../budget/index.ts');
      const ledger = await connectRedisSharedLedger({ url: REDIS_URL, prefix: `${prefix}:ledger:` });
      const usage = await ledger.usage(`study:${run.runId}`);
      await ledger.close();
      assert.equal(usage.spent.totalTokens, totals.totalTokens, 'the shared ledger and the journal agree');
      assert.equal(usage.holds, 0, 'every hold settled');
    } finally {
      await stopWorkers();
      journal.close();
    }
  });

  it('thicket eval on the queue: the dataset travels with the spec, the results equal the in-process eval’s; a judged eval is refused', async () => {
    prefix = newPrefix();
    const gsm8k = join(import.meta.dirname, '../../../fixtures/gsm8k-sample.jsonl');
    const silent = { out: () => undefined, err: () => undefined, isTTY: false, handleSigint: false };
    const options = {
      target: gsm8k,
      preset: 'gsm8k',
      strategies: 'single,vote',
      budgets: '2k,8k',
      models: 'sim:small',
      json: true,
      report: false,
    };
    const local = await evalCommand(
      { ...options, db: join(scratch, 'eval-local.db'), out: join(scratch, 'eval-local'), resume: 'gsm' },
      silent,
    );
    await startWorkers(2);
    try {
      const queued = await evalCommand(
        {
          ...options,
          db: join(scratch, 'eval-queued.db'),
          out: join(scratch, 'eval-queued'),
          resume: 'gsm',
          queue: REDIS_URL,
          queuePrefix: prefix,
        },
        silent,
      );
      assert.equal(queued.exitCode, 0);
      assert.deepEqual(queued.counts, local.counts);
      assert.ok(workers.every((worker) => worker.processed > 0));
      const rows = (result: typeof local): string[] =>
        result.summary.stats.map((row) => `${row.architecture}|${row.budget}|${row.n}|${row.accuracy}|${row.meanTokens}`);
      assert.deepEqual(rows(queued), rows(local));
      await assert.rejects(
        evalCommand(
          { ...options, scorer: 'judge:sim:large', db: join(scratch, 'eval-judge.db'), out: join(scratch, 'eval-judge'), queue: REDIS_URL },
          silent,
        ),
        (error: unknown) => (error as { code?: string }).code === 'INVALID_INPUT' && /--queue: the LLM judge/.test(String(error)),
      );
    } finally {
      await stopWorkers();
    }
  });

  it('a second dispatch of a finished study resumes: nothing is enqueued, nothing runs again', async () => {
    prefix = newPrefix();
    const path = join(scratch, 'resume.db');
    const journal = Journal.open(path);
    await startWorkers(1);
    try {
      const dispatcher = (): ReturnType<typeof queueDispatcher> => dispatcherFor(journal, path, 100);
      const first = await runStudy(study('q-resume'), { journal, dispatch: dispatcher() });
      const processed = workers[0]!.processed;
      const second = await runStudy(study('q-resume'), { journal, dispatch: dispatcher() });
      assert.equal(second.resumed, true);
      assert.equal(second.counts.resumed, first.counts.planned);
      assert.equal(second.counts.executed, 0);
      assert.equal(workers[0]!.processed, processed);
      assert.deepEqual(second.cells.map(outcome), first.cells.map(outcome));
    } finally {
      await stopWorkers();
      journal.close();
    }
  });

  it('cancelling the coordinator removes its queued cells; a re-run finishes the rest', async () => {
    prefix = newPrefix();
    const path = join(scratch, 'cancel.db');
    const journal = Journal.open(path);
    const controller = new AbortController();
    try {
      // No worker yet: every cell waits in the queue, then the coordinator is cancelled.
      const dispatch = dispatcherFor(journal, path, 50);
      const pending = runStudy(study('q-cancel'), { journal, dispatch, signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 300));
      controller.abort();
      const cancelled = await pending;
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.counts.executed, 0);
      const waiting = await redis.keys(`${prefix}:thicket-cells:cell-*`);
      assert.deepEqual(waiting, [], 'no job left behind');
      await startWorkers(1);
      const run = await runStudy(study('q-cancel'), {
        journal,
        dispatch: dispatcherFor(journal, path, 100),
      });
      assert.equal(run.status, 'ok');
      assert.equal(run.counts.executed, run.counts.planned);
    } finally {
      await stopWorkers();
      journal.close();
    }
  });

  it('an unreachable Redis is QUEUE_UNREACHABLE at once, for the coordinator and for a worker', async () => {
    const url = 'redis://127.0.0.1:1';
    const path = join(scratch, 'unreachable.db');
    const journal = Journal.open(path);
    try {
      const dispatch = queueDispatcher({ redisUrl: url, journal, journalTarget: path, config: { version: 1, models: {} } });
      await assert.rejects(runStudy(study('q-down'), { journal, dispatch }), (error: unknown) => {
        assert.ok(error instanceof QueueUnreachableError, String(error));
        assert.equal(error.code, 'QUEUE_UNREACHABLE');
        assert.match(error.message, /redis:\/\/127\.0\.0\.1:1/);
        return true;
      });
      await assert.rejects(startWorker({ redisUrl: url }), (error: unknown) => (error as { code?: string }).code === 'QUEUE_UNREACHABLE');
    } finally {
      journal.close();
    }
  });

  it('Redis URLs: the flag, else THICKET_REDIS_URL, else the local default; anything else is listed as a problem', () => {
    const issues: Array<{ path: string; message: string }> = [];
    assert.equal(resolveRedisUrl('redis://cache:6380/2', '--queue', issues), 'redis://cache:6380/2');
    assert.equal(resolveRedisUrl('http://x', '--queue', issues), 'redis://127.0.0.1:6379');
    assert.deepEqual(issues, [{ path: '--queue', message: 'not a redis:// URL: "http://x"' }]);
    const saved = process.env['THICKET_REDIS_URL'];
    process.env['THICKET_REDIS_URL'] = 'rediss://:secret@cache:6390';
    try {
      assert.equal(resolveRedisUrl(true, '--queue', issues), 'rediss://:secret@cache:6390');
    } finally {
      if (saved === undefined) delete process.env['THICKET_REDIS_URL'];
      else process.env['THICKET_REDIS_URL'] = saved;
    }
  });
});
