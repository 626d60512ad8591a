/**
 * Report charts: Vega-Lite specs compiled to Vega and rendered to SVG in Node (no browser, no canvas, no
 * network: `renderer: 'none'` + `toSVG()`), so the HTML report embeds them inline and works offline.
 * Every chart drawn from simulated runs carries "SIMULATED" in its title.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { StudyAnalysis } from '../analysis/index.ts';
import { importOptional } from '../../core/index.ts';

export interface Chart {
  /** File-safe id (`decomposition`, `frontier-arithmetic`, …). */
  id: string;
  title: string;
  svg: string;
}

const SIMULATED_SUBTITLE = 'SIMULATED — simulated fleet (sim:), not a real model’s accuracy';

/** A chart title; several lines when given several (the first carries the SIMULATED label). */
function titled(text: string | readonly string[], simulated: boolean): Record<string, unknown> {
  const [first = '', ...rest] = typeof text === 'string' ? [text] : text;
  const lines = simulated ? [`${first} [SIMULATED]`, ...rest] : [first, ...rest];
  const title = lines.length === 1 ? lines[0] : lines;
  return simulated
    ? { text: title, subtitle: SIMULATED_SUBTITLE, subtitleColor: '#9a6700', anchor: 'start' }
    : { text: title, anchor: 'start' };
}

const BASE_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11 },
};

export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  // Loaded on first use: vega costs ~0.3 s to import and only report rendering needs it, so every other CLI
  // command would otherwise pay for it at start-up. Both are optional peer dependencies.
  const [vega, { compile }] = await Promise.all([
    importOptional('vega', 'Report charts', () => import('vega')),
    importOptional('vega-lite', 'Report charts', () => import('vega-lite')),
  ]);
  const compiled = compile({ ...spec, config: BASE_CONFIG } as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const percent = { format: '.0%' };

/** Headline: each factor group's Shapley share of the within-suite variance, plus what stays unexplained. */
function decompositionSpec(analysis: StudyAnalysis): Record<string, unknown> | undefined {
  const decomposition = analysis.headline.decomposition;
  if (!decomposition) return undefined;
  const values = [
    // In the headline's order (largest share first), the unexplained rest last: the bars sum to 100%.
    ...decomposition.groups
      .slice()
      .sort((a, b) => b.shapley - a.shapley)
      .map((group) => ({ factor: group.name, share: group.shapley, kind: 'explained' })),
    { factor: 'unexplained', share: Math.max(0, 1 - decomposition.total), kind: 'unexplained' },
  ];
  return {
    title: titled('Where did the gains come from? Share of the within-suite variance in accuracy', analysis.simulated),
    width: 520,
    height: 28 * values.length,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          y: { field: 'factor', type: 'nominal', sort: null, title: null },
          x: {
            field: 'share',
            type: 'quantitative',
            axis: { ...percent, title: 'share of the within-suite variance (Shapley)' },
            scale: { domain: [0, 1] },
          },
          color: {
            field: 'kind',
            type: 'nominal',
            scale: { domain: ['explained', 'unexplained'], range: ['#2f6fbf', '#c8c8c8'] },
            legend: null,
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4 },
        encoding: {
          y: { field: 'factor', type: 'nominal', sort: null },
          x: { field: 'share', type: 'quantitative' },
          text: { field: 'share', type: 'quantitative', format: '.0%' },
        },
      },
    ],
  };
}

/** Panels per row of a faceted chart. */
const PANELS_PER_ROW = 2;

/** The governor's architecture (family `governed`), highlighted on the frontier chart. */
export const GOVERNOR_ARCHITECTURE = 'auto';
/** Its legend entry: the only entry of the frontier chart's shape legend. */
export const GOVERNOR_LABEL = 'auto (governor)';
/** Deep magenta: outside Vega-Lite's default categorical palette (tableau10), so it means `auto` only. */
const GOVERNOR_COLOR = '#c2006b';

/** One of auto's points on a frontier panel, in budget order. */
interface GovernorPoint {
  budget: number;
  tokens: number;
  accuracy: number;
  n: number;
  series: typeof GOVERNOR_LABEL;
}

/**
 * The highlighted `auto` layer of one frontier panel: its configurations joined in budget order by a solid,
 * thicker line, drawn as large diamonds with a dark outline, above every other layer; `undefined` where auto
 * did not run. The line follows the budget (`order`), not the x axis: auto may spend fewer tokens under a
 * larger budget, and the line should show that turn rather than hide it.
 */
