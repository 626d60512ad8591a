/**
 * The study runner: every (suite item × architecture × budget × model × seed) cell runs under its own hard
 * per-query budget — the matched budget — with bounded concurrency, and is journaled as one step of the
 * study's run (`study-<id>`), its CellResult as the step output.
 *
 * Resume: re-running the same study id reads the finished cells and skips them; a cell that was in flight
 * when the process stopped runs again, and its model calls that had completed are replayed from the journal
 * by the fleet's recorder (no second payment). Adding budgets, models, architectures or seeds to a study
 * only adds cells; changing a suite's definition (which would change what an item id means) is refused.
 *
 * Optional study-wide caps (`limits`) live on one Ledger of which every cell's budget is a child, so they
 * hold across concurrent cells. A cell the remaining study budget could not cover in full is not started —
 * shrinking it would silently break the matched-budget comparison.
 */
import { setMaxListeners } from 'node:events';
import { UnpricedModelError, VirtualClock, systemClock, toThicketError, type Clock, type RunStatus } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import { Fleet, FleetResolver, TaskOracleRegistry, type FleetConfig, type ModelProfile } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { cascadeLadder, openFleet } from '../runtime/index.ts';
import { defaultArchitectures, type ArchitectureDefinition, type ArchitectureRegistry } from './architectures.ts';
import { buildSuite, registerSuiteTasks } from './suites/index.ts';
import { cellWriter, callsOnlyJournal } from './cell-journal.ts';
import { checkStudy, type StudyDefinition } from './study-file.ts';
import type { CellResult, CriticalityHook, LabTask, ModelFacts, SuiteInstance } from './types.ts';
import { modelFacts } from './model-facts.ts';

export const CELL_STEP_KIND = 'lab-cell';

export interface StudyProgress {
  total: number;
  /** Cells finished in this invocation plus those resumed from the journal. */
  done: number;
  resumed: number;
  failed: number;
  bySuite: Record<string, { total: number; done: number }>;
  newCalls: number;
  replayedCalls: number;
  newTokens: number;
}

export interface RunStudyOptions {
  journal: Journal;
  config?: FleetConfig;
  architectures?: ArchitectureRegistry;
  criticality?: CriticalityHook;
  /** Folder for generated corpora. */
  corpusDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: StudyProgress) => void;
  /** Clock override; by default virtual when every model is simulated (THICKET_SIM_CLOCK=real: wall clock). */
  clock?: Clock;
  /** Run a dollar-denominated study on models with no known price (their cells cost $0); default: refused (UNPRICED_MODEL). */
  allowUnpriced?: boolean;
}

export interface StudyRun {
  studyId: string;
  runId: string;
  status: RunStatus;
  simulated: boolean;
  /** What the analysis needs to know of each model the study referenced (cascade ladders included). */
  models: Record<string, ModelFacts>;
  resumed: boolean;
  /** Every finished cell (resumed and new), in plan order. */
  cells: CellResult[];
  counts: { planned: number; executed: number; resumed: number; failed: number; notStarted: number };
  /** (suite, architecture) pairs that cannot run, with the reason. */
  notRunnable: Array<{ suite: string; architecture: string; reason: string }>;
  failures: Array<{ stepId: string; code: string; message: string }>;
  calls: { new: number; replayed: number };
  /** New calls on the embedded engine: prompt tokens billed vs evaluated (absent when no call reported it). */
  promptTokens?: { billed: number; evaluated: number };
  newUsage: { totalTokens: number; usd: number };
  elapsedMs: number;
  suites: Array<{ name: string; kind: string; seed: number; items: number; description: string; corpusPath?: string }>;
}

interface PlannedCell {
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

export const studyRunId = (studyId: string): string => `study-${studyId}`;

function budgetLimits(study: StudyDefinition, budget: number): BudgetLimits {
  return study.budgetUnit === 'usd' ? { usd: budget } : { totalTokens: budget };
}

/** A usd budget in token-equivalents at the model's mean price (knobs scale in tokens). */
function tokenEquivalent(study: StudyDefinition, budget: number, profile: ModelProfile): number {
  if (study.budgetUnit === 'tokens') return budget;
  const perToken = (profile.priceInputPerMillion + profile.priceOutputPerMillion) / 2 / 1e6;
  return perToken > 0 ? budget / perToken : 100_000;
}

export async function runStudy(study: StudyDefinition, options: RunStudyOptions): Promise<StudyRun> {
  const started = performance.now();
  const config = options.config ?? { version: 1, models: {} };
  const registry = options.architectures ?? defaultArchitectures();
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
    for (const spec of study.suites) {
      const suite = buildSuite(spec, { seed, ...(options.corpusDir !== undefined ? { corpusDir: options.corpusDir } : {}) });
      registerSuiteTasks(oracle, suite);
      suites.push(suite);
    }
  }
  const notRunnable: StudyRun['notRunnable'] = [];
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

