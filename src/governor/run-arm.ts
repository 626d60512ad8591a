/**
 * Step 3 of a governed solve: running the arm the allocation chose, under what the probe left of the budget —
 * a fixed strategy, the probe's majority (stop), a wider vote, a cascade that escalates through the tiers
 * (the probe is its first stage), a retrieval loop, a decomposition, or a generated workflow. Each arm fills
 * in its part of the decision (what ran and why, escalations, reused probe samples, the generated spec).
 */
import type { BudgetLimits } from '../budget/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext } from '../ops/index.ts';
import { budgetedStrategySpec, runWorkflow, type OperatorRegistry, type Tier } from '../workflow/index.ts';
import { SEARCH_STEPS } from './allocation.ts';
import { extendVote, searchArm, threadArm } from './arms.ts';
import { TIERS, type BindConstraints, type CapabilityBinder } from './binder.ts';
import type { GovernorDecision } from './decision-record.ts';
import { budgetTokensOf, type FrontierSelection } from './frontier.ts';
import { cascadeLadder } from './frontier-decision.ts';
import type { GovernedSolveOptions } from './governed-options.ts';
import { planAndExecute } from './planner.ts';
import type { AllocationCell, DifficultyBin, GovernorPolicy } from './policy.ts';
import type { ProbeResult } from './probe.ts';
import { routeCascade, type RouterStage } from './router.ts';

/** Everything an arm runs with: the allocation's cell, the probe it builds on, and the solve's bindings. */
export interface ArmRun {
  options: GovernedSolveOptions;
  /** The arm's context: its child of the solve's budget, the fleet and the trace. */
  context: OpContext;
  cell: AllocationCell;
  probe: ProbeResult | undefined;
  bin: DifficultyBin;
  policy: GovernorPolicy;
  binder: CapabilityBinder;
  constraints: BindConstraints;
  tiers: Partial<Record<Tier, string>>;
  start: string;
  startTier: Tier;
  messages: ChatMessage[];
  maxOutputTokens: number;
  operators: OperatorRegistry;
  plannerModel: string | undefined;
  limitsAtStart: BudgetLimits;
  usdPerToken: number;
  /** The frontier table's selection and the cell it chose, when it chose one (a fixed strategy runs unprobed). */
  selection: FrontierSelection | undefined;
  frontierCell: AllocationCell | undefined;
  family: string;
  /** The decision the arm fills in. */
  decision: GovernorDecision;
  /** The solve's degradations, which the arm's own are added to. */
  degraded: string[];
}

/** The arm's answer (the probe's when the arm adds none), and whether its calls were simulated or hit the budget. */
export interface ArmOutcome {
  answer: string | undefined;
  simulated: boolean;
  budgetExhausted: boolean;
}

