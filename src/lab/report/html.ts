/**
 * The self-contained HTML report: inline CSS and inline SVG charts, no scripts, no external URLs — it opens
 * offline and can be mailed as one file. The first screen answers "where did the gains come from?": the
 * variance-decomposition headline, then the frontier plot, then the matched-budget table.
 */
import { GOVERNOR_ARCHITECTURE, type Chart } from './charts.ts';
import type { ReportInput } from './input.ts';
import {
  bySuiteTable,
  coordinationTables,
  criticalityTable,
  curvesTable,
  decompositionTable,
  familyTable,
  matchedBudgetTables,
  notRunnableTable,
  searchAxesTable,
  soloVersusDebateTable,
  spendTable,
  type Table,
  seedClaimTables,
} from './tables.ts';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Markdown-style `code` spans in a title (already escaped) as <code>: the two writers share the titles. */
const codeSpans = (escaped: string): string => escaped.replace(/`([^`]+)`/g, '<code>$1</code>');

function tableHtml(table: Table | undefined): string {
  if (!table) return '';
  const head = `<tr>${table.head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr>`;
  const rows = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table>${table.caption ? `<p class="caption">${escapeHtml(table.caption)}</p>` : ''}`;
}

/** Inline SVG without the namespace declarations (HTML parsers do not need them; keeps the file free of URLs). */
function inlineSvg(chart: Chart | undefined): string {
  if (!chart) return '';
  const svg = chart.svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  return `<figure id="chart-${escapeHtml(chart.id)}">${svg}</figure>`;
}

const STYLE = `
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #1f2328; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin-top: 20px; }
.banner.real { background: #ddf4ff; border-color: #54aeff; color: #0a3069; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; color: #7d4e00; padding: 10px 14px; border-radius: 6px; font-weight: bold; margin: 12px 0; }
.headline { font-size: 16px; background: #f6f8fa; border-left: 4px solid #2f6fbf; padding: 10px 14px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.caption, .meta { color: #57606a; font-size: 12px; }
figure { margin: 12px 0; overflow-x: auto; }
`;

