/**
 * Seeded fault injection for the simulated fleet. Faults are drawn from (seed, call identity, attempt): the
 * same call fails the same way on replay, while a retry (next attempt) draws afresh and can succeed — which is
 * what exercises the fleet's retry, back-off and budget code for real. The errors are the same types the
 * real providers throw.
 */
import { ProviderError, TimeoutError, type Rng } from '../../core/index.ts';
import type { SimFaultRates } from './profiles.ts';

/** A fault that fails the whole call (no response). */
export type CallFault =
  { kind: 'rateLimit'; retryAfterMs: number } | { kind: 'serverError'; status: 500 | 503 } | { kind: 'timeout'; afterMs: number };

/** Faults that damage an otherwise successful response. */
export interface OutputFaults {
  truncated: boolean;
  malformedJson: boolean;
  /** Where a truncated output stops, as a share of what the model meant to write. */
  truncateAt: number;
}

/** Draws the call's faults; always consumes the same number of uniforms so fault rates do not reshuffle each other. */
export function drawFaults(rng: Rng, rates: SimFaultRates): { call: CallFault | undefined; output: OutputFaults } {
  const callRoll = rng.next();
  const detail = rng.next();
  const truncRoll = rng.next();
  const truncateAt = 0.2 + 0.6 * rng.next();
  const jsonRoll = rng.next();
  let call: CallFault | undefined;
  if (callRoll < rates.rateLimit) {
    // Jitter the retry-after a little (±25%), as real rate limiters do.
    call = { kind: 'rateLimit', retryAfterMs: Math.round(rates.retryAfterMs * (0.75 + 0.5 * detail)) };
  } else if (callRoll < rates.rateLimit + rates.serverError) {
    call = { kind: 'serverError', status: detail < 0.5 ? 500 : 503 };
  } else if (callRoll < rates.rateLimit + rates.serverError + rates.timeout) {
    call = { kind: 'timeout', afterMs: rates.timeoutAfterMs };
  }
  return { call, output: { truncated: truncRoll < rates.truncated, malformedJson: jsonRoll < rates.malformedJson, truncateAt } };
}

/** How long (clock ms) a failing call takes before the error arrives. */
export function faultDelayMs(fault: CallFault, ttftMs: number): number {
  return fault.kind === 'timeout' ? fault.afterMs : fault.kind === 'rateLimit' ? Math.round(ttftMs * 0.2) : Math.round(ttftMs * 0.5);
}

export function faultError(fault: CallFault, model: string): Error {
  switch (fault.kind) {
    case 'rateLimit':
      return new ProviderError(`${model} (simulated): rate limit exceeded, retry after ${fault.retryAfterMs} ms.`, {
        status: 429,
        retryAfterMs: fault.retryAfterMs,
        responseBody: JSON.stringify({ error: { type: 'rate_limit_error', simulated: true } }),
      });
    case 'serverError':
      return new ProviderError(`${model} (simulated): server error ${fault.status}.`, {
        status: fault.status,
        responseBody: JSON.stringify({ error: { type: fault.status === 503 ? 'overloaded' : 'internal_error', simulated: true } }),
      });
    case 'timeout':
      return new TimeoutError(`${model} (simulated): no response within ${fault.afterMs} ms.`);
  }
}
