/**
 * A study's cells, apart from how they are scheduled: `prepareStudy` turns a study definition into its cell
 * plan (suites per seed, fleets per seed, one cell per item × architecture × budget × model), and `executeCell`
 * runs one cell under its matched budget. The in-process runner (runner.ts) and the queue workers
 * (queue/worker.ts) both use them, so a cell means the same thing — and scores the same — wherever it runs:
 * the plan is a pure function of the definition (the seeds drive the suites and the simulated fleet).
 */
import { UnpricedModelError, VirtualClock, systemClock, type Clock } from '../core/index.ts';
import type { Budget, BudgetLimits } from '../budget/index.ts';
import { Fleet, FleetResolver, TaskOracleRegistry, type FleetConfig, type ModelProfile } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { cascadeLadder, openFleet } from '../runtime/index.ts';
import type { ArchitectureDefinition, ArchitectureRegistry } from './architectures.ts';
import { buildSuite, registerSuiteTasks } from './suites/index.ts';
import { callsOnlyJournal } from './cell-journal.ts';
import { checkStudy, type StudyDefinition } from './study-file.ts';
import type { CellResult, CriticalityHook, LabTask, SuiteInstance } from './types.ts';

export const CELL_STEP_KIND = 'lab-cell';

export interface PlannedCell {
  index: number;
  stepId: string;
  suite: SuiteInstance;
  task: LabTask;
  architecture: string;
  definition: ArchitectureDefinition;
  parameter: number | undefined;
  budget: number;
  model: string;
  seed: number;
}

export interface PrepareStudyOptions {
  config: FleetConfig;
  architectures: ArchitectureRegistry;
  /** Folder for generated corpora. */
  corpusDir?: string;
  clock?: Clock;
  allowUnpriced?: boolean;
  suites?: { build(seed: number): SuiteInstance[]; identity: unknown };
}

/** Everything a cell needs, built once per study (per process). */
export interface PreparedStudy {
  study: StudyDefinition;
  plan: PlannedCell[];
  suites: SuiteInstance[];
  fleets: Map<number, Fleet>;
  /** Model references the study runs, cascade ladders included. */
  referenced: string[];
  ladders: Map<string, string[]>;
  simulated: boolean;
  clock: Clock;
  notRunnable: Array<{ suite: string; architecture: string; reason: string }>;
  profileOf(reference: string): ModelProfile;
}

export function budgetLimits(study: StudyDefinition, budget: number): BudgetLimits {
  return study.budgetUnit === 'usd' ? { usd: budget } : { totalTokens: budget };
}

/** A usd budget in token-equivalents at the model's mean price (knobs scale in tokens). */
function tokenEquivalent(study: StudyDefinition, budget: number, profile: ModelProfile): number {
  if (study.budgetUnit === 'tokens') return budget;
  const perToken = (profile.priceInputPerMillion + profile.priceOutputPerMillion) / 2 / 1e6;
  return perToken > 0 ? budget / perToken : 100_000;
}

export function prepareStudy(study: StudyDefinition, options: PrepareStudyOptions): PreparedStudy {
  const { config } = options;
  const registry = options.architectures;
  const probe = new FleetResolver({ config, clock: systemClock, seed: 0 });
  checkStudy(study, registry, probe, study.source ? `study ${study.source}` : 'study');
  const profiles = new Map<string, ModelProfile>();
  const profileOf = (reference: string): ModelProfile => {
    let profile = profiles.get(reference);
    if (!profile) profiles.set(reference, (profile = probe.resolve(reference).profile));
    return profile;
  };
  const ladders = new Map(study.models.map((model) => [model, cascadeLadder(model, config)]));
  const referenced = [...new Set([...ladders.values()].flat())];
  const simulated = referenced.every((reference) => profileOf(reference).simulated);
  // Dollar budgets on a model with no price would all be $0 (every budget the same, none enforced): refused
  // before anything is journaled or sent.
  if ((study.budgetUnit === 'usd' || study.limits?.usd !== undefined) && options.allowUnpriced !== true) {
    const unpriced = referenced.filter((reference) => profileOf(reference).unpriced === true);
    if (unpriced.length > 0) throw new UnpricedModelError(unpriced);
  }
  const clock = options.clock ?? (simulated && process.env['THICKET_SIM_CLOCK'] !== 'real' ? new VirtualClock() : systemClock);
  const oracle = new TaskOracleRegistry();

  // Suites per seed, fleets per seed (the seed drives the sim and the generators), then the cell plan.
  const suites: SuiteInstance[] = [];
  const fleets = new Map<number, Fleet>();
  for (const seed of study.seeds) {
    fleets.set(seed, openFleet({ config, seed, models: referenced, clock, tasks: oracle }).fleet);
    const built =
      options.suites?.build(seed) ??
      study.suites.map((spec) => buildSuite(spec, { seed, ...(options.corpusDir !== undefined ? { corpusDir: options.corpusDir } : {}) }));
    for (const suite of built) {
      registerSuiteTasks(oracle, suite);
      suites.push(suite);
    }
  }
  const notRunnable: PreparedStudy['notRunnable'] = [];
  const plan: PlannedCell[] = [];
  for (const suite of suites) {
    const runnable = study.architectures.flatMap((architecture) => {
      const parsed = registry.parse(architecture);
      if ('problem' in parsed) return [];
      const reason = parsed.definition.unsupported(suite);
      if (reason !== undefined) {
        if (!notRunnable.some((entry) => entry.suite === suite.name && entry.architecture === architecture))
          notRunnable.push({ suite: suite.name, architecture, reason });
        return [];
      }
      return [{ architecture, ...parsed }];
    });
    for (const task of suite.tasks) {
      for (const model of study.models) {
        for (const budget of study.budgets) {
          for (const { architecture, definition, parameter } of runnable) {
            const stepId = `c/${task.id}/${architecture}/${budget}${study.budgetUnit === 'usd' ? 'usd' : ''}/${model}`;
            plan.push({ index: plan.length, stepId, suite, task, architecture, definition, parameter, budget, model, seed: suite.seed });
          }
        }
      }
    }
  }
  return { study, plan, suites, fleets, referenced, ladders, simulated, clock, notRunnable, profileOf };
}