  const { journal } = options;
  const runId = studyRunId(study.id);
  const args = {
    suites: study.suites,
    maxOutputTokens: study.maxOutputTokens,
    budgetPolicy: study.budgetPolicy,
    budgetUnit: study.budgetUnit,
  };
  const { resumed } = journal.beginOrResumeRun({
    id: runId,
    command: 'study',
    query: `study:${study.id}`,
    args,
    seed: study.seeds[0] ?? null,
    simulated,
    budget: study.limits ?? {},
  });
  const finished = new Map<string, CellResult>();
  for (const row of journal.getSteps(runId))
    if (row.kind === CELL_STEP_KIND && row.status === 'ok' && row.output !== null) finished.set(row.stepId, row.output as CellResult);

  const progress: StudyProgress = {
    total: plan.length,
    done: 0,
    resumed: 0,
    failed: 0,
    bySuite: {},
    newCalls: 0,
    replayedCalls: 0,
    newTokens: 0,
  };
  for (const cell of plan) {
    const entry = (progress.bySuite[cell.suite.name] ??= { total: 0, done: 0 });
    entry.total++;
  }
  const results = new Array<CellResult | undefined>(plan.length);
  const pending: PlannedCell[] = [];
  for (const cell of plan) {
    const done = finished.get(cell.stepId);
    if (done) {
      results[cell.index] = done;
      progress.done++;
      progress.resumed++;
      progress.bySuite[cell.suite.name]!.done++;
    } else pending.push(cell);
  }
  options.onProgress?.({ ...progress });

  const studyLimits: BudgetLimits = {
    ...(study.limits?.usd !== undefined ? { usd: study.limits.usd } : {}),
    ...(study.limits?.tokens !== undefined ? { totalTokens: study.limits.tokens } : {}),
  };
  // Tokens per compute axis, per cell budget (the second path segment), from settled and replayed spend.
  const axes = new Map<string, Record<string, number>>();
  // Tokens per model, per cell (a cascade's split between its small and large model).
  const byModel = new Map<string, Record<string, number>>();
  let newUsd = 0;
  const track = (ledger: Ledger): Ledger => {
    ledger.onEvent((event) => {
      if (event.kind !== 'settle' && event.kind !== 'charge') return;
      const cell = event.budget.split('/')[1];
      if (cell === undefined) return;
      let record = axes.get(cell);
      if (!record) axes.set(cell, (record = {}));
      const axis = event.tags.axis ?? 'other';
      record[axis] = (record[axis] ?? 0) + event.amount.inputTokens + event.amount.outputTokens;
      const model = event.tags.model;
      if (model !== undefined) {
        let models = byModel.get(cell);
        if (!models) byModel.set(cell, (models = {}));
        models[model] = (models[model] ?? 0) + event.amount.inputTokens + event.amount.outputTokens;
      }
      if (event.kind === 'settle') {
        progress.newTokens += event.amount.inputTokens + event.amount.outputTokens;
        newUsd += event.amount.usd;
      }
    });
    return ledger;
  };
  // With study-wide caps every cell is a child of one ledger, so the caps hold across concurrent cells.
  // Without, each cell gets its own ledger: a study-long ledger would keep every budget it ever carved.
  const studyLedger =
    Object.keys(studyLimits).length > 0 ? track(new Ledger({ clock, limits: studyLimits, rootName: 'study' })) : undefined;
  // Embedded-engine calls: prompt tokens billed (each call's whole prompt) vs evaluated (shared prefixes copied).
  const promptTokens = { billed: 0, evaluated: 0 };
  for (const fleet of fleets.values()) {
    fleet.onEvent((event) => {
      if (event.type !== 'call-end') return;
      if (event.replayed) progress.replayedCalls++;
      else progress.newCalls++;
      if (!event.replayed && event.evaluatedPromptTokens !== undefined) {
        promptTokens.billed += event.usage.inputTokens;
        promptTokens.evaluated += event.evaluatedPromptTokens;
      }
    });
  }
  // One signal for every cell: each running workflow and call listens to it, so lift the default cap of 10.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const relay = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) relay();
  else options.signal?.addEventListener('abort', relay, { once: true });
  const signal = controller.signal;
  const writer = cellWriter(journal, runId);
  const failures: StudyRun['failures'] = [];
  let executed = 0;
  let studyBudgetHit = false;
  const maxPrice = Math.max(
    0,
    ...referenced.map((reference) => Math.max(profileOf(reference).priceInputPerMillion, profileOf(reference).priceOutputPerMillion)),
  );

