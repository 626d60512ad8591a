/**
 * Fitting the cascade router's per-stage thresholds from calibration records (FrugalGPT; RouteLLM's
 * "95% of the strong model at a fraction of the cost" framing).
 *
 * A record is one calibration item on which EVERY stage ran: per stage its answer's correctness, its cost and
 * its confidence signals (vote agreement, mean self-reported confidence, verifier score). Replaying a
 * candidate policy on a record is exact: accept the first stage whose chosen signal reaches its threshold (the
 * last stage always accepts); the outcome is that stage's correctness, the cost is the sum of the stages run.
 *
 * Objective (documented in the policy file as `objective`):
 *   - `relative-accuracy` (default, ratio 0.98): among policies whose accuracy ≥ ratio × the accuracy of the
 *     last stage alone ("always-large"), minimise mean cost; ties → higher accuracy. If none qualifies, the
 *     most accurate policy.
 *   - `cost-cap`: among policies whose mean cost ≤ maxCost, maximise accuracy; ties → lower cost.
 * Search: exhaustive over (signal × threshold) per non-final stage; the candidate thresholds of a stage are
 * the distinct observed values of its signal (thinned to `grid` quantiles) plus "never accept". With three
 * stages and two free signals that is a few thousand policies — cheap enough to be exact.
 *
 * Overfitting: thresholds sit exactly on observed values, so the training accuracy is optimistic. The fit
 * therefore asks for a safety margin δ (accuracy ≥ (ratio + δ) × largest, or cost ≤ (1 − δ) × cap), and δ is
 * chosen by k-fold cross-validation: the smallest δ whose held-out (pooled over folds) result meets the
 * target. The final thresholds are fitted on all records with that δ; the held-out figures are reported.
 */
import { rngFor } from '../core/index.ts';
import type { Tier } from '../workflow/index.ts';
import { NEVER_ACCEPT, type CascadeFitReport, type CascadeStagePolicy, type ConfidenceSignal } from './policy.ts';

export interface StageObservation {
  tier: Tier;
  model: string;
  samples: number;
  answer: string | undefined;
  correct: boolean;
  /** Signals measured at this stage; a missing one (no answer, no judge) never reaches a threshold. */
  signals: Partial<Record<ConfidenceSignal, number>>;
  cost: { usd: number; tokens: number };
}

export interface CalibrationRecord {
  itemId: string;
  stages: StageObservation[];
}

export type CascadeTarget = { kind: 'relative-accuracy'; ratio: number } | { kind: 'cost-cap'; maxCost: number };

export interface FitCascadeOptions {
  costMetric?: 'usd' | 'tokens';
  /** Signals the fit may choose from (default: every signal present in the records). */
  signals?: readonly ConfidenceSignal[];
  folds?: number;
  /** Candidate safety margins δ, ascending (default 0, 0.005, 0.01, 0.02, 0.03, 0.05). */
  margins?: readonly number[];
  /** Most candidate thresholds per stage and signal (default 24). */
  grid?: number;
}

export interface CascadeChoice {
  signal: ConfidenceSignal;
  threshold: number;
}

export interface CascadeFit {
  stages: CascadeStagePolicy[];
  report: CascadeFitReport;
}

const DEFAULT_MARGINS = [0, 0.005, 0.01, 0.02, 0.03, 0.05];

interface Outcome {
  accuracy: number;
  cost: number;
}

/** Accuracy and mean cost of a cascade policy replayed on records. */
export function evaluateCascade(
  records: readonly CalibrationRecord[],
  choices: readonly CascadeChoice[],
  costMetric: 'usd' | 'tokens' = 'usd',
): Outcome & { acceptedAt: number[] } {
  let correct = 0;
  let cost = 0;
  const stageCount = records[0]?.stages.length ?? 0;
  const acceptedAt = new Array<number>(stageCount).fill(0);
  for (const record of records) {
    for (let stage = 0; stage < record.stages.length; stage++) {
      const observed = record.stages[stage]!;
      cost += costMetric === 'usd' ? observed.cost.usd : observed.cost.tokens;
      const choice = choices[stage];
      const value = choice === undefined ? undefined : observed.signals[choice.signal];
      const last = stage === record.stages.length - 1;
      if (last || (observed.answer !== undefined && value !== undefined && value >= choice!.threshold)) {
        if (observed.correct) correct++;
        acceptedAt[stage]!++;
        break;
      }
    }
  }
  const count = Math.max(1, records.length);
  return { accuracy: correct / count, cost: cost / count, acceptedAt };
}

