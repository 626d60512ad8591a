/**
 * The Markdown report: the same sections and tables as the HTML one (shared table builders), with the
 * charts referenced as the SVG files written next to it.
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

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function tableMarkdown(table: Table | undefined): string {
  if (!table) return '';
  const lines = [
    `| ${table.head.map(cell).join(' | ')} |`,
    `| ${table.head.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n${table.caption ? `\n_${table.caption}_\n` : ''}`;
}

export function renderMarkdown(input: ReportInput, charts: readonly Chart[], chartPath: (chart: Chart) => string): string {
  const { analysis, run } = input;
  const image = (id: string): string => {
    const chart = charts.find((entry) => entry.id === id);
    return chart ? `![${chart.title}${analysis.simulated ? ' [SIMULATED]' : ''}](${chartPath(chart)})\n` : '';
  };
  const out: string[] = [];
  out.push(`# ${analysis.simulated ? '[SIMULATED] ' : ''}${analysis.title}\n`);
  out.push(
    `Study \`${analysis.studyId}\` · ${analysis.cells} runs · suites: ${analysis.suites.join(', ')} · models: ${analysis.models.join(', ')} · ` +
      `generated ${input.generatedAt}\n`,
  );
  if (analysis.simulated)
    out.push(
      '> **SIMULATED** — every figure here comes from the simulated fleet (sim:), a workload simulator: how architectures trade tokens for accuracy ' +
        'under a hard budget, not how any real model performs.\n',
    );
  if (analysis.tinyModels.length > 0)
    out.push(
      `> **REAL — tiny models trained on synthetic tasks** (${analysis.tinyModels.join(', ')}): Thicket trained these ~1–3M-parameter ` +
        'models itself on generated arithmetic chains (models/tiny, training/). Real weights, real llama.cpp inference, ' +
        'real sampling noise and token counts — not a capable model.\n',
    );
  out.push('## Where did the gains come from?\n');
  out.push(`${analysis.headline.text}\n`);
  out.push(image('decomposition'));
  if (analysis.headline.decomposition) out.push(tableMarkdown(decompositionTable(analysis.headline.decomposition)));
  const claims = seedClaimTables(analysis, input.run?.tim);
  if (claims.length > 0) {
    out.push('## The seed’s claims, measured\n');
    for (const { title, table } of claims) out.push(`### ${title}\n\n${tableMarkdown(table)}`);
  }
  out.push('## Compute-optimal frontier\n');
  if (analysis.configurations.some((config) => config.architecture === GOVERNOR_ARCHITECTURE))
    out.push(`_\`${GOVERNOR_ARCHITECTURE}\` (the governor) is highlighted on every panel: magenta diamonds joined in budget order._\n`);
  for (const suite of analysis.suites) out.push(image(`frontier-${suite.replace(/[^A-Za-z0-9_-]+/g, '-')}`));
  out.push(`## Matched-budget table${analysis.simulated ? ' [SIMULATED]' : ''}\n`);
  for (const { suite, model, table } of matchedBudgetTables(analysis)) out.push(`### ${suite} · ${model}\n\n${tableMarkdown(table)}`);
  out.push('## Solo vs multi-agent at matched budget\n');
  out.push(
    tableMarkdown(soloVersusDebateTable(analysis)) + tableMarkdown(familyTable(analysis)) ||
      '_Needs solo and debate (or single- and multi-agent architectures) in the same study._\n',
  );
  out.push('## Search steps vs reasoning tokens\n');
  out.push(searchAxesTable(analysis) ? `${image('search-axes')}\n${tableMarkdown(searchAxesTable(analysis))}` : '_No run used search._\n');
  out.push('## Coordination vs network size\n');
  const coordination = coordinationTables(analysis);
  out.push(
    coordination.length > 0
      ? `${image('coordination')}\n${coordination.map(tableMarkdown).join('\n')}`
      : '_No AgentsNet runs in this study._\n',
  );
  out.push('## Criticality of the reasoning graphs\n');
  out.push(tableMarkdown(criticalityTable(analysis)) || `_${analysis.criticality.note}_\n`);
  out.push('## Details\n');
  out.push(`### Variance decomposition per suite\n\n${tableMarkdown(bySuiteTable(analysis))}`);
  if (analysis.runLevel)
    out.push(`### Run-level decomposition (item fixed effects)\n\n${tableMarkdown(decompositionTable(analysis.runLevel))}`);
  out.push(
    `### Scaling curves\n\n${tableMarkdown(curvesTable(analysis)) || '_No architecture spent at three or more distinct token levels._\n'}`,
  );
  out.push(`### Spend by compute axis\n\n${tableMarkdown(spendTable(analysis))}`);
  const notRunnable = notRunnableTable(analysis);
  if (notRunnable) out.push(`### Not run\n\n${tableMarkdown(notRunnable)}`);
  if (run) {
    out.push(
      `### Run\n\nJournal run \`${run.runId}\` · status ${run.status} · ${run.counts.planned} cells planned, ${run.counts.executed} run now, ` +
        `${run.counts.resumed} resumed, ${run.counts.failed} failed · ${run.calls.new} new model calls, ${run.calls.replayed} replayed · ` +
        `${(run.elapsedMs / 1000).toFixed(1)} s` +
        (run.promptTokens
          ? ` · prompt tokens on the embedded engine: ${run.promptTokens.evaluated.toLocaleString('en-US')} evaluated of ` +
            `${run.promptTokens.billed.toLocaleString('en-US')} billed`
          : '') +
        '\n',
    );
  }
  return `${out.join('\n')}\n`;
}
