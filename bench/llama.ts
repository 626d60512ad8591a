/**
 * Embedded-engine benchmarks on the fixture model (seeded random weights, generated into a temp folder):
 * the KV-pruned thread against the same tree decoded without pruning.
 *
 *   - peak KV occupancy (sequence cells in use) on a balanced depth-3 tree, 3 × 3 × 3 = 39 tasks (36 of
 *     them subtasks), default thread settings (instructions, buffer 2, string bounds);
 *   - decode speed (tokens/s, prefill excluded) as finished tasks grow: tasks 1–5 against tasks 26–30.
 *
 * The tree's structure is fixed (`shape`) so both runs decode the same tree; the text in it is the fixture's
 * gibberish, so token counts are real but nothing here measures answer quality. The fixture's byte-level
 * vocabulary makes the instructions ~400 tokens (a BPE model would need ~80), which raises both peaks alike.
 * Each configuration runs 3 times; medians are reported. Timings vary with the machine and its load.
 *
 * Run alone: `node --import tsx bench/llama.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { disposeLlamaEngine, runKvThread, writeFixtureModel, type KvThreadResult, type KvThreadSample, type TreeShape } from '../src/models/llama/index.ts';
import type { BenchRow } from './foundation.ts';

const REPETITIONS = 3;
const CONTEXT_SIZE = 12_288;
const EARLY = [1, 5] as const;
const LATE = [26, 30] as const;
/** After the pruned working set has filled up (it plateaus once the FIFO holds two lists). */
const PLATEAU = [10, 14] as const;

function tree(...widths: number[]): TreeShape[] {
  const [width, ...rest] = widths;
  return Array.from({ length: width ?? 0 }, () => (rest.length > 0 ? { subtasks: tree(...rest) } : {}));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Pooled decode rate over the samples of finished tasks [from, to]: total steps / total time. */
function rateBetween(samples: readonly KvThreadSample[], [from, to]: readonly [number, number]): number {
  const window = samples.filter((sample) => sample.finishedTasks >= from && sample.finishedTasks <= to);
  const steps = window.reduce((sum, sample) => sum + sample.decodeSteps, 0);
  const ms = window.reduce((sum, sample) => sum + sample.decodeMs, 0);
  return ms > 0 ? (steps * 1000) / ms : 0;
}

const kvAt = (result: KvThreadResult, finished: number): number => result.metrics.samples.find((sample) => sample.finishedTasks === finished)?.kvTokens ?? Number.NaN;
const percent = (ratio: number): string => `${(ratio * 100).toFixed(0)}%`;
const signed = (ratio: number): string => `${ratio >= 0 ? '+' : '−'}${Math.abs(ratio * 100).toFixed(0)}%`;

export async function benchLlama(): Promise<BenchRow[]> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-llama-'));
  try {
    const modelPath = join(folder, 'fixture.gguf');
    writeFixtureModel(modelPath, { seed: 7, contextLength: 16_384 });
    const shape = tree(3, 3, 3);
    const run = (prune: boolean, seed: number) => runKvThread({ model: modelPath, contextSize: CONTEXT_SIZE, question: 'What is 17 * 23 + 4?', shape, prune, seed });
    await run(true, 99); // warm-up: model load, context, grammars

    const pruned: KvThreadResult[] = [];
    const unpruned: KvThreadResult[] = [];
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      pruned.push(await run(true, repetition + 1));
      unpruned.push(await run(false, repetition + 1));
    }
    const tasks = pruned[0]!.metrics.finishedTasks;
    const peakRatio = median(pruned.map((result, index) => result.metrics.peakKvTokens / unpruned[index]!.metrics.peakKvTokens));
    const peakPruned = median(pruned.map((result) => result.metrics.peakKvTokens));
    const peakUnpruned = median(unpruned.map((result) => result.metrics.peakKvTokens));
    const promptTokens = pruned[0]!.metrics.promptTokens;
    const documentRatio = median(pruned.map((result, index) => (result.metrics.peakKvTokens - promptTokens) / (unpruned[index]!.metrics.peakKvTokens - promptTokens)));
    const speed = (results: KvThreadResult[]) => {
      const early = median(results.map((result) => rateBetween(result.metrics.samples, EARLY)));
      const late = median(results.map((result) => rateBetween(result.metrics.samples, LATE)));
      const plateau = median(results.map((result) => rateBetween(result.metrics.samples, PLATEAU)));
      return { early, late, change: late / early - 1, plateauChange: late / plateau - 1 };
    };
    const prunedSpeed = speed(pruned);
    const unprunedSpeed = speed(unpruned);
    const cells = (results: KvThreadResult[]) => [1, 10, 20, 30].map((finished) => median(results.map((result) => kvAt(result, finished)))).join(' → ');

    return [
      {
        name: `thread KV peak, pruned vs unpruned (depth 3, ${tasks} tasks, buffer 2)`,
        value: `${percent(peakRatio)} (${peakPruned} / ${peakUnpruned} cells)`,
        target: '≤ 40%',
        met: peakRatio <= 0.4,
        note: `fixture model; ${promptTokens} of the cells are the instructions (byte-level vocabulary); without them ${percent(documentRatio)}. Erased ${median(pruned.map((result) => result.metrics.tokensErased))} tokens in ${pruned[0]!.metrics.erasures} erasures`,
      },
      {
        name: 'thread decode tok/s, pruned: tasks 1–5 → 26–30',
        value: `${Math.round(prunedSpeed.early)} → ${Math.round(prunedSpeed.late)} (${signed(prunedSpeed.change)})`,
        target: 'flat, within ±15%',
        met: Math.abs(prunedSpeed.change) <= 0.15,
        note: `KV cells at 1/10/20/30 finished tasks: ${cells(pruned)}; decode speed follows occupancy on this model. Tasks 10–14 → 26–30: ${signed(prunedSpeed.plateauChange)} (unpruned ${signed(unprunedSpeed.plateauChange)})`,
      },
      {
        name: 'thread decode tok/s, unpruned: tasks 1–5 → 26–30',
        value: `${Math.round(unprunedSpeed.early)} → ${Math.round(unprunedSpeed.late)} (${signed(unprunedSpeed.change)})`,
        target: '— (baseline)',
        met: undefined,
        note: `KV cells at 1/10/20/30 finished tasks: ${cells(unpruned)}`,
      },
    ];
  } finally {
    await disposeLlamaEngine();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchLlama()) console.log(`${row.name}\n  measured ${row.value} | target ${row.target} | met ${row.met === undefined ? '—' : row.met ? 'yes' : 'no'}${row.note ? `\n  ${row.note}` : ''}`);
}
