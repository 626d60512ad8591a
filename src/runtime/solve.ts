/**
 * The assembly of one solve — the only place it happens. From a query and typed options: everything that can
 * be rejected is checked first (a rejected request writes nothing), then the fleet, ledger, journal run,
 * governor or executor are put together, the run goes, and one `SolveResult` comes back. The CLI, the
 * library (`thicket.solve`/`stream`) and later surfaces all come through here.
 *
 * What may be asked and its check are in solve-options.ts, the events a run streams in event-relay.ts, the
 * result a finished run becomes in solve-outcome.ts; the putting together is here.
 */
import { randomBytes } from 'node:crypto';
import {
  CancelledError,
  NoModelError,
  readUserFile,
  structureProblem,
  systemClock,
  toThicketError,
  type ThicketError,
} from '../core/index.ts';
import { Ledger, SharedGate } from '../budget/index.ts';
import { FleetResolver, findPulledDefaultModel, type FleetConfig } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { Embedder } from '../registry/index.ts';
import { Trace, openCorpus } from '../ops/index.ts';
import { governedSolve, readPolicy, type GovernedSolveResult } from '../governor/index.ts';
import {
  defaultMaxOutputTokens,
  defaultOperators,
  runWorkflow,
  strategySpec,
  validateWorkflow,
  type Strategy,
  type WorkflowResult,
} from '../workflow/index.ts';
import { prepareCapabilities } from './capabilities.ts';
import { corpusSimTask } from './corpus-tasks.ts';
import { openFleet } from './fleet.ts';
import { assertModelsReady, checkDollarBudget } from './readiness.ts';
import { cascadeLadder, governorBinding } from './governor-binding.ts';
import { chargeInFlightAtCrash } from './spend-integrity.ts';
import { TRACE_STEP_ID, type SolveResult } from './result.ts';
import { checkSolveRequest, defaultVoteSamples, hasPolicy, type SolveOptions } from './solve-options.ts';
import { relayBudget, relayCalls, relayNodes } from './event-relay.ts';
import { solveOutcome } from './solve-outcome.ts';

// Re-exported so the request's types stay importable from the solve they configure.
export { defaultVoteSamples, type SolveOptions, type SolvePolicy, type SolveStrategy } from './solve-options.ts';

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

/** The old CLI default, kept for the governor (its allocation tables were calibrated with it). */
const GOVERNOR_OUTPUT_CAP = 512;
const DEFAULT_OUTPUT_CAP = 512;

/** Runs one solve. Throws (typed, nothing journaled) when the request is rejected; otherwise returns the result. */
export async function solve(query: string, options: SolveOptions, environment: SolveEnvironment): Promise<SolveResult> {
  const strategy = checkSolveRequest(query, options);

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
    const newUsage = relayBudget(ledger, budget, options.onEvent);
    // Attempts an earlier process sent but never recorded (killed or cancelled mid-call) may have been billed:
    // counted at their worst case before anything runs, so they cannot be bought again outside the budget.
    const inFlightAtCrash = resumed ? chargeInFlightAtCrash(journal, runId, ledger) : undefined;
    const callCounts = relayCalls(fleet, options.onEvent);
    const trace = new Trace(clock);
    relayNodes(trace, options.onEvent);
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

    const solveResult = solveOutcome({
      runId,
      query,
      model,
      strategy,
      samples,
      simulated,
      corpusTask: corpusTask !== undefined,
      result,
      governed,
      failure,
      cancelled: controller.signal.aborted,
      ledger,
      budget,
      replayedCallEvents: callCounts.replayed,
      newUsage,
      inFlightAtCrash,
      resumed,
      journalPath: environment.journalPath,
      warnings,
    });
    const { status } = solveResult;
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
