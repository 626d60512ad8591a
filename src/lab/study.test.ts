/**
 * A tiny study end to end (the CI version of `thicket study --quick`), determinism, and resume: finished
 * cells are skipped, and an interrupted study resumes without paying for any completed call twice.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Journal } from '../journal/index.ts';
import {
  CELL_STEP_KIND,
  defaultStudyHooks,
  parseStudy,
  runStudy,
  studyCommand,
  type CellResult,
  type StudyDefinition,
  type StudyRun,
} from './index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-study-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const tiny = (overrides: Record<string, unknown> = {}): StudyDefinition =>
  parseStudy({
    version: 1,
    id: 'tiny',
    suites: [
      { kind: 'arithmetic', items: 4, operations: [2, 4] },
      { kind: 'multihop', items: 4, hops: [1, 2] },
    ],
    architectures: ['vote', 'search'],
    budgets: [1500, 4000],
    models: ['sim:small'],
    concurrency: 4,
    ...overrides,
  });

const io = (lines: string[]) => ({
  out: (text: string) => lines.push(text),
  err: (text: string) => lines.push(text),
  isTTY: false,
  handleSigint: false,
  now: () => new Date('2026-01-01T00:00:00Z'),
});

/** What a cell's outcome is, without timing noise. */
const outcome = (cell: CellResult): string =>
  `${cell.taskId}|${cell.architecture}|${cell.budget}|${cell.score}|${cell.answer}|${cell.usage.totalTokens}|${cell.usage.calls}|${cell.searchSteps}`;

describe('study end to end', () => {
  it('runs a tiny study through the command, prints the summary and writes the report', async () => {
    const lines: string[] = [];
    const out = join(scratch, 'report');
    const db = join(scratch, 'e2e.db');
    const started = performance.now();
    const result = await studyCommand(
      {
        quick: 'sim',
        suites: 'arithmetic,multihop',
        items: '3',
        architectures: 'vote,search',
        budgets: '1500,4000',
        models: 'sim:small',
        id: 'ci',
        out,
        db,
      },
      io(lines),
    );
    assert.ok(performance.now() - started < 20_000);
    assert.equal(result.exitCode, 0);
    assert.equal(result.status, 'ok');
    assert.equal(result.simulated, true);
    // arithmetic: vote only (no corpus to search); multihop: vote and search — 3 items × 2 budgets each.
    assert.deepEqual(result.counts, { planned: 18, executed: 18, resumed: 0, failed: 0, notStarted: 0 });
    assert.ok(result.calls.new > 18);
    assert.equal(result.calls.replayed, 0);
    const searchRows = result.table.filter((row) => row.architecture === 'search');
    assert.deepEqual(
      searchRows.map((row) => [row.suite, row.budget, row.n]),
      [
        ['multihop', 1500, 3],
        ['multihop', 4000, 3],
      ],
    );
    assert.ok(searchRows.every((row) => row.accuracy >= 0 && row.accuracy <= 1 && row.meanTokens > 0));
    // Colours are on when CI is set (picocolors): compare the text without escape codes.
    const text = stripVTControlCharacters(lines.join('\n'));
    assert.match(text, /\[SIMULATED\].*Study ci — 18 runs/);
    assert.match(text, /Where did the gains come from\?/);
    assert.match(text, /multihop.*search/);
    assert.match(text, /Report: .*report\.html/);
    for (const file of ['report.html', 'report.md', 'report.json', 'charts/decomposition.svg', 'corpus/multihop-s1.jsonl'])
      assert.ok(existsSync(join(out, file)), file);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      simulated: boolean;
      analysis: { cells: number; headline: { decomposition: { groups: Array<{ name: string; shapley: number }>; total: number } } };
    };
    assert.equal(json.simulated, true);
    assert.equal(json.analysis.cells, 18);
    const shapley = json.analysis.headline.decomposition.groups.reduce((sum, group) => sum + group.shapley, 0);
    assert.ok(Math.abs(shapley - json.analysis.headline.decomposition.total) < 1e-9);
  });

  it('is deterministic: the same study gives byte-identical cell outcomes in another journal', async () => {
    const runs: StudyRun[] = [];
    for (const name of ['a', 'b']) {
      const journal = Journal.open(join(scratch, `det-${name}.db`));
      runs.push(await runStudy(tiny({ concurrency: name === 'a' ? 1 : 8 }), { journal }));
      journal.close();
    }
    assert.deepEqual(runs[0]!.cells.map(outcome), runs[1]!.cells.map(outcome));
    assert.equal(runs[0]!.cells.length, 4 * 2 + 4 * 2 * 2);
    // Search reaches answers on the multi-hop suite that closed-book voting cannot.
    const accuracy = (architecture: string): number => {
      const cells = runs[0]!.cells.filter((cell) => cell.suite === 'multihop' && cell.architecture === architecture);
      return cells.reduce((sum, cell) => sum + cell.score, 0) / cells.length;
    };
    assert.ok(accuracy('search') > accuracy('vote'), `search ${accuracy('search')} vs vote ${accuracy('vote')}`);
    assert.ok(
      runs[0]!.cells.every((cell) => cell.usage.totalTokens <= cell.budget),
      'every run stays within its matched budget',
    );
  });
});

