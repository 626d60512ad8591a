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
 *
 * What it is asked is in governed-options.ts, step 3 (running the arm) in run-arm.ts, and what it leaves
 * behind (the decision, the result, their journal records) in decision-record.ts; the steps' order is here.
 */
import { countMessageTokens, toThicketError, type RunStatus, type ThicketError } from '../core/index.ts';
import type { Budget, BudgetLimits } from '../budget/index.ts';
import type { ChatMessage } from '../models/index.ts';
import { Trace, childContext, type OpContext } from '../ops/index.ts';
import { DEFAULT_SYSTEM_PROMPT, defaultOperators } from '../workflow/index.ts';
import { allocate, armKey } from './allocation.ts';
import { boundTiers, fleetBinder } from './binder.ts';
import { type AllocationCell, type DifficultyBin } from './policy.ts';
import { builtinPolicy } from './builtin-policy.ts';
import { budgetTokensOf, inferFamily, selectFrontier } from './frontier.ts';
import { MIN_PROBE_OUTPUT, affordableProbeOutput, explainFrontier, type FrontierExplanation } from './frontier-decision.ts';
import { probeDifficulty, type ProbeResult } from './probe.ts';
import { trackSpend } from './spend.ts';
import type { GovernedSolveOptions } from './governed-options.ts';
import { recordGovernedSolve, type GovernedSolveResult, type GovernorDecision } from './decision-record.ts';
import { runArm } from './run-arm.ts';

// Re-exported so `./solve.ts` stays the import path of the governed solve's whole surface.
export type { GovernedSolveOptions } from './governed-options.ts';
export { GOVERNOR_STEP_KIND, governedTrajectory, type GovernedSolveResult, type GovernorDecision } from './decision-record.ts';
export { routerStages } from './run-arm.ts';

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
      const ran = await runArm({
        options,
        context,
        cell,
        probe,
        bin,
        policy,
        binder,
        constraints,
        tiers,
        start,
        startTier,
        messages,
        maxOutputTokens,
        operators,
        plannerModel,
        limitsAtStart,
        usdPerToken,
        selection,
        frontierCell,
        family,
        decision,
        degraded,
      });
      answer = ran.answer;
      simulated ||= ran.simulated;
      budgetExhausted ||= ran.budgetExhausted;
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
  await recordGovernedSolve(options, result, { policy, limitsAtStart, failure });
  return result;
}

function finiteLimits(budget: Budget): BudgetLimits {
  const room = budget.remaining();
  const limits: BudgetLimits = {};
  for (const key of ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const)
    if (Number.isFinite(room[key])) limits[key] = room[key];
  return limits;
}
