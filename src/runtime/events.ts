/**
 * The one event stream of a run: `onEvent` callbacks and `thicket.stream()` carry the same typed union, fed by
 * the fleet (calls), the trace (finished nodes) and the ledger (spend) — nothing polls the journal.
 */
import type { RunStatus, UsageTotals, Usage } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { SolveResult } from './result.ts';

export type ThicketEvent =
  | { type: 'run-started'; runId: string; query: string; strategy: string; simulated: boolean; resumed: boolean; budget: BudgetLimits }
  | { type: 'call-started'; model: string; callKey: string; attempt: number }
  | {
      type: 'call-finished';
      model: string;
      callKey: string;
      usage: Usage;
      /** What the call cost in dollars (for a replayed call: what it cost when it was made). */
      usd: number;
      /** Served from the journal: nothing was sent and nothing new was paid. */
      replayed: boolean;
      simulated: boolean;
    }
  | { type: 'call-retried'; model: string; callKey: string; attempt: number; delayMs: number; error: string }
  | { type: 'call-failed'; model: string; callKey: string; error: { code: string; message: string } }
  | {
      type: 'node-started';
      /** The node's step id as journaled (`wf/vote`). */
      nodeId: string;
      op: string;
    }
  | {
      type: 'node-finished';
      /** The node's step id as journaled (`wf/vote`; the governor's `gov/…`), what `thicket runs show --trace` lists. */
      nodeId: string;
      status: string;
      answer: string | null;
      calls: number;
      replayed: boolean;
    }
  | {
      type: 'budget';
      /** What the run has spent so far (settled and replayed), against its limits. */
      spent: UsageTotals;
      limits: BudgetLimits;
    }
  | { type: 'answer'; answer: string | null; status: RunStatus }
  | { type: 'run-finished'; result: SolveResult };

export type ThicketEventType = ThicketEvent['type'];

/**
 * An unbounded single-consumer queue turned into an AsyncIterable. Producers never wait (a run must not
 * slow down for a slow reader); the reader ends after `close()`, or throws what `fail()` was given.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private rejectWaiting: ((error: Error) => void) | undefined;
  private closed = false;
  private failure: { error: Error } | undefined;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.rejectWaiting = undefined;
      resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    this.settleWaiting();
  }

  fail(error: unknown): void {
    this.failure = { error: error instanceof Error ? error : new Error(String(error)) };
    this.closed = true;
    this.settleWaiting();
  }

  private settleWaiting(): void {
    if (!this.waiting) return;
    const resolve = this.waiting;
    const reject = this.rejectWaiting!;
    this.waiting = this.rejectWaiting = undefined;
    if (this.failure) reject(this.failure.error);
    else resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.failure) return Promise.reject(this.failure.error);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.rejectWaiting = reject;
        });
      },
      return: () => {
        // The reader left early (a `break`): the producer is told, e.g. to cancel the run.
        if (!this.closed) this.onReturn();
        this.closed = true;
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
