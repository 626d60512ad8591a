/**
 * The assembly of one solve — the only place it happens. From a query and typed options: everything that can
 * be rejected is checked first (a rejected request writes nothing), then the fleet, ledger, journal run,
 * governor or executor are put together, the run goes, and one `SolveResult` comes back. The CLI, the
 * library (`thicket.solve`/`stream`) and later surfaces all come through here.
 */
import { randomBytes } from 'node:crypto';
import {
  ANSWER_EXTRACTORS,
  CancelledError,
  InvalidInputError,
  NoModelError,
  SimUnknownTaskError,
  isSimulatedStandIn,
  readUserFile,
  structureProblem,
  systemClock,
  addUsd,
  roundUsd,
  toThicketError,
  type InputIssue,
  type RunStatus,
  type ThicketError,
  type UsageTotals,
} from '../core/index.ts';
import { Ledger, SharedGate, type Budget, type BudgetLimits, type SharedLedger, type SharedScope } from '../budget/index.ts';
import { FleetResolver, arithmeticTask, findPulledDefaultModel, type FleetConfig } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { Embedder } from '../registry/index.ts';
import { Trace, openCorpus } from '../ops/index.ts';
import {
  FAMILIES,
  OBJECTIVES,
  governedSolve,
  readPolicy,
  type GovernedSolveResult,
  type GovernorPolicy,
  type Objective,
} from '../governor/index.ts';
import {
  CAPABILITY_LABEL_PATTERN,
  STRATEGIES,
  defaultMaxOutputTokens,
  defaultOperators,
  runWorkflow,
  strategySpec,
  validateWorkflow,
  type BudgetPolicy,
  type Strategy,
  type WorkflowResult,
} from '../workflow/index.ts';
import { prepareCapabilities } from './capabilities.ts';
import { corpusSimTask } from './corpus-tasks.ts';
import { openFleet } from './fleet.ts';
import { assertModelsReady, checkDollarBudget } from './readiness.ts';
import { cascadeLadder, governorBinding } from './governor-binding.ts';
import type { ThicketEvent } from './events.ts';
import { chargeInFlightAtCrash, inFlightNote, overLimit, overrunNote } from './spend-integrity.ts';
import {
  TRACE_STEP_ID,
  budgetMessage,
  extractionSummary,
  mapTotals,
  nodeSummaries,
  toTotals,
  voteSummary,
  type SolveResult,
} from './result.ts';

export type SolveStrategy = 'auto' | Strategy;

/** Policy for the models a run may bind (strategy `auto`, and the capability nodes of a workflow spec). */
export interface SolvePolicy {
  /** Labels every bound model/capability must carry (e.g. `residency:eu`). */
  require?: string[];
  /** Labels none may carry. */
  forbid?: string[];
  /** Allowed providers. */
  providers?: string[];
  /** Most expected dollars per call of a bound capability. */
  maxCostPerCall?: number;
}

