/**
 * Journaling for the study runner: cells are the unit of resume (one journal step per cell, batched), and
 * the workflow executor inside a cell gets a view of the journal that records and replays model calls but
 * keeps no per-node steps.
 */
import type { CallRecorder, Journal } from '../journal/index.ts';
import { StepJournal } from '../workflow/index.ts';

/**
 * The journal a cell's architecture sees: calls are recorded and replayed in the study's run, but under keys
 * prefixed with the cell's step id, and the step table looks empty with step writes ignored.
 *
 * - Namespaced call keys keep cells independent whatever the architecture does with step ids: a solver that
 *   names its steps the same in every run (the governor's `gov/…`) would otherwise replay, in one cell, the
 *   calls another cell recorded under a different budget.
 * - The lab resumes at cell granularity (one step per cell). Per-node steps would make every cell read the
 *   whole study's step table on start (O(cells²)), and fixed step ids (`gov/decision`) would collide.
 */
export function callsOnlyJournal(journal: Journal, namespace: string): Journal {
  return new Proxy(journal, {
    get(target, key) {
      if (key === 'getSteps') return () => [];
      if (key === 'upsertSteps' || key === 'upsertStep') return () => undefined;
      if (key === 'recorder') {
        return (runId: string): CallRecorder => {
          const inner = target.recorder(runId);
          return {
            lookup: (callKey) => inner.lookup(`${namespace}|${callKey}`),
            record: (call) => inner.record({ ...call, callKey: `${namespace}|${call.callKey}` }),
            ...(inner.intend ? { intend: (intent) => inner.intend!({ ...intent, callKey: `${namespace}|${intent.callKey}` }) } : {}),
            ...(inner.abandon ? { abandon: (callKey) => inner.abandon!(`${namespace}|${callKey}`) } : {}),
          };
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Batches cell steps into one journal transaction per 64 cells or 200 ms — the executor's group commit for
 * nodes, with a wider window (cells are few and slow next to nodes). A crash loses at most the buffered
 * cells, whose calls are then replayed on resume.
 */
export function cellWriter(journal: Journal, runId: string): StepJournal {
  return new StepJournal(journal, runId, { flushDelayMs: 200, maxPending: 64 });
}
