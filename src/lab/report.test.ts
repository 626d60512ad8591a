/**
 * Reports contain the SVG plots and the SIMULATED label (and only then), are self-contained, and put the
 * "where did the gains come from?" answer first. Also: later layers plug in through the architecture
 * registry and the criticality hook, and their results reach the report.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../core/index.ts';
import { Journal } from '../journal/index.ts';
import {
  agentsnetArchitectures,
  analyzeStudy,
  defaultArchitectures,
  parseStudy,
  renderHtml,
  renderCharts,
  runStudy,
  solverArchitecture,
  writeReport,
  type CellResult,
} from './index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-report-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Synthetic cells: accuracy rises with the budget, more for vote than for single; two models. */
function syntheticCells(simulated: boolean): CellResult[] {
  const rng = createRng(11);
  const cells: CellResult[] = [];
  for (const model of ['m-small', 'm-large']) {
    for (const architecture of ['single', 'vote', 'solo', 'debate']) {
      for (const budget of [500, 1000, 2000, 4000]) {
        for (let item = 0; item < 20; item++) {
          const tokens = architecture === 'single' ? 250 : budget * 0.8;
          const p = Math.min(
            0.95,
            0.3 + (model === 'm-large' ? 0.2 : 0) + (architecture === 'single' ? 0 : 0.08 * Math.log2(budget / 500)),
          );
          cells.push({
            suite: 'arith',
            taskId: `arith/s1/${item}`,
            architecture,
            base: architecture,
            family: architecture === 'vote' || architecture === 'debate' ? 'multi-agent' : 'single-agent',
            budget,
            budgetUnit: 'tokens',
            model,
            seed: 1,
            score: rng.next() < p ? 1 : 0,
            answer: '1',
            status: 'ok',
            difficulty: 1,
            usage: { inputTokens: tokens / 2, outputTokens: tokens / 2, totalTokens: tokens, usd: 0, calls: 1 },
            axes: { width: tokens },
            searchSteps: 0,
            toolCalls: 0,
            latencyMs: 1,
            degraded: 0,
            simulated,
            graph: { nodes: 3, edges: 2 },
            meta: {},
          });
        }
      }
    }
  }
  return cells;
}

