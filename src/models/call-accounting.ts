/**
 * The money side of one fleet call: how far the output is fitted to what the budget can still cover, how an
 * attempt's reservation is settled (answered, or failed with or without provider-reported usage), and how a
 * call's attempts add up to what it billed and what it overran. The fleet owns the order of these steps; this
 * module owns the arithmetic, so the call path reads as a sequence and the sums are in one place.
 */
import { ThicketError, addUsd, costOf, type Usage } from '../core/index.ts';
import type { Amount, Reservation, SpendTags } from '../budget/index.ts';
import type { CallOptions } from './fleet-types.ts';

/** A model's prices, per million tokens. */
export interface Pricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Tokens and dollars over a reservation (no call count: an overrun is never an extra call). */
export interface Overrun {
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/**
 * The output cap one attempt reserves: the request's cap, shrunk to what the budget can still cover unless the
 * caller opted out. Below the caller's minimum the call is refused with the budget's own error.
 */
export function fitOutputToBudget(
  outputCap: number,
  promptTokens: number,
  pricing: Pricing,
  options: CallOptions,
  tags: SpendTags,
): number {
  if (!(options.fitOutputToBudget ?? true)) return outputCap;
  const affordable = options.budget.maxAffordableOutputTokens(promptTokens, pricing);
  if (affordable < Math.min(options.minOutputTokens ?? 16, outputCap)) {
    // Reserving the smallest useful call throws the precise BudgetExhaustedError naming the limit that refused.
    const smallest = { inputTokens: promptTokens, outputTokens: Math.min(options.minOutputTokens ?? 16, outputCap) };
    options.budget.reserve({ ...smallest, usd: costOf(smallest, pricing), calls: 1 }, tags).release();
  }
  return Math.min(outputCap, affordable);
}

/** Settles an answered attempt at the usage the provider reported, adds it to `billed`; returns its cost. */
export function settleAnswered(reservation: Reservation, usage: Usage, pricing: Pricing, billed: Amount): number {
  const settled = reservation.settle({
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    usd: costOf(usage, pricing),
    calls: 1,
  });
  addAmount(billed, settled);
  return settled.usd;
}

/** A failed attempt is billed only when the provider billed it (an error that carries usage); otherwise it costs one call. */
export function closeFailedAttempt(reservation: Reservation, caught: unknown, pricing: Pricing, billed: Amount): ThicketError {
  const error = ThicketError.isInstance(caught)
    ? caught
    : new ThicketError('INTERNAL', caught instanceof Error ? caught.message : String(caught), 'other', { cause: caught });
  const usage = (error as { usage?: Usage }).usage;
  if (reservation.isOpen)
    addAmount(
      billed,
      reservation.settle(
        usage ? { ...usage, usd: costOf(usage, pricing), calls: 1 } : { inputTokens: 0, outputTokens: 0, usd: 0, calls: 1 },
      ),
    );
  return error;
}

function addAmount(total: Amount, amount: Amount): void {
  total.inputTokens += amount.inputTokens;
  total.outputTokens += amount.outputTokens;
  total.usd = addUsd(total.usd, amount.usd);
  total.calls += amount.calls;
}

/** Sums the overruns of a call's attempts (the excess over each attempt's reservation). */
export function addOverrun(total: Overrun | undefined, over: Amount): Overrun {
  return {
    inputTokens: (total?.inputTokens ?? 0) + over.inputTokens,
    outputTokens: (total?.outputTokens ?? 0) + over.outputTokens,
    usd: (total?.usd ?? 0) + over.usd,
  };
}
