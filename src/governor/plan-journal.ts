/**
 * Every planner attempt as a journaled `plan` step — rejected, refused, executed or a template fallback —
 * with its issues, what planning and execution cost, the outcome and the objective, so the attempts can be
 * exported as trajectories (trajectories.ts) and learned from.
 */
import type { UsageTotals } from '../core/index.ts';
import type { WorkflowIssue } from '../workflow/index.ts';
import type { PlanOptions } from './plan-types.ts';
import { ZERO_COST, recordPlanStep, type PlanStep } from './trajectories.ts';

/** One attempt as the planner loop saw it. */
export interface PlanAttempt {
  stepId: string;
  round: number;
  attempt: number;
  status: PlanStep['status'];
  spec: unknown;
  issues: readonly WorkflowIssue[];
  planningCost: UsageTotals;
  execution?: UsageTotals;
  answer?: string | undefined;
  runStatus?: string;
  quality?: number | undefined;
  checkedBy?: 'checker' | 'verifier' | 'none';
  objective?: number | undefined;
  complexity?: number;
  simulated: boolean;
}

/** Journals one attempt as a `plan` step; nothing without a journal. */
export function journalPlanStep(options: PlanOptions, entry: PlanAttempt): void {
  if (!options.journal) return;
  const step: PlanStep = {
    stepId: entry.stepId,
    query: options.query,
    ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
    planner: options.plannerModel,
    round: entry.round,
    attempt: entry.attempt,
    status: entry.status,
    spec: entry.spec,
    issues: entry.issues.map((issue) => ({ path: issue.path, message: issue.message, code: issue.code })),
    ...(entry.runStatus !== undefined
      ? {
          outcome: {
            ...(entry.answer !== undefined ? { answer: entry.answer } : {}),
            status: entry.runStatus,
            ...(entry.quality !== undefined ? { quality: entry.quality } : {}),
            checkedBy: entry.checkedBy ?? 'none',
          },
        }
      : {}),
    cost: { planning: entry.planningCost, execution: entry.execution ?? { ...ZERO_COST } },
    ...(entry.objective !== undefined ? { objective: entry.objective } : {}),
    weights: { lambda: options.settings.lambda, mu: options.settings.mu },
    ...(entry.complexity !== undefined ? { complexity: entry.complexity } : {}),
    simulated: entry.simulated,
  };
  recordPlanStep(options.journal.journal, options.journal.runId, step);
}
