/**
 * Descriptive summaries of a study's cells: configuration means (the unit of the matched-budget table, the
 * frontier and the headline decomposition), solo vs multi-agent at matched budget (paired by item), search
 * steps vs reasoning tokens as compute axes, coordination vs network size, criticality per architecture and
 * spend by axis. Pure functions of CellResult[]; every figure carries its n.
 */
import { ols } from './ols.ts';
import type { CellResult } from '../types.ts';

export interface Configuration {
  suite: string;
  architecture: string;
  family: string;
  model: string;
  budget: number;
  n: number;
  accuracy: number;
  /** Standard error of the mean score. */
  se: number;
  meanTokens: number;
  meanUsd: number;
  meanSearchSteps: number;
  meanToolCalls: number;
  /** Share of runs whose budget refused or cut something (status budget_exhausted). */
  capped: number;
  seeds: number[];
}

const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
const standardError = (values: readonly number[]): number => {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1) / values.length);
};

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Means per (suite, architecture, model, budget[, seed]). */
export function configurations(cells: readonly CellResult[], options: { bySeed?: boolean } = {}): Configuration[] {
  const groups = groupBy(cells, (cell) =>
    [cell.suite, cell.architecture, cell.model, cell.budget, options.bySeed ? cell.seed : ''].join('\u0000'),
  );
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const scores = group.map((cell) => cell.score);
    return {
      suite: first.suite,
      architecture: first.architecture,
      family: first.family,
      model: first.model,
      budget: first.budget,
      n: group.length,
      accuracy: mean(scores),
      se: standardError(scores),
      meanTokens: mean(group.map((cell) => cell.usage.totalTokens)),
      meanUsd: mean(group.map((cell) => cell.usage.usd)),
      meanSearchSteps: mean(group.map((cell) => cell.searchSteps)),
      meanToolCalls: mean(group.map((cell) => cell.toolCalls)),
      capped: mean(group.map((cell) => (cell.status === 'budget_exhausted' ? 1 : 0))),
      seeds: [...new Set(group.map((cell) => cell.seed))].sort((a, b) => a - b),
    };
  });
}

export interface PairedComparison {
  suite: string;
  model: string;
  budget: number;
  /** Mean of (a − b) over items run by both. */
  difference: number;
  se: number;
  n: number;
  a: number;
  b: number;
}

/** Architecture `a` minus `b` per (suite, model, budget), paired by item and seed (same instance noise). */
export function pairedComparison(cells: readonly CellResult[], a: string, b: string): PairedComparison[] {
  const key = (cell: CellResult): string => [cell.suite, cell.model, cell.budget].join('\u0000');
  const index = new Map<string, number>();
  for (const cell of cells) if (cell.architecture === b) index.set(`${key(cell)}\u0000${cell.taskId}`, cell.score);
  const groups = groupBy(
    cells.filter((cell) => cell.architecture === a && index.has(`${key(cell)}\u0000${cell.taskId}`)),
    key,
  );
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const pairs = group.map((cell) => [cell.score, index.get(`${key(cell)}\u0000${cell.taskId}`)!] as const);
    const differences = pairs.map(([x, y]) => x - y);
    return {
      suite: first.suite,
      model: first.model,
      budget: first.budget,
      difference: mean(differences),
      se: standardError(differences),
      n: pairs.length,
      a: mean(pairs.map(([x]) => x)),
      b: mean(pairs.map(([, y]) => y)),
    };
  });
}

export interface FamilyComparison {
  suite: string;
  model: string;
  budget: number;
  bestSingle: { architecture: string; accuracy: number } | undefined;
  bestMulti: { architecture: string; accuracy: number } | undefined;
}

/** Best single-agent vs best multi-agent architecture at each matched budget. */
export function familyComparison(configs: readonly Configuration[]): FamilyComparison[] {
  const groups = groupBy(configs, (config) => [config.suite, config.model, config.budget].join('\u0000'));
  const best = (list: Configuration[], family: string): { architecture: string; accuracy: number } | undefined => {
    const top = list.filter((config) => config.family === family).sort((x, y) => y.accuracy - x.accuracy)[0];
    return top ? { architecture: top.architecture, accuracy: top.accuracy } : undefined;
  };
  return [...groups.values()]
    .map((list) => ({
      suite: list[0]!.suite,
      model: list[0]!.model,
      budget: list[0]!.budget,
      bestSingle: best(list, 'single-agent'),
      bestMulti: best(list, 'multi-agent'),
    }))
    .filter((row) => row.bestSingle !== undefined && row.bestMulti !== undefined);
}

export interface AxisSlope {
  axis: 'search steps' | 'reasoning tokens';
  /** Accuracy change per doubling of the axis, within items (item fixed effects absorbed). */
  perDoubling: number;
  /** Within-item R² of that regression. */
  r2: number;
  n: number;
  /** Mean score by level (steps, or output-token bins by powers of two) — raw, not within-item. */
  levels: Array<{ level: number; accuracy: number; n: number }>;
}

