/** Token usage and cost, the units every budget and report is kept in. */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * Spend along every dimension a budget limits — THE usage type: a run's result, the ledger's reports, a
 * workflow node's cost and estimate, a study cell and the journal's totals all use it.
 */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Dollars, at the model profiles' prices (named as in `BudgetLimits.usd`). */
  usd: number;
  calls: number;
}

export function emptyTotals(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
}

export function addToTotals(totals: UsageTotals, usage: Usage, costUsd: number, calls = 1): void {
  totals.inputTokens += usage.inputTokens;
  totals.outputTokens += usage.outputTokens;
  totals.totalTokens += usage.inputTokens + usage.outputTokens;
  totals.usd = addUsd(totals.usd, costUsd);
  totals.calls += calls;
}

/**
 * Money is exact on a grid of nano-dollars (1e-9 $): every cost is rounded onto it when computed (`costOf`),
 * the ledger keeps integer nano-dollars, and sums go through integers (`addUsd`, `sumUsd`), so a total is the
 * same whatever order its parts are added in and prints without float noise (0.00001305, not
 * 0.000013049999999999999). Why nano and not micro: one token at $0.10 per million is 1e-7 $. Integers stay
 * exact in a double up to 2^53 nano-dollars (~$9 million).
 */
export const NANO_USD_PER_USD = 1_000_000_000;

/** Dollars → integer nano-dollars (Infinity stays Infinity). */
export function toNanoUsd(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}

/** Integer nano-dollars → dollars (the double nearest the exact decimal). */
export function fromNanoUsd(nanoUsd: number): number {
  return nanoUsd / NANO_USD_PER_USD;
}

/** Dollars rounded onto the nano-dollar grid. */
export function roundUsd(usd: number): number {
  return Number.isFinite(usd) ? fromNanoUsd(toNanoUsd(usd)) : usd;
}

/** Exact sum of dollar amounts (through integer nano-dollars). */
export function addUsd(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) ? fromNanoUsd(toNanoUsd(a) + toNanoUsd(b)) : a + b;
}

/** Exact sum of a list of dollar amounts. */
export function sumUsd(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total = addUsd(total, value);
  return total;
}

/** Prices are dollars per million tokens, as providers publish them. */
export interface Pricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** The dollar cost of `usage` at `pricing`, on the nano-dollar grid. */
export function costOf(usage: Usage, pricing: Pricing): number {
  return roundUsd((usage.inputTokens * pricing.inputPerMillion + usage.outputTokens * pricing.outputPerMillion) / 1_000_000);
}
