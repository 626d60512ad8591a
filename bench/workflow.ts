/**
 * Workflow executor benchmarks:
 *   - executor overhead per node: a 1,000-node fan-out/fan-in of sim `generate` nodes at zero latency
 *     (alias `bench-small`), concurrency 1; overhead = (wall − time inside operators) / nodes, so it counts
 *     validation, estimate, budget slices, input wiring and the trace — everything but the model call path
 *     (measured in foundation.ts). Median of 7 runs; then again with every step journaled to a temp file.
 *   - a 10,000-node fan-out/fan-in (1 → 9,998 → aggregate) with fake zero-cost operators (they return at
 *     once and spend nothing, so the figure is the executor alone), run in a fresh child process so its peak
 *     RSS is its own. Also measured with steps journaled, and with sim `generate` nodes (notes).
 * Nothing here asserts on time; figures vary with the machine and its load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock, countTokens } from '../src/core/index.ts';
import { Ledger } from '../src/budget/index.ts';
import { Fleet, FleetResolver, parseFleetConfig } from '../src/models/index.ts';
import { Journal } from '../src/journal/index.ts';
import { defaultOperators, runWorkflow, type OperatorRegistry } from '../src/workflow/index.ts';
import { fakeRegistry, fanSpec } from '../src/workflow/testing.ts';
import type { BenchRow } from './foundation.ts';

const ZERO_LATENCY_CONFIG = parseFleetConfig({
  version: 1,
  models: { 'bench-small': { provider: 'sim', profile: 'small', overrides: { latency: { ttftMs: 0, perTokenMs: 0 } } } },
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function zeroLatencyFleet(seed: number): Fleet {
  const clock = new VirtualClock();
  return new Fleet({ resolver: new FleetResolver({ config: ZERO_LATENCY_CONFIG, clock, seed }), clock, seed });
}

/** Wraps every operator to sum the wall time spent inside operators. */
function timed(registry: OperatorRegistry, total: { ms: number }): OperatorRegistry {
  const wrapped: Record<string, unknown> = {};
  for (const [op, fn] of Object.entries(registry)) {
    wrapped[op] = async (...args: unknown[]) => {
      const start = performance.now();
      try {
        return await (fn as (...inner: unknown[]) => Promise<unknown>)(...args);
      } finally {
        total.ms += performance.now() - start;
      }
    };
  }
  return wrapped;
}

