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
  type TimExperiment,
} from './index.ts';
import { frontierSpec, GOVERNOR_LABEL, renderSvg } from './report/charts.ts';
import { renderMarkdown } from './report/markdown.ts';
import { governorTable, seedClaimTables, timTable } from './report/tables.ts';
import type { GovernorRow, MeasuredConfig } from './analysis/index.ts';

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

/**
 * The governor's cells, deterministic: at each budget every item spends the same tokens and the first
 * `solved` of 20 items are right, so its points are known by hand. Under the largest budget it spends fewer
 * tokens than under the one before, so budget order and token order differ.
 */
const AUTO_BY_BUDGET: Record<number, { tokens: number; solved: number }> = {
  500: { tokens: 400, solved: 5 },
  1000: { tokens: 900, solved: 9 },
  2000: { tokens: 1600, solved: 13 },
  4000: { tokens: 1200, solved: 15 },
};
function autoCells(models: readonly string[]): CellResult[] {
  const template = syntheticCells(true)[0]!;
  return models.flatMap((model) =>
    Object.entries(AUTO_BY_BUDGET).flatMap(([budget, { tokens, solved }]) =>
      Array.from({ length: 20 }, (_, item) => ({
        ...template,
        taskId: `arith/s1/${item}`,
        architecture: 'auto',
        base: 'auto',
        family: 'governed',
        budget: Number(budget),
        model,
        score: item < solved ? 1 : 0,
        usage: { inputTokens: tokens / 2, outputTokens: tokens / 2, totalTokens: tokens, usd: 0, calls: 1 },
        axes: { width: tokens },
      })),
    ),
  );
}

type Layer = Record<string, unknown> & { layer?: Layer[]; description?: string; data?: { values: unknown[] }; mark?: unknown };
/** The frontier spec's panels (vconcat of hconcat rows). */
const panelsOf = (spec: Record<string, unknown>): Array<{ title: { text: string }; layer: Layer[] }> =>
  (spec['vconcat'] as Array<{ hconcat: Array<{ title: { text: string }; layer: Layer[] }> }>).flatMap((row) => row.hconcat);

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

describe('frontier chart: the governor (auto) highlighted', () => {
  it('draws auto on every panel as its own top layer: diamonds joined in budget order, with a legend entry', async () => {
    const analysis = analyzeStudy({
      studyId: 'with-auto',
      simulated: true,
      cells: [...syntheticCells(true), ...autoCells(['m-small', 'm-large'])],
    });
    const spec = frontierSpec(analysis, 'arith');
    const panels = panelsOf(spec);
    assert.deepEqual(
      panels.map((panel) => panel.title.text),
      ['m-small', 'm-large'],
    );
    for (const panel of panels) {
      const governor = panel.layer.at(-1)!;
      assert.equal(governor.description, GOVERNOR_LABEL, 'auto is the last layer: painted over the others');
      assert.equal(panel.layer.filter((layer) => layer.description === GOVERNOR_LABEL).length, 1);
      // Budget order, not token order: the 4000-token budget spent fewer tokens (1200) than the 2000 one (1600).
      assert.deepEqual(governor.data!.values, [
        { budget: 500, tokens: 400, accuracy: 0.25, n: 20, series: GOVERNOR_LABEL },
        { budget: 1000, tokens: 900, accuracy: 0.45, n: 20, series: GOVERNOR_LABEL },
        { budget: 2000, tokens: 1600, accuracy: 0.65, n: 20, series: GOVERNOR_LABEL },
        { budget: 4000, tokens: 1200, accuracy: 0.75, n: 20, series: GOVERNOR_LABEL },
      ]);
      assert.deepEqual((governor['encoding'] as Record<string, unknown>)['order'], { field: 'budget', type: 'quantitative' });
      const [line, points, label] = governor.layer!;
      assert.deepEqual(
        [(line!.mark as { type: string }).type, (line!.mark as { strokeWidth: number }).strokeWidth],
        ['line', 3.5],
        'a solid line, thicker than the fitted curves (1.5)',
      );
      assert.equal((line!.mark as { strokeDash?: unknown }).strokeDash, undefined);
      assert.deepEqual((points!['encoding'] as { shape: { scale: unknown } }).shape.scale, {
        domain: [GOVERNOR_LABEL],
        range: ['diamond'],
      });
      assert.ok((points!.mark as { size: number }).size > 45, 'larger than the other architectures’ points');
      assert.deepEqual(label!['transform'], [{ filter: 'datum.budget === 4000' }]);
      // auto is not one more colour: neither in the coloured points nor among the fitted curves.
      const others = panel.layer.slice(0, -1).flatMap((layer) => (layer.data?.values ?? []) as Array<{ architecture?: string }>);
      assert.ok(others.length > 0 && others.every((value) => value.architecture !== 'auto'));
    }
    const colorDomain = (panels[0]!.layer[0]!['encoding'] as { color: { scale: { domain: string[] } } }).color.scale.domain;
    assert.deepEqual(colorDomain, ['single', 'vote', 'solo', 'debate']);
    assert.deepEqual((spec['title'] as { text: string[] }).text, [
      'Accuracy vs tokens — arith: fitted curve per architecture, one panel per model; dashed: compute-optimal frontier [SIMULATED]',
      'Highlighted: auto (governor) — magenta diamonds joined in budget order',
    ]);
    // The renderer accepts the spec: the SVG has the legend entry and the direct label.
    const svg = await renderSvg(spec);
    assert.match(svg, />auto \(governor\)</);
    assert.equal((svg.match(/>auto</g) ?? []).length, 2, 'one label per panel');
  });

  it('has no auto layer, legend entry or title line in a study without auto', async () => {
    const analysis = analyzeStudy({ studyId: 'no-auto', simulated: false, cells: syntheticCells(false) });
    const spec = frontierSpec(analysis, 'arith');
    for (const panel of panelsOf(spec)) {
      assert.equal(panel.layer.length, 3);
      assert.ok(panel.layer.every((layer) => layer.description === undefined));
    }
    assert.equal(
      (spec['title'] as { text: string }).text,
      'Accuracy vs tokens — arith: fitted curve per architecture, one panel per model; dashed: compute-optimal frontier',
    );
    assert.doesNotMatch(await renderSvg(spec), /governor/);
  });

  it('leaves auto off a panel of a model it did not run on', () => {
    const analysis = analyzeStudy({ studyId: 'partial', simulated: true, cells: [...syntheticCells(true), ...autoCells(['m-large'])] });
    const panels = panelsOf(frontierSpec(analysis, 'arith'));
    assert.deepEqual(
      panels.map((panel) => [panel.title.text, panel.layer.some((layer) => layer.description === GOVERNOR_LABEL)]),
      [
        ['m-small', false],
        ['m-large', true],
      ],
    );
  });
});

