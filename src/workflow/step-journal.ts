/**
 * Journaling workflow steps cheaply: writes are buffered per step id and committed together in ONE SQLite
 * transaction (group commit, as the journal does for calls) at most 10 ms after the first buffered write, or
 * once 1,024 steps are buffered. A step that starts and finishes within that window is written once (its
 * 'running' row is merged into the final one), so a fast node costs one row, not two commits.
 *
 * Crash semantics: a kill loses at most the steps that changed in the last 10 ms; on resume those nodes run
 * again, and their model calls are replayed from the journal's call records (no second payment). `close()`
 * (end of run) flushes synchronously; a failed background flush is rethrown there. The lab batches its cells
 * through the same class (one step per cell, larger window).
 */
import type { Journal, StepInput, StepRow } from '../journal/index.ts';

export const STEP_KIND = 'workflow-node';
/** Commit at most this long after the first buffered write (wall time)… */
const FLUSH_DELAY_MS = 10;
/** …or as soon as this many steps are buffered (bounds memory and the loss window in steps). */
const MAX_PENDING = 1024;

export interface StepJournalOptions {
  /** Commit at most this long after the first buffered write (default 10 ms). */
  flushDelayMs?: number;
  /** Commit as soon as this many steps are buffered (default 1,024). */
  maxPending?: number;
}

export class StepJournal {
  private readonly pending = new Map<string, StepInput>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: unknown;
  private readonly flushDelayMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly journal: Journal,
    private readonly runId: string,
    options: StepJournalOptions = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? FLUSH_DELAY_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING;
  }

  /** Steps this run finished earlier (status 'ok' with an OpResult output), by step id. */
  finishedSteps(prefix: string): Map<string, StepRow> {
    const finished = new Map<string, StepRow>();
    for (const row of this.journal.getSteps(this.runId)) {
      if (row.kind !== STEP_KIND || row.status !== 'ok' || !row.stepId.startsWith(prefix)) continue;
      const output = row.output as { text?: unknown } | null;
      if (output !== null && typeof output === 'object' && typeof output.text === 'string') finished.set(row.stepId, row);
    }
    return finished;
  }

  write(step: StepInput): void {
    const earlier = this.pending.get(step.stepId);
    // Merge: fields the later write omits (input, startedAt) keep the earlier buffered values.
    this.pending.set(step.stepId, earlier ? { ...earlier, ...definedOnly(step) } : step);
    if (this.pending.size >= this.maxPending) return this.flushSafely();
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flushSafely(), this.flushDelayMs);
    // A pending flush must not keep the process alive; close() flushes whatever is left.
    this.timer.unref();
  }

  private flushSafely(): void {
    try {
      this.flush();
    } catch (error) {
      // Surfaced by close(): throwing from a timer would crash the process.
      this.failure ??= error;
    }
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.journal.upsertSteps(this.runId, batch);
  }

  close(): void {
    this.flush();
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows the first write error as it was caught, whatever its type
      throw failure;
    }
  }
}

function definedOnly(step: StepInput): Partial<StepInput> {
  const copy: Partial<StepInput> = {};
  for (const [key, value] of Object.entries(step)) if (value !== undefined) (copy as Record<string, unknown>)[key] = value;
  return copy;
}