export interface SolveOptions {
  /** `auto` (default: the governor chooses), or a named strategy. Exclusive with `workflow`. */
  strategy?: SolveStrategy;
  /** A workflow spec (the JSON object of `thicket workflow schema`) instead of a strategy. */
  workflow?: unknown;
  /** Model reference (`sim:small`, a config alias, `openai:<model>`, `gguf:<path>`). Default: the config's, else the pulled embedded model. */
  model?: string;
  /** Width for `vote` (default: scaled to the token budget, 3–15; 5 without one). Given alone, `samples > 1` means `vote`. */
  samples?: number;
  rounds?: number;
  agents?: number;
  steps?: number;
  /** Output cap per call; default: what the strategy must produce. */
  maxOutputTokens?: number;
  /** Hard limits for the whole run: tokens, dollars, seconds, calls. Nothing is sent past any of them. */
  budget?: BudgetLimits;
  /**
   * Run under a dollar limit even when a model it calls has no known price (its calls count as $0, so the
   * limit does not hold on them; the result carries a warning). Default: such a run is refused (UNPRICED_MODEL).
   */
  allowUnpriced?: boolean;
  /** When the plan's estimate exceeds the budget: `degrade` (default), `scale` or `reject`. */
  budgetPolicy?: BudgetPolicy;
  /** Which models may be bound (strategy `auto`, capability nodes). */
  policy?: SolvePolicy;
  /** The governor's fitted policy (`thicket governor fit`): a file path or the object. */
  governorPolicy?: string | GovernorPolicy;
  /** Planner model for per-query workflows (strategy `auto`). */
  planner?: string;
  /** `auto` (the policy decides), `always`, `never`. */
  planning?: 'auto' | 'always' | 'never';
  /**
   * Strategy `auto`: what to spend least of once accuracy is had — `tokens` (default), `usd` (dollars: a
   * large model's tokens cost many small ones') or `seconds` — picks the policy's frontier table for it.
   */
  optimize?: Objective;
  /** Strategy `auto`: the query's task family (`arithmetic`, `logic`, `multihop`, …); default: inferred from the query. */
  family?: string;
  /** A corpus (folder of .txt/.md files or a .jsonl file) for the search strategy, or for the governor to search. */
  corpus?: string;
  /** Re-using a run id resumes that run: finished calls are replayed from the journal, not paid again. */
  runId?: string;
  /**
   * An outer budget the run also draws from, shared with other runs (e.g. a gateway key's budget for the
   * period): every reservation is checked and booked on it too, in the same synchronous step, so concurrent
   * runs together never exceed it. Replays and crash bookings of a resumed run are not charged to it again.
   */
  sharedBudget?: Budget;
  /**
   * Budgets held outside the process — e.g. on Redis (`connectRedisSharedLedger`), shared by many workers or
   * gateway processes — that every call of the run also reserves on (after the run's own budgets agreed),
   * settled idempotently per call, so a resumed run's replays are not counted twice.
   */
  sharedLedger?: { ledger: SharedLedger; scopes: readonly SharedScope[]; leaseMs?: number; prepare?: () => Promise<void> };
  /** Who the run is billed to (a gateway key id), journaled with it; a run is resumed only by its owner. */
  owner?: string;
  /** Seeds the simulated fleet and embedded sampling (default: the instance's seed). */
  seed?: number;
  /** Cancels the run; unspent reservations are released and the result says `cancelled`. */
  signal?: AbortSignal;
  onEvent?: (event: ThicketEvent) => void;
}

