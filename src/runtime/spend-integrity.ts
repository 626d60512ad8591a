/**
 * Spend the run did not plan but must count: attempts an earlier process sent and never recorded (a crash or
 * a cancel ended it mid-call), and usage providers reported beyond an attempt's reservation. Both are booked
 * in the ledger as spent — the provider may have billed them — and named on the result.
 */
import { addUsd, type UsageTotals } from '../core/index.ts';
import type { Ledger } from '../budget/index.ts';
import type { Journal } from '../journal/index.ts';

const DIMENSIONS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;

/**
 * On resume: books every intent the run left unresolved (in flight when an earlier process died) on the
 * ledger's root at its reserved worst case, before anything else runs, so the resumed run cannot buy those
 * calls again outside the budget. Returns their totals, or undefined when there were none.
 */
export function chargeInFlightAtCrash(journal: Journal, runId: string, ledger: Ledger): UsageTotals | undefined {
  const intents = journal.orphanedIntents(runId);
  if (intents.length === 0) return undefined;
  const totals: UsageTotals = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
  for (const intent of intents) {
    const amount = { inputTokens: intent.inputTokens, outputTokens: intent.outputTokens, usd: intent.costUsd, calls: 1 };
    ledger.root.book(amount, { model: intent.model, ...(intent.purpose !== null ? { operator: intent.purpose } : {}) });
    totals.inputTokens += amount.inputTokens;
    totals.outputTokens += amount.outputTokens;
    totals.totalTokens += amount.inputTokens + amount.outputTokens;
    totals.usd = addUsd(totals.usd, amount.usd);
    totals.calls += 1;
  }
  return totals;
}

/** "3 calls in flight at a crash counted at their worst case (≤ 120 tokens, ≤ $0.000090)". */
export function inFlightNote(totals: UsageTotals): string {
  return (
    `${totals.calls} call${totals.calls === 1 ? '' : 's'} in flight when an earlier process of this run stopped ` +
    `counted as spent at ${totals.calls === 1 ? 'its' : 'their'} worst case (≤ ${totals.totalTokens} tokens, ≤ $${totals.usd.toFixed(6)}): ` +
    'the provider may have billed them'
  );
}

/** A note naming what providers reported beyond their reservations, or undefined when nothing was. */
export function overrunNote(ledger: Ledger): string | undefined {
  const over = ledger.report().overrun;
  if (over.inputTokens <= 0 && over.outputTokens <= 0 && over.usd <= 0) return undefined;
  const parts: string[] = [];
  if (over.outputTokens > 0) parts.push(`${over.outputTokens} output tokens`);
  if (over.inputTokens > 0) parts.push(`${over.inputTokens} input tokens`);
  if (over.usd > 0) parts.push(`$${over.usd.toFixed(6)}`);
  return (
    `provider overspend: the provider reported ${parts.join(', ')} beyond the calls' reserved worst case ` +
    '(it did not honour max_tokens, or counted the prompt far above the estimate); booked as reported'
  );
}

/** True when the ledger's root spent more than one of its limits (only an overspend or a crash count can do that). */
export function overLimit(ledger: Ledger): boolean {
  const limits = ledger.root.limits;
  const spent = ledger.root.spent();
  return DIMENSIONS.some((dimension) => {
    const limit = limits[dimension];
    return limit !== undefined && spent[dimension] > limit + (dimension === 'usd' ? 1e-12 : 0);
  });
}