describe('plugged-in layers', () => {
  it('runs the governor (auto) under the matched budget and resumes it cell by cell', async () => {
    const journal = Journal.open(join(scratch, 'auto.db'));
    const study = tiny({ suites: [{ kind: 'arithmetic', items: 3 }], architectures: ['auto', 'single'], budgets: [1500, 4000] });
    const hooks = defaultStudyHooks();
    const run = await runStudy(study, {
      journal,
      architectures: hooks.architectures,
      ...(hooks.criticality ? { criticality: hooks.criticality } : {}),
    });
    assert.equal(run.status, 'ok');
    const auto = run.cells.filter((cell) => cell.architecture === 'auto');
    assert.equal(auto.length, 6);
    assert.ok(auto.every((cell) => cell.family === 'governed' && cell.usage.totalTokens > 0 && cell.usage.totalTokens <= cell.budget));
    // The governor names its steps the same in every run; namespaced call keys keep the budgets' cells apart.
    assert.ok(run.calls.new > 0);
    const again = await runStudy(study, { journal });
    assert.deepEqual([again.counts.executed, again.calls.new], [0, 0]);
    // Criticality metrics of each run's reasoning graph (src/criticality), for graphs with some structure.
    const withMetrics = run.cells.filter((cell) => cell.criticality !== undefined);
    assert.ok(withMetrics.length > 0);
    for (const cell of withMetrics) {
      const metrics = cell.criticality!;
      assert.ok(metrics['surprisingShare']! >= 0 && metrics['surprisingShare']! <= 1);
      assert.ok(Math.abs(metrics['discovery']!) <= 1);
    }
    assert.ok(
      run.cells.filter((cell) => cell.architecture === 'single').every((cell) => cell.criticality === undefined),
      'a query and one answer are too small to measure',
    );
    journal.close();
  });
});