/** The most a cell can spend: its whole matched budget (tokens at the dearest model's price). */
export function cellWorstCase(prepared: PreparedStudy, cell: PlannedCell): { tokens: number; usd: number } {
  const { study } = prepared;
  const maxPrice = Math.max(
    0,
    ...prepared.referenced.map((reference) =>
      Math.max(prepared.profileOf(reference).priceInputPerMillion, prepared.profileOf(reference).priceOutputPerMillion),
    ),
  );
  return {
    tokens: study.budgetUnit === 'tokens' ? cell.budget : 0,
    usd: study.budgetUnit === 'usd' ? cell.budget : (cell.budget * maxPrice) / 1e6,
  };
}

/** What a finished cell leaves: its result, or nothing when it was cancelled mid-way (it runs again on resume). */
export type CellOutcome = { result: CellResult; step: CellStep } | undefined;

/** The journal step a finished cell is kept as. */
export interface CellStep {
  stepId: string;
  kind: typeof CELL_STEP_KIND;
  status: 'ok';
  input: Record<string, unknown>;
  output: CellResult;
}

/**
 * Runs one cell under `budget` (a child budget carrying the cell's matched limits), its model calls recorded and
 * replayed in the study's run under the cell's own namespace. Throws what the architecture threw.
 */
export async function executeCell(
  prepared: PreparedStudy,
  cell: PlannedCell,
  context: { journal: Journal; runId: string; budget: Budget; signal: AbortSignal; criticality?: CriticalityHook },
): Promise<CellOutcome> {
  const { study, clock } = prepared;
  const { budget, signal } = context;
  const fleet = prepared.fleets.get(cell.seed)!;
  const profile = prepared.profileOf(cell.model);
  // Tokens per compute axis and per model, from this cell's settled and replayed spend.
  const axes: Record<string, number> = {};
  const byModel: Record<string, number> = {};
  const within = (path: string): boolean => path === budget.path || path.startsWith(`${budget.path}/`);
  const stopTracking = budget.ledger.onEvent((event) => {
    if ((event.kind !== 'settle' && event.kind !== 'charge') || !within(event.budget)) return;
    const tokens = event.amount.inputTokens + event.amount.outputTokens;
    const axis = event.tags.axis ?? 'other';
    axes[axis] = (axes[axis] ?? 0) + tokens;
    const model = event.tags.model;
    if (model !== undefined) byModel[model] = (byModel[model] ?? 0) + tokens;
  });
  const startedAt = clock.now();
  try {
    const outcome = await cell.definition.run({
      task: cell.task,
      suite: cell.suite,
      fleet,
      budget,
      budgetTokens: tokenEquivalent(study, cell.budget, profile),
      model: cell.model,
      parameter: cell.parameter,
      maxOutputTokens: study.maxOutputTokens,
      budgetPolicy: study.budgetPolicy,
      ...(study.optimize ? { optimize: study.optimize } : {}),
      cascadeModels: prepared.ladders.get(cell.model)!,
      journal: { journal: callsOnlyJournal(context.journal, cell.stepId), runId: context.runId },
      stepPrefix: `${cell.stepId}/`,
      signal,
    });
    if (signal.aborted || outcome.status === 'cancelled') return undefined;
    const spent = budget.spent();
    const criticality = context.criticality && outcome.graph ? await context.criticality(outcome.graph) : undefined;
    const result: CellResult = {
      suite: cell.suite.name,
      taskId: cell.task.id,
      architecture: cell.architecture,
      base: cell.definition.name,
      family: cell.definition.family,
      budget: cell.budget,
      budgetUnit: study.budgetUnit,
      model: cell.model,
      seed: cell.seed,
      score:
        outcome.score ??
        (cell.suite.score ? await cell.suite.score(cell.task, outcome.answer, outcome.reply) : cell.suite.check(cell.task, outcome.answer)),
      answer: outcome.answer ?? null,
      status: outcome.status,
      difficulty: cell.task.difficulty,
      usage: {
        inputTokens: spent.inputTokens,
        outputTokens: spent.outputTokens,
        totalTokens: spent.totalTokens,
        usd: spent.usd,
        calls: spent.calls,
      },
      axes,
      byModel,
      searchSteps: outcome.searchSteps,
      toolCalls: outcome.toolCalls,
      latencyMs: clock.now() - startedAt,
      degraded: outcome.degraded,
      simulated: outcome.simulated,
      graph: { nodes: outcome.graph?.nodes.length ?? 0, edges: outcome.graph?.edges.length ?? 0 },
      ...(criticality ? { criticality } : {}),
      meta: cell.task.meta,
    };
    const step: CellStep = {
      stepId: cell.stepId,
      kind: CELL_STEP_KIND,
      status: 'ok',
      input: {
        suite: cell.suite.name,
        taskId: cell.task.id,
        architecture: cell.architecture,
        budget: cell.budget,
        model: cell.model,
        seed: cell.seed,
        answer: cell.task.answer,
        difficulty: cell.task.difficulty,
      },
      output: result,
    };
    return { result, step };
  } finally {
    stopTracking();
  }
}
