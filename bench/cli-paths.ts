/**
 * What a user runs, timed as they run it: `node bin/thicket.js …` spawned (the compiled dist/) with a journal
 * on disk, so the figures include start-up, the journal's commits and everything the CLI does around the
 * engine. Wall time depends on the machine's load (the note gives the load average); CPU time (user + system
 * of the spawned process, written by bench/rusage-preload.mjs on exit) is what the run costs on a free core.
 *
 *   - AgentsNet, one task at 1,000 agents (`agentsnet --task coloring --sizes 1000 --graphs ws --samples 1`):
 *     target ≤ 30 s per task;
 *   - a 10,000-node fan-out/fan-in workflow (`solve -w <spec>`, sim generate nodes): target ≤ 1 s, ≤ 300 MB.
 *
 * THICKET_BENCH_AGENTS / THICKET_BENCH_FAN_NODES shrink them for a quick look (the targets stay the 1,000 /
 * 10,000 ones, so a smaller run is marked as not comparable).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './foundation.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(HERE, '..', 'bin', 'thicket.js');
const PRELOAD = resolve(HERE, 'rusage-preload.mjs');

interface Spawned {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
  load: string;
}

function env(rusageFile: string): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(copy)) if (name.startsWith('THICKET_') || name === 'NODE_OPTIONS') delete copy[name];
  copy['THICKET_BENCH_RUSAGE'] = rusageFile;
  return copy;
}

function spawnThicket(folder: string, args: readonly string[]): Spawned {
  const rusageFile = join(folder, `rusage-${Date.now()}.json`);
  const before = loadavg()[0]!;
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', PRELOAD, BIN, ...args], {
    env: env(rusageFile),
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`thicket ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
  const usage = JSON.parse(readFileSync(rusageFile, 'utf8')) as { cpuMs: number; maxRssKb: number };
  const load = `load average ${before.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
  return { wallSeconds, cpuSeconds: usage.cpuMs / 1000, peakRssMb: usage.maxRssKb / 1024, stdout: result.stdout, load };
}

/** `thicket agentsnet` on one task at 1,000 agents, journal on, as a user runs it. */
export function benchAgentsnetCli(): BenchRow[] {
  const agents = Number(process.env['THICKET_BENCH_AGENTS'] ?? 1000);
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-cli-an-'));
  try {
    const run = spawnThicket(folder, [
      'agentsnet',
      '--task',
      'coloring',
      '--sizes',
      String(agents),
      '--graphs',
      'ws',
      '--samples',
      '1',
      '--model',
      'sim:small',
      '--journal',
      join(folder, 'journal.db'),
      '--json',
    ]);
    const result = JSON.parse(run.stdout) as { usage?: { calls?: number } };
    const calls = result.usage?.calls ?? 0;
    const comparable = agents === 1000 ? '' : ` (${agents} agents: not the target's size)`;
    return [
      {
        name: `CLI: \`thicket agentsnet --task coloring --sizes ${agents}\`, journal on: wall per task`,
        value: `${run.wallSeconds.toFixed(1)} s`,
        target: '≤ 30 s',
        met: agents === 1000 ? run.wallSeconds <= 30 : undefined,
        note: `${run.cpuSeconds.toFixed(1)} s CPU; ${calls.toLocaleString('en-US')} calls; peak RSS ${Math.round(run.peakRssMb)} MB; ${run.load}${comparable}`,
      },
      {
        name: '… CPU time of that run (what it takes on a free core)',
        value: `${run.cpuSeconds.toFixed(1)} s`,
        target: '≤ 30 s',
        met: agents === 1000 ? run.cpuSeconds <= 30 : undefined,
        note: 'user + system of the spawned process',
      },
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function fanOutSpec(nodes: number): Record<string, unknown> {
  const params = { prompt: '{{query}}', maxOutputTokens: 400 };
  const middle = Array.from({ length: nodes - 2 }, (_, index) => ({
    id: `n${index}`,
    op: 'generate',
    inputs: { source: 'source.answer' },
    params,
  }));
  return {
    version: 1,
    nodes: [
      { id: 'source', op: 'generate', params },
      ...middle,
      {
        id: 'sink',
        op: 'aggregate',
        inputs: Object.fromEntries(middle.map((node) => [node.id, `${node.id}.answer`])),
        params: { method: 'majority' },
      },
    ],
    output: 'sink',
  };
}

/** `thicket solve -w <10,000-node fan-out>` on the simulated fleet, journal on, as a user runs it. */
export function benchWorkflowCli(): BenchRow[] {
  const nodes = Number(process.env['THICKET_BENCH_FAN_NODES'] ?? 10_000);
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-cli-wf-'));
  try {
    const specFile = join(folder, 'fan.json');
    writeFileSync(specFile, JSON.stringify(fanOutSpec(nodes)));
    const journal = join(folder, 'journal.db');
    const run = spawnThicket(folder, ['solve', 'What is 17*23?', '-w', specFile, '-m', 'sim:small', '--journal', journal, '--json']);
    // Start-up and the closing report, without the workflow: the same command on a 3-node spec.
    const small = join(folder, 'small.json');
    writeFileSync(small, JSON.stringify(fanOutSpec(3)));
    const baseline = spawnThicket(folder, ['solve', 'What is 17*23?', '-w', small, '-m', 'sim:small', '--journal', journal, '--json']);
    const comparable = nodes === 10_000 ? '' : ` (${nodes} nodes: not the target's size)`;
    const net = run.cpuSeconds - baseline.cpuSeconds;
    return [
      {
        name: `CLI: \`thicket solve -w <${nodes.toLocaleString('en-US')}-node fan-out>\`, sim, journal on: wall`,
        value: `${run.wallSeconds.toFixed(1)} s`,
        target: '≤ 1 s',
        met: nodes === 10_000 ? run.wallSeconds <= 1 : undefined,
        note:
          `${run.cpuSeconds.toFixed(1)} s CPU, of which ${baseline.cpuSeconds.toFixed(1)} s start-up (same command on 3 nodes): ` +
          `${((net * 1e6) / nodes).toFixed(0)} µs CPU per node incl. its model call and journal writes; ${run.load}${comparable}`,
      },
      {
        name: '… its CPU time without start-up (what the DAG costs on a free core)',
        value: `${net.toFixed(2)} s`,
        target: '≤ 1 s',
        met: nodes === 10_000 ? net <= 1 : undefined,
        note: 'user + system of the spawned process, minus the 3-node run',
      },
      {
        name: '… peak RSS',
        value: `${Math.round(run.peakRssMb)} MB`,
        target: '≤ 300 MB',
        met: nodes === 10_000 ? run.peakRssMb <= 300 : undefined,
        note: `the 3-node run: ${Math.round(baseline.peakRssMb)} MB`,
      },
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
