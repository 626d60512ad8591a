/**
 * Verdicts on the governor's frontier claims (issue 22), from a study's cells alone — whatever `auto` does
 * inside, it is judged here only by what its cells scored and spent:
 *
 *   - **never loses**: per (suite, model, budget), `auto` is within 2 points of the best fixed architecture,
 *     or the paired gap's 95% interval reaches 0 (the loss is not distinguishable from noise);
 *   - **token efficiency** (Snell et al.): per (suite, model), the best fixed WIDTH strategy (single, vote,
 *     vote@k) at its most accurate budget sets accuracy A at mean cost C; `auto`'s cheapest budget reaching A
 *     must cost ≤ C/4 in tokens, ≤ C/2 in dollars;
 *   - **cascades** (FrugalGPT/RouteLLM): a cascade from a small model saves ≥ 60% of always-large's cost at
 *     ≥ 98% of its accuracy. Cost is dollars where the models are priced; where they cost $0 (Thicket's tiny
 *     models), the seed claims' compute (tokens × parameters).
 *
 * Pure functions over the analysis' own rows (`Configuration`, `GovernorRow`, `CascadeRow`), so bench/frontier.ts
 * and any report can share them.
 */
import type { ModelFacts } from '../types.ts';
import type { CascadeRow, GovernorRow } from './seed-claims.ts';
import type { Configuration } from './summaries.ts';

/** `auto` may trail the best fixed architecture by this much (a share: 0.02 = 2 points) and still meet. */
export const GOVERNOR_TOLERANCE = 0.02;
/** Snell et al.: the best width strategy's accuracy with at most a quarter of its tokens. */
export const TOKEN_EFFICIENCY_TARGET = 1 / 4;
/** The same in dollars: at most half. */
export const DOLLAR_EFFICIENCY_TARGET = 1 / 2;
export const CASCADE_SAVED_TARGET = 0.6;
export const CASCADE_ACCURACY_TARGET = 0.98;

/** Accuracies are means of the same 0/1 scores; this only absorbs rounding in means of fractional scores. */
const EPSILON = 1e-9;

export interface GovernorVerdict {
  met: boolean;
  /** `tolerance`: gap ≥ −2 points; `interval`: a larger loss whose 95% interval still reaches 0; `lost`: neither. */
  by: 'tolerance' | 'interval' | 'lost';
}

/** Whether `auto` holds its own against the best fixed architecture in one (suite, model, budget) cell. */
export function governorVerdict(row: Pick<GovernorRow, 'gap' | 'gapCi'>, tolerance = GOVERNOR_TOLERANCE): GovernorVerdict {
  if (row.gap >= -tolerance - EPSILON) return { met: true, by: 'tolerance' };
  if (row.gapCi.high >= 0) return { met: true, by: 'interval' };
  return { met: false, by: 'lost' };
}

/** Width strategies: one sample, or k samples and a vote (`vote`, `vote@k`). */
export const isWidthArchitecture = (architecture: string): boolean => architecture === 'single' || /^vote(@\d+)?$/.test(architecture);

export type CostUnit = 'tokens' | 'usd';

const costOf = (config: Configuration, unit: CostUnit): number => (unit === 'tokens' ? config.meanTokens : config.meanUsd);

export interface EfficiencyRow {
  suite: string;
  model: string;
  unit: CostUnit;
  /** The best width configuration: highest accuracy over width architectures × budgets (ties: the cheaper). */
  baseline: { architecture: string; budget: number; accuracy: number; cost: number };
  /** `auto`'s cheapest budget whose accuracy reaches the baseline's; absent when none does. */
  auto?: { budget: number; accuracy: number; cost: number };
  /** How many of `auto`'s budgets reach the baseline's accuracy, of how many it ran. */
  reaching: number;
  autoBudgets: number;
  /** auto cost / baseline cost (absent when auto never reaches the baseline, or when skipped). */
  ratio?: number;
  target: number;
  met: boolean;
  /**
   * `unpriced`: both cost $0 (nothing to compare); `zero-baseline`: the best width strategy scored 0, which any
   * `auto` run "matches" (e.g. width without retrieval on multi-hop questions); `no-auto` / `no-width`: a side
   * was not run; `single-baseline`: the best width configuration is one call (`single`) — width does not pay
   * there, and nothing answers for a quarter of one call, so the Snell comparison (against best-of-N) has no N.
   */
  skipped?: 'unpriced' | 'zero-baseline' | 'no-auto' | 'no-width' | 'single-baseline';
}

/**
 * Per (suite, model): the cheapest `auto` configuration that matches the best width strategy's accuracy, and
 * its cost as a share of that strategy's. `configs` are pooled configurations (`configurations(cells)`).
 */
