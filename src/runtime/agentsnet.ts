/**
 * The assembly of an AgentsNet run (network layer's benchmark) under one hard budget, journaled so that the
 * same run id reuses finished instances: fleet, ledger, journal run, outcome.
 */
import { toThicketError, type UsageTotals } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import {
  TASK_IDS,
  runAgentsNet,
  type AgentsNetProgress,
  type AgentsNetResult,
  type GraphFamily,
  type HistoryMode,
  type NetworkProtocol,
  type TaskId,
} from '../network/index.ts';
import { openFleet } from './fleet.ts';
import { checkDollarBudget } from './readiness.ts';
import { toTotals } from './result.ts';
import { newRunId, type SolveEnvironment } from './solve.ts';

export interface AgentsNetOptions {
  /** Default: the config's default model, else `sim:large`. */
  model?: string;
  tasks?: readonly TaskId[];
  sizes?: readonly number[];
  graphs?: readonly GraphFamily[];
  protocol?: NetworkProtocol;
  history?: HistoryMode;
  /** Graphs per family and size. */
  samples?: number;
  seed?: number;
  budget?: BudgetLimits;
  /** Accept a dollar limit on a model with no known price (not enforced on it); default: refused (UNPRICED_MODEL). */
  allowUnpriced?: boolean;
  concurrency?: number;
  instanceConcurrency?: number;
  /** Re-using a run id reuses the instances it finished (no calls). */
  runId?: string;
  signal?: AbortSignal;
  onProgress?: (event: AgentsNetProgress) => void;
}

export interface AgentsNetRun extends AgentsNetResult {
  runId: string;
  resumed: boolean;
  usage: UsageTotals;
  budget: BudgetLimits;
  error?: { code: string; message: string };
}

export const DEFAULT_AGENTSNET_RUN_SEED = 42;
const DEFAULT_SIZES = [4, 8, 16];

export async function agentsNetRun(options: AgentsNetOptions, environment: SolveEnvironment): Promise<AgentsNetRun> {
  const { config } = environment;
  const model = options.model ?? config.defaultModel ?? 'sim:large';
  const seed = options.seed ?? DEFAULT_AGENTSNET_RUN_SEED;
  const { fleet, clock, simulated } = openFleet({ config, seed, models: [model], simulatedClock: environment.simulatedClock });
  const limits = options.budget ?? {};
  // Before the journal: a dollar limit must be enforceable on the model (it has a price).
  checkDollarBudget(fleet, [model], limits, options.allowUnpriced === true);
  const ledger = new Ledger({ clock, limits });
  const journal = environment.journal();
  const runId = options.runId ?? newRunId('agentsnet');
  const tasks = options.tasks ?? TASK_IDS;
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const { resumed } = journal.beginOrResumeRun({
    id: runId,
    command: 'agentsnet',
    query: `agentsnet ${tasks.join(',')} @ ${sizes.join(',')}`,
    args: { model, tasks, sizes, graphs: options.graphs, protocol: options.protocol ?? 'plain', seed, samples: options.samples },
    seed,
    simulated,
    budget: limits,
  });
  let result: AgentsNetResult;
  try {
    result = await runAgentsNet({
      fleet,
      model,
      seed,
      budget: ledger.root,
      protocol: options.protocol ?? 'plain',
      journal: { journal, runId },
      tasks,
      sizes,
      ...(options.graphs ? { graphs: options.graphs } : {}),
      ...(options.samples !== undefined ? { samples: options.samples } : {}),
      ...(options.history ? { history: options.history } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.instanceConcurrency !== undefined ? { instanceConcurrency: options.instanceConcurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (error) {
    // The run row must not stay 'running' (runs ls would show it as in progress forever).
    const failure = toThicketError(error);
    journal.finishRun(runId, {
      status: failure.category === 'budget' ? 'budget_exhausted' : 'error',
      answer: null,
      error: failure.toJSON(),
      usage: toTotals(ledger.report().total),
    });
    throw failure;
  }
  // A run whose agents were refused calls by the budget did not succeed, even though every instance was scored
  // (silent agents answer None).
  const error =
    result.status === 'budget_exhausted'
      ? {
          code: 'BUDGET_EXHAUSTED',
          message:
            `Agents ran out of budget in ${result.budgetExhaustedInstances} of ${result.instances.length} instance(s); they fell silent and ` +
            `answered None. ${budgetLine(ledger)}`,
        }
      : undefined;
  const usage = toTotals(ledger.report().total);
  journal.finishRun(runId, { status: result.status, answer: null, error: error ?? null, usage });
  return { runId, resumed, usage, budget: limits, ...(error ? { error } : {}), ...result, simulated };
}

/** The limits that bound, with what was spent against them. */
function budgetLine(ledger: Ledger): string {
  const limits = ledger.root.limits;
  const spent = ledger.root.spent();
  const parts = (['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'calls'] as const)
    .filter((dimension) => limits[dimension] !== undefined)
    .map(
      (dimension) =>
        `${dimension}: limit ${limits[dimension]}, spent ${dimension === 'usd' ? spent[dimension].toFixed(6) : spent[dimension]}`,
    );
  return parts.length > 0 ? `Budget ${parts.join('; ')}.` : '';
}
