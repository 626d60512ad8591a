/**
 * Compute allocation: which arm a query gets, from its difficulty bin and its budget (Snell et al.: the
 * compute-optimal strategy depends on the prompt's difficulty and on the budget).
 *
 * Lookup: the budget's level is the highest policy level its total-token headroom reaches (below the lowest
 * level: the lowest). A dollars-only budget is converted to tokens at the starting model's output price (the
 * dearer side of a call), so "$0.001 on sim:small" means the same level as the tokens it buys.
 *
 * Learning (`learnAllocation`): calibration ran every candidate arm on every item at every level (each run
 * starts with the same probe, so every item has one bin). Per (bin, level) the arm with the best
 *     score = accuracy − costWeight × mean tokens / level
 * wins (costWeight 0.25 by default: spending the whole level must buy 25 points of accuracy — at a given
 * budget accuracy is the goal, as in Snell et al., but tokens a query does not need are not spent for a
 * point or two). With `costMetric: 'usd'` the cost is the arm's mean dollars over the level priced at the
 * starting model's output price, for fleets where a large-tier token costs many small-tier ones. Cross-validated: for each of k folds the arm chosen
 * on the other folds is scored on the held-out fold, and so is the default policy's arm; the learned choice replaces the default only when its
 * held-out score is at least the default's (and the cell has ≥ minItems items). Otherwise the default stays.
 */
import type { BudgetLimits } from '../budget/index.ts';
import { foldsOf } from './cascade-fit.ts';
import { groupBy } from './group-by.ts';
import { budgetTokensOf } from './frontier.ts';
import { ARMS, BINS, DEFAULT_CORPUS_ALLOCATION, type AllocationCell, type DifficultyBin, type GovernorPolicy } from './policy.ts';

/** Spending the whole budget level must buy at least this much accuracy (0.25 = 25 points) to be worth it. */
const DEFAULT_COST_WEIGHT = 0.25;

export interface ArmRecord {
  itemId: string;
  bin: DifficultyBin;
  level: number;
  /** Arm key as written by `armKey` (arm + its parameters). */
  arm: string;
  cell: AllocationCell;
  correct: boolean;
  tokens: number;
  usd: number;
  /** The run had a corpus (search was in the strategy space): these records fit the corpus table. */
  corpus?: boolean;
}

export interface LearnOptions {
  costWeight?: number;
  /**
   * What an arm's cost is measured in: `tokens` (default; compute, as in Snell et al.) or `usd` (dollars: a
   * large-tier token costs many small-tier tokens, so a token-optimal policy can buy tokens with dollars).
   * With `usd` the level is priced at `usdPerToken` (the starting model's output price, as `levelIndex` does).
   */
  costMetric?: 'tokens' | 'usd';
  usdPerToken?: number;
  folds?: number;
  minItems?: number;
  /** Fit the corpus table (from the records run with a corpus) instead of the main one. */
  corpus?: boolean;
}

export interface CellReport {
  bin: DifficultyBin;
  level: number;
  items: number;
  chosen: string;
  source: 'learned' | 'default';
  heldOut: { learned: number; default: number };
  arms: Record<string, { accuracy: number; tokens: number; usd: number; score: number }>;
}

/** Retrieval steps of a search cell that does not say. */
export const SEARCH_STEPS = 4;

/** A stable key for an arm and its parameters, e.g. `vote:9`, `thread:16@small`, `cascade`. */
export function armKey(cell: AllocationCell): string {
  const parameter =
    cell.arm === 'vote'
      ? `:${cell.samples ?? 0}${cell.lead !== undefined ? `/lead${cell.lead}` : ''}`
      : cell.arm === 'thread'
        ? `:${cell.steps ?? 16}`
        : cell.arm === 'search'
          ? `:${cell.steps ?? SEARCH_STEPS}${cell.k !== undefined ? `/k${cell.k}` : ''}`
          : cell.arm === 'cascade' && cell.escalate
            ? ':escalate'
            : cell.arm === 'strategy'
              ? `:${cell.strategy ?? '?'}${cell.parameter !== undefined ? `@${cell.parameter}` : ''}`
              : '';
  return `${cell.arm}${parameter}${cell.tier !== undefined ? `@${cell.tier}` : ''}`;
}

/** Level index for a budget: tokens directly, dollars converted at `usdPerToken`. */
export function levelIndex(levels: readonly number[], budget: BudgetLimits, usdPerToken: number): number {
  const tokens = budgetTokensOf(budget, usdPerToken);
  let chosen = 0;
  levels.forEach((level, index) => {
    if (tokens >= level) chosen = index;
  });
  return chosen;
}

/** With `corpus`, the policy's corpus table (or the default one): the strategy space includes search. */
export function allocate(
  policy: GovernorPolicy,
  bin: DifficultyBin,
  budget: BudgetLimits,
  usdPerToken: number,
  options: { corpus?: boolean } = {},
): { cell: AllocationCell; level: number } {
  const table = options.corpus ? (policy.allocation.corpus ?? DEFAULT_CORPUS_ALLOCATION) : policy.allocation;
  const index = levelIndex(table.levels, budget, usdPerToken);
  return { cell: table.cells[bin][index]!, level: table.levels[index]! };
}

