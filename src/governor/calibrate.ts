/**
 * `governor calibrate`: the data the governor's policy is fitted from. On a task suite whose answers can be
 * checked, it runs — for every item —
 *
 *   - EVERY cascade stage (stage 0 is exactly the difficulty probe: same model, samples and step ids, so its
 *     signals are the ones the router sees at run time), recording per stage the answer, whether the checker
 *     accepts it, its signals (agreement, mean self-confidence, optionally a verifier's score) and its cost;
 *   - EVERY candidate allocation arm at every budget level, through `governedSolve` with the arm forced,
 *     recording the probe's difficulty bin, correctness and spend;
 *
 * Arms are measured under the calibrating policy's cascade, so the usual loop is two passes: calibrate the
 * stages, fit, then calibrate the arms with the fitted policy (`stages: false`) and fit the allocation.
 *
 * It journals each observation as a step of one run (command `governor calibrate`): kind `calibration` for
 * stages, kind `allocation` for arms. `readCalibration` reads them back for `governor fit`. Each item and arm
 * runs under its own fresh ledger (the budget level is the hard limit of that ledger).
 */
import { randomBytes } from 'node:crypto';
import { BudgetExhaustedError, addToTotals, emptyTotals, type UsageTotals } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import { callsOnlyJournal, namespacedRecorder, type Journal } from '../journal/index.ts';
import { Trace, childContext, sample, verify, type Checker, type OpContext, type Retriever } from '../ops/index.ts';
import { DEFAULT_SYSTEM_PROMPT } from '../workflow/index.ts';
import { armKey, type ArmRecord } from './allocation.ts';
import { fleetBinder, type CapabilityBinder } from './binder.ts';
import type { CalibrationRecord, StageObservation } from './cascade-fit.ts';
import { DEFAULT_POLICY, type AllocationCell, type ConfidenceSignal, type GovernorPolicy } from './policy.ts';
import { VOTE_TEMPERATURE, probeDifficulty, summarise } from './probe.ts';
import { governedSolve, routerStages } from './solve.ts';
import { toCandidate } from './router.ts';

export const CALIBRATE_COMMAND = 'governor calibrate';
export const STAGE_STEP_KIND = 'calibration';
export const ARM_STEP_KIND = 'allocation';

export interface CalibrationItem {
  id: string;
  prompt: string;
  checker: Checker;
  /** Registered sim task id (the oracle then grades by id, not by parsing the prompt). */
  taskId?: string;
}

/** The arms tried at every level unless told otherwise. */
export const DEFAULT_CANDIDATE_ARMS: readonly AllocationCell[] = [
  { arm: 'stop' },
  { arm: 'vote', samples: 5, lead: 3 },
  { arm: 'vote', samples: 9, lead: 3 },
  { arm: 'vote', samples: 15, lead: 3 },
  { arm: 'vote', samples: 15 },
  { arm: 'cascade' },
  { arm: 'cascade', escalate: true },
  { arm: 'cascade', escalate: true, tier: 'large' },
  { arm: 'thread', steps: 16 },
];

/** Candidate arms for a suite with a corpus: the closed-book arms worth trying there, and search at several depths. */
export const CORPUS_CANDIDATE_ARMS: readonly AllocationCell[] = [
  { arm: 'stop' },
  { arm: 'vote', samples: 9, lead: 3 },
  { arm: 'cascade', escalate: true, tier: 'large' },
  { arm: 'search', steps: 2, k: 3 },
  { arm: 'search', steps: 4, k: 3 },
  { arm: 'search', steps: 6, k: 3 },
  { arm: 'search', steps: 4, k: 3, tier: 'medium' },
];