/** The last stage alone on every record: the "always-large" baseline. */
export function largestOnly(records: readonly CalibrationRecord[], costMetric: 'usd' | 'tokens' = 'usd'): Outcome {
  let correct = 0;
  let cost = 0;
  for (const record of records) {
    const last = record.stages.at(-1)!;
    if (last.correct) correct++;
    cost += costMetric === 'usd' ? last.cost.usd : last.cost.tokens;
  }
  const count = Math.max(1, records.length);
  return { accuracy: correct / count, cost: cost / count };
}

export function fitCascadePolicy(
  records: readonly CalibrationRecord[],
  target: CascadeTarget = { kind: 'relative-accuracy', ratio: 0.98 },
  options: FitCascadeOptions = {},
): CascadeFit {
  if (records.length === 0) throw new RangeError('fitCascadePolicy needs at least one calibration record');
  const stageCount = records[0]!.stages.length;
  if (records.some((record) => record.stages.length !== stageCount))
    throw new RangeError('every calibration record must have the same stages');
  const costMetric = options.costMetric ?? 'usd';
  const signals = options.signals ?? presentSignals(records);
  const margins = options.margins ?? DEFAULT_MARGINS;
  const folds = Math.max(2, Math.min(options.folds ?? 5, records.length));

  // Cross-validation picks the margin: the smallest δ whose held-out result meets the target.
  const assignment = foldsOf(records.length, folds);
  let chosenMargin = margins.at(-1) ?? 0;
  let heldOut: (Outcome & { largest: Outcome; met: boolean }) | undefined;
  for (const margin of margins) {
    const pooled = { correct: 0, cost: 0, largestCorrect: 0, largestCost: 0, count: 0 };
    for (let fold = 0; fold < folds; fold++) {
      const train = records.filter((_, index) => assignment[index] !== fold);
      const test = records.filter((_, index) => assignment[index] === fold);
      if (test.length === 0 || train.length === 0) continue;
      const choices = search(train, target, margin, signals, costMetric, options.grid ?? 24);
      const outcome = evaluateCascade(test, choices, costMetric);
      const largest = largestOnly(test, costMetric);
      pooled.correct += outcome.accuracy * test.length;
      pooled.cost += outcome.cost * test.length;
      pooled.largestCorrect += largest.accuracy * test.length;
      pooled.largestCost += largest.cost * test.length;
      pooled.count += test.length;
    }
    const count = Math.max(1, pooled.count);
    const outcome = { accuracy: pooled.correct / count, cost: pooled.cost / count };
    const largest = { accuracy: pooled.largestCorrect / count, cost: pooled.largestCost / count };
    const met = meets(outcome, largest, target, 0);
    heldOut = { ...outcome, largest, met };
    if (met) {
      chosenMargin = margin;
      break;
    }
  }

  const choices = search(records, target, chosenMargin, signals, costMetric, options.grid ?? 24);
  const train = evaluateCascade(records, choices, costMetric);
  const largest = largestOnly(records, costMetric);
  const first = records[0]!.stages;
  const stages: CascadeStagePolicy[] = first.map((stage, index) => ({
    tier: stage.tier,
    samples: stage.samples,
    signal: choices[index]?.signal ?? 'confidence',
    threshold: index === first.length - 1 ? 0 : round(choices[index]!.threshold),
  }));
  const objective =
    target.kind === 'relative-accuracy'
      ? `minimise mean ${costMetric} subject to accuracy ≥ ${target.ratio} × last-stage-alone accuracy (+ margin ${chosenMargin} chosen by ${folds}-fold CV)`
      : `maximise accuracy subject to mean ${costMetric} ≤ ${target.maxCost} (× (1 − ${chosenMargin}), margin chosen by ${folds}-fold CV)`;
  return {
    stages,
    report: {
      target,
      costMetric,
      objective,
      items: records.length,
      margin: chosenMargin,
      train: { accuracy: train.accuracy, cost: train.cost, largestAccuracy: largest.accuracy, largestCost: largest.cost },
      crossValidated: {
        accuracy: heldOut!.accuracy,
        cost: heldOut!.cost,
        largestAccuracy: heldOut!.largest.accuracy,
        largestCost: heldOut!.largest.cost,
        folds,
        met: heldOut!.met,
      },
    },
  };
}

function meets(outcome: Outcome, largest: Outcome, target: CascadeTarget, margin: number): boolean {
  // A hair of tolerance: accuracies are ratios of small integers and must not fail on rounding.
  if (target.kind === 'relative-accuracy') return outcome.accuracy + 1e-9 >= (target.ratio + margin) * largest.accuracy;
  return outcome.cost <= target.maxCost * (1 - margin) + 1e-12;
}

