/**
 * Runs in flight in this gateway process: their event stream (for `GET /v1/runs/{id}/events` and the console),
 * their owner, and the controller that cancels them (client disconnect, `POST /v1/runs/{id}/cancel`, SIGTERM
 * after the drain period). Events come from the runtime's one event stream; nothing polls the journal.
 */
import { CancelledError } from '../core/index.ts';
import type { ThicketEvent } from '../runtime/index.ts';

/** Events kept per run for late subscribers: the start, then the most recent ones (a vote@64 has ~200). */
const KEPT_EVENTS = 512;

export interface LiveRun {
  runId: string;
  owner: string | undefined;
  controller: AbortController;
  startedAt: number;
  events: ThicketEvent[];
  listeners: Set<(event: ThicketEvent) => void>;
  finished: Promise<void>;
}

export class LiveRuns {
  private readonly runs = new Map<string, LiveRun>();
  private readonly idle = new Set<() => void>();

  get size(): number {
    return this.runs.size;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  get(runId: string): LiveRun | undefined {
    return this.runs.get(runId);
  }

  list(): LiveRun[] {
    return [...this.runs.values()];
  }

  /**
   * Registers a run about to start; returns its record and `publish`/`end` hooks. Throws when a run with the
   * same id is already in flight here (two requests resuming one run at once could both pay for its calls).
   */
  start(
    runId: string,
    owner: string | undefined,
    signal: AbortSignal | undefined,
  ): {
    run: LiveRun;
    publish: (event: ThicketEvent) => void;
    end: () => void;
  } {
    if (this.runs.has(runId)) throw new Error(`run ${runId} is already in flight`);
    const controller = new AbortController();
    const relay = (): void => controller.abort(new CancelledError('The client went away.'));
    if (signal?.aborted) relay();
    else signal?.addEventListener('abort', relay, { once: true });
    let finish!: () => void;
    const run: LiveRun = {
      runId,
      owner,
      controller,
      startedAt: Date.now(),
      events: [],
      listeners: new Set(),
      finished: new Promise((resolve) => (finish = resolve)),
    };
    this.runs.set(runId, run);
    return {
      run,
      publish: (event) => {
        if (run.events.length >= KEPT_EVENTS) run.events.splice(1, 1);
        run.events.push(event);
        for (const listener of run.listeners) listener(event);
      },
      end: () => {
        signal?.removeEventListener('abort', relay);
        this.runs.delete(runId);
        run.listeners.clear();
        finish();
        if (this.runs.size === 0) for (const resolve of this.idle) resolve();
      },
    };
  }

  /** Resolves when no run is in flight, or after `timeoutMs` (then false). */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.runs.size === 0) return true;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idle.delete(done);
        resolve(this.runs.size === 0);
      }, timeoutMs);
      this.idle.add(done);
    });
  }

  cancelAll(reason: string): void {
    for (const run of this.runs.values()) run.controller.abort(new CancelledError(reason));
  }
}
