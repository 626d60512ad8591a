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
import { toThicketError, type Clock, type RunStatus } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import type { FleetConfig } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { defaultArchitectures, type ArchitectureRegistry } from './architectures.ts';
import { cellWriter } from './cell-journal.ts';
import { budgetLimits, CELL_STEP_KIND, cellWorstCase, executeCell, prepareStudy, type PlannedCell } from './study-cells.ts';
import type { StudyDefinition } from './study-file.ts';
import type { CellResult, CriticalityHook, ModelFacts, SuiteInstance } from './types.ts';
import { modelFacts } from './model-facts.ts';
import { runTimExperiment, type TimExperiment } from './tiny-thread-eval.ts';
import type { DispatchCells } from './queue/contract.ts';

export { CELL_STEP_KIND } from './study-cells.ts';

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
  /** Dollars of new (not replayed) calls so far. */
  newUsd: number;
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
  /**
   * Suites from elsewhere instead of the study's generated ones (a user's dataset: `thicket eval`). `identity`
   * stands for their definition in the journal, so resuming on a changed dataset is refused as a changed suite is.
   */
  suites?: { build(seed: number): SuiteInstance[]; identity: unknown };
  /**
   * Run the cells on queue workers instead of in this process (`thicket study --queue`, see lab/queue): the
   * dispatcher enqueues the pending cells and resolves once each is journaled (ok or error) by some worker.
   */
  dispatch?: DispatchCells;
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
  /** The study's TIM experiment (`tim` in the study file), when it has one and the cells were not cancelled. */
  tim?: TimExperiment;
  elapsedMs: number;
  suites: Array<{ name: string; kind: string; seed: number; items: number; description: string; corpusPath?: string }>;
}

export const studyRunId = (studyId: string): string => `study-${studyId}`;