describe('governor table', () => {
  const measured = (architecture: string, accuracy: number, low: number, high: number, meanTokens: number): MeasuredConfig => ({
    architecture,
    model: 'm-small',
    budget: 1000,
    n: 20,
    accuracy,
    ci: { low, high },
    meanTokens,
  });
  const row = (budget: number, auto: MeasuredConfig, bestFixed: MeasuredConfig, gap: number, low: number, high: number): GovernorRow => ({
    suite: 'arith',
    model: 'm-small',
    budget,
    auto,
    bestFixed,
    gap,
    gapCi: { low, high },
  });
  const rows: GovernorRow[] = [
    // 1 point below the best: matches it.
    row(500, measured('auto', 0.59, 0.48, 0.69, 650), measured('vote', 0.6, 0.5, 0.7, 800), -0.01, -0.05, 0.03),
    // Exactly 2 points below (as a difference of means computes it): still matches.
    row(1000, measured('auto', 0.48, 0.4, 0.56, 700), measured('debate', 0.5, 0.42, 0.58, 900), 0.48 - 0.5, -0.06, 0.02),
    // 5 points below, but the gap's interval reaches 0: not distinguishable from a tie.
    row(2000, measured('auto', 0.55, 0.45, 0.65, 1500), measured('vote', 0.6, 0.5, 0.7, 1800), -0.05, -0.11, 0),
    // 8 points below and the interval stays below 0: loses.
    row(4000, measured('auto', 0.52, 0.42, 0.62, 1200), measured('solo', 0.6, 0.5, 0.7, 650), -0.08, -0.14, -0.01),
    // Above the best fixed one.
    row(8000, measured('auto', 0.7, 0.6, 0.8, 2000), measured('vote', 0.6, 0.5, 0.7, 3000), 0.1, 0.03, 0.17),
  ];

  it('renders one row per (suite, model, budget) with the gap, its CI and the verdict in the Markdown report', () => {
    const analysis = analyzeStudy({ studyId: 'governor', title: 'Governor', simulated: true, cells: syntheticCells(true) });
    analysis.seedClaims.governor = rows;
    const markdown = renderMarkdown({ analysis, generatedAt: '2026-01-01T00:00:00.000Z' }, [], () => '');
    const section = markdown.slice(markdown.indexOf('### Governor (`auto`) vs the best fixed strategy [SIMULATED]'));
    assert.ok(section.length < markdown.length, 'the section is there, labelled SIMULATED');
    const table = section.split('\n').filter((line) => line.startsWith('| '));
    assert.deepEqual(table.slice(0, 7), [
      '| suite | model | budget | best fixed | best fixed accuracy [95% CI] · tokens | auto accuracy [95% CI] · tokens | auto − best [95% CI] | verdict |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      '| arith | m-small | ≤ 500 tok | vote | 60% [50%, 70%] · 800 | 59% [48%, 69%] · 650 | −1.0 pts [−5.0 pts, +3.0 pts] | ≥ best − 2 pts |',
      '| arith | m-small | ≤ 1,000 tok | debate | 50% [42%, 58%] · 900 | 48% [40%, 56%] · 700 | −2.0 pts [−6.0 pts, +2.0 pts] | ≥ best − 2 pts |',
      '| arith | m-small | ≤ 2,000 tok | vote | 60% [50%, 70%] · 1,800 | 55% [45%, 65%] · 1,500 | −5.0 pts [−11.0 pts, +0.0 pts] | within CI |',
      '| arith | m-small | ≤ 4,000 tok | solo | 60% [50%, 70%] · 650 | 52% [42%, 62%] · 1,200 | −8.0 pts [−14.0 pts, −1.0 pts] | loses |',
      '| arith | m-small | ≤ 8,000 tok | vote | 60% [50%, 70%] · 3,000 | 70% [60%, 80%] · 2,000 | +10.0 pts [+3.0 pts, +17.0 pts] | ≥ best − 2 pts |',
    ]);
    assert.match(section, /_SIMULATED \(simulated fleet, not real accuracy\)\. Best fixed = /);
    // The HTML report renders the same table, with the title's `auto` as code.
    const html = renderHtml({ analysis, generatedAt: '2026-01-01T00:00:00.000Z' }, []);
    assert.match(html, /<h3>Governor \(<code>auto<\/code>\) vs the best fixed strategy \[SIMULATED\]<\/h3>/);
    assert.match(html, /<td>−8\.0 pts \[−14\.0 pts, −1\.0 pts\]<\/td><td>loses<\/td>/);
  });

  it('is left out when auto did not run, and is not labelled SIMULATED for real models', () => {
    const real = analyzeStudy({ studyId: 'real', simulated: false, cells: syntheticCells(false) });
    assert.equal(governorTable(real), undefined);
    assert.doesNotMatch(
      renderMarkdown({ analysis: real, generatedAt: 'now' }, [], () => ''),
      /Governor/,
    );
    real.seedClaims.governor = rows.slice(0, 1);
    assert.doesNotMatch(governorTable(real)!.caption!, /SIMULATED/);
    assert.ok(seedClaimTables(real).some((entry) => entry.title === 'Governor (`auto`) vs the best fixed strategy'));
  });
});

