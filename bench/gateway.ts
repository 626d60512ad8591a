/**
 * `thicket serve` under load: the gateway (startGateway, journal on disk) on loopback, driven by autocannon from
 * a forked process (bench/gateway-load.ts) with `POST /v1/chat/completions` for `single@sim:small` at zero
 * simulated latency. Every request is a journaled run, so the journal grows during the run as it would in
 * service — that cost stays in what is measured.
 *
 *   - requests/s and p50/p99 at 1, 16 and 64 connections; target ≥ 1,500 requests/s on 2 cores;
 *   - what the gateway adds per request: the HTTP p50 at 1 connection minus the p50 of the same `thicket.solve()`
 *     called in-process in a loop (its own journal, same setup); target ≤ 1 ms;
 *   - memory over a soak (THICKET_BENCH_GATEWAY_SOAK_S, default 60 s, 16 connections, after a warm-up): heap
 *     (after a full GC) and RSS at start and end; target heap growth ≤ 10 %.
 *
 * THICKET_BENCH_GATEWAY_S sets each throughput run's length (default 8 s).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { startGateway } from '../src/gateway/index.ts';
import { createThicket } from '../src/lab/index.ts';
import type { BenchRow } from './foundation.ts';
import type { LoadRequest, LoadResult } from './gateway-load.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUERY = 'What is 17*23?';
const BODY = JSON.stringify({ model: 'single@sim:small', messages: [{ role: 'user', content: QUERY }] });
const CONNECTIONS = [1, 16, 64] as const;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** A full collection before each memory reading, so the heap figure is what is live, not what awaits the collector. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

class LoadGenerator {
  private readonly child: ChildProcess;

  constructor() {
    // NODE_OPTIONS may carry the parent's loaders; the child brings its own (tsx).
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    this.child = fork(resolve(HERE, 'gateway-load.ts'), [], { execArgv: ['--import', 'tsx'], env, stdio: 'inherit' });
  }

  run(request: LoadRequest): Promise<LoadResult> {
    return new Promise((resolvePromise, reject) => {
      this.child.once('message', (message: { ok: true; result: LoadResult } | { ok: false; error: string }) => {
        if (message.ok) resolvePromise(message.result);
        else reject(new Error(`load generator: ${message.error}`));
      });
      this.child.send(request);
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

function checked(result: LoadResult, what: string): LoadResult {
  if (result.non2xx > 0 || result.errors > 0 || result.latenciesMs.length === 0)
    throw new Error(`${what}: ${result.non2xx} non-2xx responses, ${result.errors} errors, ${result.latenciesMs.length} answered`);
  return result;
}

/** p50/p99 of `thicket.solve()` called in-process, one after another, on a journal of its own. */
async function inProcessSolve(folder: string, runs: number): Promise<{ times: number[]; cpuMicros: number }> {
  const thicket = await createThicket({ journal: join(folder, 'in-process.db') });
  try {
    const times: number[] = [];
    let before = process.cpuUsage();
    for (let index = 0; index < runs + 200; index++) {
      if (index === 200) before = process.cpuUsage();
      const started = performance.now();
      const result = await thicket.solve(QUERY, { strategy: 'single', model: 'sim:small' });
      if (result.status !== 'ok') throw new Error(`in-process solve ended ${result.status}`);
      // The first runs warm the JIT and SQLite's caches, as the HTTP warm-up does for the gateway.
      if (index >= 200) times.push(performance.now() - started);
    }
    const used = process.cpuUsage(before);
    return { times, cpuMicros: (used.user + used.system) / runs };
  } finally {
    await thicket.close();
  }
}

