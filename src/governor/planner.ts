/**
 * The planner: a meta-agent call (`purpose: 'plan'`, axis `planning`) writes a workflow spec for the query as
 * structured output; the spec is validated (GENERATED_WORKFLOW_LIMITS, operators, models) and priced
 * (`fitWorkflow`, expected cost against what is left of the budget). An invalid, cyclic, over-limit or
 * too-expensive spec goes back to the planner with every issue and its path, at most `maxRetries` times; then
 * a template from the library runs instead (scaled to the budget). A spec that failed validation is never
 * handed to the executor — there is no code path from a rejected spec to `runWorkflow`.
 *
 * Refinement (FlowReasoner): when the query is checkable — a checker function, or a verifier model — the
 * executed spec's outcome is fed back ("Outcome: incorrect …, spent …") and the planner may write a better
 * spec, for up to `refineRounds` more rounds, while the budget lasts. The answer returned is the round with
 * the best objective
 *     objective = quality − λ · (share of the budget spent) − μ · (reachable nodes)
 * with quality ∈ [0, 1] from the checker or the judge (λ = 0.5: spending the whole budget costs half a
 * correct answer; μ = 0.02: a 5-node workflow must buy 0.1 more quality than a 1-node one — MaAS uses a
 * similar score − 3 × cost). Unchecked queries run one round.
 *
 * Every attempt — rejected or executed — is journaled as a `plan` step (trajectories.ts).
 *
 * The request and outcome types are in plan-types.ts, the check of a generated spec and the template
 * fallback in plan-validation.ts, the journaled `plan` steps in plan-journal.ts; the rounds are here.
 */
import { BudgetExhaustedError, ThicketError, addUsd, type UsageTotals } from '../core/index.ts';
import { DIMENSIONS, type Budget, type BudgetLimits } from '../budget/index.ts';
import { childContext, generate, verify, type OpContext } from '../ops/index.ts';
import {
  GENERATED_WORKFLOW_LIMITS,
  runWorkflow,
  type ValidatedWorkflow,
  type WorkflowIssue,
  type WorkflowLimits,
} from '../workflow/index.ts';
import { CALL_PURPOSE, PLANNER_OUTCOME_INCORRECT, PLANNER_REJECTED } from '../formats/index.ts';
import { plannerMessages, plannerSchema, templateLibrary, type PlanTemplate } from './planner-prompt.ts';
import type { GovernorPolicy } from './policy.ts';
import { trackSpend } from './spend.ts';
import { ZERO_COST } from './trajectories.ts';
import type { PlanOptions, PlanOutcome, PlanRound } from './plan-types.ts';
import { fallbackWorkflow, validateAndFit } from './plan-validation.ts';
import { journalPlanStep } from './plan-journal.ts';

// Re-exported so `./planner.ts` stays the import path of the planner's whole surface.
export type { PlanOptions, PlanOutcome, PlanRound } from './plan-types.ts';

const PLAN_OUTPUT_TOKENS = 1024;

export async function planAndExecute(context: OpContext, options: PlanOptions): Promise<PlanOutcome> {
  const limits = options.limits ?? GENERATED_WORKFLOW_LIMITS;
  const settings = options.settings;
  const opNames = Object.keys(options.operators);
  const templates = templateLibrary({
    tiers: options.tiers,
    defaultModel: options.defaultModel,
    maxOutputTokens: options.maxOutputTokens,
    operators: opNames,
    ...(options.examples !== undefined ? { examples: options.examples } : {}),
  });
  const planBudget = context.budget.child('plan', { share: options.planShare });
  // What the plan calls spent, from the ledger: every attempt the provider answered, including those whose
  // output did not parse (a MALFORMED_OUTPUT call still reached the provider and was paid for).
  const planSpend = trackSpend(planBudget);
  try {
    return await planRounds(context, options, { limits, settings, opNames, templates, planBudget, planSpend });
  } finally {
    planSpend.stop();
  }
}

