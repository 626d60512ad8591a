/**
 * Abort handling shared by every provider and embedder: an aborted call rejects with the caller's abort reason
 * when it is a ThicketError (the fleet aborts with a TimeoutError or CancelledError), otherwise with one made
 * from it — so every provider rejects an aborted call the same way.
 */
import { CancelledError, ThicketError, TimeoutError } from '../core/index.ts';

export function abortError(signal: AbortSignal, label: string): ThicketError {
  const reason: unknown = signal.reason;
  if (ThicketError.isInstance(reason)) return reason;
  if (typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError') {
    return new TimeoutError(`Call to model "${label}" timed out.`, { cause: reason });
  }
  return new CancelledError(`Call to model "${label}" was cancelled.`, { cause: reason });
}

/**
 * `work`, or a rejection with `onAbort()` the moment `signal` aborts, whichever comes first. The work itself
 * keeps running to its own end (its late rejection is swallowed): use it for work that cannot be stopped, or
 * that does not stop promptly, so that the caller is released at once.
 */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (!signal) return work;
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const rejectOnAbort = (): void => reject(onAbort());
    signal.addEventListener('abort', rejectOnAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', rejectOnAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', rejectOnAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the work's own rejection through unchanged
        reject(error);
      },
    );
  });
}
