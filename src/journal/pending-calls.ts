/**
 * The group commit's buffer: calls `record`ed but not yet written. Adding a call schedules one flush for the
 * next event-loop turn, so calls that finish in the same turn share a commit (see `Journal.flush`). A flush
 * that fails on that timer cannot throw (it would crash the process), so its error is kept here and raised
 * by the next `record`.
 */
import type { RecordedCall } from './call-recorder.ts';
import { wrap } from './errors.ts';
import type { CallJson } from './validation.ts';

/** A checked call, JSON encoded, waiting for the group commit. */
export interface PendingCall extends CallJson {
  runId: string;
  call: RecordedCall;
  /** When `record` was called (ISO), not when the batch was written. */
  at: string;
  /** Ids of the call's intents (call_intents rows), deleted in the same savepoint as the call row. */
  intents?: number[];
}

/** Errors of transactions that failed as a whole, their batch put back (see `restore`). */
export const RESTORED = new WeakSet<object>();

/** Buffered calls are keyed by run and call key; NUL cannot occur in either. */
function keyOf(runId: string, callKey: string): string {
  return `${runId}\u0000${callKey}`;
}

export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  /** Intents of calls that ended without a result (unbilled), deleted by the next flush. */
  private releases: number[] = [];
  private flushScheduled = false;
  /** A later flush (a simulated run's window), unless an immediate one comes first. */
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushFailure: unknown;

  /** `flush` must write (and `drain`) every pending call. */
  constructor(private readonly flush: () => void) {}

  get size(): number {
    return this.calls.size + this.releases.length;
  }

  get(runId: string, callKey: string): PendingCall | undefined {
    return this.calls.get(keyOf(runId, callKey));
  }

  /**
   * Buffers the call (its key must not be pending yet) and schedules a flush: on the next turn, or at most
   * `windowMs` later (a simulated run's calls: see Journal.recordCall). An earlier flush writes it too.
   */
  add(pending: PendingCall, windowMs = 0): void {
    this.calls.set(keyOf(pending.runId, pending.call.callKey), pending);
    if (windowMs > 0) this.scheduleWithin(windowMs);
    else this.schedule();
  }

  /** Buffers intents to delete (their calls ended unbilled) and schedules a flush. */
  release(intentIds: readonly number[]): void {
    if (intentIds.length === 0) return;
    this.releases.push(...intentIds);
    this.schedule();
  }

  /**
   * The failure of the last write when it failed as a whole (disk full, I/O) and its batch was put back; cleared
   * by the next write that succeeds. While set, no flush is scheduled per turn (each would retry the whole,
   * growing batch): explicit writes — an intent, a step batch, a read, `close` — retry it.
   */
  storageFailure: unknown;

  private schedule(): void {
    if (this.flushScheduled || this.storageFailure !== undefined) return;
    this.flushScheduled = true;
    setImmediate(() => this.scheduledFlush());
  }

  private scheduleWithin(windowMs: number): void {
    if (this.flushScheduled || this.flushTimer !== undefined || this.storageFailure !== undefined) return;
    // Not unref'd: the buffered calls keep the process alive until written (at most windowMs).
    this.flushTimer = setTimeout(() => this.scheduledFlush(), windowMs);
  }

  private scheduledFlush(): void {
    this.flushScheduled = false;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    try {
      this.flush();
    } catch (error) {
      // A restored batch is not lost (the next explicit write retries it, see storageFailure); any other
      // failure is surfaced on the next journal call — throwing here would crash the process from a timer.
      if (!RESTORED.has(error as object)) this.flushFailure = error;
    }
  }

  /** Empties the buffer, returning its calls in the order they were recorded. */
  drain(): PendingCall[] {
    const batch = [...this.calls.values()];
    this.calls.clear();
    // Written now: a window still pending has nothing left to wait for (and must not hold the process open).
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    return batch;
  }

  /** Empties the buffered intent releases. */
  drainReleases(): number[] {
    const releases = this.releases;
    this.releases = [];
    return releases;
  }

  /** Keeps a refused call's error for the next `record` (when the write that met it must not fail itself). */
  deferFailure(error: unknown): void {
    this.flushFailure ??= error;
  }

  /**
   * Puts back a batch whose transaction failed (disk full, I/O error): nothing of it was written, so it is
   * written by the next flush instead of being lost. Ahead of anything buffered since, in recording order.
   */
  restore(batch: readonly PendingCall[], releases: readonly number[]): void {
    const later = [...this.calls.values()];
    this.calls.clear();
    for (const pending of [...batch, ...later]) this.calls.set(keyOf(pending.runId, pending.call.callKey), pending);
    this.releases = [...releases, ...this.releases];
  }

  /** Raises (once) the error of a scheduled flush that failed. */
  throwFlushFailure(): void {
    if (this.flushFailure === undefined) return;
    const failure = this.flushFailure;
    this.flushFailure = undefined;
    throw wrap(failure, 'An earlier batch of recorded calls could not be written');
  }
}