/** What a solve needs from the instance that runs it. */
export interface SolveEnvironment {
  config: FleetConfig;
  /** Opened on first use, so a rejected request never creates a journal. */
  journal(): Journal;
  journalPath: string;
  registryPath: string | undefined;
  /** The registry's embedder, from the config's `embedder` (resolved on first use); undefined: the hashing default. */
  registryEmbedder(): Promise<Embedder | undefined>;
  seed: number;
  /** `virtual` (default): simulated latency costs no time; `real`: simulated runs wait as real ones do. */
  simulatedClock: 'virtual' | 'real';
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The old CLI default, kept for the governor (its allocation tables were calibrated with it). */
const GOVERNOR_OUTPUT_CAP = 512;
const DEFAULT_OUTPUT_CAP = 512;

/** The width of a vote nobody sized: ~450 tokens a sample under a token budget, 3–15; 5 without one. */
export function defaultVoteSamples(budget: BudgetLimits | undefined): number {
  const tokens = budget?.totalTokens;
  if (tokens === undefined) return 5;
  return Math.min(15, Math.max(3, Math.floor(tokens / 450)));
}

function checkOptions(query: string, options: SolveOptions): InputIssue[] {
  const issues: InputIssue[] = [];
  const add = (path: string, message: string): void => void issues.push({ path, message });
  if (typeof query !== 'string' || query.trim() === '') add('query', 'must not be empty');
  const whole = (path: string, value: number | undefined, min: number, max: number): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) add(path, `must be a whole number from ${min} to ${max}, got ${value}`);
  };
  whole('samples', options.samples, 1, 1000);
  whole('rounds', options.rounds, 1, 100);
  whole('agents', options.agents, 2, 1000);
  whole('steps', options.steps, 1, 1000);
  whole('maxOutputTokens', options.maxOutputTokens, 1, 1_000_000);
  whole('seed', options.seed, 0, 2 ** 31 - 1);
  if (options.allowUnpriced !== undefined && typeof options.allowUnpriced !== 'boolean') add('allowUnpriced', 'must be true or false');
  for (const [key, value] of Object.entries(options.budget ?? {})) {
    if (!['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'seconds', 'calls'].includes(key)) add(`budget.${key}`, 'unknown limit');
    else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      add(`budget.${key}`, `must be a number greater than 0, got ${value}`);
    else if (value > Number.MAX_SAFE_INTEGER) add(`budget.${key}`, `must be at most ${Number.MAX_SAFE_INTEGER}, got ${value}`);
    else if (['totalTokens', 'inputTokens', 'outputTokens', 'calls'].includes(key) && !Number.isInteger(value))
      add(`budget.${key}`, `must be a whole number, got ${value}`);
  }
  if (options.runId !== undefined && !RUN_ID_PATTERN.test(options.runId)) add('runId', 'use 1–128 letters, digits, ".", "_" or "-"');
  const strategy = options.strategy;
  if (strategy !== undefined && strategy !== 'auto' && !(STRATEGIES as readonly string[]).includes(strategy))
    add('strategy', `must be auto or one of ${STRATEGIES.join(', ')}; got "${strategy}"`);
  if (strategy !== undefined && options.workflow !== undefined) add('workflow', 'give either a strategy or a workflow, not both');
  if (options.planning !== undefined && !['auto', 'always', 'never'].includes(options.planning))
    add('planning', `must be auto, always or never; got "${options.planning}"`);
  if (options.optimize !== undefined && !(OBJECTIVES as readonly string[]).includes(options.optimize))
    add('optimize', `must be ${OBJECTIVES.join(', ')}; got "${options.optimize}"`);
  if (options.family !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(options.family))
    add('family', `must be a lower-case name such as ${FAMILIES.join(', ')}; got "${options.family}"`);
  if (strategy !== undefined && strategy !== 'auto')
    for (const key of ['optimize', 'family'] as const) if (options[key] !== undefined) add(key, 'applies to strategy auto only');
  if (options.budgetPolicy !== undefined && !['degrade', 'scale', 'reject'].includes(options.budgetPolicy))
    add('budgetPolicy', `must be degrade, scale or reject; got "${options.budgetPolicy}"`);
  for (const key of ['require', 'forbid'] as const) {
    for (const label of options.policy?.[key] ?? [])
      if (!CAPABILITY_LABEL_PATTERN.test(label))
        add(`policy.${key}`, `"${label}": labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu)`);
  }
  for (const provider of options.policy?.providers ?? []) if (provider.trim() === '') add('policy.providers', 'must be non-empty names');
  const maxCost = options.policy?.maxCostPerCall;
  if (maxCost !== undefined && (!Number.isFinite(maxCost) || maxCost < 0))
    add('policy.maxCostPerCall', `must be at least 0, got ${maxCost}`);
  return issues;
}

/** The strategy a request asks for: a workflow, a named strategy, plain width from `samples`, or the governor. */
function strategyOf(options: SolveOptions): SolveStrategy | 'workflow' {
  if (options.workflow !== undefined) return 'workflow';
  if (options.strategy !== undefined) return options.strategy;
  if (options.samples !== undefined) return options.samples > 1 ? 'vote' : 'single';
  return 'auto';
}

const hasPolicy = (policy: SolvePolicy | undefined): boolean =>
  policy !== undefined &&
  ((policy.require?.length ?? 0) > 0 ||
    (policy.forbid?.length ?? 0) > 0 ||
    (policy.providers?.length ?? 0) > 0 ||
    policy.maxCostPerCall !== undefined);

/** Runs one solve. Throws (typed, nothing journaled) when the request is rejected; otherwise returns the result. */
export async function solve(query: string, options: SolveOptions, environment: SolveEnvironment): Promise<SolveResult> {
  const issues = checkOptions(query, options);
  const strategy = strategyOf(options);
  if (strategy === 'search' && options.corpus === undefined)
    issues.push({ path: 'corpus', message: 'the search strategy needs a corpus (a folder of .txt/.md files or a .jsonl file)' });
  if (hasPolicy(options.policy) && strategy !== 'workflow' && strategy !== 'auto')
    issues.push({
      path: 'policy',
      message:
        'capability policy applies to strategy auto (models bound through the registry) and to the capability nodes of a workflow spec',
    });
  if (issues.length > 0) throw new InvalidInputError('Invalid solve request', issues);

  const { config } = environment;
  const seed = options.seed ?? environment.seed;
  const budget = options.budget ?? {};
  const workflowSpec = strategy === 'workflow' ? options.workflow : undefined;
  const probeResolver = new FleetResolver({ config, clock: systemClock, seed });
  const retriever = options.corpus !== undefined ? await openCorpus(options.corpus) : undefined;
  // The questions the corpus ships for the simulated fleet (which answers registered tasks only).
  const corpusTask = options.corpus !== undefined ? corpusSimTask(options.corpus, query) : undefined;
  const operators = defaultOperators(retriever ? { retriever } : {});
  const policy = options.policy ?? {};
  // Nesting and size before anything walks the spec (the readers below recurse; a 50,000-deep spec overflowed
  // the stack): checkWorkflow tests them first, iteratively, and reports them as the spec's issues.
  if (workflowSpec !== undefined && structureProblem(workflowSpec) !== undefined) validateWorkflow(workflowSpec, { operators });
  // Capability nodes are bound through the registry now, so an unbindable spec is rejected before the journal opens.
  const capabilities =
    workflowSpec !== undefined
      ? await prepareCapabilities(workflowSpec, {
          flags: {
            ...(environment.registryPath !== undefined ? { registry: environment.registryPath } : {}),
            ...(policy.require ? { require: policy.require } : {}),
            ...(policy.forbid ? { forbid: policy.forbid } : {}),
            ...(policy.providers ? { provider: policy.providers } : {}),
            ...(policy.maxCostPerCall !== undefined ? { maxCostPerCall: String(policy.maxCostPerCall) } : {}),
          },
          operators,
          profiles: probeResolver,
          budgetUsd: budget.usd,
          ...(await embedderOption(environment)),
        })
      : undefined;
  try {
    // Nothing given or configured: the small embedded default once it has been pulled.
    const model =
      options.model ??
      config.defaultModel ??
      specDefaultModel(workflowSpec) ??
      capabilities?.defaultModel ??
      (findPulledDefaultModel() ? 'gguf:default' : undefined);
    if (model === undefined) {
      // A spec broken in itself is reported as such, not as a missing model (the full check, with the fleet, follows).
      if (workflowSpec !== undefined) validateWorkflow(workflowSpec, { operators });
      throw new NoModelError();
    }
    // Simulated only when every model the run can call is simulated: one real model means real time and money.
    const { fleet, clock, simulated } = openFleet({
      config,
      seed,
      models: [model, ...modelReferences(workflowSpec), ...(capabilities?.models ?? [])],
      simulatedClock: environment.simulatedClock,
      ...(corpusTask ? { tasks: corpusTask.tasks } : {}),
    });
    const taskOption = simulated && corpusTask ? { taskId: corpusTask.taskId } : {};
    const ladder = cascadeLadder(model, config);
    const governorPolicy = typeof options.governorPolicy === 'string' ? readPolicy(options.governorPolicy) : options.governorPolicy;
    const samples = options.samples ?? (strategy === 'vote' ? defaultVoteSamples(options.budget) : 1);
    const spec: unknown =
      workflowSpec ??
      strategySpec(strategy === 'auto' ? 'single' : (strategy as Strategy), {
        model,
        samples,
        // Without an explicit cap each strategy gets what it must produce (solo's transcript is long).
        ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
        cascadeModels: ladder,
        ...(options.rounds !== undefined ? { rounds: options.rounds } : {}),
        ...(options.agents !== undefined ? { agents: options.agents } : {}),
        ...(options.steps !== undefined ? { steps: options.steps } : {}),
      });
    // Validation (with the fleet, so every model reference resolves) before the journal is opened.
    validateWorkflow(spec, { operators, requireModels: true, fleet, model });
    // strategy auto: models are bound under the query policy through the registry; a policy that leaves nothing
    // to start with is rejected here, before the journal is opened.
    const governing =
      strategy === 'auto'
        ? await governorBinding({
            fleet,
            model,
            simulated,
            policy,
            ...(environment.registryPath !== undefined ? { registry: environment.registryPath } : {}),
            ...(hasPolicy(policy) ? await embedderOption(environment) : {}),
            ...(options.planner !== undefined ? { planner: options.planner } : {}),
            ...(simulated ? {} : { candidates: ladder.slice(1) }),
          })
        : undefined;

    // Every model the run will call must be callable and, under a dollar limit, priced: refused here, before
    // the journal is opened and before anything is sent. Cascade candidates of strategy auto are called only on
    // escalation (a missing key fails that call alone, unsent), but their spend must count against a dollar limit.
    const called = [
      model,
      ...modelReferences(spec),
      ...(capabilities?.models ?? []),
      ...(options.planner !== undefined ? [options.planner] : []),
    ];
    assertModelsReady(fleet, called);
    const unpricedAllowed = checkDollarBudget(
      fleet,
      [...called, ...(strategy === 'auto' && !simulated ? ladder.slice(1) : [])],
      budget,
      options.allowUnpriced === true,
    );
    const warnings = unpricedAllowed.map(
      (reference) =>
        `"${reference}" has no known price: its calls count as $0 and the dollar limit does not hold on them (--allow-unpriced).`,
    );

    const journal = environment.journal();
    const runId = options.runId ?? newRunId('run');
    const args = {
      model,
      strategy,
      samples,
      // The cap in force (given, else the strategy's default), as earlier runs recorded it, so they still resume.
      maxOutputTokens:
        options.maxOutputTokens ??
        (strategy === 'auto' ? GOVERNOR_OUTPUT_CAP : strategy === 'workflow' ? DEFAULT_OUTPUT_CAP : defaultMaxOutputTokens(strategy)),
      seed,
      spec: strategy === 'auto' ? null : spec,
      corpus: options.corpus ?? null,
      policy: typeof options.governorPolicy === 'string' ? options.governorPolicy : options.governorPolicy ? 'inline' : null,
      planner: options.planner ?? null,
      plan: options.planning ?? null,
      ...(options.optimize !== undefined ? { optimize: options.optimize } : {}),
      ...(options.family !== undefined ? { family: options.family } : {}),
      // Only when given, so runs journaled before capability nodes existed still resume.
      ...(capabilities && Object.keys(capabilities.policy).length > 0 ? { capabilityPolicy: capabilities.policy } : {}),
    };
    const { resumed } = journal.beginOrResumeRun({
      id: runId,
      command: 'solve',
      query,
      args,
      seed,
      simulated,
      budget,
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
    });
    const emit = options.onEvent ?? ((): void => {});
    emit({ type: 'run-started', runId, query, strategy, simulated, resumed, budget });

    const ledger = new Ledger({
      clock,
      limits: budget,
      ...(options.sharedBudget ? { within: options.sharedBudget } : {}),
      ...(options.sharedLedger ? { shared: new SharedGate({ ...options.sharedLedger, runId }) } : {}),
    });
    // newUsage = what this invocation actually sent (settled attempts); replayed calls are charged, not settled.
    const newUsage: UsageTotals = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
    ledger.onEvent((event) => {
      if (event.kind !== 'settle' && event.kind !== 'charge') return;
      if (event.kind === 'settle') {
        newUsage.inputTokens += event.amount.inputTokens;
        newUsage.outputTokens += event.amount.outputTokens;
        newUsage.totalTokens += event.amount.inputTokens + event.amount.outputTokens;
        newUsage.usd = addUsd(newUsage.usd, event.amount.usd);
        newUsage.calls += event.amount.calls;
      }
      // The root's running total, O(1): `ledger.report()` walks every budget (one per workflow node) and made
      // each settle O(nodes), a 10,000-node workflow quadratic (issue 16 §8).
      if (options.onEvent) emit({ type: 'budget', spent: toTotals(ledger.root.spent()), limits: budget });
    });
    // Attempts an earlier process sent but never recorded (killed or cancelled mid-call) may have been billed:
    // counted at their worst case before anything runs, so they cannot be bought again outside the budget.
    const inFlightAtCrash = resumed ? chargeInFlightAtCrash(journal, runId, ledger) : undefined;
    let replayedCallEvents = 0;
    fleet.onEvent((event) => {
      if (event.type === 'call-end' && event.replayed) replayedCallEvents++;
      if (!options.onEvent) return;
      if (event.type === 'call-start') emit({ type: 'call-started', model: event.model, callKey: event.callKey, attempt: event.attempt });
      else if (event.type === 'call-end') {
        const { model: called, callKey, usage, costUsd, replayed, simulated: fromSim } = event;
        emit({ type: 'call-finished', model: called, callKey, usage, usd: costUsd, replayed, simulated: fromSim });
      } else if (event.type === 'call-retry') {
        const { model: called, callKey, attempt, delayMs, error } = event;
        emit({ type: 'call-retried', model: called, callKey, attempt, delayMs, error });
      } else emit({ type: 'call-failed', model: event.model, callKey: event.callKey, error: event.error.toJSON() });
    });
    const trace = new Trace(clock);
    if (options.onEvent) {
      trace.onEvent((event) => {
        if (event.type === 'op-start' && typeof event.data['op'] === 'string') {
          emit({ type: 'node-started', nodeId: event.stepId, op: event.data['op'] });
          return;
        }
        // The executor's node ends carry a status and a call count; operators' own op-end events (inside a
        // node) carry no status, and the workflow's closing event no call count.
        if (event.type !== 'op-end' || typeof event.data['status'] !== 'string' || typeof event.data['calls'] !== 'number') return;
        const answer = event.data['answer'];
        emit({
          type: 'node-finished',
          nodeId: event.stepId,
          status: event.data['status'],
          answer: typeof answer === 'string' ? answer : null,
          calls: event.data['calls'],
          replayed: event.data['replayed'] === true,
        });
      });
    }
    const controller = new AbortController();
    const relay = (): void => controller.abort(options.signal?.reason ?? new CancelledError('The run was cancelled.'));
    if (options.signal?.aborted) relay();
    else options.signal?.addEventListener('abort', relay, { once: true });

    let result: WorkflowResult | undefined;
    let governed: GovernedSolveResult | undefined;
    let failure: ThicketError | undefined;
    try {
      if (strategy === 'auto') {
        governed = await governedSolve({
          query,
          fleet,
          budget: ledger.root,
          model: governing!.start,
          binder: governing!.binder,
          ...taskOption,
          ...(retriever ? { retriever } : {}),
          ...(governorPolicy
            ? { policy: governorPolicy, policySource: typeof options.governorPolicy === 'string' ? options.governorPolicy : 'inline' }
            : {}),
          ...(options.planner !== undefined ? { planner: options.planner } : {}),
          ...(options.planning !== undefined ? { planning: options.planning } : {}),
          ...(options.optimize !== undefined ? { optimize: options.optimize } : {}),
          ...(options.family !== undefined ? { family: options.family } : {}),
          maxOutputTokens: options.maxOutputTokens ?? GOVERNOR_OUTPUT_CAP,
          operators,
          journal: { journal, runId },
          signal: controller.signal,
          trace,
        });
      } else
        result = await runWorkflow({
          spec,
          query,
          fleet,
          budget: ledger.root,
          operators,
          model,
          budgetPolicy: options.budgetPolicy ?? 'degrade',
          journal: { journal, runId },
          signal: controller.signal,
          trace,
          ...taskOption,
          ...(capabilities ? { resolveCapability: capabilities.resolverFor(simulated), capabilityPolicy: capabilities.policy } : {}),
        });
    } catch (error) {
      failure = toThicketError(error);
    } finally {
      options.signal?.removeEventListener('abort', relay);
    }

    // The simulated fleet's stand-in text is never an answer, whichever operator passed it on.
    const produced = (governed ?? result)?.answer;
    const answer = simulated && isSimulatedStandIn(produced) ? undefined : produced;
    // Spent past a limit (a provider overspent, or calls in flight at a crash were counted): nothing more could
    // be bought, so an otherwise ok run did not get the budget it was planned with.
    const overspent = overLimit(ledger);
    const workflowStatus = governed?.status ?? result?.status;
    const finished: RunStatus = controller.signal.aborted
      ? 'cancelled'
      : failure
        ? failure.category === 'budget'
          ? 'budget_exhausted'
          : 'error'
        : overspent && workflowStatus === 'ok'
          ? 'budget_exhausted'
          : workflowStatus!;
    const status: RunStatus = finished === 'ok' && answer === undefined ? 'error' : finished;
    const report = ledger.report();
    // Served from the journal: calls replayed one by one, plus the calls of whole steps reused on resume.
    const replayedCalls =
      replayedCallEvents +
      Object.values(result?.nodes ?? {}).reduce((sum, node) => sum + (node.replayed ? (node.result?.calls ?? 0) : 0), 0);
    const nodeError = result ? Object.values(result.nodes).find((node) => node.error)?.error : undefined;
    const overrun = overrunNote(ledger);
    const degraded = [
      ...((governed ?? result)?.degraded ?? []),
      ...(inFlightAtCrash ? [inFlightNote(inFlightAtCrash)] : []),
      ...(overrun ? [overrun] : []),
    ];
    const extraction = extractionSummary(result);
    // Asked something outside its generated tasks, the simulated fleet has no answer to give: say so plainly.
    const simUnknown =
      status === 'error' &&
      simulated &&
      answer === undefined &&
      failure?.category !== 'bad_input' &&
      corpusTask === undefined &&
      !simulatedTaskKnown(query);
    const errorInfo = simUnknown
      ? new SimUnknownTaskError(model, query).toJSON()
      : (failure?.toJSON() ??
        governed?.error ??
        (status === 'budget_exhausted'
          ? { code: 'BUDGET_EXHAUSTED', message: budgetMessage(degraded, ledger) }
          : status === 'cancelled'
            ? { code: 'CANCELLED', message: 'The run was cancelled.' }
            : status === 'error'
              ? (nodeError ?? noAnswerError(report.total.calls, extraction, operatorErrors(result)))
              : undefined));
    const solveResult: SolveResult = {
      runId,
      answer: answer ?? null,
      status,
      simulated,
      strategy,
      usage: toTotals(report.total),
      replayedCalls,
      newUsage,
      ...(inFlightAtCrash ? { inFlightAtCrash } : {}),
      budget,
      spendByModel: mapTotals(report.byModel),
      spendByAxis: mapTotals(report.byAxis),
      ...(strategy === 'vote' && result ? { vote: voteSummary(result, samples) } : {}),
      ...(extraction ? { extraction } : {}),
      nodes: nodeSummaries(result),
      degraded,
      ...(governed ? { governor: governed.decision } : {}),
      estimate: {
        expectedTokens: result?.estimate.total.expected.totalTokens ?? 0,
        worstTokens: result?.estimate.total.worst.totalTokens ?? 0,
        expectedUsd: roundUsd(result?.estimate.total.expected.usd ?? 0),
        worstUsd: roundUsd(result?.estimate.total.worst.usd ?? 0),
      },
      resumed,
      journal: environment.journalPath,
      ...(errorInfo ? { error: errorInfo } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    // The trace step and the run's outcome in one commit (the trace row is written without being read back).
    journal.finishRun(runId, { status, answer: solveResult.answer, error: solveResult.error ?? null, usage: solveResult.usage }, [
      { stepId: TRACE_STEP_ID, kind: 'trace', status: 'ok', output: trace.toJSON() },
    ]);
    emit({ type: 'answer', answer: solveResult.answer, status });
    emit({ type: 'run-finished', result: solveResult });
    return solveResult;
  } finally {
    await capabilities?.close();
  }
}

/** Error codes operators recorded in their details instead of throwing (solo keeps going without its call). */
function operatorErrors(result: WorkflowResult | undefined): string[] {
  return Object.values(result?.nodes ?? {}).flatMap((node) => {
    const code = node.result?.details['error'];
    return typeof code === 'string' ? [code] : [];
  });
}

/**
 * Whether the simulated fleet has an oracle for the query as asked: an arithmetic expression it can work out
 * (a corpus's own sim tasks are checked apart, with the corpus).
 */
function simulatedTaskKnown(query: string): boolean {
  return arithmeticTask(query) !== undefined;
}

/**
 * Why a run that made its calls ended without an answer: the endpoint answered, but nothing usable could be
 * read (ANSWER_UNPARSED, exit 5) — apart from a run where no call got through (PROVIDER_ERROR, exit 1).
 */
function noAnswerError(
  calls: number,
  extraction: SolveResult['extraction'],
  swallowed: readonly string[],
): { code: string; message: string } {
  // An operator that caught its call's failure (solo) and answered nothing: an endpoint failure stays one.
  const failed = swallowed.find((code) => code !== 'MALFORMED_OUTPUT' && code !== 'ANSWER_UNPARSED');
  if (failed !== undefined) return { code: failed, message: `No answer was produced: a model call failed (${failed}).` };
  if (swallowed.includes('MALFORMED_OUTPUT'))
    return {
      code: 'ANSWER_UNPARSED',
      message:
        `The model replied (${calls} call${calls === 1 ? '' : 's'}), but its structured reply could not be parsed (MALFORMED_OUTPUT: ` +
        'not valid JSON, or cut off at the output cap — raise --max-output-tokens).',
    };
  if (extraction?.truncated)
    return {
      code: 'ANSWER_UNPARSED',
      message:
        'The model\'s reply was cut off at the output cap before it gave an answer (its text is in "extraction.text"); ' +
        'raise --max-output-tokens.',
    };
  if (calls > 0)
    return {
      code: 'ANSWER_UNPARSED',
      message:
        `The model replied (${calls} call${calls === 1 ? '' : 's'}), but no answer could be read from its replies ` +
        `(tried, in order: ${ANSWER_EXTRACTORS.join(', ')})${extraction ? '; its text is in "extraction.text"' : ''}. ` +
        '--strategy single returns a free-text reply as it is.',
    };
  return { code: 'PROVIDER_ERROR', message: 'No answer was produced.' };
}

async function embedderOption(environment: SolveEnvironment): Promise<{ embedder?: Embedder }> {
  const embedder = await environment.registryEmbedder();
  return embedder ? { embedder } : {};
}

/** A fresh run id: `<prefix>-<UTC timestamp>-<6 hex>`. */
export function newRunId(prefix: string): string {
  return `${prefix}-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

function specDefaultModel(spec: unknown): string | undefined {
  const model = (spec as { defaults?: { model?: unknown } } | undefined)?.defaults?.model;
  return typeof model === 'string' ? model : undefined;
}

/** Every model reference a spec names (nodes, defaults, verifiers, cascade stages), for deciding what is simulated. */
function modelReferences(spec: unknown): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if ((key === 'model' || key === 'verifierModel') && typeof inner === 'string') found.add(inner);
        else visit(inner);
      }
    }
  };
  visit(spec);
  return [...found];
}

/** Reads a workflow spec file (JSON), naming the file and the reason when it cannot (size, nesting, syntax). */
export function readWorkflowFile(path: string, flag = 'workflow'): unknown {
  return readUserFile(path, { what: 'workflow', format: 'json', notFoundPath: flag });
}
