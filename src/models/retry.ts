/**
 * Retry policy: exponential back-off with full jitter, honouring a provider's retry-after. The fleet owns the
 * loop (so every attempt is reserved against the budget); this file only decides whether and how long to wait.
 */
import { ThicketError, type Rng } from '../core/index.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Multiplier per retry. */
  factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 };

/**
 * Milliseconds to wait before retry number `retry` (1-based), or undefined when the error must not be retried.
 * Full jitter (uniform in [0, cap]) spreads synchronized clients apart; a provider's retry-after is a floor.
 */
export function retryDelayMs(error: unknown, retry: number, policy: RetryPolicy, rng: Rng): number | undefined {
  if (retry > policy.maxRetries) return undefined;
  if (!ThicketError.isInstance(error) || !error.isRetryable) return undefined;
  // Refused credentials (HTTP 401/403) are never retried, whatever a provider's classification said.
  const status = (error as { status?: unknown }).status;
  if (status === 401 || status === 403) return undefined;
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (retry - 1));
  const jittered = Math.round(rng.next() * cap);
  const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
  return retryAfter !== undefined ? Math.max(retryAfter, jittered) : jittered;
}
