/**
 * Shared test harness for operators: an OpContext over the simulated fleet on a VirtualClock (tests never
 * sleep), with a Ledger of given limits, a Trace, and a TaskOracleRegistry holding registered tasks
 * (typically generated arithmetic chains). Kept general so every operator's tests can use it:
 *
 *   const h = createOpHarness({ tasks: arithmeticTaskSet({ count: 120, minDifficulty: 1, maxDifficulty: 2.5 }) });
 *   const { context } = h.fresh({ taskId: 'chain-0', limits: { usd: 0.01 } });
 *   const result = await sample(context, { samples: 9, prompt: h.prompt('chain-0') });
 *   h.isCorrect('chain-0', result.answer);
 *
 * Accuracy tests run many items; `fresh()` gives each item its own ledger and trace over the same fleet (so
 * per-item spend is readable), and `mapConcurrent` runs items in parallel in virtual time.
 */
import { VirtualClock, createRng, normalizeAnswer } from '../../core/index.ts';
import { Ledger, type Budget, type BudgetLimits } from '../../budget/index.ts';
import {
  Fleet,
  FleetResolver,
  TaskOracleRegistry,
  generateArithmeticChain,
  makeArithmeticTask,
  type FleetConfig,
  type RetryPolicy,
  type SimTask,
} from '../../models/index.ts';
import type { OpContext } from '../context.ts';
import { Trace } from '../trace.ts';

export interface ArithmeticTaskSetOptions {
  count: number;
  /** Seed of the generator (default 2024); the same options always give the same tasks. */
  seed?: number;
  /** Task ids are `${prefix}-${n}` (default `chain`). */
  prefix?: string;
  /** Operations per chain: a number, or an inclusive [min, max] range (default [3, 4]). */
  operations?: number | [number, number];
  /** Keep only tasks whose oracle difficulty lies in [minDifficulty, maxDifficulty]. */
  minDifficulty?: number;
  maxDifficulty?: number;
  maxOperand?: number;
  maxFactor?: number;
}

/**
 * Generated multi-step arithmetic tasks (difficulty and distractors from the sim's oracle), filtered to a
 * difficulty band. Throws if the band is so narrow that the generator cannot fill it.
 */
export function arithmeticTaskSet(options: ArithmeticTaskSetOptions): SimTask[] {
  const rng = createRng(options.seed ?? 2024);
  const [minOps, maxOps] =
    typeof options.operations === 'number' ? [options.operations, options.operations] : (options.operations ?? [3, 4]);
  const low = options.minDifficulty ?? -Infinity;
  const high = options.maxDifficulty ?? Infinity;
  const tasks: SimTask[] = [];
  const seen = new Set<string>();
  for (let attempts = 0; tasks.length < options.count; attempts++) {
    if (attempts > options.count * 2000)
      throw new RangeError(`Could not generate ${options.count} tasks with difficulty in [${low}, ${high}]`);
    const expression = generateArithmeticChain(rng, {
      operations: minOps + rng.int(maxOps - minOps + 1),
      ...(options.maxOperand !== undefined ? { maxOperand: options.maxOperand } : {}),
      ...(options.maxFactor !== undefined ? { maxFactor: options.maxFactor } : {}),
    });
    if (seen.has(expression)) continue;
    const task = makeArithmeticTask(`${options.prefix ?? 'chain'}-${tasks.length}`, expression);
    if (task.difficulty < low || task.difficulty > high) continue;
    seen.add(expression);
    tasks.push(task);
  }
  return tasks;
}

export interface OpHarnessOptions {
  /** Fleet seed (default 7): with the call identities, determines every simulated outcome. */
  seed?: number;
  /** Default model of the contexts (default `sim:medium`). */
  model?: string;
  /** Limits of the default context's root ledger (default: unlimited). */
  limits?: BudgetLimits;
  /** Tasks to register with the oracle. */
  tasks?: Iterable<SimTask>;
  /** Use an existing registry (e.g. shared between harnesses); `tasks` are added to it. */
  registry?: TaskOracleRegistry;
  /** Fleet config (aliases, sim profile overrides); default: none, so `sim:<profile>` references only. */
  config?: FleetConfig;
  /** Step id of the default context (default `op`). */
  stepId?: string;
  /** Task id of the default context. */
  taskId?: string;
  retry?: Partial<RetryPolicy>;
}

export interface FreshContextOptions {
  taskId?: string;
  /** Root ledger limits of the new context. */
  limits?: BudgetLimits;
  /** When given, the context's budget is a child of the root with these limits (the operator's slice). */
  slice?: BudgetLimits;
  model?: string;
  stepId?: string;
}

export interface FreshContext {
  context: OpContext;
  ledger: Ledger;
  trace: Trace;
  /** The context's budget (the root, or the slice when one was asked for). */
  budget: Budget;
}

export interface OpHarness {
  clock: VirtualClock;
  fleet: Fleet;
  tasks: TaskOracleRegistry;
  ledger: Ledger;
  trace: Trace;
  /** The default context: root ledger with the harness limits, default model and step id. */
  context: OpContext;
  /** A new context over the same fleet and clock, with its own ledger and trace. */
  fresh(options?: FreshContextOptions): FreshContext;
  /** A registered task's prompt. */
  prompt(taskId: string): string;
  /** A registered task's canonical answer. */
  answer(taskId: string): string;
  /** Whether `answer` equals the task's canonical answer after normalisation. */
  isCorrect(taskId: string, answer: string | undefined): boolean;
}

export function createOpHarness(options: OpHarnessOptions = {}): OpHarness {
  const seed = options.seed ?? 7;
  const clock = new VirtualClock();
  const tasks = options.registry ?? new TaskOracleRegistry();
  if (options.tasks) tasks.registerTasks(options.tasks);
  const resolver = new FleetResolver({ config: options.config ?? { version: 1, models: {} }, clock, seed, tasks });
  const fleet = new Fleet({ resolver, clock, seed, ...(options.retry ? { retry: options.retry } : {}) });
  const model = options.model ?? 'sim:medium';
  const task = (taskId: string): SimTask => {
    const found = tasks.getTask(taskId);
    if (!found) throw new RangeError(`No registered task "${taskId}"`);
    return found;
  };
  const fresh = (choice: FreshContextOptions = {}): FreshContext => {
    const ledger = new Ledger({ clock, ...(choice.limits ? { limits: choice.limits } : {}) });
    const trace = new Trace(clock);
    const budget = choice.slice ? ledger.root.child('op', { limits: choice.slice }) : ledger.root;
    const taskId = choice.taskId ?? options.taskId;
    const context: OpContext = {
      fleet,
      budget,
      trace,
      stepId: choice.stepId ?? options.stepId ?? 'op',
      model: choice.model ?? model,
      ...(taskId !== undefined ? { taskId } : {}),
    };
    return { context, ledger, trace, budget };
  };
  const base = fresh(options.limits ? { limits: options.limits } : {});
  return {
    clock,
    fleet,
    tasks,
    ledger: base.ledger,
    trace: base.trace,
    context: base.context,
    fresh,
    prompt: (taskId) => task(taskId).prompt,
    answer: (taskId) => task(taskId).answer,
    isCorrect: (taskId, answer) => answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(task(taskId).answer),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Share of `flags` that are true. */
export const rate = (flags: readonly boolean[]): number => mean(flags.map((flag) => (flag ? 1 : 0)));
