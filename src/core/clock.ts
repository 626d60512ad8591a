/**
 * Time as a dependency. Real runs use `systemClock`; simulated runs use a `VirtualClock`, so latency,
 * retry back-off and wall-clock budgets are exercised without a test ever sleeping for real.
 */
import { CancelledError, ThicketError } from './errors.ts';

export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Resolves after `ms` (clock time). Rejects with CancelledError when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `callback` after `ms` (clock time) unless the returned cancel function is called first. */
  setTimer(ms: number, callback: () => void): () => void;
  readonly simulated: boolean;
}

/** A typed abort reason (CancelledError, TimeoutError) is passed through; anything else becomes a CancelledError. */
function abortReason(signal: AbortSignal): ThicketError {
  return ThicketError.isInstance(signal.reason) ? signal.reason : new CancelledError('Cancelled while waiting.', { cause: signal.reason });
}

export const systemClock: Clock = {
  simulated: false,
  now: () => performance.now(),
  setTimer: (ms, callback) => {
    // Node caps timers at 2^31-1 ms; longer waits (e.g. "no timeout") simply never fire.
    if (!(ms < 2 ** 31)) return () => {};
    const timer = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      if (ms <= 0) return resolve();
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface Timer {
  due: number;
  order: number;
  resolve: () => void;
}

/**
 * A discrete-event clock. `sleep` registers a timer; once the event loop has run every pending microtask
 * (checked with setImmediate), time jumps to the earliest timer and wakes it. Concurrent simulated calls thus
 * overlap in virtual time exactly as they would in real time, but finish instantly.
 */
export class VirtualClock implements Clock {
  readonly simulated = true;
  private current = 0;
  private timers: Timer[] = [];
  private sequence = 0;
  private scheduled = false;

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = { due: this.current + ms, order: this.sequence++, resolve: () => {} };
      const onAbort = (): void => {
        this.timers = this.timers.filter((entry) => entry !== timer);
        reject(abortReason(signal as AbortSignal));
      };
      timer.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  }

  setTimer(ms: number, callback: () => void): () => void {
    if (!Number.isFinite(ms)) return () => {};
    const timer: Timer = { due: this.current + Math.max(0, ms), order: this.sequence++, resolve: callback };
    this.timers.push(timer);
    this.schedule();
    return () => {
      this.timers = this.timers.filter((entry) => entry !== timer);
    };
  }

  /** Moves time forward by hand (tests). Wakes every timer due by then. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.wake(next);
    }
    this.current = target;
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers)
      if (!best || timer.due < best.due || (timer.due === best.due && timer.order < best.order)) best = timer;
    return best;
  }

  private wake(timer: Timer): void {
    this.timers = this.timers.filter((entry) => entry !== timer);
    this.current = Math.max(this.current, timer.due);
    timer.resolve();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.earliest();
      if (!next) return;
      // Wake every timer due at the same instant, then let their continuations run before advancing again.
      const due = next.due;
      for (const timer of [...this.timers].sort((a, b) => a.order - b.order)) if (timer.due === due) this.wake(timer);
      if (this.timers.length > 0) this.schedule();
    });
  }
}