  /** Whether the study's remaining budget covers this cell's whole matched budget. */
  const fits = (cell: PlannedCell): boolean => {
    if (!studyLedger) return true;
    const room = studyLedger.root.remaining();
    const tokens = study.budgetUnit === 'tokens' ? cell.budget : 0;
    const usd = study.budgetUnit === 'usd' ? cell.budget : (cell.budget * maxPrice) / 1e6;
    return room.totalTokens >= tokens && room.usd >= usd - 1e-12;
  };

  const runCell = async (cell: PlannedCell): Promise<void> => {
    const fleet = fleets.get(cell.seed)!;
    const profile = profileOf(cell.model);
    const ledger = studyLedger ?? track(new Ledger({ clock, rootName: 'study' }));
    const budget = ledger.root.child(`c${cell.index}`, { limits: budgetLimits(study, cell.budget) });
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
        cascadeModels: ladders.get(cell.model)!,
        journal: { journal: callsOnlyJournal(journal, cell.stepId), runId },
        stepPrefix: `${cell.stepId}/`,
        signal,
      });
      if (signal.aborted || outcome.status === 'cancelled') return;
      const spent = budget.spent();
      const criticality = options.criticality && outcome.graph ? await options.criticality(outcome.graph) : undefined;
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
        score: outcome.score ?? cell.suite.check(cell.task, outcome.answer),
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
        axes: axes.get(`c${cell.index}`) ?? {},
        byModel: byModel.get(`c${cell.index}`) ?? {},
        searchSteps: outcome.searchSteps,
        toolCalls: outcome.toolCalls,
        latencyMs: clock.now() - startedAt,
        degraded: outcome.degraded,
        simulated: outcome.simulated,
        graph: { nodes: outcome.graph?.nodes.length ?? 0, edges: outcome.graph?.edges.length ?? 0 },
        ...(criticality ? { criticality } : {}),
        meta: cell.task.meta,
      };
      results[cell.index] = result;
      executed++;
      writer.write({
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
      });
    } catch (caught) {
      if (signal.aborted) return;
      const error = toThicketError(caught);
      failures.push({ stepId: cell.stepId, code: error.code, message: error.message });
      progress.failed++;
      writer.write({ stepId: cell.stepId, kind: CELL_STEP_KIND, status: 'error', output: { error: error.toJSON() } });
    } finally {
      axes.delete(`c${cell.index}`);
      progress.done++;
      progress.bySuite[cell.suite.name]!.done++;
      options.onProgress?.({ ...progress });
    }
  };

  let next = 0;
  let journalFull: unknown;
  const worker = async (): Promise<void> => {
    while (next < pending.length) {
      if (signal.aborted || studyBudgetHit || journalFull) return;
      // The journal's last write failed (disk full): retry it; still failing, start nothing more — what runs
      // now could not be kept — and fail the study (a re-run resumes it).
      if (journal.storageFailure) {
        try {
          journal.flush();
        } catch (error) {
          journalFull = error;
          return;
        }
      }
      const cell = pending[next++]!;
      if (!fits(cell)) {
        studyBudgetHit = true;
        return;
      }
      await runCell(cell);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(study.concurrency, pending.length)) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', relay);
    writer.close();
  }
  // Still no room: raises JOURNAL_FULL (the cells finished meanwhile are kept in memory only, and run again on
  // resume). Room again: writes what was kept and goes on.
  if (journal.storageFailure) journal.flush();
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the journal's own (wrapped) error
  if (journalFull !== undefined) throw journalFull;
  const notStarted = pending.length - executed - failures.length;
  const status: RunStatus = signal.aborted ? 'cancelled' : studyBudgetHit ? 'budget_exhausted' : failures.length > 0 ? 'error' : 'ok';
  const cells = results.filter((result): result is CellResult => result !== undefined);
  journal.finishRun(runId, { status, usage: { cells: cells.length, failed: failures.length, newTokens: progress.newTokens, newUsd } });
  return {
    studyId: study.id,
    runId,
    status,
    simulated,
    models: Object.fromEntries(referenced.map((reference) => [reference, modelFacts(reference, profileOf(reference))])),
    resumed,
    cells,
    counts: { planned: plan.length, executed, resumed: progress.resumed, failed: failures.length, notStarted },
    notRunnable,
    failures: failures.slice(0, 50),
    calls: { new: progress.newCalls, replayed: progress.replayedCalls },
    ...(promptTokens.billed > 0 ? { promptTokens } : {}),
    newUsage: { totalTokens: progress.newTokens, usd: newUsd },
    elapsedMs: performance.now() - started,
    suites: suites.map((suite) => ({
      name: suite.name,
      kind: suite.kind,
      seed: suite.seed,
      items: suite.tasks.length,
      description: suite.description,
      ...(suite.corpusPath !== undefined ? { corpusPath: suite.corpusPath } : {}),
    })),
  };
}
