/** Chart data from a study report: the accuracy-vs-tokens frontier per strategy and the variance decomposition. */
import type { Series } from './components/charts.tsx';
import type { Configuration, StudyReport } from './types.ts';

/** The governor's architecture, highlighted on the frontier chart (as in the report's chart). */
export const GOVERNOR_ARCHITECTURE = 'auto';

/**
 * One line per architecture × model in a suite: its configurations by mean tokens. The governor (`auto`) is
 * highlighted — named "auto (governor)", its points joined in budget order (it may spend fewer tokens under a
 * larger budget, and the line shows that turn) — and its fitted curve left out: its own line stands for it.
 */
export function frontierSeries(report: StudyReport, suite: string): Series[] {
  const bySeries = new Map<string, Configuration[]>();
  const isGovernor = (architecture: string): boolean => architecture === GOVERNOR_ARCHITECTURE;
  for (const config of report.analysis.configurations) {
    if (config.suite !== suite) continue;
    const name = `${isGovernor(config.architecture) ? `${config.architecture} (governor)` : config.architecture} · ${config.model}`;
    bySeries.set(name, [...(bySeries.get(name) ?? []), config]);
  }
  const series: Series[] = [...bySeries.entries()].map(([name, configs]) => ({
    name,
    ...(isGovernor(configs[0]!.architecture) ? { highlight: true } : {}),
    points: [...configs]
      .sort((a, b) => (isGovernor(a.architecture) ? a.budget - b.budget : a.meanTokens - b.meanTokens))
      .map((config) => ({
        x: config.meanTokens,
        y: config.accuracy,
        label: `${name} at budget ${config.budget}: ${config.meanTokens} tokens, ${(config.accuracy * 100).toFixed(0)}% (n=${config.n})`,
      })),
  }));
  // A fitted scaling curve per series, in its series' colour, dotted and beneath the measured points.
  const named = series.map((entry) => entry.name);
  for (const curve of report.analysis.curves ?? []) {
    if (curve.suite !== suite || curve.samples.length < 2 || isGovernor(curve.architecture)) continue;
    const fitted = named.indexOf(`${curve.architecture} · ${curve.model}`);
    if (fitted < 0) continue;
    series.push({
      name: `fit: ${curve.architecture} · ${curve.model} (${curve.fit.model}, R² ${curve.fit.r2.toFixed(2)})`,
      dotted: true,
      underlay: true,
      markers: false,
      colorIndex: fitted,
      points: curve.samples.map((sample) => ({ x: sample.tokens, y: sample.accuracy })),
    });
  }
  const pareto = report.analysis.frontiers.filter((frontier) => frontier.suite === suite).flatMap((frontier) => frontier.pareto);
  if (pareto.length > 0)
    series.push({
      name: 'Pareto frontier',
      dashed: true,
      underlay: true,
      points: [...pareto].sort((a, b) => a.tokens - b.tokens).map((point) => ({ x: point.tokens, y: point.accuracy, label: point.label })),
    });
  return series;
}

export function suitesOf(report: StudyReport): string[] {
  return [...new Set(report.analysis.configurations.map((config) => config.suite))];
}

export function architecturesOf(report: StudyReport): string[] {
  return [...new Set(report.analysis.configurations.map((config) => config.architecture))];
}

/** Accuracy of two architectures side by side at each suite and budget (mean over models). */
export function compareArchitectures(
  report: StudyReport,
  a: string,
  b: string,
): { suite: string; budget: number; a: number | null; b: number | null }[] {
  const mean = (values: number[]): number | null =>
    values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  const keys = new Map<string, { suite: string; budget: number }>();
  for (const config of report.analysis.configurations)
    keys.set(`${config.suite}|${config.budget}`, { suite: config.suite, budget: config.budget });
  return [...keys.values()]
    .sort((x, y) => x.suite.localeCompare(y.suite) || x.budget - y.budget)
    .map(({ suite, budget }) => {
      const pick = (architecture: string): number | null =>
        mean(
          report.analysis.configurations
            .filter((c) => c.suite === suite && c.budget === budget && c.architecture === architecture)
            .map((c) => c.accuracy),
        );
      return { suite, budget, a: pick(a), b: pick(b) };
    });
}
