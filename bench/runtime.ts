/**
 * The library's path: `thicket.solve()` through the runtime (option checks, fleet, ledger, journal run, the
 * executor, the trace step, the finished run row) on a zero-latency simulated model, so what is timed is
 * Thicket's own overhead per solve — the assembly every surface now shares.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/runtime/index.ts';
import type { BenchRow } from './foundation.ts';

const ZERO_LATENCY = {
  version: 1 as const,
  models: { 'bench-small': { provider: 'sim' as const, profile: 'small', overrides: { latency: { ttftMs: 0, perTokenMs: 0 } } } },
};

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function benchRuntimeSolve(): Promise<BenchRow[]> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-runtime-'));
  const thicket = await createRuntime({ journal: join(folder, 'journal.db'), config: ZERO_LATENCY });
  try {
    const measure = async (strategy: 'single' | 'vote', runs: number): Promise<number[]> => {
      const times: number[] = [];
      for (let index = 0; index < runs + 10; index++) {
        const started = performance.now();
        const result = await thicket.solve('What is 17*23?', {
          model: 'bench-small',
          strategy,
          ...(strategy === 'vote' ? { samples: 5 } : {}),
          seed: index,
          budget: { totalTokens: 20_000 },
        });
        if (result.status !== 'ok') throw new Error(`bench solve ended ${result.status}`);
        // The first runs warm the JIT and SQLite's caches.
        if (index >= 10) times.push(performance.now() - started);
      }
      return times;
    };
    const single = await measure('single', 200);
    const vote = await measure('vote', 100);
    return [
      {
        name: 'runtime solve overhead, single call (sim zero latency, journal)',
        value: `${quantile(single, 0.5).toFixed(2)} ms (p90 ${quantile(single, 0.9).toFixed(2)})`,
        target: '≤ 5 ms',
        met: quantile(single, 0.5) <= 5,
        note: 'whole solve: checks, fleet, ledger, journal run + trace, executor',
      },
      {
        name: 'runtime solve overhead, vote@5 (sim zero latency, journal)',
        value: `${quantile(vote, 0.5).toFixed(2)} ms (p90 ${quantile(vote, 0.9).toFixed(2)})`,
        target: 'report',
        met: undefined,
      },
    ];
  } finally {
    await thicket.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
