/**
 * Statistics a reviewer asks of an evaluation (`thicket eval`): a 95% bootstrap interval on every accuracy and
 * cost, and paired comparisons between configurations on the same items — strategies at one model and budget,
 * models at one strategy and budget — with a paired-bootstrap interval and p-value on the difference and, when
 * every score is 0/1, McNemar's exact (binomial) test on the discordant pairs. A difference whose interval
 * holds 0 (or whose p ≥ 0.05) is flagged as within noise: the data cannot tell the two apart.
 *
 * Pairs are (item, seed): both configurations answered the same item under the same seed. Resampling is over
 * those pairs, seeded, so the same cells always give the same intervals and p-values.
 */
import { createRng } from '../../core/index.ts';
import type { CellResult } from '../types.ts';
import { bootstrapMean, type Interval } from './seed-claims.ts';

const RESAMPLES = 2000;
const SEED = 20_261_208;
export const NOISE_ALPHA = 0.05;

export interface ConfigStats {
  suite: string;
  architecture: string;
  model: string;
  budget: number;
  /** (item, seed) cells scored. */
  n: number;
  accuracy: number;
  accuracyCi: Interval;
  meanTokens: number;
  tokensCi: Interval;
  meanUsd: number;
  usdCi: Interval;
}

export interface ItemPairedComparison {
  suite: string;
  /** What differs between the two: the strategy (same model and budget) or the model (same strategy and budget). */
  factor: 'architecture' | 'model';
  a: { architecture: string; model: string; budget: number; accuracy: number };
  b: { architecture: string; model: string; budget: number; accuracy: number };
  /** (item, seed) pairs both answered. */
  pairs: number;
  /** Mean of b − a over the pairs, with its paired-bootstrap interval and two-sided p-value. */
  difference: number;
  ci: Interval;
  bootstrapP: number;
  /** McNemar's exact test, when every score is 0 or 1: discordant counts (a right only, b right only) and p. */
  mcnemar?: { aOnly: number; bOnly: number; p: number };
  /** The interval holds 0, or the test's p ≥ 0.05: no detectable difference. */
  withinNoise: boolean;
}

const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Two-sided exact binomial p-value of McNemar's test: P(X ≤ min(b, c)) × 2 for X ~ Bin(b + c, ½), capped at 1. */
export function mcnemarExact(aOnly: number, bOnly: number): number {
  const n = aOnly + bOnly;
  if (n === 0) return 1;
  const k = Math.min(aOnly, bOnly);
  if (n <= 50) {
    // Exact: binomial coefficients up to C(50, 25) ≈ 1.3e14 are integers a double holds, and 2^n is a power of two.
    let choose = 1;
    let count = 0;
    for (let i = 0; i <= k; i++) {
      if (i > 0) choose = (choose * (n - i + 1)) / i;
      count += choose;
    }
    return Math.min(1, (2 * count) / 2 ** n);
  }
  // Log space: C(n, i) / 2^n underflows past n ≈ 1000.
  let logChoose = 0;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logChoose - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/** Paired bootstrap of the mean difference: its 95% interval and a two-sided p-value (share of resamples across 0, doubled). */
export function pairedBootstrap(differences: readonly number[], seed = SEED): { ci: Interval; p: number } {
  if (differences.length === 0) return { ci: { low: 0, high: 0 }, p: 1 };
  if (differences.every((value) => value === differences[0])) {
    const value = differences[0]!;
    return { ci: { low: value, high: value }, p: value === 0 ? 1 : 0 };
  }
  const rng = createRng(seed);
  const means: number[] = [];
  for (let sample = 0; sample < RESAMPLES; sample++) {
    let sum = 0;
    for (let index = 0; index < differences.length; index++) sum += differences[rng.int(differences.length)]!;
    means.push(sum / differences.length);
  }
  means.sort((x, y) => x - y);
  const below = means.filter((value) => value <= 0).length / RESAMPLES;
  const above = means.filter((value) => value >= 0).length / RESAMPLES;
  return {
    ci: { low: means[Math.floor(RESAMPLES * 0.025)]!, high: means[Math.ceil(RESAMPLES * 0.975) - 1]! },
    p: Math.min(1, 2 * Math.min(below, above)),
  };
}

const configKey = (cell: Pick<CellResult, 'suite' | 'architecture' | 'model' | 'budget'>): string =>
  `${cell.suite}|${cell.architecture}|${cell.model}|${cell.budget}`;
const pairKey = (cell: Pick<CellResult, 'taskId' | 'seed'>): string => `${cell.seed}|${cell.taskId.replace(/\/s\d+\//, '/')}`;

export function configStats(cells: readonly CellResult[]): ConfigStats[] {
  const groups = new Map<string, CellResult[]>();
  for (const cell of cells) {
    const key = configKey(cell);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(cell);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const scores = group.map((cell) => cell.score);
    const tokens = group.map((cell) => cell.usage.totalTokens);
    const usd = group.map((cell) => cell.usage.usd);
    return {
      suite: first.suite,
      architecture: first.architecture,
      model: first.model,
      budget: first.budget,
      n: group.length,
      accuracy: mean(scores),
      accuracyCi: bootstrapMean(scores),
      meanTokens: mean(tokens),
      tokensCi: bootstrapMean(tokens),
      meanUsd: mean(usd),
      usdCi: bootstrapMean(usd),
    };
  });
}

