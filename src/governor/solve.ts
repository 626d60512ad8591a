/**
 * `governedSolve`: what `thicket solve --strategy auto` runs. One query, one budget, four decisions:
 *
 *   1. probe    a few samples of the starting tier (axis `probe`) → difficulty bin (probe.ts);
 *   2. allocate (bin × budget level) → arm, from the policy (learned from calibration runs, or the default);
 *   3. execute  stop (the probe's majority) | vote (widen the probe's vote) | cascade (escalate through the
 *               tiers; the probe is the first stage) | thread (decompose) | plan (a generated workflow) |
 *               search (the retrieval loop; only when the query comes with a corpus);
 *   4. explain  the difficulty estimate, the arm and why, escalations, the generated spec, and spend by axis.
 *
 * The budget is sacred: the probe, the planner's calls and the execution all spend through child budgets of
 * the one budget passed in (the probe may take at most `split.probe` of it, planning `split.plan` of what is
 * left), so nothing here can spend past it — the ledger refuses first.
 *
 * Models come from the capability binder: by default the fleet's tiers from the starting model upward
 * (`sim:small` → sim:medium → sim:large); `registryBinder` binds through the capability registry under the
 * query's policy, and the decision then names the cards chosen (`bindings`). The planner is bound with need
 * `plan` unless one is given.
 */