export interface CalibrateOptions {
  fleet: Fleet;
  journal: Journal;
  items: readonly CalibrationItem[];
  runId?: string;
  /** Starting model (default sim:small). */
  model?: string;
  binder?: CapabilityBinder;
  /** Policy whose probe, cascade stages (tiers, samples) and difficulty bins are calibrated (default DEFAULT_POLICY). */
  policy?: GovernorPolicy;
  /** Run the cascade stages (default true); false when only the arms are being re-measured. */
  stages?: boolean;
  /** Budget levels for the arms (default: the policy's levels); [] skips the arm runs. */
  levels?: readonly number[];
  arms?: readonly AllocationCell[];
  /**
   * The suite's corpus: every arm runs with it (search joins the strategy space) and the records fit the
   * policy's corpus table. Give `arms` including search cells (e.g. CORPUS_CANDIDATE_ARMS).
   */
  retriever?: Retriever;
  /** Also score each non-final stage with a verifier call (costs one judge call per stage). */
  verifier?: boolean;
  maxOutputTokens?: number;
  seed?: number;
  simulated?: boolean;
  /** Called after each item (progress), with what the calibration has spent so far. */
  onItem?: (index: number, total: number, spent: UsageTotals) => void;
  /**
   * Most dollars the whole calibration may spend: each stage and arm runs under what is left of it (a hard
   * limit of its ledger), and the calibration stops (status `budget_exhausted`) once it is gone.
   */
  maxUsd?: number;
}

export interface CalibrateSummary {
  runId: string;
  items: number;
  stageSteps: number;
  armSteps: number;
  /** Everything the calibration spent (every call is journaled in run `runId`). */
  usage: UsageTotals;
  status: 'ok' | 'budget_exhausted';
}

