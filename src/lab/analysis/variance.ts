/**
 * Variance decomposition: how much of the variation in study scores each group of factors explains —
 * token budget, tool/search calls, architecture, model — measured, not assumed (the seed's "80% of the
 * variance is token budget").
 *
 * Two views, both from nested OLS regressions with categorical one-hot features:
 *   - **Shapley shares**: each group's average marginal R² gain over every order in which the groups can be
 *     added (2^g regressions for g groups; g ≤ 8 here). They sum exactly to the full model's R², and split
 *     variance that two correlated groups explain together (tokens and architecture are correlated: some
 *     architectures spend more) fairly between them — the reason to prefer them as the headline.
 *   - **Nested (sequential) shares**: R² gained as groups are added in a stated order; order-dependent, shown
 *     next to the Shapley values so a reader can see how much the attribution depends on it.
 *
 * Fixed effects (e.g. the suite, or the item, whose difficulty would otherwise dominate) are absorbed first
 * by demeaning y and every feature column within their groups (Frisch–Waugh–Lovell: the same coefficients
 * and residuals as adding one dummy per group, without a p×p system the size of the item count). Shares are
 * then of the variance left within those groups (partial R²).
 *
 *   const d = decomposeVariance(y, [tokensGroup, toolsGroup, archGroup, modelGroup], { absorb: suiteOfRow });
 *   d.groups.map((g) => [g.name, g.shapley]);  d.total;   // Σ shapley === total
 */
import { groupColumns, ols, type FeatureGroup } from './ols.ts';

export interface GroupShare {
  name: string;
  /** Shapley value: this group's share of the explained variance (fraction of the outcome's variance). */
  shapley: number;
  /** shapley / total: the group's share of what the model explains. */
  shareOfExplained: number;
  /** R² gained when added in the stated order. */
  nested: number;
  /** R² of this group alone (with the controls). */
  alone: number;
}

export interface VarianceDecomposition {
  groups: GroupShare[];
  /** R² of all groups together (partial, after the controls). */
  total: number;
  /** Share of the raw variance the absorbed fixed effects explain. */
  absorbed: number;
  rows: number;
  /** Order used for the nested shares. */
  order: string[];
}

export interface DecomposeOptions {
  /** Per-row fixed-effect key (suite, item…): its variance is removed before attributing the rest. */
  absorb?: readonly string[];
  /** Row weights (e.g. items per configuration). */
  weights?: readonly number[];
}

/** Subtracts the (weighted) mean of each absorb group from `values`. */
function demean(values: readonly number[], absorb: readonly string[] | undefined, weights: readonly number[] | undefined): number[] {
  const sums = new Map<string, { sum: number; weight: number }>();
  values.forEach((value, row) => {
    const key = absorb?.[row] ?? '';
    const w = weights?.[row] ?? 1;
    const entry = sums.get(key) ?? { sum: 0, weight: 0 };
    entry.sum += w * value;
    entry.weight += w;
    sums.set(key, entry);
  });
  return values.map((value, row) => {
    const entry = sums.get(absorb?.[row] ?? '')!;
    return value - (entry.weight > 0 ? entry.sum / entry.weight : 0);
  });
}

const MAX_GROUPS = 8;

export function decomposeVariance(
  y: readonly number[],
  groups: readonly FeatureGroup[],
  options: DecomposeOptions = {},
): VarianceDecomposition {
  if (groups.length > MAX_GROUPS) throw new RangeError(`at most ${MAX_GROUPS} groups (2^g regressions), got ${groups.length}`);
  const rows = y.length;
  const weights = options.weights;
  const within = demean(y, options.absorb, weights);
  const rawTss = ols(
    y.map(() => [1]),
    y,
    weights,
  ).rss;
  const baseRss = within.reduce((sum, value, row) => sum + (weights?.[row] ?? 1) * value * value, 0);
  // Demeaned columns per group: the intercept is absorbed too (every group mean is zero now).
  const columns = groups.map((group) => groupColumns(group).map((column) => demean(column, options.absorb, weights)));
  const cache = new Map<number, number>();
  // Partial R² of a subset (bit mask over groups) beyond the absorbed fixed effects.
  const r2 = (mask: number): number => {
    const cached = cache.get(mask);
    if (cached !== undefined) return cached;
    let value = 0;
    const chosen = columns.filter((_, index) => (mask & (1 << index)) !== 0).flat();
    if (chosen.length > 0 && baseRss > 1e-15) {
      const design = Array.from({ length: rows }, (_, row) => chosen.map((column) => column[row]!));
      const fit = ols(design, within, weights);
      value = Math.min(1, Math.max(0, 1 - fit.rss / baseRss));
    }
    cache.set(mask, value);
    return value;
  };
  const g = groups.length;
  const full = (1 << g) - 1;
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const shapley = new Array<number>(g).fill(0);
  for (let index = 0; index < g; index++) {
    const bit = 1 << index;
    for (let mask = 0; mask <= full; mask++) {
      if ((mask & bit) !== 0) continue;
      const size = popcount(mask);
      const weight = (factorial(size) * factorial(g - size - 1)) / factorial(g);
      shapley[index]! += weight * (r2(mask | bit) - r2(mask));
    }
  }
  const total = r2(full);
  let cumulative = 0;
  let mask = 0;
  const nested = groups.map((_, index) => {
    mask |= 1 << index;
    const next = r2(mask);
    const gain = next - cumulative;
    cumulative = next;
    return gain;
  });
  return {
    groups: groups.map((group, index) => ({
      name: group.name,
      shapley: shapley[index]!,
      shareOfExplained: total > 0 ? shapley[index]! / total : 0,
      nested: nested[index]!,
      alone: r2(1 << index),
    })),
    total,
    absorbed: rawTss > 0 ? Math.max(0, 1 - baseRss / rawTss) : 0,
    rows,
    order: groups.map((group) => group.name),
  };
}

function popcount(mask: number): number {
  let count = 0;
  for (let value = mask; value !== 0; value &= value - 1) count++;
  return count;
}