export async function runStudy(study: StudyDefinition, options: RunStudyOptions): Promise<StudyRun> {
  const started = performance.now();
  const config = options.config ?? { version: 1, models: {} };
  const prepared = prepareStudy(study, {
    config,
    architectures: options.architectures ?? defaultArchitectures(),
    ...(options.corpusDir !== undefined ? { corpusDir: options.corpusDir } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.allowUnpriced !== undefined ? { allowUnpriced: options.allowUnpriced } : {}),
    ...(options.suites ? { suites: options.suites } : {}),
  });
  const { plan, suites, referenced, simulated, notRunnable } = prepared;
  const profileOf = (reference: string): ReturnType<typeof prepared.profileOf> => prepared.profileOf(reference);

  const { journal } = options;
  const runId = studyRunId(study.id);
  const args = {
    suites: options.suites ? options.suites.identity : study.suites,
    maxOutputTokens: study.maxOutputTokens,
    budgetPolicy: study.budgetPolicy,
    budgetUnit: study.budgetUnit,
    // Only when set, so studies journaled before it existed still resume.
    ...(study.optimize ? { optimize: study.optimize } : {}),
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
  const finished = finishedCells(journal, runId);

  const progress: StudyProgress = {
    total: plan.length,
    done: 0,
    resumed: 0,
    failed: 0,
    bySuite: {},
    newCalls: 0,
    replayedCalls: 0,
    newTokens: 0,
    newUsd: 0,
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

  // One signal for every cell: each running workflow and call listens to it, so lift the default cap of 10.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const relay = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) relay();
  else options.signal?.addEventListener('abort', relay, { once: true });
  const signal = controller.signal;
  const failures: StudyRun['failures'] = [];
  let executed = 0;
  let studyBudgetHit: boolean;
  // Embedded-engine calls: prompt tokens billed (each call's whole prompt) vs evaluated (shared prefixes copied).
  const promptTokens = { billed: 0, evaluated: 0 };

  if (options.dispatch) {
    // On queue workers: they journal each cell; what they report back feeds the progress bar, and the results
    // are read back from the journal (one source of truth, whichever worker ran a cell, retried or not).
    try {
      const outcome = await options.dispatch({
        study,
        runId,
        cells: pending.map((cell) => cell.stepId),
        signal,
        onCell: (report) => {
          if (report.outcome === 'no-room') return; // not started: counted in notStarted, as in-process
          progress.done++;
          if (report.outcome === 'error') progress.failed++;
          progress.newCalls += report.newCalls;
          progress.replayedCalls += report.replayedCalls;
          progress.newTokens += report.newTokens;
          progress.newUsd += report.newUsd;
          const suite = plan.find((cell) => cell.stepId === report.stepId)?.suite.name;
          if (suite !== undefined) progress.bySuite[suite]!.done++;
          options.onProgress?.({ ...progress });
        },
      });
      studyBudgetHit = outcome.budgetExhausted;
    } finally {
      options.signal?.removeEventListener('abort', relay);
    }
    const after = finishedCells(journal, runId);
    for (const cell of pending) {
      const result = after.get(cell.stepId);
      if (result) {
        results[cell.index] = result;
        executed++;
      }
    }
    for (const row of journal.getSteps(runId))
      if (row.kind === CELL_STEP_KIND && row.status === 'error') {
        const error = (row.output as { error?: { code?: string; message?: string } } | null)?.error;
        failures.push({ stepId: row.stepId, code: error?.code ?? 'ERROR', message: error?.message ?? 'cell failed' });
      }
  } else {
    const local = await runCellsHere(prepared, pending, { ...options, runId, signal, progress, results, failures, promptTokens });
    executed = local.executed;
    studyBudgetHit = local.budgetHit;
    options.signal?.removeEventListener('abort', relay);
  }
  const notStarted = pending.length - executed - failures.length;
  const status: RunStatus = signal.aborted ? 'cancelled' : studyBudgetHit ? 'budget_exhausted' : failures.length > 0 ? 'error' : 'ok';
  const cells = results.filter((result): result is CellResult => result !== undefined);
  const tim =
    study.tim && !signal.aborted
      ? await runTimExperiment(study.tim.model, { items: study.tim.items, bufferSize: study.tim.bufferSize })
      : undefined;
  journal.finishRun(runId, {
    status,
    usage: { cells: cells.length, failed: failures.length, newTokens: progress.newTokens, newUsd: progress.newUsd },
  });
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
    newUsage: { totalTokens: progress.newTokens, usd: progress.newUsd },
    ...(tim ? { tim } : {}),
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

/** The study's finished cells in the journal (errors are not finished: a re-run tries them again). */
export function finishedCells(journal: Journal, runId: string): Map<string, CellResult> {
  const finished = new Map<string, CellResult>();
  for (const row of journal.getSteps(runId))
    if (row.kind === CELL_STEP_KIND && row.status === 'ok' && row.output !== null) finished.set(row.stepId, row.output as CellResult);
  return finished;
}

interface LocalRun {
  runId: string;
  signal: AbortSignal;
  progress: StudyProgress;
  results: Array<CellResult | undefined>;
  failures: StudyRun['failures'];
  promptTokens: { billed: number; evaluated: number };
}

/** The in-process scheduler: `study.concurrency` cells at once, study-wide caps on one ledger. */
async function runCellsHere(
  prepared: ReturnType<typeof prepareStudy>,
  pending: PlannedCell[],
  options: RunStudyOptions & LocalRun,
): Promise<{ executed: number; budgetHit: boolean }> {
  const { study, fleets, clock } = prepared;
  const { journal, runId, signal, progress, results, failures, promptTokens } = options;
  const studyLimits: BudgetLimits = {
    ...(study.limits?.usd !== undefined ? { usd: study.limits.usd } : {}),
    ...(study.limits?.tokens !== undefined ? { totalTokens: study.limits.tokens } : {}),
  };
  const track = (ledger: Ledger): Ledger => {
    ledger.onEvent((event) => {
      if (event.kind !== 'settle') return;
      progress.newTokens += event.amount.inputTokens + event.amount.outputTokens;
      progress.newUsd += event.amount.usd;
    });
    return ledger;
  };
  // With study-wide caps every cell is a child of one ledger, so the caps hold across concurrent cells.
  // Without, each cell gets its own ledger: a study-long ledger would keep every budget it ever carved.
  const studyLedger =
    Object.keys(studyLimits).length > 0 ? track(new Ledger({ clock, limits: studyLimits, rootName: 'study' })) : undefined;
  const unsubscribe = [...fleets.values()].map((fleet) =>
    fleet.onEvent((event) => {
      if (event.type !== 'call-end') return;
      if (event.replayed) progress.replayedCalls++;
      else progress.newCalls++;
      if (!event.replayed && event.evaluatedPromptTokens !== undefined) {
        promptTokens.billed += event.usage.inputTokens;
        promptTokens.evaluated += event.evaluatedPromptTokens;
      }
    }),
  );
  const writer = cellWriter(journal, runId);
  let executed = 0;
  let studyBudgetHit = false;
  /**
   * Cells running now and their budgets: a cell started on room that running cells still need would be starved
   * by the study's cap mid-run, degraded, and scored as if the model had been wrong — so that room is kept.
   */
  const inFlight = new Map<number, { worst: { tokens: number; usd: number }; budget: ReturnType<Ledger['root']['child']> }>();
  /** Workers waiting for room: woken whenever a cell ends. */
  const cellEnded: Array<() => void> = [];
  /** Whether the study's remaining budget, less what running cells may still spend, covers this cell's whole budget. */
  const fits = (cell: PlannedCell): boolean => {
    if (!studyLedger) return true;
    const room = studyLedger.root.remaining();
    for (const { worst, budget } of inFlight.values()) {
      const committed = { spent: budget.spent(), reserved: budget.reserved() };
      room.totalTokens -= Math.max(0, worst.tokens - committed.spent.totalTokens - committed.reserved.totalTokens);
      room.usd -= Math.max(0, worst.usd - committed.spent.usd - committed.reserved.usd);
    }
    const { tokens, usd } = cellWorstCase(prepared, cell);
    return room.totalTokens >= tokens && room.usd >= usd - 1e-12;
  };

  const runCell = async (cell: PlannedCell): Promise<void> => {
    const ledger = studyLedger ?? track(new Ledger({ clock, rootName: 'study' }));
    const budget = ledger.root.child(`c${cell.index}`, { limits: budgetLimits(study, cell.budget) });
    if (studyLedger) inFlight.set(cell.index, { worst: cellWorstCase(prepared, cell), budget });
    try {
      const outcome = await executeCell(prepared, cell, {
        journal,
        runId,
        budget,
        signal,
        ...(options.criticality ? { criticality: options.criticality } : {}),
      });
      if (!outcome) return;
      results[cell.index] = outcome.result;
      executed++;
      writer.write(outcome.step);
    } catch (caught) {
      if (signal.aborted) return;
      const error = toThicketError(caught);
      failures.push({ stepId: cell.stepId, code: error.code, message: error.message });
      progress.failed++;
      writer.write({ stepId: cell.stepId, kind: CELL_STEP_KIND, status: 'error', output: { error: error.toJSON() } });
    } finally {
      inFlight.delete(cell.index);
      for (const wake of cellEnded.splice(0)) wake();
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
      // No room while other cells run: wait for one to end (it may leave room unspent); none running: the cap is hit.
      while (!fits(cell)) {
        if (inFlight.size === 0 || signal.aborted || studyBudgetHit) {
          studyBudgetHit = true;
          return;
        }
        await new Promise<void>((wake) => cellEnded.push(wake));
      }
      await runCell(cell);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(study.concurrency, pending.length)) }, worker));
  } finally {
    writer.close();
    for (const stop of unsubscribe) stop();
  }
  // Still no room: raises JOURNAL_FULL (the cells finished meanwhile are kept in memory only, and run again on
  // resume). Room again: writes what was kept and goes on.
  if (journal.storageFailure) journal.flush();
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the journal's own (wrapped) error
  if (journalFull !== undefined) throw journalFull;
  return { executed, budgetHit: studyBudgetHit };
}
