/**
 * Checks a run makes before anything is sent or journaled: every model it will call can be called (its API
 * key is there), and a dollar limit can be enforced on each of them (each has a price). Both refuse with a
 * typed bad-input error (exit 2), so an unready provider costs nothing — no request, no retries, no run row.
 */
import { UnpricedModelError } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';

/** Throws the first model's readiness error (MISSING_API_KEY, …) among `references`. */
export function assertModelsReady(fleet: Fleet, references: Iterable<string>): void {
  for (const reference of new Set(references)) {
    const notReady = fleet.model(reference).notReady;
    if (notReady) throw notReady;
  }
}

/** The real models among `references` that have no known price (they would count as $0). */
export function unpricedModels(fleet: Fleet, references: Iterable<string>): string[] {
  return [...new Set(references)].filter((reference) => fleet.model(reference).profile.unpriced === true);
}

/**
 * With a dollar limit, every model the run can call must have a price, else the limit would not hold
 * (`$0.000000` spent whatever the endpoint billed): refused unless `allowUnpriced`. Returns the unpriced
 * models that were allowed, for the caller to warn about.
 */
export function checkDollarBudget(fleet: Fleet, references: Iterable<string>, budget: BudgetLimits, allowUnpriced: boolean): string[] {
  if (budget.usd === undefined) return [];
  const unpriced = unpricedModels(fleet, references);
  if (unpriced.length > 0 && !allowUnpriced) throw new UnpricedModelError(unpriced);
  return unpriced;
}