describe('TIM table', () => {
  it('shows each way of reasoning with its CI, overflows and peak KV against the context (values by hand)', () => {
    const mode = (accuracy: number, overflows: number, mean: number, max: number) => ({
      items: 10,
      correct: accuracy * 10,
      accuracy,
      ci: { low: accuracy - 0.2, high: accuracy + 0.1 },
      perItem: '1'.repeat(accuracy * 10).padEnd(10, '0'),
      overflows,
      peakKv: { mean, max },
      steps: { checked: 80, correct: 60, accuracy: 0.75 },
      generatedTokens: 400,
    });
    const tim: TimExperiment = {
      reference: 'tiny:thread-small',
      items: 10,
      seed: 9002,
      groups: 4,
      contextSize: 640,
      bufferSize: 2,
      referenceTrace: { mean: 850, min: 700 },
      unprunedTrace: { mean: 800, min: 500 },
      modes: { pruned: mode(0.6, 0, 560, 600), unpruned: mode(0, 10, 624, 626), cot: mode(0.5, 0, 160, 180) },
    };
    const analysis = analyzeStudy({ studyId: 'real', simulated: false, cells: syntheticCells(false) });
    const table = seedClaimTables(analysis, tim).find((entry) => entry.title.startsWith('Recursion past the context limit'))!.table;
    assert.deepEqual(table.rows, [
      ['thread, KV-pruned (FIFO 2)', '60% [40%, 70%]', '75% of 80', '0 of 10', '560 · 600', '94%', '400'],
      ['thread, unpruned', '0% [-20%, 10%]', '75% of 80', '10 of 10', '624 · 626', '98%', '400'],
      ['chain of thought', '50% [30%, 60%]', '75% of 80', '0 of 10', '160 · 180', '28%', '400'],
    ]);
    assert.match(
      table.caption!,
      /850 tokens on average \(at least 700\), more than the 640-cell context; the model's own pruned runs wrote 800/,
    );
    assert.equal(timTable(tim).rows.length, 3);
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