describe('study-wide caps', () => {
  it('starts no cell the remaining study budget could not cover in full, and never overspends it', async () => {
    const journal = Journal.open(join(scratch, 'capped.db'));
    const run = await runStudy(tiny({ limits: { tokens: 9000 }, concurrency: 2 }), { journal });
    journal.close();
    assert.equal(run.status, 'budget_exhausted');
    assert.ok(run.counts.executed >= 2 && run.counts.notStarted > 0, JSON.stringify(run.counts));
    const spent = run.cells.reduce((sum, cell) => sum + cell.usage.totalTokens, 0);
    assert.ok(spent <= 9000, `spent ${spent}`);
    assert.equal(run.newUsage.totalTokens, spent);
  });

  it('keeps room for the cells running: a cap never starves a started cell (it would be degraded and scored as wrong)', async () => {
    const journal = Journal.open(join(scratch, 'starve.db'));
    // Uncapped, every cell's outcome; then a cap of 3 whole 4,000-token cells with 4 running at once.
    const free = new Map(
      (await runStudy(tiny({ id: 'free', budgets: [4000] }), { journal })).cells.map((cell) => [
        cell.taskId + cell.architecture,
        outcome(cell),
      ]),
    );
    const run = await runStudy(tiny({ id: 'starve', budgets: [4000], limits: { tokens: 12_000 } }), { journal });
    journal.close();
    assert.equal(run.status, 'budget_exhausted');
    assert.ok(run.counts.executed >= 3 && run.counts.notStarted > 0, JSON.stringify(run.counts));
    // Every cell that ran did exactly what it did uncapped (same answer, score and spend): none was cut short.
    for (const cell of run.cells) assert.equal(outcome(cell), free.get(cell.taskId + cell.architecture));
    assert.ok(run.cells.reduce((sum, cell) => sum + cell.usage.totalTokens, 0) <= 12_000);
  });
});

describe('resume', () => {
  it('skips finished cells on re-run and runs only cells a widened study adds', async () => {
    const journal = Journal.open(join(scratch, 'resume.db'));
    const first = await runStudy(tiny(), { journal });
    assert.equal(first.counts.executed, 24);
    assert.ok(first.calls.new > 0);
    const again = await runStudy(tiny(), { journal });
    assert.deepEqual([again.counts.executed, again.counts.resumed, again.calls.new, again.calls.replayed], [0, 24, 0, 0]);
    assert.equal(again.resumed, true);
    assert.deepEqual(again.cells.map(outcome), first.cells.map(outcome));
    const wider = await runStudy(tiny({ budgets: [1500, 4000, 800] }), { journal });
    assert.deepEqual([wider.counts.executed, wider.counts.resumed], [12, 24]);
    const cellSteps = journal.getSteps('study-tiny').filter((step) => step.kind === CELL_STEP_KIND);
    assert.equal(cellSteps.length, 36);
    journal.close();
  });

  it('refuses to resume when a suite definition changed (item ids would mean other items)', async () => {
    const journal = Journal.open(join(scratch, 'changed.db'));
    await runStudy(tiny({ architectures: ['vote'], budgets: [1500] }), { journal });
    await assert.rejects(
      runStudy(tiny({ architectures: ['vote'], budgets: [1500], suites: [{ kind: 'arithmetic', items: 4, operations: [3, 5] }] }), {
        journal,
      }),
      /cannot be resumed.*args\.suites/s,
    );
    journal.close();
  });

  it('resumes an interrupted study without paying for a completed call twice', async () => {
    const reference = Journal.open(join(scratch, 'uninterrupted.db'));
    const full = await runStudy(tiny(), { journal: reference });
    reference.close();

    const journal = Journal.open(join(scratch, 'interrupted.db'));
    const controller = new AbortController();
    const partial = await runStudy(tiny(), {
      journal,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.done >= 6) controller.abort();
      },
    });
    assert.equal(partial.status, 'cancelled');
    assert.ok(partial.cells.length >= 6 && partial.cells.length < 24, `${partial.cells.length} cells finished before the interrupt`);
    const resumed = await runStudy(tiny(), { journal });
    assert.equal(resumed.status, 'ok');
    assert.equal(resumed.counts.resumed, partial.cells.length);
    // Every completed call was paid once: calls made before the interrupt + new calls after = the full run's.
    assert.equal(partial.calls.new + resumed.calls.new, full.calls.new);
    assert.ok(resumed.calls.replayed > 0, 'cells in flight at the interrupt replay their completed calls');
    assert.deepEqual(resumed.cells.map(outcome), full.cells.map(outcome));
    journal.close();
  });
});