import { ThicketError, addUsd, countMessageTokens, toThicketError, type RunStatus, type UsageTotals } from '../core/index.ts';
import type { Budget, BudgetLimits } from '../budget/index.ts';
import type { ChatMessage, Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { Trace, childContext, type Checker, type OpContext, type Retriever, type TraceJson } from '../ops/index.ts';
import {
  DEFAULT_SYSTEM_PROMPT,
  budgetedStrategySpec,
  defaultOperators,
  runWorkflow,
  type OperatorRegistry,
  type Tier,
  type WorkflowSpec,
} from '../workflow/index.ts';
import { SEARCH_STEPS, allocate, armKey } from './allocation.ts';
import { extendVote, searchArm, threadArm } from './arms.ts';
import { TIERS, boundTiers, fleetBinder, type BindConstraints, type BoundCapability, type CapabilityBinder } from './binder.ts';
import { costShare, planAndExecute, type PlanRound } from './planner.ts';
import { type AllocationCell, type Arm, type DifficultyBin, type GovernorPolicy } from './policy.ts';
import { builtinPolicy } from './builtin-policy.ts';
import { budgetTokensOf, inferFamily, selectFrontier, type Objective } from './frontier.ts';
import { MIN_PROBE_OUTPUT, affordableProbeOutput, cascadeLadder, explainFrontier, type FrontierExplanation } from './frontier-decision.ts';
import { probeDifficulty, type ProbeResult } from './probe.ts';
import { routeCascade, type Escalation, type RouterStage } from './router.ts';
import { trackSpend } from './spend.ts';
import { ZERO_COST, recordGovernedStep, type GovernedStep } from './trajectories.ts';

export interface GovernedSolveOptions {
  query: string;
  fleet: Fleet;
  /** The one budget for probe + planning + execution (e.g. `ledger.root`). */
  budget: Budget;
  /** Starting model (its tier is the cheapest used). Default `sim:small`. */
  model?: string;
  binder?: CapabilityBinder;
  policy?: GovernorPolicy;
  /** Where the policy came from, for the explanation (e.g. the --policy file). */
  policySource?: string;
  /** Planner model (`--planner`); default: the binder's `plan` capability. */
  planner?: string;
  /** `auto` (the policy decides), `always` (plan every non-easy query), `never`. */
  planning?: 'auto' | 'always' | 'never';
  /** Policy labels of the query, passed to the binder. */
  labels?: readonly string[];
  /**
   * The query's corpus (solve --corpus, the lab's multi-hop suite): the strategy space then includes `search`
   * and the allocation uses the policy's corpus table (or DEFAULT_CORPUS_ALLOCATION).
   */
  retriever?: Retriever;
  /** Makes the query checkable: the planner refines on its verdicts. */
  checker?: Checker;
  /** Judge for the planner's refinement when there is no checker. */
  verifierModel?: string;
  operators?: OperatorRegistry;
  maxOutputTokens?: number;
  taskId?: string;
  journal?: { journal: Journal; runId: string };
  signal?: AbortSignal;
  trace?: Trace;
  /** Run this arm whatever the difficulty (calibration). */
  force?: AllocationCell;
  /** Example folder for the planner's template library (default examples/); false for none. */
  examples?: string | false;
  /**
   * The query's task family (`arithmetic`, `logic`, `multihop`, …): picks the policy's frontier table. Default:
   * inferred from the query (`inferFamily`); the decision says which.
   */
  family?: string;
  /** What to spend least of once accuracy is had: tokens (default), dollars or seconds (`--optimize`). */
  optimize?: Objective;
  /** Models cheapest-first for a fixed `cascade` strategy chosen by the frontier (default: the bound tiers upward). */
  cascadeModels?: string[];
}

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
const DEFAULT_OUTPUT = 384;

export async function governedSolve(options: GovernedSolveOptions): Promise<GovernedSolveResult> {
  const builtin = options.policy ? undefined : builtinPolicy();
  const policy = options.policy ?? builtin!.policy;
  const start = options.model ?? 'sim:small';
  const fleet = options.fleet;
  const binder = options.binder ?? fleetBinder(fleet, start);
  const limitsAtStart = finiteLimits(options.budget);
  // Models are bound under the query's policy labels and its budget (a model whose smallest call the budget
  // cannot pay is not offered).
  const constraints = { labels: options.labels ?? [], budget: limitsAtStart };
  const tiers = boundTiers(binder, constraints);
  const startTier = fleet.model(start).profile.tier;
  tiers[startTier] ??= start;
  const maxOutputTokens = options.maxOutputTokens ?? DEFAULT_OUTPUT;
  const operators = options.operators ?? defaultOperators();
  const trace = options.trace ?? new Trace(fleet.clock);
  const spend = trackSpend(options.budget);
  const messages: ChatMessage[] = [
    { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
    { role: 'user', content: options.query },
  ];
  const base: OpContext = {
    fleet,
    budget: options.budget,
    trace,
    stepId: 'gov',
    model: start,
    ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.journal ? { recorder: options.journal.journal.recorder(options.journal.runId) } : {}),
  };
  const degraded: string[] = [];
  let simulated = false;
  let budgetExhausted = false;
  let failure: ThicketError | undefined;

  // The arm each bin leads to under this budget (the allocation, then the planning overrides).
  const usdPerToken = fleet.model(start).profile.priceOutputPerMillion / 1e6;
  const plannerModel = options.planner ?? binder.bind('plan', constraints)?.model;
  const cellFor = (bin: DifficultyBin): AllocationCell => {
    let cell = allocate(policy, bin, limitsAtStart, usdPerToken, { corpus: options.retriever !== undefined }).cell;
    if (options.planning === 'always' && bin !== 'easy') cell = { arm: 'plan' };
    if (cell.arm === 'plan' && (options.planning === 'never' || plannerModel === undefined)) cell = { arm: 'cascade' };
    return cell;
  };
  // 0. The frontier table: the family's choice at this budget, made before any probe (frontier.ts).
  const given = options.family !== undefined;
  const inferred = given ? undefined : inferFamily(options.query, { corpus: options.retriever !== undefined });
  const family = options.family ?? inferred!.family;
  const objective = options.optimize ?? 'tokens';
  const selection = options.force
    ? undefined
    : selectFrontier(policy.frontier, { family, model: start, tier: startTier, budget: limitsAtStart, usdPerToken, objective });
  const frontierCell: AllocationCell | undefined = selection?.entry.cell;
  const frontier: FrontierExplanation | undefined =
    selection && explainFrontier(selection, { family, given, inferred, tolerance: policy.frontier!.tolerance });
  // The probe stops as soon as its remaining samples could not change the arm (never when the arm is forced:
  // calibration records the full probe's bin).
  const decided =
    options.force || frontierCell
      ? undefined
      : (bins: ReadonlySet<DifficultyBin>): boolean => new Set([...bins].map((bin) => armKey(cellFor(bin)))).size === 1;

  // 1. Probe (its share is a cap, not a reservation: what it leaves flows to the arm).
  const probeBudget = options.budget.child('probe', { share: policy.split.probe });
  let probe: ProbeResult | undefined;
  // What one probe call may write so that all its samples fit the probe's share (each call reserves its prompt
  // plus its output cap before it is sent). Below MIN_PROBE_OUTPUT a probe cannot repay itself: the budget
  // goes to one answer instead (the `single` strategy, sized to the budget).
  const probeOutput = affordableProbeOutput(
    budgetTokensOf(limitsAtStart, usdPerToken) * policy.split.probe,
    policy.probe.samples,
    countMessageTokens(messages),
    maxOutputTokens,
  );
  const tooSmallToProbe = !options.force && !frontierCell && probeOutput < MIN_PROBE_OUTPUT;
  if (tooSmallToProbe) degraded.push(`budget too small for a ${policy.probe.samples}-sample probe: one answer instead`);
  // A fixed strategy chosen by the frontier runs without a probe: its budget goes to the strategy.
  const unprobed = frontierCell?.arm === 'strategy' || tooSmallToProbe;
  if (!unprobed)
    try {
      probe = await probeDifficulty(childContext(base, 'probe', { budget: probeBudget }), {
        model: start,
        messages,
        samples: policy.probe.samples,
        ...(policy.probe.earlyExit ? { earlyExit: policy.probe.earlyExit } : {}),
        ...(decided ? { decided } : {}),
        // A forced arm, or one the frontier table chose, probes exactly as it was calibrated (uncapped calls; the
        // ledger still refuses what the budget cannot hold): its training figures were measured that way.
        maxOutputTokens: options.force || frontierCell ? maxOutputTokens : probeOutput,
        difficulty: policy.difficulty,
      });
      simulated ||= probe.simulated;
      budgetExhausted ||= probe.budgetExhausted;
      degraded.push(...probe.degraded.map((reason) => `probe: ${reason}`));
    } catch (error) {
      failure = toThicketError(error);
    }
  const bin: DifficultyBin = probe?.bin ?? 'hard';

  // 2. Allocate.
  const allocated = allocate(policy, bin, limitsAtStart, usdPerToken, { corpus: options.retriever !== undefined });
  let cell = options.force ?? frontierCell ?? (tooSmallToProbe ? { arm: 'strategy' as const, strategy: 'single' as const } : cellFor(bin));
  if (cell.arm === 'plan' && (options.planning === 'never' || plannerModel === undefined)) cell = { arm: 'cascade' };
  if (cell.arm === 'search' && options.retriever === undefined) {
    // A hand-written policy may name search without a corpus to search: escalate instead.
    degraded.push('search allocated but no corpus was given; escalating instead');
    cell = { arm: 'cascade' };
  }

  // 3. Execute the arm under what is left of the budget.
  const context = childContext(base, cell.arm, { budget: options.budget.child('arm') });
  const decision: GovernorDecision = {
    policy: options.policySource ?? (options.policy ? 'custom' : builtin!.source),
    start,
    tiers,
    difficulty: {
      bin: unprobed ? 'unprobed' : bin,
      score: probe?.score ?? (unprobed ? 0 : 1),
      agreement: probe?.agreement ?? 0,
      confidence: probe?.confidence,
      samples: probe?.candidates.length ?? 0,
      answer: probe?.answer,
      model: start,
      ...(probe?.stoppedEarly ? { stoppedEarly: probe.stoppedEarly } : {}),
    },
    budgetLevel: allocated.level,
    arm: cell.arm,
    cell,
    forced: options.force !== undefined,
    strategy: '',
    escalations: [],
    reusedProbeSamples: 0,
    split: policy.split,
    ...(frontier ? { frontier } : {}),
  };
  let answer = probe?.answer;
  if (!failure && !options.signal?.aborted) {
    try {
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
          (frontierCell
            ? `(no probe: the frontier table's choice for ${family} at this budget)`
            : '(no probe: the budget cannot pay for one)');
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
    } catch (error) {
      failure = toThicketError(error);
      if (answer !== undefined && failure.category !== 'cancelled')
        degraded.push(`${cell.arm} failed (${failure.code}); the probe's answer stands`);
    }
  }
  spend.stop();
  const bindings = binder.chosen?.();
  if (bindings && bindings.length > 0) decision.bindings = bindings;
  const cancelled = options.signal?.aborted === true || failure?.category === 'cancelled';
  const status: RunStatus = cancelled
    ? 'cancelled'
    : budgetExhausted || failure?.category === 'budget'
      ? 'budget_exhausted'
      : answer === undefined
        ? 'error'
        : 'ok';
  const result: GovernedSolveResult = {
    answer,
    status,
    simulated,
    decision,
    usage: spend.total,
    spendByAxis: spend.byAxis,
    spendByModel: spend.byModel,
    degraded,
    trace: trace.toJSON(),
    ...(failure && (answer === undefined || cancelled) ? { error: failure.toJSON() } : {}),
  };
  if (options.journal) {
    options.journal.journal.upsertStep(options.journal.runId, {
      stepId: 'gov/decision',
      kind: GOVERNOR_STEP_KIND,
      status,
      input: { query: options.query, start, policy: decision.policy, budget: limitsAtStart },
      output: { answer: answer ?? null, decision, spendByAxis: spend.byAxis },
      usage: spend.total,
    });
    // Every governed solve is a trajectory (whatever the arm), not only the planner's workflows.
    recordGovernedStep(
      options.journal.journal,
      options.journal.runId,
      await governedTrajectory(options, result, { policy, limitsAtStart, failure }),
    );
  }
  return result;
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

function finiteLimits(budget: Budget): BudgetLimits {
  const room = budget.remaining();
  const limits: BudgetLimits = {};
  for (const key of ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const)
    if (Number.isFinite(room[key])) limits[key] = room[key];
  return limits;
}