export function learnAllocation(
  all: readonly ArmRecord[],
  base: GovernorPolicy,
  options: LearnOptions = {},
): { cells: GovernorPolicy['allocation']['cells']; levels: number[]; report: CellReport[] } {
  const corpus = options.corpus === true;
  const records = all.filter((record) => (record.corpus === true) === corpus);
  const table = corpus ? (base.allocation.corpus ?? DEFAULT_CORPUS_ALLOCATION) : base.allocation;
  const costWeight = options.costWeight ?? DEFAULT_COST_WEIGHT;
  const minItems = options.minItems ?? 5;
  if (options.costMetric === 'usd' && !(options.usdPerToken !== undefined && options.usdPerToken > 0))
    throw new RangeError('learnAllocation: costMetric usd needs usdPerToken > 0');
  const cost: CostOf =
    options.costMetric === 'usd'
      ? { of: (record) => record.usd, scale: options.usdPerToken! }
      : { of: (record) => record.tokens, scale: 1 };
  const levels = [...new Set(records.map((record) => record.level))].sort((a, b) => a - b);
  if (levels.length === 0) return { cells: table.cells, levels: [...table.levels], report: [] };
  const cells = { easy: [] as AllocationCell[], medium: [] as AllocationCell[], hard: [] as AllocationCell[] };
  const report: CellReport[] = [];
  for (const bin of BINS) {
    for (const level of levels) {
      const fallback = defaultCell(table, bin, level);
      const here = records.filter((record) => record.bin === bin && record.level === level);
      const items = [...new Set(here.map((record) => record.itemId))].sort();
      const byArm = groupBy(here, (record) => record.arm);
      const stats = Object.fromEntries([...byArm.entries()].map(([key, list]) => [key, statsOf(list, level, costWeight, cost)]));
      let chosen = fallback;
      let source: 'learned' | 'default' = 'default';
      const heldOut = { learned: 0, default: 0 };
      if (items.length >= minItems && byArm.size > 0) {
        const best = bestArm(byArm, level, costWeight, cost);
        const folds = Math.max(2, Math.min(options.folds ?? 5, items.length));
        const assignment = foldsOf(items.length, folds);
        const foldOf = new Map(items.map((item, index) => [item, assignment[index]!]));
        let learnedTotal = 0;
        let defaultTotal = 0;
        let counted = 0;
        for (let fold = 0; fold < folds; fold++) {
          const train = here.filter((record) => foldOf.get(record.itemId) !== fold);
          const test = here.filter((record) => foldOf.get(record.itemId) === fold);
          if (train.length === 0 || test.length === 0) continue;
          const pick = bestArm(
            groupBy(train, (record) => record.arm),
            level,
            costWeight,
            cost,
          );
          const testByArm = groupBy(test, (record) => record.arm);
          const learnedTest = testByArm.get(pick.key);
          const defaultTest = testByArm.get(armKey(fallback));
          if (!learnedTest || !defaultTest) continue;
          learnedTotal += statsOf(learnedTest, level, costWeight, cost).score;
          defaultTotal += statsOf(defaultTest, level, costWeight, cost).score;
          counted++;
        }
        // Without held-out evidence for the default arm (it was not calibrated), trust the full-data choice.
        heldOut.learned = counted > 0 ? learnedTotal / counted : best.score;
        heldOut.default = counted > 0 ? defaultTotal / counted : -Infinity;
        if (counted === 0 || heldOut.learned >= heldOut.default - 1e-12) {
          chosen = best.cell;
          source = best.key === armKey(fallback) ? 'default' : 'learned';
        }
      }
      cells[bin].push(chosen);
      report.push({ bin, level, items: items.length, chosen: armKey(chosen), source, heldOut, arms: stats });
    }
  }
  return { cells, levels, report };
}

function defaultCell(table: Pick<GovernorPolicy['allocation'], 'levels' | 'cells'>, bin: DifficultyBin, level: number): AllocationCell {
  return table.cells[bin][levelIndex(table.levels, { totalTokens: level }, 0)]!;
}

/** An arm's cost per record and what one token of the level is worth in that unit. */
interface CostOf {
  of: (record: ArmRecord) => number;
  scale: number;
}

function statsOf(
  list: readonly ArmRecord[],
  level: number,
  costWeight: number,
  cost: CostOf,
): { accuracy: number; tokens: number; usd: number; score: number } {
  const count = Math.max(1, list.length);
  const accuracy = list.filter((record) => record.correct).length / count;
  const tokens = list.reduce((sum, record) => sum + record.tokens, 0) / count;
  const usd = list.reduce((sum, record) => sum + record.usd, 0) / count;
  const spent = list.reduce((sum, record) => sum + cost.of(record), 0) / count;
  return { accuracy, tokens, usd, score: accuracy - (costWeight * spent) / (level * cost.scale) };
}

/** Highest score; ties → fewer tokens, then the arm order stop < vote < cascade < thread < plan (cheapest kinds first). */
function bestArm(
  byArm: ReadonlyMap<string, readonly ArmRecord[]>,
  level: number,
  costWeight: number,
  cost: CostOf,
): { key: string; cell: AllocationCell; score: number } {
  let best: { key: string; cell: AllocationCell; score: number; tokens: number } | undefined;
  const keys = [...byArm.keys()].sort(
    (a, b) => ARMS.indexOf(byArm.get(a)![0]!.cell.arm) - ARMS.indexOf(byArm.get(b)![0]!.cell.arm) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const key of keys) {
    const list = byArm.get(key)!;
    const stats = statsOf(list, level, costWeight, cost);
    if (!best || stats.score > best.score + 1e-12 || (Math.abs(stats.score - best.score) <= 1e-12 && stats.tokens < best.tokens))
      best = { key, cell: list[0]!.cell, score: stats.score, tokens: stats.tokens };
  }
  return best!;
}
