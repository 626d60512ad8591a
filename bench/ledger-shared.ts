/**
 * The shared ledger's speed (issue 21): reserve+settle pairs per second in-process (the synchronous Ledger),
 * on the in-memory SharedLedger, and on Redis from 1 and from 4 processes, all on one hot scope (the case a
 * shared budget is for). Each process keeps many pairs in flight, which ioredis's auto-pipelining sends as
 * batches; Redis runs each script atomically. Timings vary with the machine's load; nothing here is asserted.
 *
 * Also run as a worker: `node --import tsx bench/ledger-shared.ts worker <prefix> <durationMs> <id>` (starts on "go" on stdin).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/index.ts';
import { InMemorySharedLedger, Ledger, connectRedisSharedLedger, type SharedLedger, type SharedScope } from '../src/budget/index.ts';
import type { BenchRow } from './foundation.ts';

const SCOPES: SharedScope[] = [{ key: 'bench:hot', limits: { totalTokens: Number.MAX_SAFE_INTEGER, usd: 1e6 } }];
const RESERVE = { inputTokens: 120, outputTokens: 256, usd: 0.0001, calls: 1 };
const BILLED = { inputTokens: 120, outputTokens: 140, usd: 0.00008, calls: 1 };
const IN_FLIGHT = 256;
const DURATION_MS = 3000;

const rate = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ops/s`;

/** Pairs completed by `IN_FLIGHT` concurrent chains of reserve → settle between `startAt` and `startAt + durationMs`. */
async function drive(ledger: SharedLedger, tag: string, startAt: number, durationMs: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const endAt = startAt + durationMs;
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < endAt) {
        const id = `${tag}:${next++}`;
        const result = await ledger.reserve(id, SCOPES, RESERVE, 30_000);
        if (!result.granted) throw new Error('bench scope refused');
        await ledger.settle(id, id, SCOPES, BILLED);
        done++;
      }
    }),
  );
  return done;
}

function benchInProcess(): number {
  const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: Number.MAX_SAFE_INTEGER, usd: 1e12 } });
  const operations = 200_000;
  for (let index = 0; index < 20_000; index++) ledger.root.reserve(RESERVE).settle(BILLED);
  const start = performance.now();
  for (let index = 0; index < operations; index++) ledger.root.reserve(RESERVE).settle(BILLED);
  return operations / ((performance.now() - start) / 1000);
}

interface Worker {
  ready: Promise<void>;
  done: Promise<number>;
  go: () => void;
}

/** A worker process: connects, says "ready", runs its window when told "go", prints how many pairs it completed. */
function startWorker(prefix: string, id: number): Worker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', prefix, String(DURATION_MS), String(id)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let output = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready')) markReady();
  });
  const done = new Promise<number>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(Number(output.replace('ready', '').trim())) : reject(new Error(`bench worker exited ${code}`)),
    ),
  );
  return { ready, done, go: () => child.stdin.end('go\n') };
}

async function benchRedis(processes: number): Promise<number> {
  const prefix = `bench:ledger:${randomBytes(6).toString('hex')}:`;
  try {
    // Every worker starts (tsx, ioredis, connect) before any runs, so the window measures only reserve+settle.
    const workers = Array.from({ length: processes }, (_, id) => startWorker(prefix, id));
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) worker.go();
    const counts = await Promise.all(workers.map((worker) => worker.done));
    return counts.reduce((sum, count) => sum + count, 0) / (DURATION_MS / 1000);
  } finally {
    const cleaner = await connectRedisSharedLedger({ prefix });
    await cleaner.deleteAll();
    await cleaner.close();
  }
}

export async function benchSharedLedger(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const inProcess = benchInProcess();
  rows.push({ name: 'ledger reserve+settle, in-process (sync Ledger)', value: rate(inProcess), target: '—', met: undefined });
  const memory = (await drive(new InMemorySharedLedger(), 'memory', Date.now(), DURATION_MS)) / (DURATION_MS / 1000);
  rows.push({
    name: 'SharedLedger reserve+settle, in-memory',
    value: rate(memory),
    target: '—',
    met: undefined,
    note: `${IN_FLIGHT} in flight`,
  });
  try {
    const one = await benchRedis(1);
    rows.push({
      name: 'Redis ledger reserve+settle, 1 process',
      value: rate(one),
      target: '—',
      met: undefined,
      note: `${IN_FLIGHT} in flight, auto-pipelined`,
    });
    const four = await benchRedis(4);
    rows.push({
      name: 'Redis ledger reserve+settle, 4 processes',
      value: rate(four),
      target: '≥ 20,000 ops/s',
      met: four >= 20_000,
      note: `one hot scope; ${IN_FLIGHT} in flight per process, batched; load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
    });
  } catch (error) {
    rows.push({
      name: 'Redis ledger reserve+settle',
      value: 'not run',
      target: '≥ 20,000 ops/s',
      met: undefined,
      note: (error as Error).message,
    });
  }
  return rows;
}

if (process.argv[2] === 'worker') {
  const [prefix, durationMs, id] = process.argv.slice(3);
  const ledger = await connectRedisSharedLedger({ prefix: prefix! });
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const done = await drive(ledger, `p${id}`, Date.now(), Number(durationMs));
  await ledger.close();
  process.stdout.write(`${done}\n`);
}
