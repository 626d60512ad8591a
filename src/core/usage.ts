/** Token usage and cost, the units every budget and report is kept in. */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  calls: number;
}

export function emptyTotals(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, calls: 0 };
}

export function addToTotals(totals: UsageTotals, usage: Usage, costUsd: number, calls = 1): void {
  totals.inputTokens += usage.inputTokens;
  totals.outputTokens += usage.outputTokens;
  totals.totalTokens += usage.inputTokens + usage.outputTokens;
  totals.costUsd += costUsd;
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
