/**
 * Study analysis: from a study's cells to the figures a report shows.
 *
 *   - **Where did the gains come from?** A variance decomposition of configuration accuracy (suite × seed
 *     fixed effects absorbed) into tokens spent, tool/search calls, architecture and model — Shapley shares as
 *     the headline, nested shares alongside; the same at run level with item fixed effects, and per suite.
 *   - Scaling curves (accuracy vs log-tokens, saturating or logistic, LM fit) per suite × model × architecture,
 *     and the compute-optimal frontier (Pareto set and upper hull) per suite × model and per suite.
 *   - Matched-budget configurations, solo vs debate (paired), best single- vs multi-agent, search steps vs
 *     reasoning tokens, coordination vs network size (when AgentsNet cells exist), criticality per
 *     architecture (when a criticality hook produced metrics), spend by axis.
 */
import { fitScalingCurve, evaluateCurve, type CurveFit } from './curve-fit.ts';
import { paretoFrontier, upperHull, type FrontierPoint } from './frontier.ts';
import type { FeatureGroup } from './ols.ts';
import { groupColumns } from './ols.ts';
import { decomposeVariance, type VarianceDecomposition } from './variance.ts';
import {
  configurations,
  coordinationBySize,
  criticalityByArchitecture,
  familyComparison,
  groupBy,
  pairedComparison,
  searchVersusTokens,
  spendByAxis,
  type AxisSlope,
  type Configuration,
  type CoordinationRow,
  type FamilyComparison,
  type PairedComparison,
} from './summaries.ts';
import type { CellResult, ModelFacts } from '../types.ts';
import { seedClaims, type SeedClaims } from './seed-claims.ts';

export * from './ols.ts';
export * from './variance.ts';
export * from './curve-fit.ts';
export * from './frontier.ts';
export * from './summaries.ts';
export * from './seed-claims.ts';
export * from './paired.ts';
export * from './governor-frontier.ts';

/** The factor groups of the decomposition, in the nested order (tokens first: the budget is the question asked). */
export const FACTOR_GROUPS = ['tokens', 'tools', 'architecture', 'model'] as const;

export interface Decomposition extends VarianceDecomposition {
  /** Groups left out because they do not vary in the data (e.g. one model only). */
  constant: string[];
  level: 'configuration' | 'run';
}

export interface CurveResult {
  suite: string;
  model: string;
  architecture: string;
  fit: CurveFit;
  /** The fitted curve sampled across the observed token range, for plotting. */
  samples: Array<{ tokens: number; accuracy: number }>;
}

export interface FrontierResult {
  suite: string;
  /** A model, or `all` for the frontier across models. */
  model: string;
  pareto: FrontierPoint[];
  hull: FrontierPoint[];
}

export interface StudyAnalysis {
  studyId: string;
  title: string;
  simulated: boolean;
  cells: number;
  suites: string[];
  architectures: string[];
  models: string[];
  budgets: number[];
  budgetUnit: 'tokens' | 'usd';
  headline: { text: string; decomposition: Decomposition | undefined };
  runLevel: Decomposition | undefined;
  bySuite: Array<{ suite: string; decomposition: Decomposition | undefined }>;
  configurations: Configuration[];
  curves: CurveResult[];
  frontiers: FrontierResult[];
  soloVsDebate: PairedComparison[];
  families: FamilyComparison[];
  searchVsTokens: AxisSlope[];
  coordination: { rows: CoordinationRow[]; slopes: Array<{ architecture: string; model: string; perDoubling: number; n: number }> };
  criticality: { rows: Array<{ architecture: string; n: number; metrics: Record<string, number> }>; note: string };
  spendByAxis: Array<{ architecture: string; axes: Record<string, number> }>;
  notRunnable: Array<{ suite: string; architecture: string; reason: string }>;
  /** Models of the study that are Thicket's tiny trained models (real, tiny, synthetic tasks): the report says so. */
  tinyModels: string[];
  /** The seed's claims measured on these runs (width, direct vs reasoning, cascades, the governor), with intervals. */
  seedClaims: SeedClaims;
}