export async function benchGateway(): Promise<BenchRow[]> {
  const seconds = Number(process.env['THICKET_BENCH_GATEWAY_S'] ?? 8);
  const soakSeconds = Number(process.env['THICKET_BENCH_GATEWAY_SOAK_S'] ?? 60);
  const cores = availableParallelism();
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-gateway-'));
  const fullGc = collector();
  const load = new LoadGenerator();
  const thicket = await createThicket({ journal: join(folder, 'bench.db') });
  const server = await startGateway({ thicket, port: 0, logger: pino({ level: 'silent' }), processMetrics: false });
  const rows: BenchRow[] = [];
  try {
    // This process's CPU over a run is the gateway's (the load generator is another process): per answered request,
    // it is the ceiling on one core, whatever the latency.
    const drive = async (connections: number, runSeconds: number): Promise<LoadResult & { cpuMicros: number }> => {
      const before = process.cpuUsage();
      const result = checked(
        await load.run({ url: server.url, body: BODY, connections, seconds: runSeconds }),
        `${connections} connections`,
      );
      const used = process.cpuUsage(before);
      return { ...result, cpuMicros: (used.user + used.system) / result.latenciesMs.length };
    };
    await drive(16, 3); // warm-up: JIT, SQLite's caches, the connection pools

    const loadBefore = loadavg()[0]!;
    const perConnections = new Map<number, LoadResult & { cpuMicros: number }>();
    for (const connections of CONNECTIONS) perConnections.set(connections, await drive(connections, seconds));
    const machine = `load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${cores} cores, gateway and load generator sharing them`;
    let best = 0;
    let bestCpuMicros = 0;
    for (const [connections, result] of perConnections) {
      const rate = result.latenciesMs.length / result.seconds;
      if (rate > best) [best, bestCpuMicros] = [rate, result.cpuMicros];
      rows.push({
        name: `gateway: single@sim:small, ${connections} connection${connections === 1 ? '' : 's'}: requests/s`,
        value: `${Math.round(rate).toLocaleString('en-US')}/s`,
        target: 'report',
        met: undefined,
        note:
          `p50 ${ms(quantile(result.latenciesMs, 0.5))} ms, p99 ${ms(quantile(result.latenciesMs, 0.99))} ms; ` +
          `gateway CPU ${Math.round(result.cpuMicros)} µs per request; ` +
          `${result.latenciesMs.length.toLocaleString('en-US')} journaled runs in ${result.seconds.toFixed(1)} s`,
      });
    }
    rows.push({
      name: 'gateway: best requests/s (single@sim, journal on)',
      value: `${Math.round(best).toLocaleString('en-US')}/s`,
      target: '≥ 1,500/s (2 cores)',
      met: best >= 1500,
      note:
        `the gateway is one thread: at ${Math.round(bestCpuMicros)} µs CPU per request it could answer at most ` +
        `${Math.round(1e6 / bestCpuMicros).toLocaleString('en-US')}/s on a free core; ${machine}`,
    });

    const inProcess = await inProcessSolve(folder, 2000);
    const solveTimes = inProcess.times;
    const http = perConnections.get(1)!;
    const added = quantile(http.latenciesMs, 0.5) - quantile(solveTimes, 0.5);
    rows.push({
      name: 'gateway: added p50 per request (HTTP at 1 connection − in-process solve)',
      value: `${ms(added)} ms`,
      target: '≤ 1 ms',
      met: added <= 1,
      note:
        `HTTP p50 ${ms(quantile(http.latenciesMs, 0.5))} / p99 ${ms(quantile(http.latenciesMs, 0.99))} ms; ` +
        `thicket.solve() in-process p50 ${ms(quantile(solveTimes, 0.5))} / p99 ${ms(quantile(solveTimes, 0.99))} ms, ` +
        `${Math.round(inProcess.cpuMicros)} µs CPU per solve (the HTTP path at 1 connection: ${Math.round(http.cpuMicros)} µs)`,
    });

    // Soak: after the runs above (the warm-up), memory at start and end of a long run at 16 connections.
    fullGc();
    const start = process.memoryUsage();
    const soak = await drive(16, soakSeconds);
    fullGc();
    const end = process.memoryUsage();
    const heapGrowth = (end.heapUsed - start.heapUsed) / start.heapUsed;
    const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
    const comparable = soakSeconds >= 60 ? '' : ` (${soakSeconds} s: shorter than the target's 60 s)`;
    rows.push({
      name: `gateway: heap growth over a ${soakSeconds} s soak at 16 connections`,
      value: `${heapGrowth >= 0 ? '+' : ''}${(heapGrowth * 100).toFixed(1)} %`,
      target: '≤ 10 %',
      met: soakSeconds >= 60 ? heapGrowth <= 0.1 : undefined,
      note:
        `heap after full GC ${mb(start.heapUsed)} → ${mb(end.heapUsed)}; RSS ${mb(start.rss)} → ${mb(end.rss)}; ` +
        `${soak.latenciesMs.length.toLocaleString('en-US')} runs journaled, ` +
        `${Math.round((end.heapUsed - start.heapUsed) / soak.latenciesMs.length)} B of heap per run ` +
        `(${Math.round(soak.latenciesMs.length / soak.seconds).toLocaleString('en-US')}/s)${comparable}`,
    });
    return rows;
  } finally {
    load.stop();
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
