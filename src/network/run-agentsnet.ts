/**
 * runAgentsNet — the AgentsNet benchmark over tasks × sizes × graphs, with any fleet model (real, simulated
 * or a mixed fleet), either protocol and either history mode. Returns JSON-able results: every instance, the
 * (task × size) cells (mean ± SEM, solved rate, error propagation, rounds to agreement, calls, tokens,
 * dollars, wall time) and the AgentsNet score per size (mean over tasks, with its standard error).
 *
 * Resumable: given `{ journal, runId }`, every call goes through the journal's recorder, so re-running the
 * same configuration under the same run id replays finished calls (charging what they cost) and only makes
 * the missing ones; each instance is also recorded as a step. The caller owns the run row (begin/finish).
 *
 * @example
 *   const result = await runAgentsNet({ fleet, model: 'sim:large', tasks: ['coloring'], sizes: [4, 8, 16] });
 *   console.log(renderAgentsNetTable(result));
 */
import pLimit from 'p-limit';
import { BudgetExhaustedError } from '../core/index.ts';
import { Ledger, type Budget, type BudgetLimits } from '../budget/index.ts';
import type { Journal } from '../journal/index.ts';
import type { Fleet } from '../models/index.ts';
import { GRAPH_FAMILIES, type GraphFamily } from './agentsnet/generators.ts';
import { SAMPLES_PER_FAMILY, graphInstances, taskInstance } from './agentsnet/instances.ts';
import { runInstance, type InstanceResult } from './agentsnet/run-instance.ts';
import type { TaskId } from './agentsnet/score.ts';
import { TASK_IDS } from './agentsnet/tasks.ts';
import { equalShare, type HistoryMode, type NetworkProtocol } from './runtime.ts';

export interface AgentsNetRunOptions {
  fleet: Fleet;
  /** One reference, or several assigned round-robin over each graph's nodes (a mixed fleet). */
  model: string | readonly string[];
  tasks?: readonly TaskId[];
  sizes?: readonly number[];
  protocol?: NetworkProtocol;
  history?: HistoryMode;
  graphs?: readonly GraphFamily[];
  /** Graphs per family and size (default 3: 9 graphs per size). */
  samples?: number;
  seed?: number;
  /** Parent budget (default: an unlimited ledger on the fleet's clock); each instance gets an equal share of what is left. */
  budget?: Budget;
  /** Per-agent limits inside each instance (default: equal slices of the budget's headroom). */
  agentBudget?: BudgetLimits;
  /** Concurrent calls per round within an instance (default 64). */
  concurrency?: number;
  /** Instances run at once (default 1). */
  instanceConcurrency?: number;
  maxOutputTokens?: number;
  journal?: { journal: Journal; runId: string };
  signal?: AbortSignal;
  onProgress?: (event: AgentsNetProgress) => void;
}

export type AgentsNetProgress =
  | { type: 'instance-start'; index: number; total: number; task: TaskId; size: number; graph: string; rounds: number }
  | { type: 'round'; index: number; total: number; task: TaskId; size: number; graph: string; round: number; rounds: number; calls: number }
  | { type: 'instance-end'; index: number; total: number; result: InstanceResult };

export interface AgentsNetCell {
  task: TaskId;
  size: number;
  instances: number;
  scoreMean: number;
  scoreSem: number;
  solvedRate: number;
  errorPropagation: number;
  /** Mean over instances whose agents stated decisions; null when none did (e.g. free-text messages). */
  roundsToAgreement: number | null;
  /** Per instance, means. */
  calls: number;
  tokens: number;
  usd: number;
  wallMs: number;
}

export interface AgentsNetSizeScore {
  size: number;
  /** Mean over the tasks run of the per-task means. */
  score: number;
  /** Standard error of that mean (per-task SEMs combined). */
  sem: number;
  solvedRate: number;
}

export interface AgentsNetResult {
  schema: 'thicket.agentsnet.v1';
  model: string | string[];
  protocol: NetworkProtocol;
  history: string;
  seed: number;
  graphs: GraphFamily[];
  samples: number;
  tasks: TaskId[];
  sizes: number[];
  simulated: boolean;
  /**
   * 'budget_exhausted' when agents in any instance were refused calls by the budget (their silence and null
   * answers are then the budget's doing, not the model's); else 'ok'.
   */
  status: 'ok' | 'budget_exhausted';
  /** Instances in which at least one agent ran out of budget. */
  budgetExhaustedInstances: number;
  /** Instances taken from the journal of an earlier invocation of the same run. */
  reusedInstances: number;
  instances: InstanceResult[];
  cells: AgentsNetCell[];
  bySize: AgentsNetSizeScore[];
  totals: { calls: number; inputTokens: number; outputTokens: number; usd: number; wallMs: number };
}

export const DEFAULT_AGENTSNET_SEED = 42;
/** Journal step kind of one AgentsNet instance (its output is the InstanceResult, answers included). */
export const AGENTSNET_STEP_KIND = 'agentsnet-instance';
const STEP_KIND = AGENTSNET_STEP_KIND;

