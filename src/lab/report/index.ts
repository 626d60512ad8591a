/**
 * Study reports: `writeReport` renders the charts once (Vega-Lite → Vega → SVG) and writes, into one folder,
 *   report.html  — self-contained (inline SVG and CSS, no scripts, no external URLs);
 *   report.md    — the same tables, charts as the SVG files beside it;
 *   report.json  — the analysis and run summary (every number the other two show);
 *   charts/*.svg — the charts on their own.
 * Simulated studies are labelled SIMULATED in the title, a banner, every chart and the JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderCharts, type Chart } from './charts.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { ReportInput } from './input.ts';

export { renderCharts, renderSvg, type Chart } from './charts.ts';
export { renderHtml } from './html.ts';
export { renderMarkdown } from './markdown.ts';
export * from './tables.ts';
export type { ReportInput, RunSummary } from './input.ts';

export interface ReportFiles {
  dir: string;
  html: string;
  markdown: string;
  json: string;
  charts: string[];
}

export async function writeReport(input: ReportInput, dir: string): Promise<ReportFiles> {
  const folder = resolve(dir);
  mkdirSync(join(folder, 'charts'), { recursive: true });
  const charts = await renderCharts(input.analysis);
  const chartFile = (chart: Chart): string => `charts/${chart.id}.svg`;
  const chartPaths = charts.map((chart) => {
    const path = join(folder, chartFile(chart));
    writeFileSync(path, chart.svg);
    return path;
  });
  const html = join(folder, 'report.html');
  const markdown = join(folder, 'report.md');
  const json = join(folder, 'report.json');
  writeFileSync(html, renderHtml(input, charts));
  writeFileSync(markdown, renderMarkdown(input, charts, chartFile));
  writeFileSync(
    json,
    `${JSON.stringify({ simulated: input.analysis.simulated, generatedAt: input.generatedAt, run: input.run ?? null, analysis: input.analysis }, null, 2)}\n`,
  );
  return { dir: folder, html, markdown, json, charts: chartPaths };
}
