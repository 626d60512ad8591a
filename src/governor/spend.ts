/**
 * Spend under one budget subtree, live, from the ledger's settle/charge events: every attempt that reached a
 * provider (failed ones included) and every replayed call. The governor's figures come from here, so its
 * counts (planner calls, spend by axis) are the ledger's, not a tally kept beside it.
 */
import { addUsd, type UsageTotals } from '../core/index.ts';
import type { Budget, LedgerEvent } from '../budget/index.ts';
import { ZERO_COST } from './trajectories.ts';

/**
 * Spend of this solve by axis and model, from the ledger's settle/charge events on the budget and its
 * children (the ledger may be shared with other work, so its own report would over-count).
 */
export function trackSpend(budget: Budget): {
  total: UsageTotals;
  byAxis: Record<string, UsageTotals>;
  byModel: Record<string, UsageTotals>;
  stop: () => void;
} {
  const total: UsageTotals = { ...ZERO_COST };
  const byAxis: Record<string, UsageTotals> = {};
  const byModel: Record<string, UsageTotals> = {};
  const prefix = `${budget.path}/`;
  const add = (line: UsageTotals, event: LedgerEvent): void => {
    line.inputTokens += event.amount.inputTokens;
    line.outputTokens += event.amount.outputTokens;
    line.totalTokens += event.amount.inputTokens + event.amount.outputTokens;
    line.usd = addUsd(line.usd, event.amount.usd);
    line.calls += event.amount.calls;
  };
  const stop = budget.ledger.onEvent((event) => {
    if ((event.kind !== 'settle' && event.kind !== 'charge') || (event.budget !== budget.path && !event.budget.startsWith(prefix))) return;
    add(total, event);
    add((byAxis[event.tags.axis ?? 'other'] ??= { ...ZERO_COST }), event);
    add((byModel[event.tags.model ?? 'other'] ??= { ...ZERO_COST }), event);
  });
  return { total, byAxis, byModel, stop };
}
