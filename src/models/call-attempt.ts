/**
 * One attempt on the wire: the provider's `doGenerate` under the shorter of the model's timeout and the run's
 * remaining time, cancelled with the caller's signal. A timeout caused by the run's deadline (not the model's
 * own timeout) is reported as the exhausted seconds budget, the same error a refused retry delay gives.
 */
import { BudgetExhaustedError, CancelledError, TimeoutError, type Clock } from '../core/index.ts';
import type { Budget } from '../budget/index.ts';
import type { CallOptions } from './fleet-types.ts';
import type { GenerateRequest, GenerateResponse, ModelProvider } from './spec.ts';

export async function sendAttempt(
  clock: Clock,
  provider: ModelProvider,
  request: GenerateRequest,
  options: CallOptions,
  timeoutMs: number,
): Promise<GenerateResponse> {
  const remaining = options.budget.remainingMs();
  const limitMs = Math.min(timeoutMs, remaining);
  const deadlineBound = remaining < timeoutMs;
  const controller = new AbortController();
  const onOuterAbort = (): void =>
    controller.abort(options.signal?.reason instanceof CancelledError ? options.signal.reason : new CancelledError());
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const cancelTimer = clock.setTimer(limitMs, () =>
    controller.abort(
      new TimeoutError(
        deadlineBound
          ? `The run's time budget ran out during a call to ${provider.modelId}.`
          : `Call to ${provider.modelId} timed out after ${limitMs} ms.`,
      ),
    ),
  );
  try {
    return await provider.doGenerate({ ...request, abortSignal: controller.signal });
  } catch (error) {
    if (deadlineBound && error instanceof TimeoutError) throw secondsExhausted(options.budget, clock, 0);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    cancelTimer();
  }
}

/** The budget's time ran out: `requestedMs` more (a retry's delay, or 0 for a call cut off) did not fit. */
export function secondsExhausted(budget: Budget, clock: Clock, requestedMs: number): BudgetExhaustedError {
  return new BudgetExhaustedError({
    budget: budget.path,
    dimension: 'seconds',
    limit: budget.limits.seconds ?? 0,
    committed: (clock.now() - budget.ledger.startedAt) / 1000,
    requested: requestedMs / 1000,
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof CancelledError ? signal.reason : new CancelledError();
}
