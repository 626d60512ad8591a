/**
 * The seed's claims, measured on a study's own runs (issue 18): width vs single at matched budgets, a direct
 * model against a reasoning model, small→large cascades against always-large, and the governor's `auto` against
 * the best fixed architecture. Every accuracy carries a 95% percentile-bootstrap interval over items (seeded,
 * so the report is reproducible); differences are paired over the same items.
 *
 * Compute for cascades is tokens × parameters where the models' sizes are known (the tiny models' cards) —
 * forward-pass FLOPs are ≈ 2 × parameters per token — else tokens; prices would say nothing for models that
 * cost $0 to run.
 */
import { createRng } from '../../core/index.ts';
import type { CellResult, ModelFacts } from '../types.ts';

export interface Interval {
  low: number;
  high: number;
}

export interface MeasuredConfig {
  architecture: string;
  model: string;
  budget: number;
  n: number;
  accuracy: number;
  ci: Interval;
  meanTokens: number;
}

export interface WidthRow {
  suite: string;
  model: string;
  budget: number;
  configs: MeasuredConfig[];
}

export interface RegimeRow {
  suite: string;
  budget: number;
  direct: MeasuredConfig;
  reasoning: MeasuredConfig;
  /** Reasoning − direct, paired over items, with its interval. */
  difference: number;
  differenceCi: Interval;
}

export interface CascadeRow {
  suite: string;
  budget: number;
  cascade: MeasuredConfig;
  /** `single` on the ladder's largest model at the same budget. */
  alwaysLarge: MeasuredConfig;
  /** cascade accuracy / always-large accuracy. */
  accuracyRatio: number;
  /** 1 − cascade compute / always-large compute (tokens × parameters, or tokens when sizes are unknown). */
  computeSaved: number;
  computeUnit: 'token-parameters' | 'tokens';
  /** Share of the cascade's tokens spent on its first (cheapest) model. */
  smallShare: number;
}

export interface GovernorRow {
  suite: string;
  model: string;
  budget: number;
  auto: MeasuredConfig;
  bestFixed: MeasuredConfig;
  /** auto − best fixed, paired over items, with its interval. */
  gap: number;
  gapCi: Interval;
}

export interface SeedClaims {
  width: WidthRow[];
  regime: RegimeRow[];
  cascade: CascadeRow[];
  governor: GovernorRow[];
}

const RESAMPLES = 1000;
const BOOTSTRAP_SEED = 20_261_207;

const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** 95% percentile bootstrap of the mean (seeded: the same cells give the same interval). */
export function bootstrapMean(values: readonly number[], seed = BOOTSTRAP_SEED): Interval {
  if (values.length === 0) return { low: 0, high: 0 };
  const rng = createRng(seed);
  const means: number[] = [];
  for (let sample = 0; sample < RESAMPLES; sample++) {
    let sum = 0;
    for (let index = 0; index < values.length; index++) sum += values[rng.int(values.length)]!;
    means.push(sum / values.length);
  }
  means.sort((a, b) => a - b);
  return { low: means[Math.floor(RESAMPLES * 0.025)]!, high: means[Math.ceil(RESAMPLES * 0.975) - 1]! };
}

interface Group {
  architecture: string;
  model: string;
  budget: number;
  /** Mean score per item (over seeds). */
  byItem: Map<string, number>;
  tokens: number[];
  cells: CellResult[];
}

function groupsOf(cells: readonly CellResult[], suite: string): Map<string, Group> {
  const groups = new Map<string, Group>();
  const scores = new Map<string, Map<string, number[]>>();
  for (const cell of cells) {
    if (cell.suite !== suite) continue;
    const key = `${cell.architecture}|${cell.model}|${cell.budget}`;
    let group = groups.get(key);
    if (!group) {
      group = { architecture: cell.architecture, model: cell.model, budget: cell.budget, byItem: new Map(), tokens: [], cells: [] };
      groups.set(key, group);
      scores.set(key, new Map());
    }
    const items = scores.get(key)!;
    items.set(cell.taskId, [...(items.get(cell.taskId) ?? []), cell.score]);
    group.tokens.push(cell.usage.totalTokens);
    group.cells.push(cell);
  }
  for (const [key, group] of groups) for (const [item, values] of scores.get(key)!) group.byItem.set(item, mean(values));
  return groups;
}

function measured(group: Group): MeasuredConfig {
  const values = [...group.byItem.values()];
  return {
    architecture: group.architecture,
    model: group.model,
    budget: group.budget,
    n: values.length,
    accuracy: mean(values),
    ci: bootstrapMean(values),
    meanTokens: mean(group.tokens),
  };
}

/** b − a over the items both answered, with its bootstrap interval. */
function pairedDifference(a: Group, b: Group): { difference: number; ci: Interval } {
  const differences = [...a.byItem.entries()].flatMap(([item, score]) => {
    const other = b.byItem.get(item);
    return other === undefined ? [] : [other - score];
  });
  return { difference: mean(differences), ci: bootstrapMean(differences) };
}

