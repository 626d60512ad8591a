/**
 * Flag parsing shared by commands. Problems are collected, not thrown one at a time, so a user with three
 * bad flags hears about all three at once (exit code 2).
 */
import { InvalidInputError, parseDecimalText, type InputIssue } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';

export class IssueCollector {
  readonly issues: InputIssue[] = [];

  number(
    flag: string,
    raw: string | undefined,
    rule: { integer?: boolean; min?: number; max?: number; positive?: boolean } = {},
  ): number | undefined {
    if (raw === undefined) return undefined;
    // Plain decimal digits only: Number() would take "0x10" as 16, " 100 " as 100 and 1e23 past exact integers.
    const parsed = parseDecimalText(raw, rule.integer ? 'integer' : 'decimal');
    if (!parsed.ok) {
      this.issues.push({ path: flag, message: parsed.message });
      return undefined;
    }
    const value = parsed.value;
    if (rule.positive && value <= 0) this.issues.push({ path: flag, message: `must be greater than 0, got ${raw}` });
    else if (rule.min !== undefined && value < rule.min)
      this.issues.push({ path: flag, message: `must be at least ${rule.min}, got ${raw}` });
    else if (rule.max !== undefined && value > rule.max)
      this.issues.push({ path: flag, message: `must be at most ${rule.max}, got ${raw}` });
    else return value;
    return undefined;
  }

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  throwIfAny(what: string): void {
    if (this.issues.length > 0) throw new InvalidInputError(what, this.issues);
  }
}

export interface BudgetFlags {
  budgetTokens?: string;
  budgetInputTokens?: string;
  budgetOutputTokens?: string;
  budgetUsd?: string;
  budgetSeconds?: string;
  budgetCalls?: string;
}

export function parseBudgetFlags(flags: BudgetFlags, issues: IssueCollector): BudgetLimits {
  const limits: BudgetLimits = {};
  const set = (key: keyof BudgetLimits, value: number | undefined): void => {
    if (value !== undefined) limits[key] = value;
  };
  set('totalTokens', issues.number('--budget-tokens', flags.budgetTokens, { integer: true, positive: true }));
  set('inputTokens', issues.number('--budget-input-tokens', flags.budgetInputTokens, { integer: true, positive: true }));
  set('outputTokens', issues.number('--budget-output-tokens', flags.budgetOutputTokens, { integer: true, positive: true }));
  set('usd', issues.number('--budget-usd', flags.budgetUsd, { positive: true }));
  set('seconds', issues.number('--budget-seconds', flags.budgetSeconds, { positive: true }));
  set('calls', issues.number('--budget-calls', flags.budgetCalls, { integer: true, positive: true }));
  return limits;
}
