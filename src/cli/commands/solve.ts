/**
 * `thicket solve "<query>"`: one generation, or width sampling with majority vote (`--samples N`), under a
 * hard budget, journaled so that the same `--run-id` resumes (replaying finished calls for free).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pc from 'picocolors';
import { existsSync, readFileSync } from 'node:fs';
import {
  CancelledError,
  InvalidInputError,
  NoModelError,
  ThicketError,
  VirtualClock,
  systemClock,
  toThicketError,
  exitCodeFor,
  type UsageTotals,
} from '../../core/index.ts';
import { Ledger, type BudgetLimits, type SpendLine } from '../../budget/index.ts';
import {
  Fleet,
  FleetResolver,
  findPulledDefaultModel,
  loadFleetConfig,
  type FleetConfig,
  type KvThreadMetrics,
} from '../../models/index.ts';
import { Journal, defaultJournalPath } from '../../journal/index.ts';
import { openCorpus } from '../../ops/index.ts';
import { governedSolve, readPolicy, type GovernedSolveResult, type GovernorDecision } from '../../governor/index.ts';
import { governorBinding } from './governor.ts';
import {
  STRATEGIES,
  defaultOperators,
  runWorkflow,
  simCascadeLadder,
  strategySpec,
  validateWorkflow,
  type BudgetPolicy,
  type Strategy,
  type WorkflowResult,
} from '../../workflow/index.ts';
import { CAPABILITY_LABEL_PATTERN } from '../../workflow/index.ts';
import { IssueCollector, parseBudgetFlags, type BudgetFlags } from '../options.ts';
import { prepareCapabilities } from './capabilities.ts';
import { SIMULATED_LABEL, attachProgress, formatUsd, processOutput, table } from '../output.ts';

export interface SolveFlags extends BudgetFlags {
  model?: string;
  samples?: string;
  strategy?: string;
  workflow?: string;
  corpus?: string;
  rounds?: string;
  agents?: string;
  steps?: string;
  budgetPolicy?: string;
  policy?: string;
  planner?: string;
  plan?: string;
  maxOutputTokens?: string;
  runId?: string;
  db?: string;
  config?: string;
  seed?: string;
  json?: boolean;
  /** Capability nodes of a --workflow spec: the registry, and the run's policy labels. */
  registry?: string;
  require?: string[];
  forbid?: string[];
  /** Allowed providers of bound capabilities (repeatable), and the most a bound model may cost per call. */
  provider?: string[];
  maxCostPerCall?: string;
}

export type RunStatus = 'ok' | 'budget_exhausted' | 'cancelled' | 'error';

export interface SolveResult {
  runId: string;
  answer: string | null;
  status: RunStatus;
  simulated: boolean;
  strategy: string;
  usage: UsageTotals;
  replayedCalls: number;
  newUsage: UsageTotals;
  budget: BudgetLimits;
  spendByModel: Record<string, UsageTotals>;
  spendByAxis: Record<string, UsageTotals>;
  vote?: { samples: number; completed: number; agreement: number; votes: Record<string, number>; refusedByBudget: number; failed: number };
  nodes: Record<
    string,
    {
      op: string;
      status: string;
      answer: string | null;
      calls: number;
      degraded: string[];
      capability?: { card: string; model: string; score: number };
      kv?: KvReport;
    }
  >;
  degraded: string[];
  estimate: { expectedTokens: number; worstTokens: number; expectedUsd: number; worstUsd: number };
  /** `--strategy auto`: the governor's decision (difficulty, chosen strategy or generated spec, escalations). */
  governor?: GovernorDecision;
  resumed: boolean;
  journal: string;
  error?: { code: string; message: string };
}

