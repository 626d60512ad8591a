/**
 * CLI start-up, measured as a user runs it: `node bin/thicket.js …` spawned as a fresh process (the compiled
 * dist/, which `npm run bench` builds first when stale), median wall time of several runs. Wall time includes
 * Node's own start-up and depends on the machine's load, so the note gives the load average.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './foundation.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'thicket.js');

function env(): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(copy)) if (name.startsWith('THICKET_') || name === 'NODE_OPTIONS') delete copy[name];
  return copy;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median wall seconds of `runs` spawns of `node bin/thicket.js ...args` (after one warm-up run for the file cache). */
function wallSeconds(args: readonly string[], runs: number): { median: number; min: number; max: number } {
  const times: number[] = [];
  for (let run = -1; run < runs; run++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [BIN, ...args], { env: env(), encoding: 'utf8', timeout: 60_000 });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`thicket ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
    if (run >= 0) times.push(seconds);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

export function benchStartup(): BenchRow[] {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-startup-'));
  try {
    const load = `1-min load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
    const version = wallSeconds(['--version'], 9);
    const solve = wallSeconds(['solve', 'What is 17*23?', '--model', 'sim:small', '--samples', '5', '--db', join(folder, 'bench.db')], 7);
    const spread = (figures: { min: number; max: number }): string => `min ${figures.min.toFixed(2)} s, max ${figures.max.toFixed(2)} s`;
    return [
      {
        name: 'start-up: `thicket --version` (spawned, median of 9)',
        value: `${version.median.toFixed(2)} s`,
        target: '≤ 0.3 s',
        met: version.median <= 0.3,
        note: `${spread(version)}; ${load}`,
      },
      {
        name: 'start-up: `thicket solve "What is 17*23?" --model sim:small --samples 5` (spawned, median of 7)',
        value: `${solve.median.toFixed(2)} s`,
        target: '≤ 1 s',
        met: solve.median <= 1,
        note: `${spread(solve)}; simulated fleet; ${load}`,
      },
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