describe('report', () => {
  it('writes self-contained HTML with inline SVG charts, the SIMULATED label, and the headline first', async () => {
    const analysis = analyzeStudy({ studyId: 'synthetic', title: 'Synthetic study', simulated: true, cells: syntheticCells(true) });
    const files = await writeReport({ analysis, generatedAt: '2026-01-01T00:00:00.000Z' }, join(scratch, 'sim'));
    const html = readFileSync(files.html, 'utf8');
    assert.ok((html.match(/<svg/g) ?? []).length >= 2, 'decomposition and frontier charts inline');
    assert.match(html, /class="banner">SIMULATED/);
    assert.match(html, /<title>\[SIMULATED\]/);
    assert.match(html, /Where did the gains come from\? Share of the within-suite variance in accuracy \[SIMULATED\]/);
    // The headline states the chart's figures (each factor's share of the within-suite variance), not shares
    // of the explained part — those disagreed at a glance (issue 16 §5) — and no internal jargon.
    const decomposition = analysis.headline.decomposition!;
    for (const group of decomposition.groups) {
      assert.ok(analysis.headline.text.includes(`${group.name} ${Math.round(group.shapley * 100)}%`), analysis.headline.text);
      if (Math.round(group.shapley * 100) !== Math.round(group.shareOfExplained * 100))
        assert.ok(!analysis.headline.text.includes(`${group.name} ${Math.round(group.shareOfExplained * 100)}%`));
    }
    assert.ok(analysis.headline.text.includes(`${Math.round((1 - decomposition.total) * 100)}% is left unexplained`));
    assert.doesNotMatch(html, /seed's|the claim/i);
    assert.match(html, /share of the explained part/, 'the other figure is labelled in the table');
    // The frontier chart has one panel per model instead of every curve in one frame.
    const frontier = files.charts.find((chart) => chart.includes('frontier'));
    assert.ok(frontier);
    const svg = readFileSync(frontier, 'utf8');
    for (const model of analysis.models) assert.ok(svg.includes(`>${model}<`), `a panel titled ${model}`);
    assert.doesNotMatch(html, /https?:\/\//, 'no external URLs');
    assert.doesNotMatch(html, /<script|<link|<img/);
    // First screen: the headline, then the frontier, then the matched-budget table.
    const order = ['Where did the gains come from?</h2>', 'Compute-optimal frontier</h2>', 'Matched-budget table'].map((marker) =>
      html.indexOf(marker),
    );
    assert.ok(order.every((index) => index > 0) && order[0]! < order[1]! && order[1]! < order[2]!, `section order ${order.join(', ')}`);
    assert.ok(html.indexOf('<svg') < order[1]!, 'the decomposition chart sits under the headline');
    assert.match(html, /solo − debate/);
    const markdown = readFileSync(files.markdown, 'utf8');
    assert.match(markdown, /^# \[SIMULATED\] Synthetic study/);
    assert.match(markdown, /!\[Where did the gains come from\? \[SIMULATED\]\]\(charts\/decomposition\.svg\)/);
    assert.match(markdown, /\| architecture \| ≤ 500 tok \| ≤ 1,000 tok \| ≤ 2,000 tok \| ≤ 4,000 tok \|/);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as { simulated: boolean; analysis: { headline: { text: string } } };
    assert.equal(json.simulated, true);
    assert.match(json.analysis.headline.text, /^\[SIMULATED\]/);
    assert.equal(files.charts.length, 2);
  });

  it('leaves the SIMULATED label off a study of real models', async () => {
    const analysis = analyzeStudy({ studyId: 'real', simulated: false, cells: syntheticCells(false) });
    const charts = await renderCharts(analysis);
    const html = renderHtml({ analysis, generatedAt: '2026-01-01T00:00:00.000Z' }, charts);
    assert.doesNotMatch(html, /SIMULATED/);
    assert.match(html, /<svg/);
  });
});

describe('plug-in points', () => {
  it('runs a solver architecture (how the governor plugs in) and AgentsNet through a network runner, into the analysis', async () => {
    const registry = defaultArchitectures();
    registry.register(
      solverArchitecture('auto', 'governed', 'test solver: always answers 42', async (input) => ({
        answer: input.query.includes('What is') ? '42' : undefined,
        simulated: true,
      })),
    );
    for (const entry of agentsnetArchitectures(async (input) => ({
      score: Math.max(0, 1 - 0.25 * Math.log2(input.instance.size / 4)) - (input.protocol === 'verified' ? 0 : 0.1),
      simulated: true,
    })))
      registry.register(entry);
    const study = parseStudy({
      version: 1,
      id: 'plug',
      suites: [
        { kind: 'arithmetic', items: 2 },
        { kind: 'agentsnet', tasks: ['consensus'], sizes: [4, 8, 16], families: ['ws'], instances: 2 },
      ],
      architectures: ['auto', 'agentsnet', 'agentsnet-verified'],
      budgets: [5000],
      models: ['sim:small'],
    });
    const journal = Journal.open(join(scratch, 'plug.db'));
    const graphs: number[] = [];
    const run = await runStudy(study, {
      journal,
      architectures: registry,
      criticality: (graph) => (graphs.push(graph.nodes.length), { nodes: graph.nodes.length }),
    });
    journal.close();
    assert.equal(run.status, 'ok');
    assert.deepEqual(run.notRunnable.map((entry) => `${entry.suite}/${entry.architecture}`).sort(), [
      'agentsnet/auto',
      'arithmetic/agentsnet',
      'arithmetic/agentsnet-verified',
    ]);
    assert.equal(run.cells.filter((cell) => cell.architecture === 'auto').length, 2);
    const analysis = analyzeStudy({ studyId: 'plug', simulated: true, cells: run.cells, criticalityHook: true });
    const plain = analysis.coordination.slopes.find((slope) => slope.architecture === 'agentsnet')!;
    assert.ok(Math.abs(plain.perDoubling + 0.25) < 1e-9);
    assert.deepEqual(
      analysis.coordination.rows.filter((row) => row.architecture === 'agentsnet-verified').map((row) => row.score),
      [1, 0.75, 0.5],
    );
    // No graph from these fakes: the hook was not called, and the report says why the section is empty.
    assert.equal(graphs.length, 0);
    assert.match(analysis.criticality.note, /produced no metrics/);
    const html = renderHtml({ analysis, generatedAt: 'now' }, await renderCharts(analysis));
    assert.match(html, /id="chart-coordination"/);
  });

  it('summarises criticality metrics per architecture when the hook returns them', async () => {
    const study = parseStudy({
      version: 1,
      id: 'crit',
      suites: [{ kind: 'arithmetic', items: 2 }],
      architectures: ['single', 'debate'],
      budgets: [3000],
      models: ['sim:small'],
    });
    const journal = Journal.open(join(scratch, 'crit.db'));
    const run = await runStudy(study, {
      journal,
      criticality: (graph) => ({ nodes: graph.nodes.length, edgesPerNode: graph.edges.length / Math.max(1, graph.nodes.length) }),
    });
    journal.close();
    const analysis = analyzeStudy({ studyId: 'crit', simulated: true, cells: run.cells, criticalityHook: true });
    const rows = Object.fromEntries(analysis.criticality.rows.map((row) => [row.architecture, row]));
    assert.equal(rows['single']!.n, 2);
    assert.ok(
      rows['debate']!.metrics['nodes']! > rows['single']!.metrics['nodes']!,
      'a debate leaves a bigger reasoning graph than one answer',
    );
  });
});