export async function benchExecutorOverhead(): Promise<BenchRow[]> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-wf-'));
  try {
    const journal = Journal.open(join(folder, 'bench.db'));
    // The journal's group commit of recorded model calls belongs to the call path, not to the executor.
    const callFlush = { ms: 0 };
    const flushCalls = journal.flush.bind(journal);
    journal.flush = () => {
      const start = performance.now();
      try {
        flushCalls();
      } finally {
        callFlush.ms += performance.now() - start;
      }
    };
    const nodes = 1000;
    const spec = fanSpec(nodes - 2, { model: 'bench-small' });
    const measure = async (journaled: boolean): Promise<number[]> => {
      const perNode: number[] = [];
      for (let round = 0; round < 8; round++) {
        const runId = `bench-overhead-${journaled}-${round}`;
        if (journaled) journal.beginOrResumeRun({ id: runId, command: 'bench', query: 'overhead', simulated: true });
        const fleet = zeroLatencyFleet(round);
        const inside = { ms: 0 };
        callFlush.ms = 0;
        const start = performance.now();
        const result = await runWorkflow({
          spec,
          query: 'What is 17*23?',
          fleet,
          budget: new Ledger({ clock: fleet.clock }).root,
          operators: timed(defaultOperators(), inside),
          concurrency: 1,
          ...(journaled ? { journal: { journal, runId } } : {}),
        });
        const wall = performance.now() - start;
        if (result.status !== 'ok') throw new Error(`bench run ended ${result.status}`);
        if (round > 0) perNode.push(((wall - inside.ms - callFlush.ms) * 1000) / nodes); // round 0 warms up
      }
      return perNode;
    };
    const bare = await measure(false);
    const journaled = await measure(true);
    journal.close();
    const row = (name: string, perNode: number[], note: string): BenchRow => {
      const value = median(perNode);
      return {
        name,
        value: `${value.toFixed(1)} µs`,
        target: '≤ 50 µs',
        met: value <= 50,
        note: `min ${Math.min(...perNode).toFixed(1)}, max ${Math.max(...perNode).toFixed(1)} µs over 7 runs; ${note}`,
      };
    };
    return [
      row(
        'workflow executor overhead per node (1,000 sim generate nodes, zero latency), median',
        bare,
        'wall − time inside operators; no journal',
      ),
      row(
        '… with every step journaled (SQLite, group commit)',
        journaled,
        'also excludes the journal flushing recorded model calls (call path)',
      ),
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

interface FanOutFigures {
  wallMs: number;
  /** CPU time (user + system) of the run: what the wall time would be on an idle core. */
  cpuMs: number;
  peakRssMb: number;
  /** Peak RSS just before the run: node + tsx + the tokenizer's tables + the spec. */
  baselineRssMb: number;
  status: string;
}

/** Runs in the child process: one 10,000-node run, prints its figures as JSON. */
async function fanOutChild(mode: string): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-fan-'));
  try {
    const journal = mode === 'journal' || mode === 'sim-journal' ? Journal.open(join(folder, 'bench.db')) : undefined;
    journal?.beginOrResumeRun({ id: 'fan', command: 'bench', query: 'fan', simulated: true });
    const fleet = zeroLatencyFleet(1);
    const operators = mode === 'sim' || mode === 'sim-journal' ? defaultOperators() : fakeRegistry({});
    const spec = fanSpec(Number(process.env['THICKET_BENCH_FAN_NODES'] ?? 10_000) - 2, { model: 'bench-small' });
    countTokens('warm up'); // the tokenizer loads its tables on first use (~70 ms): not executor time
    const baselineRssMb = process.resourceUsage().maxRSS / 1024;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const result = await runWorkflow({
      spec,
      query: 'What is 17*23?',
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      operators,
      concurrency: 64,
      ...(journal ? { journal: { journal, runId: 'fan' } } : {}),
    });
    journal?.close();
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    const figures: FanOutFigures = {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      baselineRssMb,
      status: result.status,
    };
    process.stdout.write(JSON.stringify(figures));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function fanOutInChild(mode: 'fake' | 'journal' | 'sim' | 'sim-journal'): FanOutFigures {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--fan-out-child', mode], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`fan-out bench child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as FanOutFigures;
}

export function benchFanOut10k(): BenchRow[] {
  const fake = fanOutInChild('fake');
  const journaled = fanOutInChild('journal');
  const sim = fanOutInChild('sim');
  const note = (figures: FanOutFigures) => `${Math.round(figures.wallMs)} ms, peak RSS ${Math.round(figures.peakRssMb)} MB`;
  return [
    {
      name: '10,000-node fan-out/fan-in, fake zero-cost operators: wall',
      value: `${Math.round(fake.wallMs)} ms`,
      target: '≤ 1,000 ms',
      met: fake.wallMs <= 1000 && fake.status === 'ok',
      note: `with steps journaled: ${note(journaled)}; with sim generate nodes: ${note(sim)}`,
    },
    {
      name: '10,000-node fan-out/fan-in, fake zero-cost operators: peak RSS',
      value: `${Math.round(fake.peakRssMb)} MB`,
      target: '≤ 300 MB',
      met: fake.peakRssMb <= 300,
      note: `fresh child process; ${Math.round(fake.baselineRssMb)} MB of it before the run (node, tsx, tokenizer tables)`,
    },
  ];
}

if (process.argv[2] === '--fan-out-child') await fanOutChild(process.argv[3] ?? 'fake');