interface Usage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/** A stored instance result complete enough to stand in for a rerun (older journals lack the answers). */
function reusableResult(output: unknown, usage: unknown): { result: InstanceResult; usage: Usage } | undefined {
  const result = output as Partial<InstanceResult> | null;
  const spent = usage as Partial<Usage> | null;
  if (!result || !Array.isArray(result.answers) || typeof result.score !== 'number' || typeof result.calls !== 'number') return undefined;
  if (
    !spent ||
    typeof spent.calls !== 'number' ||
    typeof spent.inputTokens !== 'number' ||
    typeof spent.outputTokens !== 'number' ||
    typeof spent.usd !== 'number'
  )
    return undefined;
  return {
    result: result as InstanceResult,
    usage: { calls: spent.calls, inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, usd: spent.usd },
  };
}

/** Books a reused instance's recorded spend on its slice; false (run it again instead) if it no longer fits. */
function chargeReused(slice: Budget, usage: Usage): boolean {
  try {
    slice.charge(usage, { operator: 'agentsnet', axis: 'agents' });
    return true;
  } catch (error) {
    if (error instanceof BudgetExhaustedError) return false;
    throw error;
  }
}

export async function runAgentsNet(options: AgentsNetRunOptions): Promise<AgentsNetResult> {
  const tasks = [...(options.tasks ?? TASK_IDS)];
  const sizes = [...(options.sizes ?? [4, 8, 16])];
  const families = [...(options.graphs ?? GRAPH_FAMILIES)];
  const samples = options.samples ?? SAMPLES_PER_FAMILY;
  const seed = options.seed ?? DEFAULT_AGENTSNET_SEED;
  const protocol = options.protocol ?? 'plain';
  const history = options.history ?? { kind: 'persistent' };
  const historyLabel = history.kind === 'persistent' ? 'persistent' : `pruned-${history.keepRounds}`;
  const budget = options.budget ?? new Ledger({ clock: options.fleet.clock }).root;
  const recorder = options.journal ? options.journal.journal.recorder(options.journal.runId) : undefined;

  const plan = sizes.flatMap((size) => {
    const graphs = graphInstances(size, seed, families, samples);
    return tasks.flatMap((task) => graphs.map((graph) => taskInstance(task, graph)));
  });
  const limit = pLimit(options.instanceConcurrency ?? 1);
  // Resume: instances this run already finished (step status 'ok', full result stored) are reused as they
  // are — no calls, not even replayed ones — and their recorded spend is charged again (not paid again), so
  // the run's totals and budget stay honest. Anything else (exhausted, call errors, interrupted) runs again,
  // replaying whatever calls it had already made.
  const finished = new Map<string, { result: InstanceResult; usage: Usage }>();
  if (options.journal) {
    for (const step of options.journal.journal.getSteps(options.journal.runId)) {
      const stored = step.kind === STEP_KIND && step.status === 'ok' ? reusableResult(step.output, step.usage) : undefined;
      if (stored) finished.set(step.stepId, stored);
    }
  }
  const startedAt = performance.now();
  let started = 0;
  const instances = await Promise.all(
    plan.map((instance, index) =>
      limit(async () => {
        const where = { index, total: plan.length, task: instance.task, size: instance.size, graph: instance.id };
        const stepId = `agentsnet/${protocol}/${historyLabel}/${instance.task}/${instance.id}`;
        options.onProgress?.({ type: 'instance-start', ...where, rounds: instance.rounds });
        // Instances started later must not find the budget drained by earlier ones: each takes an equal
        // share of what is left for the instances not yet started.
        const slice = budget.child(`${instance.task}-${instance.id}`, { limits: equalShare(budget, plan.length - started++) });
        const reused = finished.get(stepId);
        if (reused && chargeReused(slice, reused.usage)) {
          const result: InstanceResult = { ...reused.result, replayedCalls: reused.result.calls, reused: true };
          options.onProgress?.({ type: 'instance-end', index, total: plan.length, result });
          return result;
        }
        options.journal?.journal.upsertStep(options.journal.runId, {
          stepId,
          kind: STEP_KIND,
          status: 'running',
          input: { task: instance.task, graph: instance.id, rounds: instance.rounds, protocol, history: historyLabel },
        });
        const result = await runInstance(instance, {
          fleet: options.fleet,
          budget: slice,
          model: options.model,
          protocol,
          history,
          stepId,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
          ...(options.agentBudget ? { agentBudget: options.agentBudget } : {}),
          ...(recorder ? { recorder } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (progress) =>
            options.onProgress?.({ type: 'round', ...where, round: progress.round, rounds: progress.rounds, calls: progress.calls }),
        });
        // Only a clean instance counts as finished: one whose agents ran out of budget or whose calls failed
        // is run again on resume (its recorded calls replay; the missing ones are made).
        const status = result.budgetExhaustedAgents > 0 ? 'budget_exhausted' : result.callErrors > 0 ? 'call_errors' : 'ok';
        options.journal?.journal.upsertStep(options.journal.runId, {
          stepId,
          kind: STEP_KIND,
          status,
          output: result,
          usage: { calls: result.calls, inputTokens: result.inputTokens, outputTokens: result.outputTokens, usd: result.usd },
        });
        options.onProgress?.({ type: 'instance-end', index, total: plan.length, result });
        return result;
      }),
    ),
  );
  const cells = tasks.flatMap((task) =>
    sizes.map((size) =>
      cellOf(
        task,
        size,
        instances.filter((entry) => entry.task === task && entry.size === size),
      ),
    ),
  );
  const bySize = sizes.map((size) => {
    const ofSize = cells.filter((cell) => cell.size === size);
    const score = mean(ofSize.map((cell) => cell.scoreMean));
    const sem = Math.sqrt(ofSize.reduce((sum, cell) => sum + cell.scoreSem ** 2, 0)) / Math.max(1, ofSize.length);
    return { size, score, sem, solvedRate: mean(ofSize.map((cell) => cell.solvedRate)) };
  });
  return {
    schema: 'thicket.agentsnet.v1',
    model: typeof options.model === 'string' ? options.model : [...options.model],
    protocol,
    history: historyLabel,
    seed,
    graphs: families,
    samples,
    tasks,
    sizes,
    simulated: instances.length > 0 && instances.every((entry) => entry.simulated),
    status: instances.some((entry) => entry.budgetExhaustedAgents > 0) ? 'budget_exhausted' : 'ok',
    budgetExhaustedInstances: instances.filter((entry) => entry.budgetExhaustedAgents > 0).length,
    reusedInstances: instances.filter((entry) => entry.reused).length,
    instances,
    cells,
    bySize,
    totals: {
      calls: sum(instances.map((entry) => entry.calls)),
      inputTokens: sum(instances.map((entry) => entry.inputTokens)),
      outputTokens: sum(instances.map((entry) => entry.outputTokens)),
      usd: sum(instances.map((entry) => entry.usd)),
      wallMs: performance.now() - startedAt,
    },
  };
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : sum(values) / values.length);

/** Standard error of the mean (sample standard deviation / √n); 0 for fewer than two values. */
export function standardError(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  const variance = values.reduce((total, value) => total + (value - average) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

function cellOf(task: TaskId, size: number, results: readonly InstanceResult[]): AgentsNetCell {
  const agreed = results.map((entry) => entry.roundsToAgreement).filter((value): value is number => value !== null);
  return {
    task,
    size,
    instances: results.length,
    scoreMean: mean(results.map((entry) => entry.score)),
    scoreSem: standardError(results.map((entry) => entry.score)),
    solvedRate: mean(results.map((entry) => (entry.solved ? 1 : 0))),
    errorPropagation: mean(results.map((entry) => entry.errorPropagation)),
    roundsToAgreement: agreed.length > 0 ? mean(agreed) : null,
    calls: mean(results.map((entry) => entry.calls)),
    tokens: mean(results.map((entry) => entry.inputTokens + entry.outputTokens)),
    usd: mean(results.map((entry) => entry.usd)),
    wallMs: mean(results.map((entry) => entry.wallMs)),
  };
}

/** One JSON line per instance (without the per-agent answers), for `--out results.jsonl`. */
export function agentsNetJsonl(result: AgentsNetResult): string {
  return (
    result.instances
      .map((entry) => JSON.stringify({ schema: result.schema, model: result.model, seed: result.seed, ...entry }))
      .join('\n') + (result.instances.length > 0 ? '\n' : '')
  );
}

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  return String(Math.round(value));
}

/** The (task × size) table as aligned plain text; per-instance means for calls, tokens, dollars, wall time. */
export function renderAgentsNetTable(result: AgentsNetResult): string {
  const head = ['task', 'N', 'score (mean ± SEM)', 'solved', 'err. prop.', 'rounds→agree', 'calls', 'tokens', 'usd', 'wall'];
  const rows = result.cells.map((cell) => [
    cell.task,
    String(cell.size),
    `${cell.scoreMean.toFixed(2)} ± ${cell.scoreSem.toFixed(2)}`,
    `${Math.round(cell.solvedRate * 100)}%`,
    cell.errorPropagation.toFixed(3),
    cell.roundsToAgreement === null ? '—' : cell.roundsToAgreement.toFixed(1),
    compact(cell.calls),
    compact(cell.tokens),
    `$${cell.usd.toFixed(cell.usd < 1 ? 4 : 2)}`,
    `${(cell.wallMs / 1000).toFixed(1)}s`,
  ]);
  for (const size of result.bySize)
    rows.push([
      'AgentsNet score',
      String(size.size),
      `${size.score.toFixed(2)} ± ${size.sem.toFixed(2)}`,
      `${Math.round(size.solvedRate * 100)}%`,
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
  const widths = head.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column < 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  const model = Array.isArray(result.model) ? result.model.join('+') : result.model;
  const title =
    `AgentsNet — ${model}, ${result.protocol} protocol, ${result.history} history, ${result.samples} graph(s) per family (` +
    `${result.graphs.join(', ')}), seed ${result.seed}${result.simulated ? ' — SIMULATED' : ''}`;
  const footer =
    'calls, tokens, usd and wall are per instance (means); err. prop. = share of agents whose failed answer rests on a wrong claim they adopted.';
  return [title, line(head), ...rows.map(line), footer].join('\n');
}
