/**
 * The ledger's vocabulary: the budget dimensions, limits and their validation, reservation amounts, spend
 * tags, ledger events, the spend report's shape and the contract of budgets held outside the process.
 *
 * Kept apart from the classes (ledger.ts) because the shared ledgers (shared-ledger.ts, shared-gate.ts,
 * redis-ledger.ts) speak the same terms without needing a Budget; everything here is re-exported by ledger.ts.
 */
import { InvalidInputError, type InputIssue, type UsageTotals } from '../core/index.ts';

/** Additive dimensions, in the order of the internal vectors. */
export const DIMENSIONS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface BudgetLimits {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  usd?: number;
  calls?: number;
  seconds?: number;
}

/** One reservation's amounts. `totalTokens` is derived (input + output). */
export interface Amount {
  inputTokens: number;
  outputTokens: number;
  usd: number;
  calls: number;
}

/** Labels a reservation for spend reports: which model, operator/axis and agent/branch spent it. */
export interface SpendTags {
  model?: string;
  operator?: string;
  axis?: string;
  agent?: string;
}

export interface ChildBudgetOptions {
  /** Fraction (0, 1] of the parent's remaining headroom at carve time, per dimension. */
  share?: number;
  /** Absolute limits; combined with `share` by taking the smaller. */
  limits?: BudgetLimits;
}

export type LedgerEventKind = 'reserve' | 'settle' | 'release' | 'refuse' | 'charge';
export interface LedgerEvent {
  kind: LedgerEventKind;
  budget: string;
  amount: Amount;
  tags: SpendTags;
}

export function validateLimits(limits: BudgetLimits, where = 'budget'): void {
  const issues: InputIssue[] = [];
  for (const [key, value] of Object.entries(limits)) {
    if (value === undefined) continue;
    if (!['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls', 'seconds'].includes(key))
      issues.push({ path: `${where}.${key}`, message: 'unknown budget dimension' });
    else if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
      issues.push({ path: `${where}.${key}`, message: `must be a non-negative number, got ${String(value)}` });
  }
  if (issues.length > 0) throw new InvalidInputError('Invalid budget', issues);
}

export type LedgerListener = (event: LedgerEvent) => void;

export interface SpendReport {
  total: UsageTotals;
  byModel: Record<string, UsageTotals>;
  byOperator: Record<string, UsageTotals>;
  byAxis: Record<string, UsageTotals>;
  byAgent: Record<string, UsageTotals>;
  byBudget: Record<string, UsageTotals & { limits: BudgetLimits }>;
  /** Usage providers reported beyond their reservation, included in the totals (should stay empty; see Reservation.settle). */
  overrun: UsageTotals;
}

/** What the fleet asks of a ledger's shared budgets: implemented by SharedGate (shared-gate.ts). */
export interface SharedSpendGate {
  holdId(callKey: string, attempt: number): string;
  /** Holds the amount on every shared budget, or throws (BudgetExhaustedError, SharedLedgerUnreachableError). */
  reserve(holdId: string, amount: Amount): Promise<void>;
  /** Books the call's cumulative billed spend (idempotent per call) and drops the hold. */
  settle(callKey: string, holdId: string | undefined, billed: Amount): Promise<void>;
  release(holdId: string): Promise<void>;
}