export async function solveCommand(query: string, flags: SolveFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (query.trim() === '') issues.add('query', 'must not be empty');
  const samples = issues.number('--samples', flags.samples ?? '1', { integer: true, min: 1, max: 1000 }) ?? 1;
  const maxOutputTokens =
    issues.number('--max-output-tokens', flags.maxOutputTokens ?? '512', { integer: true, min: 1, max: 1_000_000 }) ?? 512;
  const seed = issues.number('--seed', flags.seed ?? '0', { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 0;
  const rounds = issues.number('--rounds', flags.rounds, { integer: true, min: 1, max: 100 });
  const agents = issues.number('--agents', flags.agents, { integer: true, min: 2, max: 1000 });
  const steps = issues.number('--steps', flags.steps, { integer: true, min: 1, max: 1000 });
  const limits = parseBudgetFlags(flags, issues);
  if (flags.runId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(flags.runId))
    issues.add('--run-id', 'use 1–128 letters, digits, ".", "_" or "-"');
  if (flags.strategy !== undefined && flags.strategy !== 'auto' && !(STRATEGIES as readonly string[]).includes(flags.strategy))
    issues.add('--strategy', `must be auto or one of ${STRATEGIES.join(', ')}; got "${flags.strategy}"`);
  if (flags.plan !== undefined && !['auto', 'always', 'never'].includes(flags.plan))
    issues.add('--plan', `must be auto, always or never; got "${flags.plan}"`);
  if (flags.strategy !== undefined && flags.workflow !== undefined)
    issues.add('--workflow', 'give either --strategy or --workflow, not both');
  if (flags.budgetPolicy !== undefined && !['degrade', 'scale', 'reject'].includes(flags.budgetPolicy))
    issues.add('--budget-policy', `must be degrade, scale or reject; got "${flags.budgetPolicy}"`);
  // The governor decides by default; an explicit --samples asks for plain width (or a single call).
  const strategy: Strategy | 'workflow' | 'auto' =
    flags.workflow !== undefined
      ? 'workflow'
      : ((flags.strategy as Strategy | 'auto' | undefined) ?? (flags.samples !== undefined ? (samples > 1 ? 'vote' : 'single') : 'auto'));
  if (strategy === 'search' && flags.corpus === undefined)
    issues.add('--corpus', 'the search strategy needs a corpus (a folder of .txt/.md files or a .jsonl file)');
  for (const flag of ['require', 'forbid'] as const) {
    for (const label of flags[flag] ?? [])
      if (!CAPABILITY_LABEL_PATTERN.test(label))
        issues.add(`--${flag}`, `"${label}": labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu)`);
  }
  for (const provider of flags.provider ?? []) if (provider.trim() === '') issues.add('--provider', 'must be a non-empty provider name');
  const maxCostPerCall = issues.number('--max-cost-per-call', flags.maxCostPerCall, { min: 0 });
  for (const flag of ['require', 'forbid', 'provider', 'maxCostPerCall'] as const) {
    const name = flag === 'maxCostPerCall' ? 'max-cost-per-call' : flag;
    if (flags[flag] !== undefined && strategy !== 'workflow' && strategy !== 'auto')
      issues.add(
        `--${name}`,
        'capability policy applies to --strategy auto (models bound through the registry) and to the capability nodes of a --workflow spec',
      );
  }
  issues.throwIfAny('Invalid solve request');

  // Everything that can be rejected is checked before the journal is touched: a rejected invocation writes nothing.
  const { config } = loadFleetConfig(flags.config);
  const workflowFile = strategy === 'workflow' ? readWorkflowFile(flags.workflow!) : undefined;
  const probeResolver = new FleetResolver({ config, clock: systemClock, seed });
  const retriever = flags.corpus !== undefined ? await openCorpus(flags.corpus) : undefined;
  // Capability nodes are bound through the registry now, so an unbindable spec is rejected before the journal opens.
  const capabilities =
    workflowFile !== undefined
      ? await prepareCapabilities(workflowFile, {
          flags,
          operators: defaultOperators(retriever ? { retriever } : {}),
          profiles: probeResolver,
          budgetUsd: limits.usd,
        })
      : undefined;
  // Nothing given or configured: the small embedded default once it has been pulled (issue #4: small by default).
  const model =
    flags.model ??
    config.defaultModel ??
    specDefaultModel(workflowFile) ??
    capabilities?.defaultModel ??
    (findPulledDefaultModel() ? 'gguf:default' : undefined);
  if (model === undefined) throw new NoModelError();
  // Simulated only when every model the run can call is simulated: one real model means real time and money.
  const simulated = [model, ...modelReferences(workflowFile), ...(capabilities?.models ?? [])].every(
    (reference) => probeResolver.resolve(reference).profile.simulated,
  );
  const cascadeModels = simulated ? simCascadeLadder(model) : cascadeLadder(model, config);
  const policy = flags.policy !== undefined ? readPolicy(flags.policy) : undefined;
  const spec: unknown =
    workflowFile !== undefined
      ? workflowFile
      : strategySpec(strategy === 'auto' ? 'single' : (strategy as Strategy), {
          model,
          samples,
          maxOutputTokens,
          cascadeModels,
          ...(rounds !== undefined ? { rounds } : {}),
          ...(agents !== undefined ? { agents } : {}),
          ...(steps !== undefined ? { steps } : {}),
        });
  const operators = defaultOperators(retriever ? { retriever } : {});

  // Simulated latency runs on a virtual clock (instant) unless THICKET_SIM_CLOCK=real asks for real waiting,
  // e.g. to watch the progress display or to interrupt a simulated run part-way.
  const clock = simulated && process.env['THICKET_SIM_CLOCK'] !== 'real' ? new VirtualClock() : systemClock;
  const resolver = new FleetResolver({ config, clock, seed });
  const fleet = new Fleet({ resolver, clock, seed });
  // Validation (with the fleet, so every model reference resolves) before the journal is opened.
  validateWorkflow(spec, { operators, requireModels: true, fleet, model });
  // strategy auto: models are bound under the query policy (--require/--forbid) through the registry; a policy
  // that leaves nothing to start with is rejected here, before the journal is opened.
  const governing =
    strategy === 'auto'
      ? await governorBinding({
          fleet,
          model,
          simulated,
          policy: {
            ...(flags.require?.length ? { require: flags.require } : {}),
            ...(flags.forbid?.length ? { forbid: flags.forbid } : {}),
            ...(flags.provider?.length ? { providers: flags.provider } : {}),
            ...(maxCostPerCall !== undefined ? { maxCostPerCall } : {}),
          },
          ...(flags.registry ? { registry: flags.registry } : {}),
          ...(flags.planner ? { planner: flags.planner } : {}),
          ...(simulated ? {} : { candidates: cascadeLadder(model, config).slice(1) }),
        })
      : undefined;
  const journalPath = resolve(flags.db ?? defaultJournalPath());
  const journal = Journal.open(journalPath);
  try {
    const runId = flags.runId ?? `run-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const args = {
      model,
      strategy,
      samples,
      maxOutputTokens,
      seed,
      spec: strategy === 'auto' ? null : spec,
      corpus: flags.corpus ?? null,
      policy: flags.policy ?? null,
      planner: flags.planner ?? null,
      plan: flags.plan ?? null,
      // Only when given, so runs journaled before capability nodes existed still resume.
      ...(capabilities && Object.keys(capabilities.policy).length > 0 ? { capabilityPolicy: capabilities.policy } : {}),
    };
    const { resumed } = journal.beginOrResumeRun({ id: runId, command: 'solve', query, args, seed, simulated, budget: limits });
    const ledger = new Ledger({ clock, limits });
    // newUsage = what this invocation actually sent (settled attempts); replayed calls are charged, not settled.
    const newUsage: UsageTotals = { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, calls: 0 };
    ledger.onEvent((event) => {
      if (event.kind !== 'settle') return;
      newUsage.inputTokens += event.amount.inputTokens;
      newUsage.outputTokens += event.amount.outputTokens;
      newUsage.totalTokens += event.amount.inputTokens + event.amount.outputTokens;
      newUsage.costUsd += event.amount.usd;
      newUsage.calls += event.amount.calls;
    });
    let replayedCallEvents = 0;
    fleet.onEvent((event) => {
      if (event.type === 'call-end' && event.replayed) replayedCallEvents++;
    });
    const controller = new AbortController();
    const onSigint = (): void => controller.abort(new CancelledError('Interrupted (SIGINT).'));
    process.once('SIGINT', onSigint);
    const stopProgress = attachProgress(fleet, output, plannedCalls(strategy, samples), simulated ? `${strategy} (simulated)` : strategy);

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
          ...(retriever ? { retriever } : {}),
          ...(policy ? { policy, policySource: flags.policy! } : {}),
          ...(flags.planner ? { planner: flags.planner } : {}),
          ...(flags.plan ? { planning: flags.plan as 'auto' | 'always' | 'never' } : {}),
          maxOutputTokens,
          operators,
          journal: { journal, runId },
          signal: controller.signal,
        });
      } else
        result = await runWorkflow({
          spec,
          query,
          fleet,
          budget: ledger.root,
          operators,
          model,
          budgetPolicy: (flags.budgetPolicy as BudgetPolicy | undefined) ?? 'degrade',
          journal: { journal, runId },
          signal: controller.signal,
          ...(capabilities ? { resolveCapability: capabilities.resolverFor(simulated), capabilityPolicy: capabilities.policy } : {}),
        });
    } catch (error) {
      failure = toThicketError(error);
    } finally {
      stopProgress();
      process.removeListener('SIGINT', onSigint);
    }

    const status: RunStatus = controller.signal.aborted
      ? 'cancelled'
      : failure
        ? failure.category === 'budget'
          ? 'budget_exhausted'
          : 'error'
        : (governed?.status ?? result!.status);
    const report = ledger.report();
    const usage = toTotals(report.total);
    // Served from the journal: calls replayed one by one, plus the calls of whole steps reused on resume.
    const replayedCalls =
      replayedCallEvents +
      Object.values(result?.nodes ?? {}).reduce((sum, node) => sum + (node.replayed ? (node.result?.calls ?? 0) : 0), 0);
    const nodeError = result ? Object.values(result.nodes).find((node) => node.error)?.error : undefined;
    const errorInfo =
      failure?.toJSON() ??
      governed?.error ??
      (status === 'budget_exhausted'
        ? { code: 'BUDGET_EXHAUSTED', message: budgetMessage(result, ledger) }
        : status === 'cancelled'
          ? { code: 'CANCELLED', message: 'The run was cancelled.' }
          : status === 'error'
            ? (nodeError ?? { code: 'PROVIDER_ERROR', message: 'No answer was produced.' })
            : undefined);
    const solveResult: SolveResult = {
      runId,
      answer: (governed ?? result)?.answer ?? null,
      status,
      simulated,
      strategy,
      usage,
      replayedCalls,
      newUsage,
      budget: limits,
      spendByModel: mapTotals(report.byModel),
      spendByAxis: mapTotals(report.byAxis),
      ...(strategy === 'vote' && result ? { vote: voteSummary(result, samples) } : {}),
      nodes: Object.fromEntries(
        Object.entries(result?.nodes ?? {}).map(([id, node]) => [
          id,
          {
            op: node.op,
            status: node.status,
            answer: node.result?.answer ?? null,
            calls: node.result?.calls ?? 0,
            degraded: node.result?.degraded ?? [],
            ...(node.capability ? { capability: node.capability } : {}),
            ...kvReportOf(node.result?.details),
          },
        ]),
      ),
      degraded: (governed ?? result)?.degraded ?? [],
      ...(governed ? { governor: governed.decision } : {}),
      estimate: {
        expectedTokens: result?.estimate.total.expected.totalTokens ?? 0,
        worstTokens: result?.estimate.total.worst.totalTokens ?? 0,
        expectedUsd: result?.estimate.total.expected.usd ?? 0,
        worstUsd: result?.estimate.total.worst.usd ?? 0,
      },
      resumed,
      journal: journalPath,
      ...(errorInfo ? { error: errorInfo } : {}),
    };
    const trace = (governed ?? result)?.trace;
    if (trace) journal.upsertStep(runId, { stepId: TRACE_STEP_ID, kind: 'trace', status: 'ok', output: trace });
    journal.finishRun(runId, { status, answer: solveResult.answer, error: solveResult.error ?? null, usage });

    if (output.json) output.out(JSON.stringify(solveResult));
    else printHuman(solveResult, output.out);
    return status === 'ok' ? 0 : status === 'budget_exhausted' ? 3 : status === 'cancelled' ? 4 : failure ? exitCodeFor(failure) : 1;
  } finally {
    journal.close();
    await capabilities?.close();
  }
}

/**
 * What a thread on the embedded engine did to its KV cache (issue #4: tokens processed, erased, peak
 * occupancy, decode speed over time), from the operator's metrics — also for a node replayed from the journal.
 */
export interface KvReport {
  tokensProcessed: number;
  tokensGenerated: number;
  tokensInjected: number;
  tokensErased: number;
  erasures: number;
  peakKvTokens: number;
  /** What the sequence would have held with nothing erased. */
  unprunedTokens: number;
  finalKvTokens: number;
  decodeTokensPerSecond: number;
  /** One entry per finished task, in order. */
  overTime: Array<{ finishedTasks: number; kvTokens: number; decodeTokensPerSecond: number; elapsedMs: number }>;
}

function kvReportOf(details: Record<string, unknown> | undefined): { kv?: KvReport } {
  if (details?.['engine'] !== 'llama.cpp' || typeof details['metrics'] !== 'object' || details['metrics'] === null) return {};
  const metrics = details['metrics'] as KvThreadMetrics;
  return {
    kv: {
      tokensProcessed: metrics.tokensProcessed,
      tokensGenerated: metrics.tokensGenerated,
      tokensInjected: metrics.tokensInjected,
      tokensErased: metrics.tokensErased,
      erasures: metrics.erasures,
      peakKvTokens: metrics.peakKvTokens,
      unprunedTokens: metrics.unprunedTokens,
      finalKvTokens: metrics.finalKvTokens,
      decodeTokensPerSecond: Math.round(metrics.decodeTokensPerSecond),
      overTime: metrics.samples.map((sample) => ({
        finishedTasks: sample.finishedTasks,
        kvTokens: sample.kvTokens,
        decodeTokensPerSecond: Math.round(sample.decodeTokensPerSecond),
        elapsedMs: Math.round(sample.elapsedMs),
      })),
    },
  };
}

/** The step under which a solve run's trace (events + reasoning graph) is journaled, for `runs show --trace`. */
export const TRACE_STEP_ID = '__trace__';

function plannedCalls(strategy: string, samples: number): number {
  return strategy === 'vote' ? samples : strategy === 'single' || strategy === 'solo' ? 1 : samples;
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

function readWorkflowFile(path: string): unknown {
  if (!existsSync(path)) throw new InvalidInputError('Cannot read workflow', [{ path: '--workflow', message: `file not found: ${path}` }]);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidInputError('Cannot read workflow', [{ path, message: `not valid JSON (${(error as Error).message})` }]);
  }
}

/** Configured models cheapest tier first, starting at the given model's tier. */
function cascadeLadder(model: string, config: FleetConfig): string[] {
  const order = ['small', 'medium', 'large'];
  const tierOf = (reference: string): number => order.indexOf(config.models[reference]?.tier ?? 'small');
  const start = tierOf(model);
  const others = Object.keys(config.models).filter((reference) => reference !== model && tierOf(reference) > start);
  const byTier = new Map<number, string>();
  for (const reference of others) if (!byTier.has(tierOf(reference))) byTier.set(tierOf(reference), reference);
  return [model, ...[...byTier.entries()].sort((a, b) => a[0] - b[0]).map(([, reference]) => reference)];
}

/** Names the limits that ran out (or nearly) and what was cut, e.g. "calls: limit 3, spent 3; samples 9 → 3 (budget)". */
function budgetMessage(result: WorkflowResult | undefined, ledger: Ledger): string {
  const limits = ledger.root.limits;
  const spent = ledger.root.spent();
  const binding: string[] = [];
  for (const dimension of ['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'calls'] as const) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    const used = spent[dimension];
    // "Nearly" = less than a minimal call (16 tokens, one call, 5% of dollars) left.
    const left = limit - used;
    if (left <= (dimension === 'usd' ? limit * 0.05 : dimension === 'calls' ? 0 : 64))
      binding.push(`${dimension}: limit ${limit}, spent ${dimension === 'usd' ? used.toFixed(6) : used}`);
  }
  if (limits.seconds !== undefined && ledger.root.remainingMs() <= 0) binding.push(`seconds: limit ${limits.seconds}`);
  // Nothing ran out, so a planned call was too big for what was left: name every limit with its spend.
  if (binding.length === 0) {
    for (const dimension of ['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'calls'] as const) {
      const limit = limits[dimension];
      if (limit !== undefined)
        binding.push(`${dimension}: limit ${limit}, spent ${dimension === 'usd' ? spent[dimension].toFixed(6) : spent[dimension]}`);
    }
  }
  const parts = [...binding, ...(result?.degraded ?? [])];
  return parts.length > 0 ? `The budget could not cover the whole plan (${parts.join('; ')}).` : 'The budget could not cover the plan.';
}

function voteSummary(result: WorkflowResult, samples: number): NonNullable<SolveResult['vote']> {
  const details = (result.nodes['vote']?.result?.details ?? {}) as Partial<{
    completed: number;
    agreement: number;
    votes: Record<string, number>;
    failed: number;
    samplesSaved: number;
  }>;
  const completed = details.completed ?? 0;
  const failed = details.failed ?? 0;
  return {
    samples,
    completed,
    agreement: details.agreement ?? 0,
    votes: details.votes ?? {},
    // Every requested sample either completed, failed, was saved by adaptive width, or was not drawn for budget.
    refusedByBudget: Math.max(0, samples - completed - failed - (details.samplesSaved ?? 0)),
    failed,
  };
}

function mapTotals(lines: Record<string, SpendLine>): Record<string, UsageTotals> {
  return Object.fromEntries(Object.entries(lines).map(([key, line]) => [key, toTotals(line)]));
}

function toTotals(line: SpendLine): UsageTotals {
  return {
    inputTokens: line.inputTokens,
    outputTokens: line.outputTokens,
    totalTokens: line.totalTokens,
    costUsd: line.usd,
    calls: line.calls,
  };
}

function printHuman(result: SolveResult, out: (text: string) => void): void {
  const statusColour = result.status === 'ok' ? pc.green : result.status === 'budget_exhausted' ? pc.yellow : pc.red;
  out(`${result.simulated ? `${SIMULATED_LABEL} ` : ''}${pc.bold('Answer:')} ${result.answer ?? pc.dim('(none)')}`);
  out(`Status: ${statusColour(result.status)}   Strategy: ${result.strategy}   Run: ${result.runId}${result.resumed ? ' (resumed)' : ''}`);
  if (result.vote && result.vote.samples > 1) {
    const votes = Object.entries(result.vote.votes)
      .sort((a, b) => b[1] - a[1])
      .map(([answer, count]) => `${answer}×${count}`)
      .join(', ');
    out(
      `Vote: ${result.vote.completed}/${result.vote.samples} samples, agreement ${(result.vote.agreement * 100).toFixed(0)}% (${votes || 'no answers'})`,
    );
  }
  if (result.governor) {
    const decision = result.governor;
    const escalations =
      decision.escalations.length > 0 ? `, escalations: ${decision.escalations.map((step) => JSON.stringify(step)).join(' ')}` : '';
    out(
      `Governor: difficulty ${decision.difficulty.bin} (agreement ${(decision.difficulty.agreement * 100).toFixed(0)}% over ${decision.difficulty.samples} probe samples) → ${decision.strategy}${escalations}`,
    );
    if (decision.bindings)
      out(`Bound: ${decision.bindings.map((bound) => `${bound.need}@${bound.tier} ${bound.card} → ${bound.model}`).join(', ')}`);
  }
  for (const [id, node] of Object.entries(result.nodes))
    if (node.capability) out(`Capability ${id}: ${node.capability.card} → ${node.capability.model}`);
  for (const [id, node] of Object.entries(result.nodes)) {
    if (!node.kv) continue;
    const { kv } = node;
    const share =
      kv.unprunedTokens > 0 ? ` (${((kv.peakKvTokens / kv.unprunedTokens) * 100).toFixed(0)}% of ${kv.unprunedTokens} unpruned)` : '';
    out(
      `KV cache ${id}: ${kv.tokensProcessed} tokens processed, ${kv.tokensErased} erased in ${kv.erasures} erasures, peak ${kv.peakKvTokens} cells${share}, final ${kv.finalKvTokens}; decode ${kv.decodeTokensPerSecond} tok/s over ${kv.overTime.length} tasks`,
    );
  }
  for (const note of result.degraded) out(pc.yellow(`Degraded: ${note}`));
  if (result.error) out(pc.red(`Error ${result.error.code}: ${result.error.message}`));
  const axes = Object.entries(result.spendByAxis);
  if (axes.length > 1) out(`Spend by axis: ${axes.map(([axis, line]) => `${axis} ${line.totalTokens} tok`).join(', ')}`);
  const limit = (value: number | undefined, format: (n: number) => string = String): string => (value === undefined ? '—' : format(value));
  out(
    table(
      ['', 'input tok', 'output tok', 'total tok', 'cost', 'calls'],
      [
        [
          'this run',
          result.usage.inputTokens,
          result.usage.outputTokens,
          result.usage.totalTokens,
          formatUsd(result.usage.costUsd),
          result.usage.calls,
        ],
        [
          '  new',
          result.newUsage.inputTokens,
          result.newUsage.outputTokens,
          result.newUsage.totalTokens,
          formatUsd(result.newUsage.costUsd),
          result.newUsage.calls,
        ],
        [
          `  replayed`,
          result.usage.inputTokens - result.newUsage.inputTokens,
          result.usage.outputTokens - result.newUsage.outputTokens,
          result.usage.totalTokens - result.newUsage.totalTokens,
          formatUsd(result.usage.costUsd - result.newUsage.costUsd),
          result.replayedCalls,
        ],
        [
          'budget',
          limit(result.budget.inputTokens),
          limit(result.budget.outputTokens),
          limit(result.budget.totalTokens),
          limit(result.budget.usd, formatUsd),
          limit(result.budget.calls),
        ],
      ],
    ),
  );
  if (result.simulated) out(pc.dim('Answers, usage, cost and latency come from the simulated fleet (sim:), not from a real model.'));
}
