/**
 * Scale-out on Redis (issue 21): study cells per second with 1, 2 and 4 `thicket worker` PROCESSES (spawned
 * `node bin/thicket.js worker`, the compiled dist/, 4 cells at once each), the coordinator through the library
 * (`runStudy` with `queueDispatcher`, as `thicket study --queue` does). The figure is cells over the dispatch:
 * from the first enqueue to the last cell journaled (worker start-up and the report are not in it).
 *
 *   - CPU-bound: the simulated fleet (`sim:` models on the virtual clock: no waiting, all CPU). This machine has
 *     2 cores shared by the workers, the coordinator and Redis: it cannot scale past ~2× (no target).
 *   - I/O-bound, the realistic case: a fake OpenAI-compatible endpoint (its own process) answers every
 *     /v1/chat/completions after 200 ms; target at 4 workers ≥ 3.5× the 1-worker rate.
 *   - The same I/O-bound row on a Postgres journal (a fresh schema, dropped after) when PostgreSQL is up.
 *
 * Journal: a fresh SQLite file per measurement, shared by the local workers (or Postgres). Redis keys live under
 * a random prefix, deleted after. Skipped (one row saying so) when Redis is not reachable.
 * THICKET_BENCH_QUEUE_SCALE multiplies the study sizes (default 1: each measurement ≈ 10–30 s);
 * THICKET_BENCH_QUEUE_PARTS=cpu,io,pg picks the series (default all three).
 *
 *   import { benchQueue } from './queue.ts';  rows.push(...(await benchQueue()));
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Journal } from '../src/journal/index.ts';
import { parseStudy, queueDispatcher, runStudy, type DispatchCells, type StudyDefinition } from '../src/lab/index.ts';
import type { FleetConfig } from '../src/models/index.ts';
import type { BenchRow } from './foundation.ts';

const REDIS_URL = process.env['THICKET_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env['THICKET_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCALE = Number(process.env['THICKET_BENCH_QUEUE_SCALE'] ?? 1);
const PARTS = (process.env['THICKET_BENCH_QUEUE_PARTS'] ?? 'cpu,io,pg').split(',');
const WORKER_COUNTS = [1, 2, 4] as const;
const PER_WORKER_CONCURRENCY = 4;
const LATENCY_MS = 200;
const IO_SPEEDUP_TARGET = 3.5;
const BIN = new URL('../bin/thicket.js', import.meta.url).pathname;
/** Clock ticks per second of /proc/<pid>/stat's CPU times (100 on Linux). */
const CLOCK_TICKS = 100;

interface Measurement {
  workers: number;
  cells: number;
  seconds: number;
  /** CPU seconds of the worker processes and of this process (the coordinator) over the dispatch. */
  workerCpu: number;
  coordinatorCpu: number;
  /** The coordinator's event-loop delay over the dispatch (p99, max; ms): how long its synchronous work blocks it. */
  loopLagMs: { p99: number; max: number };
  status: string;
}

const rate = (m: Measurement): number => m.cells / m.seconds;

