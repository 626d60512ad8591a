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
  /**
   * 'pending' in the heap; 'taken' off it (being woken, or woken); 'cancelled' (its signal aborted or its cancel
   * function called while pending): left in the heap and skipped when it reaches the top.
   */
  state: 'pending' | 'taken' | 'cancelled';
}

/** Earlier due first; among equal dues, the one registered first. */
function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}

/**
 * A binary min-heap of timers ordered by (due, order). Cancelling only marks a timer (removed lazily when it
 * reaches the top, or all at once when cancelled ones outnumber the live ones), so registering, cancelling and
 * waking each cost O(log n): a simulated network keeps thousands of sleeps and call timeouts pending, and the
 * linear scans and filters this replaced were a large share of a 1,000-agent run.
 */
class TimerHeap {
  private items: Timer[] = [];
  private cancelledCount = 0;

  /** Timers neither woken nor cancelled. */
  get live(): number {
    return this.items.length - this.cancelledCount;
  }

  push(timer: Timer): void {
    const items = this.items;
    items.push(timer);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(timer, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = timer;
  }

  /** Cancelling a timer already taken off the heap (being woken, or woken) changes nothing. */
  cancel(timer: Timer): void {
    if (timer.state !== 'pending') return;
    timer.state = 'cancelled';
    this.cancelledCount++;
    if (this.cancelledCount > 64 && this.cancelledCount * 2 > this.items.length) this.compact();
  }

  /** The earliest live timer, without removing it. */
  peek(): Timer | undefined {
    this.dropCancelledTop();
    return this.items[0];
  }

  /** Removes and returns the earliest live timer, marked 'taken'. */
  pop(): Timer | undefined {
    this.dropCancelledTop();
    const top = this.removeTop();
    if (top !== undefined) top.state = 'taken';
    return top;
  }

  private dropCancelledTop(): void {
    while (this.items.length > 0 && this.items[0]!.state === 'cancelled') {
      this.removeTop();
      this.cancelledCount--;
    }
  }

  private removeTop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    // Sift the last timer down from the root.
    const size = items.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }

  /** Drops every cancelled timer and re-heapifies (bounds memory when most pending timers were cancelled). */
  private compact(): void {
    const kept = this.items.filter((timer) => timer.state === 'pending');
    this.items = [];
    this.cancelledCount = 0;
    for (const timer of kept.sort((a, b) => (before(a, b) ? -1 : 1))) this.items.push(timer);
  }
}

/**
 * A discrete-event clock. `sleep` registers a timer; once the event loop has run every pending microtask
 * (checked with setImmediate), time jumps to the earliest timer and wakes it. Concurrent simulated calls thus
 * overlap in virtual time exactly as they would in real time, but finish instantly.
 */
export class VirtualClock implements Clock {
  readonly simulated = true;
  private current = 0;
  private readonly timers = new TimerHeap();
  private sequence = 0;
  private scheduled = false;

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = { due: this.current + ms, order: this.sequence++, resolve: () => {}, state: 'pending' };
      const onAbort = (): void => {
        this.timers.cancel(timer);
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
    const timer: Timer = { due: this.current + Math.max(0, ms), order: this.sequence++, resolve: callback, state: 'pending' };
    this.timers.push(timer);
    this.schedule();
    return () => this.timers.cancel(timer);
  }

  /** Moves time forward by hand (tests). Wakes every timer due by then. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.timers.peek();
      if (!next || next.due > target) break;
      this.wake(this.timers.pop()!);
    }
    this.current = target;
  }

  /** `timer` has just been taken off the heap. */
  private wake(timer: Timer): void {
    this.current = Math.max(this.current, timer.due);
    timer.resolve();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.timers.peek();
      if (!next) return;
      // Wake every timer due at the same instant (those registered before this tick, in registration order),
      // then let their continuations run before advancing again. The batch is taken off the heap first: a
      // timer of the batch cancelled by an earlier one's callback is still woken, as a settled promise's
      // resolve (a no-op) or its callback.
      const due = next.due;
      const limit = this.sequence;
      const batch: Timer[] = [];
      for (let top = this.timers.peek(); top !== undefined && top.due === due && top.order < limit; top = this.timers.peek())
        batch.push(this.timers.pop()!);
      for (const timer of batch) this.wake(timer);
      if (this.timers.live > 0) this.schedule();
    });
  }
}