function governorLayer(points: readonly GovernorPoint[], x: object, y: object): Record<string, unknown> | undefined {
  if (points.length === 0) return undefined;
  const shape = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: [GOVERNOR_LABEL], range: ['diamond'] },
    legend: {
      symbolFillColor: GOVERNOR_COLOR,
      symbolStrokeColor: '#1f1f1f',
      symbolStrokeWidth: 1.5,
      symbolSize: 140,
      labelFontWeight: 'bold',
    },
  };
  return {
    description: GOVERNOR_LABEL,
    data: { values: points },
    encoding: { x, y, order: { field: 'budget', type: 'quantitative' } },
    layer: [
      { mark: { type: 'line', color: GOVERNOR_COLOR, strokeWidth: 3.5, opacity: 0.95 } },
      {
        mark: { type: 'point', filled: true, size: 150, color: GOVERNOR_COLOR, stroke: '#1f1f1f', strokeWidth: 1.5, opacity: 1 },
        encoding: { shape, tooltip: [{ field: 'series' }, { field: 'budget' }, { field: 'n' }] },
      },
      // A direct label at the largest budget's point, so a panel far from the legend still names the line.
      {
        transform: [{ filter: `datum.budget === ${Math.max(...points.map((point) => point.budget))}` }],
        mark: {
          type: 'text',
          text: GOVERNOR_ARCHITECTURE,
          color: GOVERNOR_COLOR,
          fontWeight: 'bold',
          fontSize: 12,
          align: 'left',
          dx: 9,
          dy: -9,
        },
      },
    ],
  };
}

/**
 * Accuracy vs tokens spent for one suite: one panel per model (its configurations, one fitted curve per
 * architecture and its compute-optimal frontier), so a panel carries one line per architecture instead of
 * every architecture × model curve overplotted in one frame. Colours mean the same architecture in every panel.
 * The governor (`auto`) is not one more colour among them: it is drawn on top, as large diamonds joined in
 * budget order (`governorLayer`), with its own legend entry.
 */
export function frontierSpec(analysis: StudyAnalysis, suite: string): Record<string, unknown> {
  const x = { field: 'tokens', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'tokens spent per query (log scale)' } };
  const y = { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { ...percent, title: 'accuracy' } };
  const spent = analysis.configurations.filter((config) => config.suite === suite && config.meanTokens > 0);
  const isGovernor = (architecture: string): boolean => architecture === GOVERNOR_ARCHITECTURE;
  const governorRan = spent.some((config) => isGovernor(config.architecture));
  // The fixed architectures run on this suite, in the study's order: the same colour in every panel of the chart.
  const present = new Set(analysis.configurations.filter((config) => config.suite === suite).map((config) => config.architecture));
  const color = {
    field: 'architecture',
    type: 'nominal',
    title: 'architecture',
    scale: { domain: analysis.architectures.filter((architecture) => present.has(architecture) && !isGovernor(architecture)) },
  };
  const models = analysis.models.filter((model) => spent.some((config) => config.model === model));
  const panel = (model: string): Record<string, unknown> => {
    const configs = spent.filter((config) => config.model === model);
    const points = configs
      .filter((config) => !isGovernor(config.architecture))
      .map((config) => ({
        tokens: config.meanTokens,
        accuracy: config.accuracy,
        architecture: config.architecture,
        budget: config.budget,
        n: config.n,
      }));
    const governorPoints: GovernorPoint[] = configs
      .filter((config) => isGovernor(config.architecture))
      .sort((a, b) => a.budget - b.budget)
      .map((config) => ({
        budget: config.budget,
        tokens: config.meanTokens,
        accuracy: config.accuracy,
        n: config.n,
        series: GOVERNOR_LABEL,
      }));
    // auto's own fitted curve is left out: its solid budget-ordered line stands for it.
    const curves = analysis.curves
      .filter((curve) => curve.suite === suite && curve.model === model && !isGovernor(curve.architecture))
      .flatMap((curve) => curve.samples.map((sample) => ({ ...sample, architecture: curve.architecture })));
    const frontier = analysis.frontiers.find((entry) => entry.suite === suite && entry.model === model);
    const hull = (frontier?.hull ?? []).map((point) => ({ tokens: point.tokens, accuracy: point.accuracy, label: point.label }));
    const governor = governorLayer(governorPoints, x, y);
    return {
      title: { text: model, anchor: 'start', fontSize: 12 },
      width: 280,
      height: 220,
      layer: [
        { data: { values: curves }, mark: { type: 'line', strokeWidth: 1.5, opacity: 0.75 }, encoding: { x, y, color } },
        {
          data: { values: hull },
          mark: { type: 'line', color: 'black', strokeWidth: 2, strokeDash: [4, 3], point: { filled: true, color: 'black', size: 24 } },
          encoding: { x, y },
        },
        {
          data: { values: points },
          mark: { type: 'point', filled: true, size: 45, opacity: 0.85 },
          encoding: { x, y, color, tooltip: [{ field: 'architecture' }, { field: 'budget' }, { field: 'n' }] },
        },
        // Last, so that it is painted over the other architectures' points.
        ...(governor ? [governor] : []),
      ],
    };
  };
  const rows: Array<Record<string, unknown>> = [];
  for (let start = 0; start < models.length; start += PANELS_PER_ROW)
    rows.push({ hconcat: models.slice(start, start + PANELS_PER_ROW).map(panel) });
  return {
    title: titled(
      [
        `Accuracy vs tokens — ${suite}: fitted curve per architecture, one panel per model; dashed: compute-optimal frontier`,
        ...(governorRan ? [`Highlighted: ${GOVERNOR_LABEL} — magenta diamonds joined in budget order`] : []),
      ],
      analysis.simulated,
    ),
    vconcat: rows,
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  };
}