export function renderHtml(input: ReportInput, charts: readonly Chart[]): string {
  const { analysis, run } = input;
  const chart = (id: string): Chart | undefined => charts.find((entry) => entry.id === id);
  const simulatedLabel = analysis.simulated ? 'SIMULATED' : '';
  const parts: string[] = [];
  parts.push(
    `<!doctype html>\n<html lang="en"><head><meta ` +
      `charset="utf-8"><title>${escapeHtml(`${simulatedLabel ? '[SIMULATED] ' : ''}Thicket study ${analysis.title}`)}</title><style>${STYLE}` +
      `</style></head><body>`,
  );
  parts.push(`<h1>${escapeHtml(analysis.title)}</h1>`);
  parts.push(
    `<p class="meta">Study <code>${escapeHtml(analysis.studyId)}</code> · ${analysis.cells.toLocaleString('en-US')} runs · suites: ` +
      `${escapeHtml(analysis.suites.join(', '))} · models: ${escapeHtml(analysis.models.join(', '))} · generated ${escapeHtml(input.generatedAt)}</p>`,
  );
  if (analysis.simulated) {
    parts.push(
      '<div class="banner">SIMULATED — every figure in this report comes from the simulated fleet (sim:), a workload simulator. It shows how ' +
        'architectures trade tokens for accuracy under a hard budget, not how any real model performs.</div>',
    );
  }

  if (analysis.tinyModels.length > 0)
    parts.push(
      `<div class="banner real">REAL — tiny models trained on synthetic tasks (${escapeHtml(analysis.tinyModels.join(', '))}): ` +
        'Thicket trained these ~1–3M-parameter models itself on generated arithmetic chains (models/tiny, training/). ' +
        'Real weights, real llama.cpp inference, real sampling noise and token counts — not a capable model.</div>',
    );
  parts.push('<h2>Where did the gains come from?</h2>');
  parts.push(`<p class="headline">${escapeHtml(analysis.headline.text)}</p>`);
  parts.push(inlineSvg(chart('decomposition')));
  if (analysis.headline.decomposition) parts.push(tableHtml(decompositionTable(analysis.headline.decomposition)));

  const claims = seedClaimTables(analysis, input.run?.tim);
  if (claims.length > 0) {
    parts.push('<h2>The seed’s claims, measured</h2>');
    for (const { title, table } of claims) parts.push(`<h3>${codeSpans(escapeHtml(title))}</h3>${tableHtml(table)}`);
  }
  parts.push('<h2>Compute-optimal frontier</h2>');
  parts.push(
    '<p class="caption">Each point is one configuration (architecture × model × budget) at its mean tokens spent; lines are fitted scaling curves; ' +
      'the black line is the frontier (upper hull across architectures and models).' +
      (analysis.configurations.some((config) => config.architecture === GOVERNOR_ARCHITECTURE)
        ? ` <code>${escapeHtml(GOVERNOR_ARCHITECTURE)}</code> (the governor) is highlighted on every panel: magenta diamonds joined in budget order.`
        : '') +
      '</p>',
  );
  for (const suite of analysis.suites) parts.push(inlineSvg(chart(`frontier-${suite.replace(/[^A-Za-z0-9_-]+/g, '-')}`)));

  parts.push(`<h2>Matched-budget table${simulatedLabel ? ' [SIMULATED]' : ''}</h2>`);
  for (const { suite, model, table } of matchedBudgetTables(analysis))
    parts.push(`<h3>${escapeHtml(suite)} · ${escapeHtml(model)}</h3>${tableHtml(table)}`);

  parts.push('<h2>Solo vs multi-agent at matched budget</h2>');
  const solo = soloVersusDebateTable(analysis);
  const family = familyTable(analysis);
  parts.push(
    solo || family
      ? `${tableHtml(solo)}${tableHtml(family)}`
      : '<p class="caption">Needs solo and debate (or single- and multi-agent architectures) in the same study.</p>',
  );

  parts.push('<h2>Search steps vs reasoning tokens</h2>');
  const search = searchAxesTable(analysis);
  parts.push(
    search
      ? `${inlineSvg(chart('search-axes'))}${tableHtml(search)}`
      : '<p class="caption">No run used search (add a multihop suite and the search architecture).</p>',
  );

  parts.push('<h2>Coordination vs network size</h2>');
  const coordination = coordinationTables(analysis);
  parts.push(
    coordination.length > 0
      ? `${inlineSvg(chart('coordination'))}${coordination.map(tableHtml).join('')}`
      : '<p class="caption">No AgentsNet runs in this study (the network layer plugs in as the agentsnet architecture).</p>',
  );

  parts.push('<h2>Criticality of the reasoning graphs</h2>');
  const criticality = criticalityTable(analysis);
  parts.push(criticality ? tableHtml(criticality) : `<p class="caption">${escapeHtml(analysis.criticality.note)}</p>`);

  parts.push('<h2>Details</h2>');
  parts.push('<h3>Variance decomposition per suite</h3>');
  parts.push(tableHtml(bySuiteTable(analysis)));
  if (analysis.runLevel)
    parts.push(`<h3>Run-level decomposition (item fixed effects)</h3>${tableHtml(decompositionTable(analysis.runLevel))}`);
  parts.push(
    `<h3>Scaling curves</h3>${tableHtml(curvesTable(analysis)) || '<p class="caption">No architecture spent at three or more distinct token levels.</p>'}`,
  );
  parts.push(`<h3>Spend by compute axis</h3>${tableHtml(spendTable(analysis))}`);
  const notRunnable = notRunnableTable(analysis);
  if (notRunnable) parts.push(`<h3>Not run</h3>${tableHtml(notRunnable)}`);
  if (run) {
    const rows: string[][] = [
      ['journal run', run.runId],
      ['status', run.status],
      [
        'cells',
        `${run.counts.planned} planned · ${run.counts.executed} run now · ${run.counts.resumed} resumed · ${run.counts.failed} failed · ` +
          `${run.counts.notStarted} not started`,
      ],
      ['model calls', `${run.calls.new} new · ${run.calls.replayed} replayed from the journal`],
      ['wall time', `${(run.elapsedMs / 1000).toFixed(1)} s`],
      ...(run.promptTokens
        ? [
            [
              'prompt tokens (embedded engine)',
              `${run.promptTokens.evaluated.toLocaleString('en-US')} evaluated of ` +
                `${run.promptTokens.billed.toLocaleString('en-US')} billed ` +
                '(samples of one prompt share its evaluation)',
            ],
          ]
        : []),
      ...run.suites.map((suite) => [
        `suite ${suite.name} (seed ${suite.seed})`,
        `${suite.description}${suite.corpusPath ? ` · corpus ${suite.corpusPath}` : ''}`,
      ]),
    ];
    parts.push(`<h3>Run</h3>${tableHtml({ head: ['', ''], rows })}`);
  }
  parts.push('</body></html>\n');
  return parts.filter((part) => part.length > 0).join('\n');
}