async function planRounds(
  context: OpContext,
  options: PlanOptions,
  setup: {
    limits: WorkflowLimits;
    settings: GovernorPolicy['planner'];
    opNames: string[];
    templates: PlanTemplate[];
    planBudget: Budget;
    planSpend: ReturnType<typeof trackSpend>;
  },
): Promise<PlanOutcome> {
  const { limits, settings, opNames, templates, planBudget, planSpend } = setup;
  const checkable = options.checker !== undefined || options.verifierModel !== undefined;
  const outcome: PlanOutcome = {
    answer: undefined,
    spec: undefined,
    rounds: [],
    best: undefined,
    planCalls: 0,
    degraded: [],
    budgetExhausted: false,
    simulated: false,
  };
  let feedback: { previous: string; message: string } | undefined;
  let history = '';
  let planningRefused = false;

  for (let round = 0; round <= (checkable ? settings.refineRounds : 0); round++) {
    // Planning refused by the budget: the template already ran once; refining without a planner is pointless.
    if (planningRefused) break;
    const report: PlanRound = {
      round,
      attempts: 0,
      rejected: [],
      fallback: false,
      spec: undefined,
      answer: undefined,
      status: 'not-run',
      quality: undefined,
      objective: undefined,
    };
    outcome.rounds.push(report);
    let chosen: ValidatedWorkflow | undefined;
    // Per attempt (what each journaled step cost) and per round (what the objective charges).
    let planningCost: UsageTotals = { ...ZERO_COST };
    let roundPlanning: UsageTotals = { ...ZERO_COST };
    for (let attempt = 0; attempt <= settings.maxRetries && !planningRefused; attempt++) {
      report.attempts++;
      const stepId = `${context.stepId}/r${round}/a${attempt}`;
      const messages = plannerMessages(
        {
          query: options.query,
          tiers: options.tiers,
          budget: headroom(context.budget),
          limits,
          operators: opNames,
          templates,
          lambda: settings.lambda,
          mu: settings.mu,
        },
        feedback,
      );
      let raw: unknown;
      let text: string;
      const spentBefore = { ...planSpend.total };
      const attemptCost = (): UsageTotals => subtractCost(planSpend.total, spentBefore);
      try {
        const call = await generate(childContext(context, `r${round}/a${attempt}`, { budget: planBudget }), {
          step: 'plan',
          model: options.plannerModel,
          messages,
          schema: { name: 'workflow', schema: plannerSchema() },
          maxOutputTokens: PLAN_OUTPUT_TOKENS,
          temperature: 0,
          purpose: CALL_PURPOSE.plan,
          operator: 'planner',
          axis: 'planning',
          node: 'plan',
        });
        outcome.planCalls = planSpend.total.calls;
        outcome.simulated ||= call.call.simulated;
        planningCost = attemptCost();
        roundPlanning = addCost(roundPlanning, planningCost);
        raw = call.call.object;
        text = call.text;
      } catch (error) {
        outcome.planCalls = planSpend.total.calls;
        planningCost = attemptCost();
        roundPlanning = addCost(roundPlanning, planningCost);
        if (error instanceof BudgetExhaustedError) {
          planningRefused = true;
          outcome.degraded.push('planning refused by the budget; a template runs instead');
          journalPlanStep(options, {
            stepId,
            round,
            attempt,
            status: 'refused',
            spec: null,
            issues: [],
            planningCost,
            simulated: outcome.simulated,
          });
          break;
        }
        // Structured output that did not parse or match the schema: the planner gets the message back.
        if (!ThicketError.isInstance(error) || error.code !== 'MALFORMED_OUTPUT') throw error;
        const issues: WorkflowIssue[] = [{ code: 'schema', path: '', message: error.message }];
        report.rejected.push({ attempt, issues });
        journalPlanStep(options, {
          stepId,
          round,
          attempt,
          status: 'rejected',
          spec: (error as { rawText?: string }).rawText ?? null,
          issues,
          planningCost,
          simulated: outcome.simulated,
        });
        feedback = { previous: (error as { rawText?: string }).rawText ?? '', message: rejectedMessage(issues, history) };
        continue;
      }
      const verdict = validateAndFit(raw, context, options, limits);
      if (verdict.workflow) {
        chosen = verdict.workflow;
        break;
      }
      report.rejected.push({ attempt, issues: verdict.issues });
      journalPlanStep(options, {
        stepId,
        round,
        attempt,
        status: 'rejected',
        spec: raw,
        issues: verdict.issues,
        planningCost,
        simulated: outcome.simulated,
      });
      feedback = { previous: text, message: rejectedMessage(verdict.issues, history) };
    }
    if (!chosen) {
      // Retries exhausted (or planning refused): a template from the library, scaled to what is left.
      chosen = fallbackWorkflow(context, options, templates, limits);
      report.fallback = true;
      if (!chosen) {
        outcome.degraded.push('no template fits the remaining budget');
        break;
      }
    }
    const stepId = `${context.stepId}/r${round}/run`;
    const result = await runWorkflow({
      spec: chosen.spec,
      query: options.query,
      fleet: context.fleet,
      budget: context.budget.child(`execute-r${round}`),
      operators: options.operators,
      model: options.defaultModel,
      tierModels: options.tiers,
      limits,
      budgetPolicy: 'degrade',
      stepPrefix: `${stepId}/`,
      trace: context.trace,
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    outcome.simulated ||= result.simulated;
    outcome.budgetExhausted ||= result.status === 'budget_exhausted';
    outcome.degraded.push(...result.degraded);
    const judged =
      checkable && result.answer !== undefined ? await qualityOf(childContext(context, `r${round}`), options, result.answer) : undefined;
    const execution: UsageTotals = { ...result.usage };
    const complexity = chosen.order.length;
    const objective =
      judged === undefined
        ? undefined
        : judged.quality - settings.lambda * costShare(addCost(roundPlanning, execution), options.budgetLimits) - settings.mu * complexity;
    Object.assign(report, { spec: chosen.spec, answer: result.answer, status: result.status, quality: judged?.quality, objective });
    journalPlanStep(options, {
      stepId,
      round,
      attempt: Math.max(0, report.attempts - 1),
      status: report.fallback ? 'fallback' : 'executed',
      spec: chosen.spec,
      issues: [],
      planningCost: report.fallback ? { ...ZERO_COST } : planningCost,
      execution,
      answer: result.answer,
      runStatus: result.status,
      quality: judged?.quality,
      checkedBy: judged?.by ?? 'none',
      objective,
      complexity,
      simulated: outcome.simulated,
    });
    const bestSoFar = outcome.best === undefined ? undefined : outcome.rounds[outcome.best]!;
    if (
      outcome.best === undefined ||
      (objective ?? -Infinity) > (bestSoFar!.objective ?? -Infinity) ||
      (bestSoFar!.answer === undefined && result.answer !== undefined)
    ) {
      outcome.best = round;
      outcome.answer = result.answer;
      outcome.spec = chosen.spec;
    }
    if (judged === undefined || judged.quality >= 1 || result.status === 'cancelled') break;
    history += `Round ${round}: ${chosen.spec.name ?? chosen.spec.nodes.map((node) => node.op).join('+')} → ${PLANNER_OUTCOME_INCORRECT}.\n`;
    const spent = addCost(roundPlanning, execution);
    feedback = {
      previous: JSON.stringify(chosen.spec),
      message:
        `Execution feedback (round ${round}): answer ${JSON.stringify(result.answer ?? null)}; ${PLANNER_OUTCOME_INCORRECT} (quality ` +
        `${judged.quality.toFixed(2)} by ${judged.by}); spent ${spent.totalTokens} tokens ($${spent.usd.toFixed(6)}), ` +
        `${(costShare(spent, options.budgetLimits) * 100).toFixed(0)}% of the budget. Write a stronger spec within what is left.\n${history}`,
    };
  }
  return outcome;
}

async function qualityOf(
  context: OpContext,
  options: PlanOptions,
  answer: string,
): Promise<{ quality: number; by: 'checker' | 'verifier' } | undefined> {
  const verdict = await verify(context, {
    question: options.query,
    candidate: answer,
    ...(options.checker ? { checker: options.checker } : { model: options.verifierModel! }),
    operator: 'planner',
    axis: 'verify',
  });
  return verdict.judged ? { quality: verdict.score, by: options.checker ? 'checker' : 'verifier' } : undefined;
}

function rejectedMessage(issues: readonly WorkflowIssue[], history: string): string {
  const problems = issues.map((issue) => `- ${issue.path || '(root)'}: ${issue.message} [${issue.code}]`).join('\n');
  return `${PLANNER_REJECTED} the spec cannot run.\n${problems}\nFix every problem and reply with the corrected spec only.${history ? `\n${history}` : ''}`;
}

/** The largest share of any finite budget dimension that `spent` uses (tokens / 10,000 when nothing is finite). */
export function costShare(spent: UsageTotals, limits: BudgetLimits): number {
  let share = -1;
  for (const dimension of DIMENSIONS) {
    const limit = limits[dimension];
    if (limit !== undefined && Number.isFinite(limit) && limit > 0) share = Math.max(share, spent[dimension] / limit);
  }
  return share < 0 ? spent.totalTokens / 10_000 : share;
}

function headroom(budget: Budget): BudgetLimits {
  const room = budget.remaining();
  const limits: BudgetLimits = {};
  for (const dimension of DIMENSIONS) if (Number.isFinite(room[dimension])) limits[dimension] = room[dimension];
  return limits;
}

function subtractCost(a: UsageTotals, b: UsageTotals): UsageTotals {
  return addCost(a, {
    inputTokens: -b.inputTokens,
    outputTokens: -b.outputTokens,
    totalTokens: -b.totalTokens,
    usd: -b.usd,
    calls: -b.calls,
  });
}

function addCost(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    usd: addUsd(a.usd, b.usd),
    calls: a.calls + b.calls,
  };
}
