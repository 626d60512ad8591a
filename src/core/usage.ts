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
  totals.usd += costUsd;
  totals.calls += calls;
}

/** Prices are dollars per million tokens, as providers publish them. */
export interface Pricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

export function costOf(usage: Usage, pricing: Pricing): number {
  return (usage.inputTokens * pricing.inputPerMillion + usage.outputTokens * pricing.outputPerMillion) / 1_000_000;
}
