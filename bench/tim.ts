/**
 * TIM on Thicket's trained thread model (`tiny:thread-small`, issue 18): held-out problems whose whole thread
 * trace exceeds the model's 640-cell context, decoded by the KV-pruned thread on the embedded engine.
 *
 *   - peak KV: the pruned thread's highest occupancy against what the whole trace takes (prompt + document);
 *   - accuracy: KV-pruned thread vs unpruned (same context: it runs out of room) vs chain of thought;
 *   - decode flatness: the model's decode rate over the first top-level task vs the last, pruned — pruning keeps
 *     the cache from growing, so the rate should not fall as the tree proceeds. Judged on process CPU time (one
 *     decode thread on a shared 2-core machine); wall time is shown next to it.
 *
 * REAL — a tiny model trained on synthetic tasks. Skipped (one row saying so) when the model is not shipped.
 */
import { runTimExperiment, threadQuestion, timHeldOutItems, THREAD_TASK } from '../src/lab/index.ts';
import {
  disposeLlamaEngine,
  getEngineContext,
  runKvThread,
  shippedTinyModels,
  TINY_THREAD_BOUNDS,
  tinyModelFile,
  type KvThreadSample,
} from '../src/models/index.ts';
import type { BenchRow } from './foundation.ts';

const ITEMS = 30;
const FLATNESS_ITEMS = 12;
const pct = (value: number): string => `${(value * 100).toFixed(0)}%`;

/** Decode steps, wall and CPU ms of each top-level task (the samples between top-level conclusions). */
function perTopLevelTask(samples: readonly KvThreadSample[]): Array<{ steps: number; ms: number; cpuMs: number }> {
  const tasks: Array<{ steps: number; ms: number; cpuMs: number }> = [];
  let current = { steps: 0, ms: 0, cpuMs: 0 };
  for (const sample of samples) {
    current.steps += sample.decodeSteps;
    current.ms += sample.decodeMs;
    current.cpuMs += sample.decodeCpuMs;
    if (sample.depth === 1) {
      tasks.push(current);
      current = { steps: 0, ms: 0, cpuMs: 0 };
    }
  }
  return tasks;
}

export async function benchTim(): Promise<BenchRow[]> {
  const model = shippedTinyModels().find((entry) => entry.format === 'thread');
  if (!model)
    return [
      { name: 'TIM on a trained thread model', value: 'not shipped', target: '—', met: undefined, note: 'train it: training/README.md' },
    ];
  try {
    const started = performance.now();
    const tim = await runTimExperiment(model.reference, { items: ITEMS });
    const seconds = (performance.now() - started) / 1000;
    const pruned = tim.modes.pruned!;
    const unpruned = tim.modes.unpruned!;
    const cot = tim.modes.cot!;
    const peakRatio = pruned.peakKv.mean / tim.referenceTrace.mean;

    // Decode flatness, pruned: first vs last top-level task, pooled over items (steps / time, not mean of rates).
    const { pool } = await getEngineContext(tinyModelFile(model.name), { contextSize: tim.contextSize, sequences: 1, threads: 1 });
    const first = { steps: 0, ms: 0, cpuMs: 0 };
    const last = { steps: 0, ms: 0, cpuMs: 0 };
    for (const problem of timHeldOutItems(FLATNESS_ITEMS)) {
      const sequence = await pool.acquire(undefined, model.reference);
      try {
        const run = await runKvThread({
          sequence,
          question: threadQuestion(problem),
          promptStyle: 'tiny',
          ...TINY_THREAD_BOUNDS,
          maxTasks: THREAD_TASK.maxTasks,
          maxDepth: THREAD_TASK.maxDepth,
          bufferSize: tim.bufferSize,
          seed: 1,
        });
        const tasks = perTopLevelTask(run.metrics.samples);
        for (const [into, task] of [
          [first, tasks[0]],
          [last, tasks.at(-1)],
        ] as const) {
          if (!task) continue;
          into.steps += task.steps;
          into.ms += task.ms;
          into.cpuMs += task.cpuMs;
        }
      } catch {
        // A run that fails (a malformed piece) contributes nothing to the rates.
      } finally {
        pool.release(sequence);
      }
    }
    const rate = (part: { steps: number; ms: number }): number => (part.ms > 0 ? (part.steps * 1000) / part.ms : 0);
    const cpuRate = (part: { steps: number; cpuMs: number }): number => (part.cpuMs > 0 ? (part.steps * 1000) / part.cpuMs : 0);
    const cpuChange = cpuRate(last) / cpuRate(first) - 1;
    const wallChange = rate(last) / rate(first) - 1;
    const signed = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(0)}%`;

    return [
      {
        name: `TIM peak KV, pruned vs whole trace (${model.reference}, ${tim.items} held-out problems)`,
        value: `${pct(peakRatio)} (${pruned.peakKv.mean} / ${tim.referenceTrace.mean} cells)`,
        target: `≤ 75%, inside the ${tim.contextSize}-cell context`,
        met: peakRatio <= 0.75 && pruned.peakKv.max <= tim.contextSize && pruned.overflows === 0,
        note:
          `REAL tiny model. Pruned peak max ${pruned.peakKv.max} cells of ${tim.contextSize}; the correct document's whole trace ` +
          `${tim.referenceTrace.mean} on average, at least ${tim.referenceTrace.min} (> the context); the model's own runs ` +
          `${tim.unprunedTrace.mean}. FIFO ${tim.bufferSize}. ${seconds.toFixed(0)} s for the three ways.`,
      },
      {
        name: 'TIM accuracy: KV-pruned thread vs unpruned vs chain of thought',
        value: `${pct(pruned.accuracy)} / ${pct(unpruned.accuracy)} / ${pct(cot.accuracy)}; steps ${pct(pruned.steps.accuracy)} / ${pct(
          unpruned.steps.accuracy,
        )} / ${pct(cot.steps.accuracy)}`,
        target: 'pruned > unpruned',
        met: pruned.accuracy > unpruned.accuracy,
        note:
          `95% CIs: pruned [${pct(pruned.ci.low)}, ${pct(pruned.ci.high)}], unpruned [${pct(unpruned.ci.low)}, ${pct(unpruned.ci.high)}], CoT ` +
          `[${pct(cot.ci.low)}, ${pct(cot.ci.high)}]. Unpruned ran out of the context in ${unpruned.overflows} of ${unpruned.items}; CoT ` +
          `peaks at ${cot.peakKv.max} cells (plain lines are far shorter than the JSON thread on a byte vocabulary).`,
      },
      {
        name: `TIM decode tok/s, pruned, ${model.reference}: first vs last top-level task`,
        value: `CPU ${Math.round(cpuRate(first))} → ${Math.round(cpuRate(last))} (${signed(cpuChange)})`,
        target: 'flat, within ±15%',
        met: Math.abs(cpuChange) <= 0.15,
        note: `wall ${Math.round(rate(first))} → ${Math.round(rate(last))} (${signed(wallChange)}); ${FLATNESS_ITEMS} problems pooled, 1 thread.`,
      },
    ];
  } finally {
    await disposeLlamaEngine();
  }
}
