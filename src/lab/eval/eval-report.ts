/**
 * The evaluation's own part of the report: accuracy and cost with 95% bootstrap intervals, paired comparisons
 * (with the within-noise warning), the judge's spend kept apart, the rows that were skipped — as Markdown
 * (appended to report.md), HTML (inserted into report.html), JSON (eval.json) — and the per-item results as
 * JSONL or CSV. The lab's report itself (frontier, fits, variance) is written unchanged by `writeReport`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigStats, Interval, ItemPairedComparison } from '../analysis/index.ts';
import type { CellResult } from '../types.ts';
import type { DatasetItem, LoadedDataset, RowIssue } from '../datasets/index.ts';

export interface EvalSummary {
  dataset: { path: string; format: string; preset: string; rows: number; items: number; skipped: RowIssue[]; unit: 'line' | 'row' };
  scorer: string;
  stats: ConfigStats[];
  comparisons: ItemPairedComparison[];
  /** The LLM judge's spend (apart from the system under test's), when the scorer is a judge. */
  judge?: { model: string; slice: Record<string, number>; spent: { totalTokens: number; usd: number; calls: number }; verdicts: number };
  /** What the system under test spent in this invocation (new calls only). */
  systemSpend: { totalTokens: number; usd: number };
}

export interface ItemResult {
  item: string;
  line: number;
  model: string;
  strategy: string;
  budget: number;
  seed: number;
  answer: string | null;
  expected: string;
  score: number;
  status: string;
  tokens: number;
  usd: number;
}

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
const interval = (ci: Interval, format: (value: number) => string): string => `[${format(ci.low)}, ${format(ci.high)}]`;
const tokens = (value: number): string => Math.round(value).toLocaleString('en-US');
const usd = (value: number): string => `$${value < 0.01 ? value.toPrecision(2) : value.toFixed(4)}`;
const signed = (value: number): string => `${value >= 0 ? '+' : '−'}${(Math.abs(value) * 100).toFixed(1)} pts`;
const pValue = (value: number): string => (value < 0.001 ? '< 0.001' : value.toFixed(3));

export function itemResults(cells: readonly CellResult[], dataset: LoadedDataset): ItemResult[] {
  const items = new Map<string, DatasetItem>(dataset.items.map((item) => [item.id, item]));
  return cells.map((cell) => {
    const id = String(cell.meta['item'] ?? cell.taskId);
    return {
      item: id,
      line: Number(cell.meta['line'] ?? 0),
      model: cell.model,
      strategy: cell.architecture,
      budget: cell.budget,
      seed: cell.seed,
      answer: cell.answer,
      expected: items.get(id)?.answer ?? '',
      score: cell.score,
      status: cell.status,
      tokens: cell.usage.totalTokens,
      usd: cell.usage.usd,
    };
  });
}