export function autoEfficiency(configs: readonly Configuration[], unit: CostUnit, target: number): EfficiencyRow[] {
  const keys = [...new Set(configs.map((config) => `${config.suite}\u0000${config.model}`))];
  return keys.map((key) => {
    const [suite, model] = key.split('\u0000') as [string, string];
    const mine = configs.filter((config) => config.suite === suite && config.model === model);
    const best = mine
      .filter((config) => isWidthArchitecture(config.architecture))
      .sort((a, b) => b.accuracy - a.accuracy || costOf(a, unit) - costOf(b, unit) || a.budget - b.budget)[0];
    const autos = mine.filter((config) => config.architecture === 'auto');
    const empty = { suite, model, unit, reaching: 0, autoBudgets: autos.length, target, met: false };
    if (!best) return { ...empty, baseline: { architecture: '—', budget: 0, accuracy: 0, cost: 0 }, skipped: 'no-width' as const };
    const baseline = { architecture: best.architecture, budget: best.budget, accuracy: best.accuracy, cost: costOf(best, unit) };
    if (autos.length === 0) return { ...empty, baseline, skipped: 'no-auto' as const };
    const reaching = autos
      .filter((config) => config.accuracy >= baseline.accuracy - EPSILON)
      .sort((a, b) => costOf(a, unit) - costOf(b, unit) || a.budget - b.budget);
    const cheapest = reaching[0];
    const auto = cheapest ? { budget: cheapest.budget, accuracy: cheapest.accuracy, cost: costOf(cheapest, unit) } : undefined;
    const row = { ...empty, baseline, reaching: reaching.length, ...(auto ? { auto } : {}) };
    // Dollars only mean something where something was paid: tiny local models are priced at $0.
    const unpriced = unit === 'usd' && baseline.cost === 0 && autos.every((config) => config.meanUsd === 0);
    if (unpriced) return { ...row, skipped: 'unpriced' as const };
    if (baseline.accuracy <= EPSILON) return { ...row, skipped: 'zero-baseline' as const };
    if (best.architecture === 'single' || best.architecture === 'vote@1') return { ...row, skipped: 'single-baseline' as const };
    if (!auto) return row;
    const ratio = baseline.cost > 0 ? auto.cost / baseline.cost : auto.cost > 0 ? Infinity : 0;
    return { ...row, ratio, met: ratio <= target + EPSILON };
  });
}

export interface EfficiencySummary {
  /** Rows with a verdict (not skipped). */
  evaluated: number;
  met: number;
  /** Rows where no `auto` budget reached the baseline's accuracy. */
  unreached: number;
  skipped: number;
  /** Median auto/baseline cost ratio over the rows where auto reached the baseline (absent when none did). */
  medianRatio?: number;
}

export function summarizeEfficiency(rows: readonly EfficiencyRow[]): EfficiencySummary {
  const evaluated = rows.filter((row) => row.skipped === undefined);
  const ratios = evaluated.flatMap((row) => (row.ratio === undefined ? [] : [row.ratio]));
  const median = medianOf(ratios);
  return {
    evaluated: evaluated.length,
    met: evaluated.filter((row) => row.met).length,
    unreached: evaluated.filter((row) => row.auto === undefined).length,
    skipped: rows.length - evaluated.length,
    ...(median !== undefined ? { medianRatio: median } : {}),
  };
}

/** Median (the mean of the middle two for an even count); undefined for no values. */
export function medianOf(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface CascadeVerdict {
  suite: string;
  budget: number;
  cascadeModel: string;
  largeModel: string;
  cascadeAccuracy: number;
  largeAccuracy: number;
  accuracyRatio: number;
  /** 1 − cascade cost / always-large cost, in `unit`. */
  saved: number;
  unit: 'usd' | CascadeRow['computeUnit'];
  /** Both scored 0: "98% of always-large's accuracy" holds for nothing; such rows are not a verdict (met is false). */
  vacuous: boolean;
  met: boolean;
}

/** Cascade rows that start from a small-tier model (the claim is about escalating from the cheap model). */
export function cascadesFromSmall(rows: readonly CascadeRow[], models: Readonly<Record<string, ModelFacts>>): CascadeRow[] {
  return rows.filter((row) => models[row.cascade.model]?.tier === 'small');
}

/**
 * One cascade row's verdict. The cost is dollars when always-large was paid for (a small model's token is
 * cheaper than a large one's: counting tokens alike would hide that), else the row's own compute
 * (tokens × parameters for the tiny models; plain tokens when sizes are unknown).
 */
export function cascadeVerdict(row: CascadeRow, configs: readonly Configuration[]): CascadeVerdict {
  const find = (architecture: string, model: string): Configuration | undefined =>
    configs.find(
      (config) =>
        config.suite === row.suite && config.architecture === architecture && config.model === model && config.budget === row.budget,
    );
  const cascadeUsd = find('cascade', row.cascade.model)?.meanUsd;
  const largeUsd = find('single', row.alwaysLarge.model)?.meanUsd;
  const priced = cascadeUsd !== undefined && largeUsd !== undefined && largeUsd > 0;
  const saved = priced ? 1 - cascadeUsd / largeUsd : row.computeSaved;
  const vacuous = row.alwaysLarge.accuracy <= EPSILON && row.cascade.accuracy <= EPSILON;
  return {
    suite: row.suite,
    budget: row.budget,
    cascadeModel: row.cascade.model,
    largeModel: row.alwaysLarge.model,
    cascadeAccuracy: row.cascade.accuracy,
    largeAccuracy: row.alwaysLarge.accuracy,
    accuracyRatio: row.accuracyRatio,
    saved,
    unit: priced ? 'usd' : row.computeUnit,
    vacuous,
    met: !vacuous && saved >= CASCADE_SAVED_TARGET - EPSILON && row.accuracyRatio >= CASCADE_ACCURACY_TARGET - EPSILON,
  };
}