/** The fake endpoint (bench/queue-endpoint.ts) in its own process. */
async function startEndpoint(): Promise<{ baseURL: string; requests: () => Promise<number>; close: () => Promise<void> }> {
  const child = fork(new URL('./queue-endpoint.ts', import.meta.url).pathname, [String(LATENCY_MS)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
  const { port } = await next<{ port: number }>();
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: async () => {
      const reply = next<{ requests: number }>();
      child.send('count');
      return (await reply).requests;
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

/** CPU seconds a live process has used (user + system), from /proc; 0 where /proc is not there. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Spawns `count` worker processes and resolves once each says it is consuming. */
async function startWorkers(count: number, prefix: string): Promise<ChildProcess[]> {
  const args = [BIN, 'worker', '--redis', REDIS_URL, '--prefix', prefix, '--concurrency', String(PER_WORKER_CONCURRENCY)];
  const children = Array.from({ length: count }, () => spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let stderr = '';
          const onData = (chunk: Buffer): void => {
            stderr += chunk.toString();
            if (stderr.includes(' consuming ')) {
              child.stderr.off('data', onData);
              // Drained from here on, so a chatty worker never blocks on a full pipe.
              child.stderr.resume();
              resolve();
            }
          };
          child.stderr.on('data', onData);
          child.once('exit', (code) => reject(new Error(`worker exited (${code}) before consuming: ${stderr}`)));
        }),
    ),
  );
  return children;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** One study on `workers` fresh worker processes; the dispatch (enqueue → all journaled) is timed. */
async function measure(
  study: StudyDefinition,
  config: FleetConfig,
  journalTarget: string,
  workers: number,
  prefix: string,
): Promise<Measurement> {
  const children = await startWorkers(workers, prefix);
  const journal = Journal.open(journalTarget);
  try {
    const inner = queueDispatcher({ redisUrl: REDIS_URL, prefix, journal, journalTarget, config });
    let seconds = 0;
    let workerCpu = 0;
    let coordinatorCpu = 0;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const dispatch: DispatchCells = async (request) => {
      const cpuBefore = children.map((child) => processCpuSeconds(child.pid));
      const ownBefore = process.cpuUsage();
      lag.enable();
      const started = performance.now();
      const result = await inner(request);
      seconds = (performance.now() - started) / 1000;
      lag.disable();
      const own = process.cpuUsage(ownBefore);
      coordinatorCpu = (own.user + own.system) / 1e6;
      workerCpu = children.reduce((sum, child, index) => sum + processCpuSeconds(child.pid) - cpuBefore[index]!, 0);
      return result;
    };
    const run = await runStudy(study, { journal, config, dispatch });
    return {
      workers,
      cells: run.counts.executed,
      seconds,
      workerCpu,
      coordinatorCpu,
      loopLagMs: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
      status: run.status,
    };
  } finally {
    journal.close();
    await stopWorkers(children);
  }
}

function study(id: string, items: number, models: string[], architectures: string[]): StudyDefinition {
  return parseStudy({
    version: 1,
    id,
    suites: [{ kind: 'arithmetic', items, operations: [2, 4] }],
    architectures,
    budgets: [1500, 4000],
    models,
    concurrency: PER_WORKER_CONCURRENCY,
  });
}

async function series(
  label: string,
  build: (workers: number) => StudyDefinition,
  config: FleetConfig,
  journalFor: (workers: number) => string,
  prefix: string,
): Promise<Measurement[]> {
  const results: Measurement[] = [];
  for (const workers of WORKER_COUNTS) {
    const result = await measure(build(workers), config, journalFor(workers), workers, prefix);
    process.stderr.write(
      `  queue ${label}: ${workers} worker(s) ${result.cells} cells in ${result.seconds.toFixed(1)} s = ${rate(result).toFixed(1)} cells/s ` +
        `(workers ${result.workerCpu.toFixed(1)} s CPU, coordinator ${result.coordinatorCpu.toFixed(1)} s CPU, ` +
        `loop lag p99 ${result.loopLagMs.p99.toFixed(0)} ms max ${result.loopLagMs.max.toFixed(0)} ms; ${result.status})\n`,
    );
    results.push(result);
  }
  return results;
}

function seriesRows(label: string, results: Measurement[], target: number | undefined, note: string): BenchRow[] {
  const base = rate(results[0]!);
  const rows: BenchRow[] = results.map((result) => ({
    name: `queue ${label}: ${result.workers} worker process${result.workers > 1 ? 'es' : ''}`,
    value: `${rate(result).toFixed(1)} cells/s`,
    target: '—',
    met: result.status === 'ok' ? undefined : false,
    note:
      `${result.cells} cells in ${result.seconds.toFixed(1)} s; CPU ${result.workerCpu.toFixed(1)} s workers, ` +
      `${result.coordinatorCpu.toFixed(1)} s coordinator (loop lag p99 ${result.loopLagMs.p99.toFixed(0)} ms); ${result.status}`,
  }));
  const last = results.at(-1)!;
  const speedup = rate(last) / base;
  rows.push({
    name: `queue ${label}: speedup 4 vs 1 worker`,
    value: `${speedup.toFixed(2)}×`,
    target: target === undefined ? '— (2 cores)' : `≥ ${target}×`,
    met: target === undefined ? undefined : speedup >= target && results.every((result) => result.status === 'ok'),
    note: `2 workers ${(rate(results[1]!) / base).toFixed(2)}×; ${note}`,
  });
  return rows;
}

export async function benchQueue(): Promise<BenchRow[]> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    return [
      {
        name: 'queue: study cells on worker processes',
        value: 'skipped',
        target: '—',
        met: undefined,
        note: `no Redis at ${REDIS_URL}: ${String(error)}`,
      },
    ];
  }
  const prefix = `thicket-bench-${randomBytes(6).toString('hex')}`;
  const scratch = mkdtempSync(join(tmpdir(), 'thicket-bench-queue-'));
  const endpoint = await startEndpoint();
  const tag = randomBytes(4).toString('hex');
  const rows: BenchRow[] = [];
  const schemas: string[] = [];
  try {
    const pgUp = await postgresUp();
    /** A fresh Postgres schema per measurement (dropped at the end). */
    const pgJournal = (kind: string) => (workers: number) => {
      const schema = `thicket_bench_${tag}_${kind}_${workers}`;
      schemas.push(schema);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('schema', schema);
      return url.toString();
    };
    // CPU-bound: the same study for every worker count (8 cells an item: search does not run arithmetic).
    const simConfig: FleetConfig = { version: 1, models: {} };
    const cpuStudy = (kind: string) => (workers: number) =>
      study(`qb-${kind}-${tag}-${workers}`, Math.round(400 * SCALE), ['sim:small', 'sim:large'], ['single', 'vote']);
    const cpuNote = 'CPU-bound work cannot pass ~2× on this 2-core machine (workers, coordinator and Redis share it)';
    if (PARTS.includes('cpu')) {
      const cpu = await series(
        'CPU-bound (sim fleet), SQLite journal',
        cpuStudy('cpu'),
        simConfig,
        (workers) => join(scratch, `cpu-${workers}.db`),
        prefix,
      );
      rows.push(...seriesRows('CPU-bound (sim, SQLite)', cpu, undefined, cpuNote));
    }

    const ioConfig: FleetConfig = {
      version: 1,
      models: {
        fake: {
          provider: 'openai-compatible',
          baseURL: endpoint.baseURL,
          model: 'm',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 2,
          contextWindow: 8192,
          maxConcurrency: 256,
        },
      },
    };
    // Ideal: workers × 4 cells in flight, each one 200 ms call → 20 cells/s per worker.
    const ioStudy = (kind: string) => (workers: number) =>
      study(`qb-${kind}-${tag}-${workers}`, Math.round(120 * SCALE * workers), ['fake'], ['single']);
    if (PARTS.includes('io')) {
      const requestsBefore = await endpoint.requests();
      const io = await series(
        'I/O-bound (200 ms endpoint), SQLite journal',
        ioStudy('io'),
        ioConfig,
        (workers) => join(scratch, `io-${workers}.db`),
        prefix,
      );
      const calls = (await endpoint.requests()) - requestsBefore;
      rows.push(
        ...seriesRows(
          'I/O-bound (200 ms, SQLite)',
          io,
          IO_SPEEDUP_TARGET,
          `ideal ${(1000 / LATENCY_MS) * PER_WORKER_CONCURRENCY} cells/s per worker; ${calls} calls answered`,
        ),
      );
    }

    if (!PARTS.includes('pg')) {
      // not asked for
    } else if (pgUp) {
      const pgio = await series('I/O-bound (200 ms endpoint), Postgres journal', ioStudy('pg'), ioConfig, pgJournal('io'), prefix);
      rows.push(...seriesRows('I/O-bound (200 ms, Postgres)', pgio, IO_SPEEDUP_TARGET, 'journal in PostgreSQL'));
    } else
      rows.push({
        name: 'queue I/O-bound (200 ms, Postgres)',
        value: 'skipped',
        target: '—',
        met: undefined,
        note: `no PostgreSQL at ${POSTGRES_URL}`,
      });
  } finally {
    await endpoint.close();
    const keys = await probe.keys(`${prefix}:*`);
    if (keys.length > 0) await probe.del(...keys);
    probe.disconnect();
    if (schemas.length > 0) await dropSchemas(schemas);
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

async function postgresUp(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function dropSchemas(schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