export interface AnalyzeInput {
  studyId: string;
  title?: string;
  simulated: boolean;
  cells: readonly CellResult[];
  notRunnable?: StudyAnalysis['notRunnable'];
  /** Whether a criticality hook was installed (explains an empty criticality section). */
  criticalityHook?: boolean;
  /** What is known of each model (tier, reasoning, tiny, size): the seed-claims comparisons need it. */
  models?: Record<string, ModelFacts>;
}

interface FactorRow {
  y: number;
  weight: number;
  tokens: number;
  tools: number;
  architecture: string;
  model: string;
  absorb: string;
}

function decompose(rows: readonly FactorRow[], level: Decomposition['level']): Decomposition | undefined {
  if (rows.length < 4) return undefined;
  const logTokens = rows.map((row) => Math.log(Math.max(1, row.tokens)));
  const all: FeatureGroup[] = [
    // ln tokens and its square: lets the budget effect saturate, as the scaling curves do.
    { name: 'tokens', kind: 'numeric', columns: [logTokens, logTokens.map((x) => x * x)] },
    { name: 'tools', kind: 'numeric', columns: [rows.map((row) => Math.log1p(row.tools))] },
    { name: 'architecture', kind: 'categorical', values: rows.map((row) => row.architecture) },
    { name: 'model', kind: 'categorical', values: rows.map((row) => row.model) },
  ];
  const varying = all.filter((group) => groupColumns(group).length > 0);
  const constant = all.filter((group) => !varying.includes(group)).map((group) => group.name);
  if (varying.length === 0) return undefined;
  const result = decomposeVariance(
    rows.map((row) => row.y),
    varying,
    { absorb: rows.map((row) => row.absorb), weights: rows.map((row) => row.weight) },
  );
  return { ...result, constant, level };
}

const configurationRows = (configs: readonly Configuration[], seedOf: (config: Configuration) => string): FactorRow[] =>
  configs.map((config) => ({
    y: config.accuracy,
    weight: config.n,
    tokens: config.meanTokens,
    tools: config.meanToolCalls,
    architecture: config.architecture,
    model: config.model,
    absorb: `${config.suite}\u0000${seedOf(config)}`,
  }));

/**
 * The headline, in the chart's unit: each factor's Shapley share of the within-suite variance (the bar chart
 * below it shows the same numbers, with the unexplained rest). Shares of the explained part only are a
 * different figure (they sum to 100%) and appear in the table, labelled as such.
 */
function headlineText(decomposition: Decomposition | undefined, simulated: boolean): string {
  if (!decomposition) return 'Not enough configurations to decompose the variance (need at least 4).';
  const pct = (value: number): string => `${Math.round(value * 100)}%`;
  const parts = decomposition.groups
    .slice()
    .sort((a, b) => b.shapley - a.shapley)
    .map((group) => `${group.name} ${pct(group.shapley)}`)
    .join(', ');
  const tokens = decomposition.groups.find((group) => group.name === 'tokens');
  const alone = tokens ? ` Tokens spent, taken alone, would explain ${pct(tokens.alone)}.` : '';
  return (
    `${simulated ? '[SIMULATED] ' : ''}Share of the within-suite variance in accuracy across configurations: ${parts}; ` +
    `${pct(Math.max(0, 1 - decomposition.total))} is left unexplained (item difficulty, noise).${alone}`
  );
}