/** Exhaustive search over (signal, threshold) per non-final stage. */
function search(
  records: readonly CalibrationRecord[],
  target: CascadeTarget,
  margin: number,
  signals: readonly ConfidenceSignal[],
  costMetric: 'usd' | 'tokens',
  grid: number,
): CascadeChoice[] {
  const stageCount = records[0]!.stages.length;
  const options: CascadeChoice[][] = [];
  for (let stage = 0; stage < stageCount - 1; stage++) {
    const list: CascadeChoice[] = [];
    for (const signal of signals)
      for (const threshold of candidateThresholds(records, stage, signal, grid)) list.push({ signal, threshold });
    // A stage that always escalates needs no signal: keep one "never" entry.
    list.push({ signal: signals[0] ?? 'confidence', threshold: NEVER_ACCEPT });
    options.push(dedupeNever(list));
  }
  const largest = largestOnly(records, costMetric);
  let best: { choices: CascadeChoice[]; outcome: Outcome; feasible: boolean } | undefined;
  const current: CascadeChoice[] = [];
  const visit = (stage: number): void => {
    if (stage === stageCount - 1) {
      const outcome = evaluateCascade(records, current, costMetric);
      const feasible = meets(outcome, largest, target, margin);
      if (!best || better(outcome, feasible, best.outcome, best.feasible, target)) best = { choices: [...current], outcome, feasible };
      return;
    }
    for (const choice of options[stage]!) {
      current[stage] = choice;
      visit(stage + 1);
    }
  };
  visit(0);
  return best!.choices;
}

function better(outcome: Outcome, feasible: boolean, incumbent: Outcome, incumbentFeasible: boolean, target: CascadeTarget): boolean {
  if (feasible !== incumbentFeasible) return feasible;
  const eps = 1e-12;
  if (!feasible) {
    // Nothing meets the target: the most accurate policy (relative target) or the cheapest (cost cap).
    if (target.kind === 'relative-accuracy')
      return (
        outcome.accuracy > incumbent.accuracy + eps ||
        (Math.abs(outcome.accuracy - incumbent.accuracy) <= eps && outcome.cost < incumbent.cost - eps)
      );
    return (
      outcome.cost < incumbent.cost - eps || (Math.abs(outcome.cost - incumbent.cost) <= eps && outcome.accuracy > incumbent.accuracy + eps)
    );
  }
  if (target.kind === 'relative-accuracy')
    return (
      outcome.cost < incumbent.cost - eps || (Math.abs(outcome.cost - incumbent.cost) <= eps && outcome.accuracy > incumbent.accuracy + eps)
    );
  return (
    outcome.accuracy > incumbent.accuracy + eps ||
    (Math.abs(outcome.accuracy - incumbent.accuracy) <= eps && outcome.cost < incumbent.cost - eps)
  );
}

/** Distinct observed values of the signal at the stage, thinned to at most `grid` evenly spaced quantiles. */
function candidateThresholds(records: readonly CalibrationRecord[], stage: number, signal: ConfidenceSignal, grid: number): number[] {
  const values = [
    ...new Set(
      records.flatMap((record) => {
        const value = record.stages[stage]!.signals[signal];
        return value === undefined ? [] : [value];
      }),
    ),
  ].sort((a, b) => a - b);
  if (values.length <= grid) return values;
  const thinned = new Set<number>();
  for (let index = 0; index < grid; index++) thinned.add(values[Math.round((index * (values.length - 1)) / (grid - 1))]!);
  return [...thinned];
}

function dedupeNever(list: CascadeChoice[]): CascadeChoice[] {
  return list.filter(
    (choice, index) => choice.threshold !== NEVER_ACCEPT || list.findIndex((other) => other.threshold === NEVER_ACCEPT) === index,
  );
}

function presentSignals(records: readonly CalibrationRecord[]): ConfidenceSignal[] {
  const found = new Set<ConfidenceSignal>();
  for (const record of records)
    for (const stage of record.stages.slice(0, -1)) for (const key of Object.keys(stage.signals) as ConfidenceSignal[]) found.add(key);
  const order: ConfidenceSignal[] = ['agreement', 'confidence', 'verifier'];
  return order.filter((signal) => found.has(signal));
}

/** Deterministic, shuffled fold assignment (a fixed seed: the same records always give the same folds). */
export function foldsOf(count: number, folds: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  const rng = rngFor(0, 'governor-folds', count);
  for (let index = order.length - 1; index > 0; index--) {
    const swap = rng.int(index + 1);
    [order[index], order[swap]] = [order[swap]!, order[index]!];
  }
  const assignment = new Array<number>(count);
  order.forEach((item, position) => (assignment[item] = position % folds));
  return assignment;
}

const round = (value: number): number => Math.round(value * 1e6) / 1e6;