/** RFC 4180 field quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
const csvField = (value: string | number | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function writeItemResults(rows: readonly ItemResult[], format: 'jsonl' | 'csv', dir: string): string {
  const path = join(dir, `items.${format}`);
  if (format === 'jsonl') writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length > 0 ? '\n' : ''));
  else {
    const columns = Object.keys(rows[0] ?? itemResultColumns()) as Array<keyof ItemResult>;
    writeFileSync(
      path,
      [columns.join(','), ...rows.map((row) => columns.map((column) => csvField(row[column])).join(','))].join('\r\n') + '\r\n',
    );
  }
  return path;
}

const itemResultColumns = (): ItemResult => ({
  item: '',
  line: 0,
  model: '',
  strategy: '',
  budget: 0,
  seed: 0,
  answer: null,
  expected: '',
  score: 0,
  status: '',
  tokens: 0,
  usd: 0,
});

export function renderEvalMarkdown(summary: EvalSummary): string {
  const { dataset } = summary;
  const lines = [
    `## Evaluation on ${dataset.path}`,
    '',
    `${dataset.items} items (${dataset.format}, preset ${dataset.preset}, scorer ${summary.scorer}) of ${dataset.rows} rows` +
      (dataset.skipped.length > 0 ? `; ${dataset.skipped.length} bad rows skipped (not scored):` : '.'),
    '',
  ];
  for (const issue of dataset.skipped.slice(0, 20)) lines.push(`- ${dataset.unit} ${issue.line}, \`${issue.field}\`: ${issue.message}`);
  if (dataset.skipped.length > 20) lines.push(`- … and ${dataset.skipped.length - 20} more (eval.json lists them all)`);
  if (dataset.skipped.length > 0) lines.push('');
  lines.push('### Accuracy and cost per item (95% bootstrap intervals)', '');
  lines.push('| model | strategy | budget | n | accuracy | tokens / item | $ / item |', '|---|---|---:|---:|---|---|---|');
  for (const row of summary.stats)
    lines.push(
      `| ${row.model} | ${row.architecture} | ${tokens(row.budget)} | ${row.n} | ${pct(row.accuracy)} ${interval(row.accuracyCi, pct)} | ` +
        `${tokens(row.meanTokens)} ${interval(row.tokensCi, tokens)} | ${usd(row.meanUsd)} ${interval(row.usdCi, usd)} |`,
    );
  lines.push('', '### Paired comparisons on the same items', '');
  if (summary.comparisons.length === 0) lines.push('Nothing to compare (one configuration).');
  else {
    lines.push('| at | a | b | pairs | b − a | McNemar (a only / b only, p) | bootstrap p | |', '|---|---|---|---:|---|---|---:|---|');
    for (const row of summary.comparisons) {
      const at =
        row.factor === 'architecture' ? `${row.a.model}, ${tokens(row.a.budget)}` : `${row.a.architecture}, ${tokens(row.a.budget)}`;
      const name = (side: ItemPairedComparison['a']): string => (row.factor === 'architecture' ? side.architecture : side.model);
      lines.push(
        `| ${at} | ${name(row.a)} ${pct(row.a.accuracy)} | ${name(row.b)} ${pct(row.b.accuracy)} | ${row.pairs} | ` +
          `${signed(row.difference)} ${interval(row.ci, (value) => signed(value).replace(' pts', ''))} | ` +
          `${row.mcnemar ? `${row.mcnemar.aOnly} / ${row.mcnemar.bOnly}, p ${pValue(row.mcnemar.p)}` : '— (scores not 0/1)'} | ` +
          `${pValue(row.bootstrapP)} | ${row.withinNoise ? '⚠ within noise' : 'significant at 0.05'} |`,
      );
    }
    const noisy = summary.comparisons.filter((row) => row.withinNoise).length;
    if (noisy > 0)
      lines.push(
        '',
        `⚠ ${noisy} of ${summary.comparisons.length} differences are within noise (interval holds 0 or p ≥ 0.05): ` +
          'more items or seeds are needed to tell those configurations apart.',
      );
  }
  lines.push('', '### Spend', '');
  lines.push(`System under test (new calls this run): ${tokens(summary.systemSpend.totalTokens)} tokens, ${usd(summary.systemSpend.usd)}.`);
  if (summary.judge)
    lines.push(
      `LLM judge ${summary.judge.model} (its own budget slice ${Object.entries(summary.judge.slice)
        .map(([key, value]) => `${key} ${tokens(value)}`)
        .join(', ')}; not counted above): ${tokens(summary.judge.spent.totalTokens)} tokens, ${usd(summary.judge.spent.usd)}, ` +
        `${summary.judge.spent.calls} calls for ${summary.judge.verdicts} verdicts.`,
    );
  return `${lines.join('\n')}\n`;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The Markdown section as simple HTML (tables and paragraphs), for report.html. */
export function renderEvalHtml(markdown: string): string {
  const out: string[] = ['<section id="evaluation">'];
  let table: string[][] | undefined;
  const flush = (): void => {
    if (!table) return;
    const [head, , ...body] = table;
    out.push(
      `<table><thead><tr>${(head ?? []).map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>` +
        body.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('') +
        '</tbody></table>',
    );
    table = undefined;
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      (table ??= []).push(
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim()),
      );
      continue;
    }
    flush();
    if (line.startsWith('### ')) out.push(`<h3>${escapeHtml(line.slice(4))}</h3>`);
    else if (line.startsWith('## ')) out.push(`<h2>${escapeHtml(line.slice(3))}</h2>`);
    else if (line.startsWith('- ')) out.push(`<p class="issue">${escapeHtml(line.slice(2))}</p>`);
    else if (line.trim() !== '') out.push(`<p>${escapeHtml(line)}</p>`);
  }
  flush();
  out.push('</section>');
  return out.join('\n');
}

/** Adds the evaluation section to the lab's report files and writes eval.json beside them. */
export function appendEvalReport(files: { dir: string; html: string; markdown: string }, summary: EvalSummary): string {
  const markdown = renderEvalMarkdown(summary);
  writeFileSync(files.markdown, `${readFileSync(files.markdown, 'utf8').trimEnd()}\n\n${markdown}`);
  const html = readFileSync(files.html, 'utf8');
  const section = renderEvalHtml(markdown);
  writeFileSync(files.html, html.includes('</body>') ? html.replace('</body>', `${section}\n</body>`) : `${html}\n${section}\n`);
  const path = join(files.dir, 'eval.json');
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  return path;
}