/** Accuracy by search steps and by reasoning tokens, for the runs that searched. */
function searchAxesSpec(analysis: StudyAnalysis): Record<string, unknown> | undefined {
  if (analysis.searchVsTokens.length === 0) return undefined;
  const panel = (axis: string, title: string): Record<string, unknown> => ({
    width: 260,
    height: 200,
    data: { values: analysis.searchVsTokens.find((entry) => entry.axis === axis)?.levels ?? [] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'level', type: 'quantitative', scale: { type: axis === 'search steps' ? 'linear' : 'log' }, axis: { title } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { ...percent, title: 'accuracy' } },
    },
  });
  return {
    title: titled('Search steps vs reasoning tokens as compute axes (runs that searched)', analysis.simulated),
    hconcat: [panel('search steps', 'search steps used'), panel('reasoning tokens', 'output tokens (binned, log)')],
  };
}

/** Score vs network size for AgentsNet cells. */
function coordinationSpec(analysis: StudyAnalysis): Record<string, unknown> | undefined {
  const rows = analysis.coordination.rows;
  if (rows.length === 0) return undefined;
  return {
    title: titled('Coordination vs network size (AgentsNet)', analysis.simulated),
    width: 480,
    height: 260,
    data: { values: rows.map((row) => ({ ...row, series: `${row.architecture} · ${row.model}` })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { title: 'agents in the network (log₂)' } },
      y: { field: 'score', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'AgentsNet score' } },
      color: { field: 'series', type: 'nominal', title: 'architecture · model' },
    },
  };
}

/** Every chart the analysis supports, rendered. */
export async function renderCharts(analysis: StudyAnalysis): Promise<Chart[]> {
  const specs: Array<{ id: string; title: string; spec: Record<string, unknown> | undefined }> = [
    { id: 'decomposition', title: 'Where did the gains come from?', spec: decompositionSpec(analysis) },
    ...analysis.suites.map((suite) => ({
      id: `frontier-${suite.replace(/[^A-Za-z0-9_-]+/g, '-')}`,
      title: `Accuracy vs tokens — ${suite}`,
      spec: analysis.configurations.some((config) => config.suite === suite && config.meanTokens > 0)
        ? frontierSpec(analysis, suite)
        : undefined,
    })),
    { id: 'search-axes', title: 'Search steps vs reasoning tokens', spec: searchAxesSpec(analysis) },
    { id: 'coordination', title: 'Coordination vs network size', spec: coordinationSpec(analysis) },
  ];
  const charts: Chart[] = [];
  for (const entry of specs) if (entry.spec) charts.push({ id: entry.id, title: entry.title, svg: await renderSvg(entry.spec) });
  return charts;
}
