/**
 * Abort handling shared by the embedded engine's call paths: the caller's abort reason when it is a
 * ThicketError (the fleet aborts with a TimeoutError or CancelledError), otherwise one made from it — the
 * same rule as the OpenAI-compatible provider, so every provider rejects an aborted call the same way.
 */
import { CancelledError, ThicketError, TimeoutError } from '../../core/index.ts';

export function abortError(signal: AbortSignal, label: string): ThicketError {
  const reason: unknown = signal.reason;
  if (ThicketError.isInstance(reason)) return reason;
  if (typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError') {
    return new TimeoutError(`Call to model "${label}" timed out.`, { cause: reason });
  }
  return new CancelledError(`Call to model "${label}" was cancelled.`, { cause: reason });
}