export function analyzeStudy(input: AnalyzeInput): StudyAnalysis {
  const cells = input.cells;
  const unique = <T>(values: T[]): T[] => [...new Set(values)];
  const bySeed = configurations(cells, { bySeed: true });
  const pooled = configurations(cells);
  const seedOf = (config: Configuration): string => config.seeds.join(',');
  const headline = decompose(configurationRows(bySeed, seedOf), 'configuration');
  const runLevel = decompose(
    cells.map((cell) => ({
      y: cell.score,
      weight: 1,
      tokens: cell.usage.totalTokens,
      tools: cell.toolCalls,
      architecture: cell.architecture,
      model: cell.model,
      absorb: cell.taskId,
    })),
    'run',
  );
  const suites = unique(cells.map((cell) => cell.suite));
  const bySuite = suites.map((suite) => ({
    suite,
    decomposition: decompose(
      configurationRows(
        bySeed.filter((config) => config.suite === suite),
        seedOf,
      ),
      'configuration',
    ),
  }));

  const curves: CurveResult[] = [];
  for (const group of groupBy(pooled, (config) => [config.suite, config.model, config.architecture].join('\u0000')).values()) {
    const points = group
      .filter((config) => config.meanTokens > 0)
      .map((config) => ({ tokens: config.meanTokens, score: config.accuracy, weight: config.n }));
    const fit = fitScalingCurve(points);
    if (!fit) continue;
    const low = Math.min(...points.map((point) => point.tokens));
    const high = Math.max(...points.map((point) => point.tokens));
    const samples = Array.from({ length: 25 }, (_, index) => {
      const tokens = Math.exp(Math.log(low) + ((Math.log(high) - Math.log(low)) * index) / 24);
      return { tokens, accuracy: Math.min(1, Math.max(0, evaluateCurve(fit, tokens))) };
    });
    curves.push({ suite: group[0]!.suite, model: group[0]!.model, architecture: group[0]!.architecture, fit, samples });
  }

  const point = (config: Configuration): FrontierPoint => ({
    tokens: config.meanTokens,
    accuracy: config.accuracy,
    label: `${config.architecture} · ${config.model} · ${config.budget}`,
    meta: { architecture: config.architecture, model: config.model, budget: config.budget, n: config.n },
  });
  const frontiers: FrontierResult[] = [];
  for (const suite of suites) {
    const inSuite = pooled.filter((config) => config.suite === suite);
    const models = unique(inSuite.map((config) => config.model));
    for (const model of [...models, ...(models.length > 1 ? ['all'] : [])]) {
      const points = inSuite.filter((config) => model === 'all' || config.model === model).map(point);
      frontiers.push({ suite, model, pareto: paretoFrontier(points), hull: upperHull(points) });
    }
  }

  const criticalityRows = criticalityByArchitecture(cells);
  const criticalityNote =
    criticalityRows.length > 0
      ? 'Per-architecture means of the criticality metrics of each run’s reasoning graph.'
      : input.criticalityHook
        ? 'A criticality hook was installed but produced no metrics for these runs.'
        : 'No criticality hook was installed for this study (defaultStudyHooks() installs the metrics of src/criticality); runs record ' +
          'reasoning-graph sizes only.';
  return {
    studyId: input.studyId,
    title: input.title ?? input.studyId,
    simulated: input.simulated,
    cells: cells.length,
    suites,
    architectures: unique(cells.map((cell) => cell.architecture)),
    models: unique(cells.map((cell) => cell.model)),
    budgets: unique(cells.map((cell) => cell.budget)).sort((a, b) => a - b),
    budgetUnit: cells[0]?.budgetUnit ?? 'tokens',
    headline: { text: headlineText(headline, input.simulated), decomposition: headline },
    runLevel,
    bySuite,
    configurations: pooled.sort(
      (a, b) =>
        a.suite.localeCompare(b.suite) ||
        a.model.localeCompare(b.model) ||
        a.architecture.localeCompare(b.architecture) ||
        a.budget - b.budget,
    ),
    curves,
    frontiers,
    soloVsDebate: pairedComparison(cells, 'solo', 'debate'),
    families: familyComparison(pooled),
    searchVsTokens: searchVersusTokens(cells),
    coordination: coordinationBySize(cells),
    criticality: { rows: criticalityRows, note: criticalityNote },
    spendByAxis: spendByAxis(cells),
    notRunnable: input.notRunnable ?? [],
    tinyModels: Object.entries(input.models ?? {})
      .filter(([, facts]) => facts.tinyTrained)
      .map(([model]) => model),
    seedClaims: seedClaims(cells, input.models ?? {}),
  };
}