function compare(
  suite: string,
  factor: ItemPairedComparison['factor'],
  a: CellResult[],
  b: CellResult[],
): ItemPairedComparison | undefined {
  const byPair = new Map(b.map((cell) => [pairKey(cell), cell.score]));
  const scores: Array<[number, number]> = [];
  for (const cell of a) {
    const other = byPair.get(pairKey(cell));
    if (other !== undefined) scores.push([cell.score, other]);
  }
  if (scores.length === 0) return undefined;
  const differences = scores.map(([x, y]) => y - x);
  const { ci, p } = pairedBootstrap(differences);
  const binary = scores.every(([x, y]) => (x === 0 || x === 1) && (y === 0 || y === 1));
  const mcnemar = binary
    ? (() => {
        const aOnly = scores.filter(([x, y]) => x === 1 && y === 0).length;
        const bOnly = scores.filter(([x, y]) => x === 0 && y === 1).length;
        return { aOnly, bOnly, p: mcnemarExact(aOnly, bOnly) };
      })()
    : undefined;
  const describe = (cells: CellResult[]) => ({
    architecture: cells[0]!.architecture,
    model: cells[0]!.model,
    budget: cells[0]!.budget,
    accuracy: mean(cells.map((cell) => cell.score)),
  });
  const testP = mcnemar?.p ?? p;
  return {
    suite,
    factor,
    a: describe(a),
    b: describe(b),
    pairs: scores.length,
    difference: mean(differences),
    ci,
    bootstrapP: p,
    ...(mcnemar ? { mcnemar } : {}),
    withinNoise: (ci.low <= 0 && ci.high >= 0) || testP >= NOISE_ALPHA,
  };
}

/** Every pair of strategies at the same (suite, model, budget), and of models at the same (suite, strategy, budget). */
export function pairedComparisons(cells: readonly CellResult[]): ItemPairedComparison[] {
  const groups = new Map<string, CellResult[]>();
  for (const cell of cells) {
    const key = configKey(cell);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(cell);
  }
  const list = [...groups.values()];
  const comparisons: ItemPairedComparison[] = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]![0]!;
      const b = list[j]![0]!;
      if (a.suite !== b.suite || a.budget !== b.budget) continue;
      const factor = a.model === b.model ? 'architecture' : a.architecture === b.architecture ? 'model' : undefined;
      if (factor === undefined) continue;
      const comparison = compare(a.suite, factor, list[i]!, list[j]!);
      if (comparison) comparisons.push(comparison);
    }
  }
  return comparisons;
}
