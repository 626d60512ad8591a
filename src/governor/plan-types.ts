/**
 * The planner's request and its outcome: `PlanOptions` (the query, the models and operators a generated spec
 * may use, the planner's settings and its share of the budget) and what `planAndExecute` returns, round by
 * round. Apart from planner.ts so that validation and journaling read them without importing the planner.
 */
import type { BudgetLimits } from '../budget/index.ts';
import type { Checker } from '../ops/index.ts';
import type { Journal } from '../journal/index.ts';
import type { OperatorRegistry, Tier, WorkflowIssue, WorkflowLimits, WorkflowResult, WorkflowSpec } from '../workflow/index.ts';
import type { DifficultyBin, GovernorPolicy } from './policy.ts';

export interface PlanOptions {
  query: string;
  taskId?: string;
  plannerModel: string;
  tiers: Partial<Record<Tier, string>>;
  defaultModel: string;
  operators: OperatorRegistry;
  /** Picks the fallback template. */
  bin: DifficultyBin;
  maxOutputTokens: number;
  settings: GovernorPolicy['planner'];
  /** Largest share of the budget all plan calls together may take. */
  planShare: number;
  /** The governor's whole budget at the start (the objective's cost is a share of it). */
  budgetLimits: BudgetLimits;
  checker?: Checker;
  /** Judge model for quality when there is no checker (refinement on a verifier's score). */
  verifierModel?: string;
  journal?: { journal: Journal; runId: string };
  limits?: WorkflowLimits;
  /** Example folder for the template library (default examples/); false for none. */
  examples?: string | false;
}

export interface PlanRound {
  round: number;
  attempts: number;
  rejected: Array<{ attempt: number; issues: WorkflowIssue[] }>;
  fallback: boolean;
  spec: WorkflowSpec | undefined;
  answer: string | undefined;
  status: WorkflowResult['status'] | 'not-run';
  quality: number | undefined;
  objective: number | undefined;
}

export interface PlanOutcome {
  answer: string | undefined;
  spec: WorkflowSpec | undefined;
  rounds: PlanRound[];
  best: number | undefined;
  planCalls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
}