export async function calibrate(options: CalibrateOptions): Promise<CalibrateSummary> {
  const fleet = options.fleet;
  const policy = options.policy ?? DEFAULT_POLICY;
  const start = options.model ?? 'sim:small';
  const binder = options.binder ?? fleetBinder(fleet, start);
  const levels = options.levels ?? policy.allocation.levels;
  const arms = options.arms ?? DEFAULT_CANDIDATE_ARMS;
  const maxOutputTokens = options.maxOutputTokens ?? 384;
  // The router's stages for this start; stage 0 is the probe (the router reuses it as its first stage).
  const stages = routerStages(policy, binder, {}, fleet.model(start).profile.tier, start).map((stage, index) =>
    index === 0 ? { ...stage, samples: policy.probe.samples } : stage,
  );
  const runId =
    options.runId ?? `calibrate-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const simulated = options.simulated ?? stages.every((stage) => fleet.model(stage.model).profile.simulated);
  options.journal.beginOrResumeRun({
    id: runId,
    command: CALIBRATE_COMMAND,
    query: `calibration suite (${options.items.length} items)`,
    args: {
      model: start,
      stages: stages.map(({ tier, model, samples }) => ({ tier, model, samples })),
      levels,
      arms,
      verifier: options.verifier ?? false,
      corpus: options.retriever !== undefined,
    },
    seed: options.seed ?? null,
    simulated,
  });
  let stageSteps = 0;
  let armSteps = 0;
  const spent = emptyTotals();
  let exhausted = false;
  // Every call is journaled in the calibration's run, under keys namespaced per stage and arm: each runs under
  // its own ledger with the same step ids, so identical requests must not share (or replay) a key.
  const recorderFor = (namespace: string) => namespacedRecorder(options.journal.recorder(runId), namespace);
  const journalFor = (namespace: string) => ({ journal: callsOnlyJournal(options.journal, namespace), runId });
  const dollarsLeft = (): BudgetLimits => (options.maxUsd === undefined ? {} : { usd: Math.max(0, options.maxUsd - spent.usd) });
  // A stage or arm that leaves less than one worst-case call of dollars may have been cut short by --max-usd
  // (refused or degraded for dollars, not for its token level): it is no measurement, and calibration stops.
  let oneCallUsd = 0;
  const addSpend = (ledger: Ledger): void => {
    const total = ledger.report().total;
    addToTotals(spent, total, total.usd, total.calls);
    if (options.maxUsd !== undefined && options.maxUsd - spent.usd < Math.max(oneCallUsd, Number.MIN_VALUE)) exhausted = true;
  };

  items: for (const [itemIndex, item] of options.items.entries()) {
    const messages = [
      { role: 'system' as const, content: DEFAULT_SYSTEM_PROMPT },
      { role: 'user' as const, content: item.prompt },
    ];
    oneCallUsd = fleet.worstCase(start, messages, maxOutputTokens).usd;
    if (options.maxUsd !== undefined && options.maxUsd - spent.usd < oneCallUsd) exhausted = true;
    for (const [index, stage] of (options.stages === false ? [] : stages).entries()) {
      if (exhausted) break items;
      const stepId = `cal/${item.id}/stage-${index}`;
      const ledger = new Ledger({ clock: fleet.clock, limits: dollarsLeft() });
      const context: OpContext = {
        fleet,
        budget: ledger.root,
        recorder: recorderFor(stepId),
        trace: new Trace(fleet.clock),
        stepId: 'gov',
        model: stage.model,
        ...(item.taskId !== undefined ? { taskId: item.taskId } : {}),
      };
      let observed: { answer: string | undefined; signals: Partial<Record<ConfidenceSignal, number>> };
      try {
        if (index === 0) {
          // Exactly the probe (step id `gov/probe`): its signals are what the router will see for this item.
          const probe = await probeDifficulty(childContext(context, 'probe'), {
            model: stage.model,
            messages,
            samples: stage.samples,
            ...(policy.probe.earlyExit ? { earlyExit: policy.probe.earlyExit } : {}),
            maxOutputTokens,
            difficulty: policy.difficulty,
          });
          observed = {
            answer: probe.answer,
            signals: signalsOf(probe.agreement, probe.confidence, probe.candidates.length > 0 && probe.answer !== undefined),
          };
        } else {
          const result = await sample(childContext(context, `calibrate/stage-${index}`), {
            samples: stage.samples,
            messages,
            model: stage.model,
            maxOutputTokens,
            temperature: VOTE_TEMPERATURE,
            aggregator: 'majority',
            operator: 'router',
            axis: 'cascade',
          });
          const summary = summarise(result.details.samples.map((entry) => toCandidate(entry.index, entry.answer, entry.confidence)));
          observed = { answer: summary.answer, signals: signalsOf(summary.agreement, summary.confidence, summary.answered > 0) };
        }
        if (options.verifier && index < stages.length - 1 && observed.answer !== undefined) {
          const verdict = await verify(childContext(context, `calibrate/stage-${index}`), {
            question: item.prompt,
            candidate: observed.answer,
            model: stage.model,
            operator: 'router',
            axis: 'cascade',
          });
          if (verdict.judged) observed.signals.verifier = verdict.score;
        }
      } catch (error) {
        // Only --max-usd limits a stage's ledger: its refusal ends the calibration (the spend so far is journaled).
        if (!(error instanceof BudgetExhaustedError) || options.maxUsd === undefined) throw error;
        addSpend(ledger);
        exhausted = true;
        break items;
      }
      addSpend(ledger);
      if (exhausted) break items;
      const correct = observed.answer !== undefined && toBoolean(await item.checker(observed.answer));
      const stageSpent = ledger.root.spent();
      const observation: StageObservation = {
        tier: stage.tier,
        model: stage.model,
        samples: stage.samples,
        answer: observed.answer,
        correct,
        signals: observed.signals,
        cost: { usd: stageSpent.usd, tokens: stageSpent.totalTokens },
      };
      options.journal.upsertStep(runId, {
        stepId,
        kind: STAGE_STEP_KIND,
        status: 'ok',
        input: { itemId: item.id, stage: index, tier: stage.tier, model: stage.model, samples: stage.samples },
        output: observation,
        usage: stageSpent,
      });
      stageSteps++;
    }
    for (const level of levels) {
      for (const cell of arms) {
        if (exhausted) break items;
        const stepId = `alloc/${item.id}/${level}/${armKey(cell)}`;
        const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: level, ...dollarsLeft() } });
        const result = await governedSolve({
          query: item.prompt,
          fleet,
          budget: ledger.root,
          model: start,
          binder,
          policy,
          force: cell,
          maxOutputTokens,
          journal: journalFor(stepId),
          ...(options.retriever ? { retriever: options.retriever } : {}),
          ...(item.taskId !== undefined ? { taskId: item.taskId } : {}),
        });
        addSpend(ledger);
        if (exhausted) break items;
        const correct = result.answer !== undefined && toBoolean(await item.checker(result.answer));
        const record: ArmRecord = {
          itemId: item.id,
          // A forced arm always probes first (the frontier table, which may skip the probe, is not consulted).
          bin: result.decision.difficulty.bin === 'unprobed' ? 'hard' : result.decision.difficulty.bin,
          level,
          arm: armKey(cell),
          cell,
          correct,
          tokens: result.usage.totalTokens,
          usd: result.usage.usd,
          ...(options.retriever ? { corpus: true } : {}),
        };
        options.journal.upsertStep(runId, {
          stepId,
          kind: ARM_STEP_KIND,
          status: result.status,
          input: { itemId: item.id, level, cell },
          output: record,
          usage: result.usage,
        });
        armSteps++;
      }
    }
    options.onItem?.(itemIndex + 1, options.items.length, { ...spent });
  }
  const status = exhausted ? 'budget_exhausted' : 'ok';
  options.journal.finishRun(runId, { status, usage: { ...spent } });
  return { runId, items: options.items.length, stageSteps, armSteps, usage: { ...spent }, status };
}

function signalsOf(agreement: number, confidence: number | undefined, answered: boolean): Partial<Record<ConfidenceSignal, number>> {
  if (!answered) return {};
  return confidence === undefined ? { agreement } : { agreement, confidence };
}

function toBoolean(value: boolean | number): boolean {
  return typeof value === 'boolean' ? value : value >= 0.5;
}

export interface CalibrationData {
  runIds: string[];
  records: CalibrationRecord[];
  arms: ArmRecord[];
}

/**
 * The journaled calibration runs (all of them, or the given ones) as fit inputs. Items whose stages do not
 * match the most common stage layout (another model ladder) are left out of the cascade records.
 */
export function readCalibration(journal: Journal, options: { runIds?: readonly string[] } = {}): CalibrationData {
  const runIds = options.runIds
    ? [...options.runIds]
    : journal
        .listRuns({ limit: Number.MAX_SAFE_INTEGER })
        .filter((run) => run.command === CALIBRATE_COMMAND)
        .map((run) => run.id)
        .reverse();
  const stagesByItem = new Map<string, StageObservation[]>();
  const arms: ArmRecord[] = [];
  for (const runId of runIds) {
    for (const row of journal.getSteps(runId)) {
      if (row.kind === STAGE_STEP_KIND) {
        const input = row.input as { itemId: string; stage: number };
        const key = `${runId}\u0000${input.itemId}`;
        const list = stagesByItem.get(key) ?? [];
        list[input.stage] = row.output as StageObservation;
        stagesByItem.set(key, list);
      } else if (row.kind === ARM_STEP_KIND) {
        const record = row.output as ArmRecord;
        arms.push({ ...record, itemId: `${runId}/${record.itemId}`, bin: record.bin });
      }
    }
  }
  const layouts = new Map<string, number>();
  const layoutOf = (stages: readonly StageObservation[]): string => stages.map((stage) => `${stage.model}×${stage.samples}`).join('>');
  for (const stages of stagesByItem.values())
    if (stages.every(Boolean)) layouts.set(layoutOf(stages), (layouts.get(layoutOf(stages)) ?? 0) + 1);
  const common = [...layouts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const records: CalibrationRecord[] = [];
  for (const [key, stages] of stagesByItem)
    if (stages.every(Boolean) && layoutOf(stages) === common)
      records.push({ itemId: key.replace('\u0000', '/'), stages: stages.map((stage) => ({ ...stage, tier: stage.tier })) });
  return { runIds, records, arms };
}
