/**
 * Budget planning for operators that make several calls: the worst case of a call (the fleet's own
 * reservation, `fleet.worstCase`), sums and multiples of such costs, how many units fit in a budget's headroom,
 * the output cap a budget can still cover, and how a degradation is recorded. The width, depth and cascade
 * operators (and the governor's router) plan with these, so they live apart from any one operator. sample.ts,
 * their first home, re-exports them so `ops/index.ts` and callers that import them from there still find them.
 */
import { addUsd, costOf } from '../core/index.ts';
import type { Budget, BudgetLimits } from '../budget/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext } from './context.ts';

/** Below this many output tokens an answer is unlikely to fit; planning does not shrink the cap further. */
export const MIN_USEFUL_OUTPUT_TOKENS = 64;

/** A worst-case amount on the budget's additive dimensions. */
export interface CallCost {
  inputTokens: number;
  outputTokens: number;
  usd: number;
  calls: number;
}

export const NO_COST: CallCost = Object.freeze({ inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 });

/** The reservation one call would make (the fleet's own worst case), plus `extraInputTokens` of prompt still to be written. */
export function callCost(
  context: OpContext,
  model: string,
  messages: ChatMessage[],
  maxOutputTokens: number,
  extraInputTokens = 0,
): CallCost {
  const worst = context.fleet.worstCase(model, messages, maxOutputTokens);
  return addCosts(
    { inputTokens: worst.inputTokens, outputTokens: worst.outputTokens, usd: worst.usd, calls: 1 },
    inputCost(context, model, extraInputTokens),
  );
}

/** Prompt tokens for `model`, priced, as no extra call. */
export function inputCost(context: OpContext, model: string, tokens: number): CallCost {
  const profile = context.fleet.model(model).profile;
  return {
    inputTokens: tokens,
    outputTokens: 0,
    usd: costOf(
      { inputTokens: tokens, outputTokens: 0 },
      { inputPerMillion: profile.priceInputPerMillion, outputPerMillion: profile.priceOutputPerMillion },
    ),
    calls: 0,
  };
}

export function addCosts(...costs: CallCost[]): CallCost {
  const total = { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 };
  for (const cost of costs) {
    total.inputTokens += cost.inputTokens;
    total.outputTokens += cost.outputTokens;
    total.usd = addUsd(total.usd, cost.usd);
    total.calls += cost.calls;
  }
  return total;
}

export function timesCost(cost: CallCost, times: number): CallCost {
  return {
    inputTokens: cost.inputTokens * times,
    outputTokens: cost.outputTokens * times,
    usd: cost.usd * times,
    calls: cost.calls * times,
  };
}

/**
 * Absolute limits for a child budget: the budget's headroom minus `reserve`, on the finite dimensions — what an
 * early stage may spend while `reserve` stays available for a later one (the cascade's final stage).
 */
export function limitsLeavingAside(budget: Budget, reserve: CallCost): BudgetLimits {
  const room = budget.remaining();
  const limits: BudgetLimits = {};
  const set = (key: 'inputTokens' | 'outputTokens' | 'totalTokens' | 'usd' | 'calls', value: number, minus: number): void => {
    if (Number.isFinite(value)) limits[key] = Math.max(0, key === 'usd' ? value - minus : Math.floor(value - minus));
  };
  set('inputTokens', room.inputTokens, reserve.inputTokens);
  set('outputTokens', room.outputTokens, reserve.outputTokens);
  set('totalTokens', room.totalTokens, reserve.inputTokens + reserve.outputTokens);
  set('usd', room.usd, reserve.usd);
  set('calls', room.calls, reserve.calls);
  return limits;
}

/**
 * How many `unit`s fit in the budget's headroom (on the whole path to the root) after `fixed` is set aside;
 * 0 when not even `fixed` fits or the deadline has passed. `share` scales the headroom first, the way
 * `Budget.child({ share })` would carve it.
 */
export function affordableUnits(budget: Budget, unit: CallCost, fixed: CallCost = NO_COST, share = 1): number {
  const room = budget.remaining();
  if (room.seconds <= 0) return 0;
  const scaled = (value: number, whole: boolean): number =>
    Number.isFinite(value) && share < 1 ? (whole ? Math.floor(value * share) : value * share) : value;
  const pairs: Array<[number, number, number]> = [
    [scaled(room.inputTokens, true), unit.inputTokens, fixed.inputTokens],
    [scaled(room.outputTokens, true), unit.outputTokens, fixed.outputTokens],
    [scaled(room.totalTokens, true), unit.inputTokens + unit.outputTokens, fixed.inputTokens + fixed.outputTokens],
    [scaled(room.usd, false), unit.usd, fixed.usd],
    [scaled(room.calls, true), unit.calls, fixed.calls],
  ];
  let count = Infinity;
  for (const [available, each, setAside] of pairs) {
    // A float tolerance for dollar sums, as the ledger allows.
    const left = available - setAside + 1e-12;
    if (left < 0) return 0;
    if (each > 0) count = Math.min(count, Math.floor(left / each));
  }
  return Number.isFinite(count) ? count : Number.MAX_SAFE_INTEGER;
}

/**
 * The output cap for one call of `model` that the budget can cover next to `fixed`: `cap` when it fits, else
 * halved until it does (not below MIN_USEFUL_OUTPUT_TOKENS); 0 when even that does not fit.
 */
export function fitOutputCap(context: OpContext, model: string, messages: ChatMessage[], cap: number, fixed: CallCost = NO_COST): number {
  for (let tokens = cap; ; tokens = Math.max(MIN_USEFUL_OUTPUT_TOKENS, Math.floor(tokens / 2))) {
    if (affordableUnits(context.budget, callCost(context, model, messages, tokens), fixed) >= 1) return tokens;
    if (tokens <= MIN_USEFUL_OUTPUT_TOKENS) return 0;
  }
}

/** Records a degradation in the result and as a trace event. */
export function noteDegrade(context: OpContext, degraded: string[], reason: string): void {
  degraded.push(reason);
  context.trace.event(context.stepId, 'degrade', { reason });
}