/**
 * Search steps vs reasoning (output) tokens as compute axes, on the runs that used search: each run's score
 * regressed on log2 of each axis *within items* (item means removed from both sides). Across items the raw
 * relation is confounded — harder questions need more hops and longer answers — so only the variation a
 * budget or step limit causes on the same question is used. The two slopes are then directly comparable.
 */
export function searchVersusTokens(cells: readonly CellResult[]): AxisSlope[] {
  const runs = cells.filter((cell) => cell.searchSteps > 0);
  if (runs.length < 4) return [];
  const byItem = groupBy(runs, (cell) => `${cell.taskId}\u0000${cell.model}`);
  const slope = (axis: AxisSlope['axis'], value: (cell: CellResult) => number, bin: (x: number) => number): AxisSlope => {
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (const group of byItem.values()) {
      const xs = group.map((cell) => Math.log2(Math.max(1, value(cell))));
      const mx = mean(xs);
      const my = mean(group.map((cell) => cell.score));
      group.forEach((cell, index) => {
        sxy += (xs[index]! - mx) * (cell.score - my);
        sxx += (xs[index]! - mx) ** 2;
        syy += (cell.score - my) ** 2;
      });
    }
    const perDoubling = sxx > 1e-12 ? sxy / sxx : 0;
    const r2 = sxx > 1e-12 && syy > 1e-12 ? (sxy * sxy) / (sxx * syy) : 0;
    const levels = [...groupBy(runs, (cell) => String(bin(value(cell)))).entries()]
      .map(([level, group]) => ({ level: Number(level), accuracy: mean(group.map((cell) => cell.score)), n: group.length }))
      .sort((x, y) => x.level - y.level);
    return { axis, perDoubling, r2, n: runs.length, levels };
  };
  return [
    slope(
      'search steps',
      (cell) => cell.searchSteps,
      (x) => x,
    ),
    slope(
      'reasoning tokens',
      (cell) => cell.usage.outputTokens,
      (x) => 2 ** Math.round(Math.log2(Math.max(1, x))),
    ),
  ];
}

export interface CoordinationRow {
  architecture: string;
  model: string;
  size: number;
  score: number;
  se: number;
  n: number;
  solved: number;
}

/** Network tasks (cells with `meta.networkSize`): score by size, and the slope per doubling of the network. */
export function coordinationBySize(cells: readonly CellResult[]): {
  rows: CoordinationRow[];
  slopes: Array<{ architecture: string; model: string; perDoubling: number; n: number }>;
} {
  const network = cells.filter(
    (cell) =>
      typeof cell.meta['networkSize'] === 'number' || (typeof cell.meta['networkSize'] === 'string' && cell.meta['networkSize'] !== ''),
  );
  const size = (cell: CellResult): number => Number(cell.meta['networkSize']);
  const rows = [...groupBy(network, (cell) => [cell.architecture, cell.model, size(cell)].join('\u0000')).values()]
    .map((group) => ({
      architecture: group[0]!.architecture,
      model: group[0]!.model,
      size: size(group[0]!),
      score: mean(group.map((cell) => cell.score)),
      se: standardError(group.map((cell) => cell.score)),
      n: group.length,
      solved: mean(group.map((cell) => (cell.score >= 1 - 1e-9 ? 1 : 0))),
    }))
    .sort((a, b) => a.architecture.localeCompare(b.architecture) || a.model.localeCompare(b.model) || a.size - b.size);
  const slopes = [...groupBy(network, (cell) => `${cell.architecture}\u0000${cell.model}`).values()]
    .filter((group) => new Set(group.map(size)).size >= 2)
    .map((group) => {
      const fit = ols(
        group.map((cell) => [1, Math.log2(size(cell))]),
        group.map((cell) => cell.score),
      );
      return { architecture: group[0]!.architecture, model: group[0]!.model, perDoubling: fit.coefficients[1] ?? 0, n: group.length };
    });
  return { rows, slopes };
}

/** Mean of each criticality metric per architecture (cells without metrics are left out). */
export function criticalityByArchitecture(
  cells: readonly CellResult[],
): Array<{ architecture: string; n: number; metrics: Record<string, number> }> {
  const withMetrics = cells.filter((cell) => cell.criticality !== undefined);
  return [...groupBy(withMetrics, (cell) => cell.architecture).entries()].map(([architecture, group]) => {
    const names = [...new Set(group.flatMap((cell) => Object.keys(cell.criticality!)))].sort();
    const metrics: Record<string, number> = {};
    for (const name of names) {
      const values = group
        .map((cell) => cell.criticality![name])
        .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
      metrics[name] = mean(values);
    }
    return { architecture, n: group.length, metrics };
  });
}

/** Mean tokens per query by compute axis, per architecture. */
export function spendByAxis(cells: readonly CellResult[]): Array<{ architecture: string; axes: Record<string, number> }> {
  return [...groupBy(cells, (cell) => cell.architecture).entries()].map(([architecture, group]) => {
    const axes: Record<string, number> = {};
    for (const cell of group)
      for (const [axis, tokens] of Object.entries(cell.axes)) axes[axis] = (axes[axis] ?? 0) + tokens / group.length;
    return { architecture, axes };
  });
}