/** Runs the allocated arm; throws what the arm throws (the caller keeps the probe's answer then). */
export async function runArm(run: ArmRun): Promise<ArmOutcome> {
  const { options, context, cell, probe, bin, policy, binder, constraints, tiers, start, startTier, messages } = run;
  const { maxOutputTokens, operators, plannerModel, limitsAtStart, usdPerToken, selection, frontierCell, family } = run;
  const { decision, degraded } = run;
  const { fleet, trace } = context;
  let answer = probe?.answer;
  let simulated = false;
  let budgetExhausted = false;
  if (cell.arm === 'strategy') {
    const strategy = cell.strategy!;
    const ran = await runWorkflow({
      spec: budgetedStrategySpec(strategy, {
        model: start,
        budgetTokens: selection?.budgetTokens ?? budgetTokensOf(limitsAtStart, usdPerToken),
        parameter: cell.parameter,
        maxOutputTokens,
        cascadeModels: options.cascadeModels ?? cascadeLadder(tiers, startTier, start),
      }),
      query: options.query,
      fleet,
      budget: context.budget,
      operators,
      model: start,
      budgetPolicy: 'degrade',
      stepPrefix: 'gov/strategy/',
      trace,
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    answer = ran.answer;
    decision.strategy =
      `strategy: ${strategy}${cell.parameter !== undefined ? `@${cell.parameter}` : ''} on ${start} ` +
      (frontierCell ? `(no probe: the frontier table's choice for ${family} at this budget)` : '(no probe: the budget cannot pay for one)');
    ({ simulated, budgetExhausted } = merge(
      { simulated: ran.simulated, budgetExhausted: ran.status === 'budget_exhausted', degraded: ran.degraded },
      simulated,
      budgetExhausted,
      degraded,
    ));
  } else if (cell.arm === 'stop') {
    decision.strategy = `stop: the probe's majority (${probe?.candidates.length ?? 0} samples of ${start})`;
  } else if (cell.arm === 'vote') {
    const model = modelFor(binder, cell.tier, constraints, start);
    const vote = await extendVote(context, {
      probe,
      model,
      samples: cell.samples ?? 9,
      ...(cell.lead !== undefined ? { lead: cell.lead } : {}),
      messages,
      maxOutputTokens,
    });
    answer = vote.answer ?? answer;
    decision.reusedProbeSamples = vote.reusedProbeSamples;
    decision.strategy =
      `vote: ${vote.samples} samples of ${model} (${vote.reusedProbeSamples} from the probe` +
      `${vote.stoppedEarly ? ', stopped once decided' : ''})`;
    ({ simulated, budgetExhausted } = merge(vote, simulated, budgetExhausted, degraded));
  } else if (cell.arm === 'cascade') {
    const stages = routerStages(policy, binder, constraints, startTier, start, cell.tier);
    const routed = await routeCascade(context, {
      messages,
      question: options.query,
      stages,
      ...(probe ? { probe } : {}),
      ...(cell.escalate ? { escalate: true } : {}),
      maxOutputTokens,
      ...(options.verifierModel !== undefined ? { verifierModel: options.verifierModel } : {}),
    });
    answer = routed.answer ?? answer;
    decision.escalations = routed.escalations;
    decision.reusedProbeSamples = routed.reusedProbeSamples;
    decision.strategy =
      `cascade: ${stages.map((stage) => stage.model).join(' → ')}, answered by ` +
      `${routed.answeredBy === undefined ? 'none' : stages[routed.answeredBy]!.model}`;
    ({ simulated, budgetExhausted } = merge(routed, simulated, budgetExhausted, degraded));
  } else if (cell.arm === 'search') {
    const model = modelFor(binder, cell.tier, constraints, start);
    const steps = cell.steps ?? SEARCH_STEPS;
    const searched = await searchArm(context, {
      query: options.query,
      retriever: options.retriever!,
      model,
      steps,
      k: cell.k ?? 3,
      maxOutputTokens,
      probe,
    });
    answer = searched.answer;
    decision.strategy =
      `search: up to ${steps} retrieval steps on ${model} (${searched.steps} used)` +
      `${searched.fromProbe ? " (no answer; the probe's stands)" : ''}`;
    ({ simulated, budgetExhausted } = merge(searched, simulated, budgetExhausted, degraded));
  } else if (cell.arm === 'thread') {
    const model = modelFor(binder, cell.tier, constraints, start);
    const threaded = await threadArm(context, { query: options.query, model, steps: cell.steps ?? 16, maxOutputTokens, probe });
    answer = threaded.answer;
    decision.strategy = `thread: up to ${cell.steps ?? 16} steps on ${model}${threaded.fromProbe ? " (no answer; the probe's stands)" : ''}`;
    ({ simulated, budgetExhausted } = merge(threaded, simulated, budgetExhausted, degraded));
  } else {
    const planned = await planAndExecute(context, {
      query: options.query,
      plannerModel: plannerModel!,
      tiers,
      defaultModel: start,
      operators,
      bin,
      maxOutputTokens,
      settings: policy.planner,
      planShare: policy.split.plan,
      budgetLimits: limitsAtStart,
      ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
      ...(options.checker ? { checker: options.checker } : {}),
      ...(options.verifierModel !== undefined ? { verifierModel: options.verifierModel } : {}),
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.examples !== undefined ? { examples: options.examples } : {}),
    });
    answer = planned.answer ?? answer;
    if (planned.spec) decision.spec = planned.spec;
    decision.planner = { model: plannerModel!, calls: planned.planCalls, rounds: planned.rounds };
    const fallback = planned.rounds.some((round) => round.fallback);
    decision.strategy =
      `plan: ${planned.spec?.name ?? 'generated workflow'}${fallback ? ' (template fallback)' : ''}, ${planned.rounds.length} ` +
      `round(s), ${planned.planCalls} plan call(s) on ${plannerModel}`;
    ({ simulated, budgetExhausted } = merge(planned, simulated, budgetExhausted, degraded));
  }
  return { answer, simulated, budgetExhausted };
}

/**
 * The policy's cascade stages that the binder can serve, from the starting tier upward; with `escalateTo`, the
 * first stage (the probe's tier) and then only the stages at that tier or above (skip the tiers between).
 */
export function routerStages(
  policy: GovernorPolicy,
  binder: CapabilityBinder,
  constraints: BindConstraints,
  startTier: Tier,
  start: string,
  escalateTo?: Tier,
): RouterStage[] {
  const stages: RouterStage[] = [];
  for (const stage of policy.cascade.stages) {
    if (TIERS.indexOf(stage.tier) < TIERS.indexOf(startTier)) continue;
    if (escalateTo !== undefined && stage.tier !== startTier && TIERS.indexOf(stage.tier) < TIERS.indexOf(escalateTo)) continue;
    const model = stage.tier === startTier ? start : binder.bind('answer', { ...constraints, tier: stage.tier })?.model;
    if (model !== undefined && !stages.some((existing) => existing.model === model))
      stages.push({ model, tier: stage.tier, samples: stage.samples, signal: stage.signal, threshold: stage.threshold });
  }
  return stages.length > 0 ? stages : [{ model: start, tier: startTier, samples: policy.probe.samples, signal: 'agreement', threshold: 0 }];
}

function modelFor(binder: CapabilityBinder, tier: Tier | undefined, constraints: BindConstraints, start: string): string {
  return tier === undefined ? start : (binder.bind('answer', { ...constraints, tier })?.model ?? start);
}

function merge(
  part: { simulated: boolean; budgetExhausted: boolean; degraded: string[] },
  simulated: boolean,
  budgetExhausted: boolean,
  degraded: string[],
): { simulated: boolean; budgetExhausted: boolean } {
  degraded.push(...part.degraded);
  return { simulated: simulated || part.simulated, budgetExhausted: budgetExhausted || part.budgetExhausted };
}