const isWidth = (architecture: string): boolean => architecture === 'single' || /^vote(@\d+)?$/.test(architecture);
const widthOrder = (architecture: string): number => (architecture === 'single' ? 1 : Number(/@(\d+)/.exec(architecture)?.[1] ?? 99));

export function seedClaims(cells: readonly CellResult[], models: Readonly<Record<string, ModelFacts>>): SeedClaims {
  const claims: SeedClaims = { width: [], regime: [], cascade: [], governor: [] };
  const suites = [...new Set(cells.map((cell) => cell.suite))];
  const budgets = [...new Set(cells.map((cell) => cell.budget))].sort((a, b) => a - b);
  const studied = [...new Set(cells.map((cell) => cell.model))];
  for (const suite of suites) {
    const groups = groupsOf(cells, suite);
    const find = (architecture: string, model: string, budget: number): Group | undefined =>
      groups.get(`${architecture}|${model}|${budget}`);
    const at = (model: string, budget: number): Group[] => [...groups.values()].filter((g) => g.model === model && g.budget === budget);

    for (const model of studied)
      for (const budget of budgets) {
        const width = at(model, budget)
          .filter((group) => isWidth(group.architecture))
          .sort((a, b) => widthOrder(a.architecture) - widthOrder(b.architecture));
        if (width.length >= 2) claims.width.push({ suite, model, budget, configs: width.map(measured) });
      }

    // Direct vs reasoning: same tier, each model's best width configuration at the budget.
    for (const direct of studied.filter((model) => models[model] && !models[model].reasoning))
      for (const reasoning of studied.filter((model) => models[model]?.reasoning && models[model].tier === models[direct]!.tier))
        for (const budget of budgets) {
          const best = (model: string): Group | undefined =>
            at(model, budget)
              .filter((group) => isWidth(group.architecture))
              .sort((a, b) => measured(b).accuracy - measured(a).accuracy || mean(a.tokens) - mean(b.tokens))[0];
          const [d, r] = [best(direct), best(reasoning)];
          if (!d || !r) continue;
          const { difference, ci } = pairedDifference(d, r);
          claims.regime.push({ suite, budget, direct: measured(d), reasoning: measured(r), difference, differenceCi: ci });
        }

    // Cascades: against `single` on the largest model their cells spent on, at the same budget.
    for (const group of [...groups.values()].filter((g) => g.architecture === 'cascade')) {
      const spentOn = new Set(group.cells.flatMap((cell) => Object.keys(cell.byModel ?? {})));
      const tierRank = (model: string): number => ['small', 'medium', 'large'].indexOf(models[model]?.tier ?? 'small');
      const large = [...spentOn, ...studied].filter((model) => model !== group.model).sort((a, b) => tierRank(b) - tierRank(a))[0];
      const baseline = large ? find('single', large, group.budget) : undefined;
      if (!large || !baseline || tierRank(large) <= tierRank(group.model)) continue;
      const sized = (model: string): number | undefined => models[model]?.parameters;
      const unit = [group.model, large, ...spentOn].every((model) => sized(model) !== undefined) ? 'token-parameters' : 'tokens';
      const weight = (model: string): number => (unit === 'token-parameters' ? sized(model)! : 1);
      const cascadeCompute = mean(
        group.cells.map((cell) => Object.entries(cell.byModel ?? {}).reduce((sum, [model, tokens]) => sum + tokens * weight(model), 0)),
      );
      const largeCompute = mean(baseline.cells.map((cell) => cell.usage.totalTokens)) * weight(large);
      const smallTokens = mean(group.cells.map((cell) => cell.byModel?.[group.model] ?? 0));
      const [cascade, alwaysLarge] = [measured(group), measured(baseline)];
      claims.cascade.push({
        suite,
        budget: group.budget,
        cascade,
        alwaysLarge,
        accuracyRatio: alwaysLarge.accuracy > 0 ? cascade.accuracy / alwaysLarge.accuracy : cascade.accuracy > 0 ? Infinity : 1,
        computeSaved: largeCompute > 0 ? 1 - cascadeCompute / largeCompute : 0,
        computeUnit: unit,
        smallShare: cascade.meanTokens > 0 ? smallTokens / cascade.meanTokens : 0,
      });
    }

    // The governor: auto against the best fixed architecture (highest accuracy) for the same model and budget.
    for (const auto of [...groups.values()].filter((g) => g.architecture === 'auto')) {
      const fixed = at(auto.model, auto.budget).filter((group) => group.architecture !== 'auto');
      const best = fixed.sort((a, b) => measured(b).accuracy - measured(a).accuracy || mean(a.tokens) - mean(b.tokens))[0];
      if (!best) continue;
      const { difference, ci } = pairedDifference(best, auto);
      claims.governor.push({
        suite,
        model: auto.model,
        budget: auto.budget,
        auto: measured(auto),
        bestFixed: measured(best),
        gap: difference,
        gapCi: ci,
      });
    }
  }
  return claims;
}
