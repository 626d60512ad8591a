/**
 * What a governed solve leaves behind: the `GovernorDecision` (the difficulty estimate, the arm and why, what
 * ran, escalations, the generated spec, bindings, the frontier's part), the `GovernedSolveResult` that
 * carries it, and the two records journaled from them — the `gov/decision` step and the governed
 * trajectory that `thicket export trajectories` reads.
 */
import { addUsd, type RunStatus, type ThicketError, type UsageTotals } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { TraceJson } from '../ops/index.ts';
import type { Tier, WorkflowSpec } from '../workflow/index.ts';
import type { BoundCapability } from './binder.ts';
import type { FrontierExplanation } from './frontier-decision.ts';
import type { GovernedSolveOptions } from './governed-options.ts';
import { costShare } from './planner.ts';
import type { PlanRound } from './plan-types.ts';
import type { AllocationCell, Arm, GovernorPolicy } from './policy.ts';
import type { ProbeResult } from './probe.ts';
import type { Escalation } from './router.ts';
import { ZERO_COST, recordGovernedStep, type GovernedStep } from './trajectories.ts';

export interface GovernorDecision {
  policy: string;
  start: string;
  tiers: Partial<Record<Tier, string>>;
  /** The probe's estimate; `bin: 'unprobed'` when the frontier chose a fixed strategy and no probe ran. */
  difficulty: {
    bin: ProbeResult['bin'] | 'unprobed';
    score: number;
    agreement: number;
    confidence: number | undefined;
    samples: number;
    answer: string | undefined;
    model: string;
    stoppedEarly?: 'easy' | 'decided';
  };
  budgetLevel: number;
  arm: Arm;
  cell: AllocationCell;
  forced: boolean;
  /** One line: what ran. */
  strategy: string;
  escalations: Escalation[];
  reusedProbeSamples: number;
  spec?: WorkflowSpec;
  planner?: { model: string; calls: number; rounds: PlanRound[] };
  split: GovernorPolicy['split'];
  /** Registry-backed binders: the card (`id@version`) behind each model the governor bound, per need and tier. */
  bindings?: BoundCapability[];
  /** The frontier table's part in the decision (absent: the policy has no table for this family and model). */
  frontier?: FrontierExplanation;
}

export interface GovernedSolveResult {
  answer: string | undefined;
  status: RunStatus;
  simulated: boolean;
  decision: GovernorDecision;
  usage: UsageTotals;
  spendByAxis: Record<string, UsageTotals>;
  spendByModel: Record<string, UsageTotals>;
  degraded: string[];
  trace: TraceJson;
  error?: { code: string; message: string };
}

export const GOVERNOR_STEP_KIND = 'governor';

/** Journals the solve's decision step and its trajectory, when the solve has a journal. */
export async function recordGovernedSolve(
  options: GovernedSolveOptions,
  result: GovernedSolveResult,
  context: { policy: GovernorPolicy; limitsAtStart: BudgetLimits; failure?: ThicketError | undefined },
): Promise<void> {
  if (!options.journal) return;
  const { decision } = result;
  options.journal.journal.upsertStep(options.journal.runId, {
    stepId: 'gov/decision',
    kind: GOVERNOR_STEP_KIND,
    status: result.status,
    input: { query: options.query, start: decision.start, policy: decision.policy, budget: context.limitsAtStart },
    output: { answer: result.answer ?? null, decision, spendByAxis: result.spendByAxis },
    usage: result.usage,
  });
  // Every governed solve is a trajectory (whatever the arm), not only the planner's workflows.
  recordGovernedStep(options.journal.journal, options.journal.runId, await governedTrajectory(options, result, context));
}

/**
 * The trajectory record of one governed solve: query, the probe's features, the decision (or the generated
 * workflow), cost (planning calls apart), outcome, and — when a checker makes the query checkable — the
 * quality and the reward `quality − λ · costShare(spent, budget at start)` (λ from the policy's planner
 * settings, the planner objective's cost term). Exported for callers that journal elsewhere.
 */
export async function governedTrajectory(
  options: Pick<GovernedSolveOptions, 'query' | 'taskId' | 'checker' | 'retriever'>,
  result: GovernedSolveResult,
  context: { policy: GovernorPolicy; limitsAtStart: BudgetLimits; failure?: ThicketError | undefined },
): Promise<GovernedStep> {
  const { decision } = result;
  const { lambda, mu } = context.policy.planner;
  let quality: number | undefined;
  if (options.checker && result.answer !== undefined) {
    try {
      const verdict = await options.checker(result.answer);
      quality = typeof verdict === 'boolean' ? (verdict ? 1 : 0) : verdict;
    } catch {
      quality = undefined;
    }
  }
  const planning = result.spendByAxis['planning'] ?? ZERO_COST;
  const execution: UsageTotals = {
    inputTokens: result.usage.inputTokens - planning.inputTokens,
    outputTokens: result.usage.outputTokens - planning.outputTokens,
    totalTokens: result.usage.totalTokens - planning.totalTokens,
    usd: addUsd(result.usage.usd, -planning.usd),
    calls: result.usage.calls - planning.calls,
  };
  const reward = quality === undefined ? undefined : quality - lambda * costShare(result.usage, context.limitsAtStart);
  const refused = result.answer === undefined && context.failure?.category === 'budget' && result.usage.calls === 0;
  return {
    query: options.query,
    ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
    planner: decision.planner?.model ?? 'none',
    round: 0,
    attempt: 0,
    status: refused ? 'refused' : 'executed',
    spec: decision.spec ?? null,
    issues: [],
    outcome: {
      ...(result.answer !== undefined ? { answer: result.answer } : {}),
      status: result.status,
      ...(quality !== undefined ? { quality } : {}),
      checkedBy: quality !== undefined ? 'checker' : 'none',
    },
    cost: { planning: { ...planning }, execution },
    ...(reward !== undefined ? { objective: reward, reward } : {}),
    weights: { lambda, mu },
    simulated: result.simulated,
    features: {
      bin: decision.difficulty.bin,
      score: decision.difficulty.score,
      agreement: decision.difficulty.agreement,
      ...(decision.difficulty.confidence !== undefined ? { confidence: decision.difficulty.confidence } : {}),
      probeSamples: decision.difficulty.samples,
      ...(decision.difficulty.answer !== undefined ? { probeAnswer: decision.difficulty.answer } : {}),
      budgetLevel: decision.budgetLevel,
      budget: { ...context.limitsAtStart },
      corpus: options.retriever !== undefined,
      ...(decision.frontier
        ? {
            family: decision.frontier.family,
            objective: decision.frontier.objective,
            frontierChoice: decision.frontier.choice,
            frontierLevel: decision.frontier.level,
          }
        : {}),
    },
    decision: {
      arm: decision.arm,
      cell: { ...decision.cell },
      strategy: decision.strategy,
      forced: decision.forced,
      policy: decision.policy,
      escalations: decision.escalations.length,
      reusedProbeSamples: decision.reusedProbeSamples,
    },
  };
}
