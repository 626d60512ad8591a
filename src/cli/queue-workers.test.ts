/**
 * Scale-out with real processes (issue 21): `thicket study --queue` fanned out to four `thicket worker`
 * processes, against a local OpenAI-compatible endpoint that answers after a delay and counts every request.
 *
 * - Workers are killed -9 at seeded-random moments (≥ 10 times) and replaced: the study completes with the
 *   same cells as an uninterrupted in-process run; every journaled call is paid once — the endpoint's extra
 *   requests are bounded by the intents the kills left unresolved (calls in flight at a kill: sent, never
 *   journaled, so a retried cell had to send them again).
 * - Redis (a private redis-server on a free port, no persistence) is killed and restarted mid-study: the study
 *   completes; down for longer than the coordinator waits, it stops with QUEUE_UNREACHABLE and a re-run resumes.
 *
 * Set THICKET_QUEUE_KILL_SEED to replay a sequence of kill moments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createRng } from '../core/index.ts';
import {
  closedPort,
  makeTempDir,
  parseSingleJson,
  runCli,
  spawnCli,
  withJournalReadonly,
  type SpawnedCli,
  type TempDir,
} from './testing/run-cli.ts';

const REDIS_URL = process.env['THICKET_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const LATENCY_MS = 40;
const KILLS = 10;

/** Waits until `check` holds, or fails naming `what` after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Endpoint {
  baseURL: string;
  requests: number;
  close(): Promise<void>;
}

/** Answers every chat completion after LATENCY_MS with a number derived from the request (deterministic). */
async function startEndpoint(): Promise<Endpoint> {
  const endpoint: Endpoint = {
    baseURL: '',
    requests: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      endpoint.requests++;
      const body = JSON.parse(raw) as { messages: unknown; max_tokens?: number; max_completion_tokens?: number };
      const digest = createHash('sha256').update(JSON.stringify(body.messages)).digest();
      const answer = digest.readUInt16BE(0) % 50;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${digest.toString('hex').slice(0, 12)}`,
            object: 'chat.completion',
            created: 1_700_000_000,
            model: 'm',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: `Working it through, the answer is **${answer}**.` },
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
          }),
        );
      }, LATENCY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return endpoint;
}

const STUDY = {
  version: 1,
  id: 'scale',
  suites: [{ kind: 'arithmetic', items: 30, operations: [2, 4] }],
  architectures: ['single', 'vote@3', 'refine'],
  budgets: [1500, 4000],
  models: ['endpoint'],
  seeds: [1],
  concurrency: 8,
  // Roomy: every cell runs, but each holds its budget on the shared ledger (Redis) while it runs.
  limits: { tokens: 10_000_000 },
};

interface CellRow {
  stepId: string;
  score: number;
  answer: unknown;
  tokens: number;
  calls: number;
}

function cellsOf(db: string): CellRow[] {
  return withJournalReadonly(db, (sqlite) =>
    (
      sqlite.prepare("SELECT step_id, output_json FROM steps WHERE kind = 'lab-cell' AND status = 'ok' ORDER BY step_id").all() as Array<{
        step_id: string;
        output_json: string;
      }>
    ).map((row) => {
      const output = JSON.parse(row.output_json) as { score: number; answer: unknown; usage: { totalTokens: number; calls: number } };
      return {
        stepId: row.step_id,
        score: output.score,
        answer: output.answer,
        tokens: output.usage.totalTokens,
        calls: output.usage.calls,
      };
    }),
  );
}

const countOf = (db: string, sql: string): number => withJournalReadonly(db, (sqlite) => (sqlite.prepare(sql).get() as { n: number }).n);
/** Cells journaled so far (0 while the journal is being created). */
const cellsDone = (db: string): number => {
  try {
    return existsSync(db) ? countOf(db, "SELECT COUNT(*) AS n FROM steps WHERE kind = 'lab-cell'") : 0;
  } catch {
    return 0;
  }
};

describe('thicket study --queue on worker processes (real Redis, real processes)', { concurrency: false }, () => {
  let dir: TempDir;
  let endpoint: Endpoint;
  let baseline: { cells: CellRow[]; requests: number; calls: number };
  const prefixes: string[] = [];
  const children = new Set<ChildProcess>();

  const studyArgs = (db: string, queue: string | undefined, prefix: string): string[] => [
    'study',
    '--study',
    dir.file('study.json'),
    '--config',
    dir.file('thicket.config.json'),
    '--journal',
    db,
    '--out',
    dir.file(`out-${prefix}`),
    '--no-report',
    '--yes',
    '--json',
    ...(queue !== undefined ? ['--queue', queue, '--queue-prefix', prefix] : []),
  ];
  const spawned: SpawnedCli[] = [];
  const startWorker = (redisUrl: string, prefix: string): SpawnedCli => {
    const worker = spawnCli(['worker', '--redis', redisUrl, '--prefix', prefix, '--concurrency', '2', '--lock-ms', '2000'], {
      timeoutMs: 240_000,
    });
    spawned.push(worker);
    children.add(worker.child);
    void worker.done.finally(() => children.delete(worker.child));
    return worker;
  };

  before(async () => {
    dir = makeTempDir('thicket-queue-workers-');
    endpoint = await startEndpoint();
    dir.write('study.json', STUDY);
    dir.write('thicket.config.json', {
      version: 1,
      models: {
        endpoint: {
          provider: 'openai-compatible',
          baseURL: endpoint.baseURL,
          model: 'm',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 2,
          contextWindow: 8192,
          maxConcurrency: 64,
        },
      },
    });
    const db = dir.file('baseline.db');
    const before = endpoint.requests;
    const result = await runCli(studyArgs(db, undefined, 'none'), { timeoutMs: 180_000 });
    assert.equal(result.code, 0, result.stderr);
    baseline = { cells: cellsOf(db), requests: endpoint.requests - before, calls: countOf(db, 'SELECT COUNT(*) AS n FROM calls') };
    assert.equal(baseline.cells.length, 30 * 3 * 2);
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    const redis = new Redis(REDIS_URL);
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
    await endpoint.close();
    if (process.env['THICKET_KEEP_TMP'] === undefined) dir.remove();
    else process.stderr.write(`kept ${dir.path}\n`);
  });

  it(`survives ${KILLS} kill -9s of its workers: same cells, every journaled call paid once`, async () => {
    const prefix = `thicket-test-${randomBytes(5).toString('hex')}`;
    prefixes.push(prefix);
    const seed = Number(process.env['THICKET_QUEUE_KILL_SEED'] ?? 21);
    const random = createRng(seed);
    const workers = Array.from({ length: 4 }, () => startWorker(REDIS_URL, prefix));
    const db = dir.file('killed.db');
    const before = endpoint.requests;
    const coordinator = spawnCli(studyArgs(db, REDIS_URL, prefix), { timeoutMs: 240_000 });
    let finished = false;
    void coordinator.done.then(() => (finished = true));
    let kills = 0;
    while (!finished && kills < KILLS) {
      await new Promise((resolve) => setTimeout(resolve, 150 + random.next() * 450));
      if (finished) break;
      const victim = Math.floor(random.next() * workers.length);
      workers[victim]!.child.kill('SIGKILL');
      await workers[victim]!.done;
      workers[victim] = startWorker(REDIS_URL, prefix);
      kills++;
    }
    const result = await coordinator.done;
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.done));
    assert.equal(kills, KILLS, `the study ended after ${kills} kills (seed ${seed}): make it longer`);
    assert.equal(result.code, 0, `seed ${seed}: ${result.stderr}`);
    const summary = parseSingleJson<{ status: string; counts: { executed: number; failed: number } }>(result);
    assert.equal(summary.status, 'ok');
    assert.equal(summary.counts.failed, 0);
    // The same cells, scores, answers and spend as the uninterrupted run.
    const differing = cellsOf(db).filter((cell, index) => JSON.stringify(cell) !== JSON.stringify(baseline.cells[index]));
    assert.deepEqual(
      differing.map((cell) => cell.stepId),
      [],
      `seed ${seed}: cells differ from the uninterrupted run`,
    );
    assert.deepEqual(cellsOf(db), baseline.cells, `seed ${seed}`);
    // Every call journaled once (the primary key), as many as uninterrupted.
    assert.equal(countOf(db, 'SELECT COUNT(*) AS n FROM calls'), baseline.calls);
    // Paid at most once each, but for calls in flight when a worker died (their intents are left unresolved) and
    // calls a second copy of a job made while the first had lost its lock to a starved event loop (each worker
    // logs its running count of those duplicates).
    const extra = endpoint.requests - before - baseline.requests;
    const unresolved = countOf(db, 'SELECT COUNT(*) AS n FROM call_intents');
    const logs = await Promise.all(spawned.map(async (worker) => (await worker.done).stderr));
    const duplicates = logs
      .map((log) => Math.max(0, ...[...log.matchAll(/duplicate calls so far: (\d+)/g)].map((match) => Number(match[1]))))
      .reduce((sum, count) => sum + count, 0);
    assert.ok(
      extra >= 0 && extra <= unresolved + duplicates,
      `seed ${seed}: ${extra} extra requests, ${unresolved} unresolved intents, ${duplicates} duplicates`,
    );
    assert.ok(unresolved <= KILLS * 2 * 3, `at most (cells in flight × calls at once) per kill, got ${unresolved}`);
    // The study cap's holds: every killed worker's lease lapsed (lease = the 2 s lock), every cell settled once.
    const { connectRedisSharedLedger } = await import('../budget/index.ts');
    const ledger = await connectRedisSharedLedger({ url: REDIS_URL, prefix: `${prefix}:ledger:` });
    try {
      await waitFor(async () => (await ledger.usage('study:study-scale')).holds === 0, 'the dead workers’ holds to lapse', 10_000);
      const usage = await ledger.usage('study:study-scale');
      assert.equal(usage.spent.totalTokens, countOf(db, 'SELECT SUM(input_tokens + output_tokens) AS n FROM calls'));
    } finally {
      await ledger.close();
    }
  });

  it('a Redis restarted mid-study (its data lost) is picked up again; one that stays down stops the study, and a re-run resumes', async () => {
    const port = await closedPort();
    const url = `redis://127.0.0.1:${port}`;
    const startRedis = (): ChildProcess => {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    };
    const waitForRedis = async (): Promise<void> => {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 });
      probe.on('error', () => undefined);
      await waitFor(
        () =>
          probe.ping().then(
            () => true,
            () => false,
          ),
        'redis-server to answer',
        10_000,
      );
      probe.disconnect();
    };
    let redis = startRedis();
    await waitForRedis();
    const prefix = 'thicket';
    const workers = Array.from({ length: 4 }, () => startWorker(url, prefix));
    const db = dir.file('restart.db');
    const done = (): number => cellsDone(db);

    // Restarted after 1 s: the study completes.
    const coordinator = spawnCli(studyArgs(db, url, prefix), { timeoutMs: 240_000 });
    await waitFor(() => done() >= 40, '40 cells journaled');
    redis.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    redis = startRedis();
    const result = await coordinator.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Redis is back: re-enqueuing the \d+ cells not yet journaled/);
    assert.deepEqual(cellsOf(db), baseline.cells);

    // Down for longer than the coordinator waits: QUEUE_UNREACHABLE, exit 1; Redis back, the same command resumes.
    const db2 = dir.file('down.db');
    const stopped = spawnCli(studyArgs(db2, url, prefix), { timeoutMs: 120_000, env: { THICKET_QUEUE_DOWN_TIMEOUT_MS: '2000' } });
    await waitFor(() => cellsDone(db2) >= 20, '20 cells journaled');
    redis.kill('SIGKILL');
    const failed = await stopped.done;
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /QUEUE_UNREACHABLE|Cannot reach the job queue's Redis/);
    redis = startRedis();
    await waitForRedis();
    const resumed = await runCli(studyArgs(db2, url, prefix), { timeoutMs: 120_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = parseSingleJson<{ counts: { resumed: number; executed: number } }>(resumed);
    assert.ok(summary.counts.resumed >= 20, `resumed ${summary.counts.resumed}`);
    assert.deepEqual(cellsOf(db2), baseline.cells);
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.done));
    redis.kill('SIGKILL');
  });
});
