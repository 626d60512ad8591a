/**
 * The governor on the frontier (issue 22): does `auto` ever lose to the best fixed strategy, at any budget, on
 * any suite? Measured from outside — whatever the governor does inside, `auto` is one architecture among the
 * study's, judged only by what its cells scored and spent — on the built-in studies, run as written:
 *
 *   - `quick-sim` (SIMULATED fleet: arithmetic, logic, multihop; budgets 800–12000; sim:small/medium/large);
 *   - `default`   (SIMULATED fleet: 6 budgets, 4 models, 2 seeds; the full study, 97,920 cells: ≈ 3.5 min on two
 *                  shared cores, ≈ 1 GB resident);
 *   - `quick`     (REAL — Thicket's tiny models trained on synthetic tasks, run by llama.cpp; arithmetic only).
 *
 * HELD-OUT: the items are the studies' own (their seeds, printed); the governor's policy is fitted on seeds
 * ≥ 1000, so a study seed in that range is flagged. Each study runs on a fresh SQLite journal in a temporary
 * folder (nothing resumed), with no criticality hook and without the quick study's TIM experiment (neither
 * bears on `auto`).
 *
 * Per study: the frontier table (per suite × budget × model, the best fixed architecture against `auto`, the
 * paired gap with its bootstrap 95% CI — seedClaims' governor rows), token and dollar efficiency against the
 * best width strategy (Snell et al.: its accuracy with ≤ 1/4 of its tokens; ≤ 1/2 of its dollars), cascades
 * from a small model against always-large (≥ 60% of the cost saved at ≥ 98% of its accuracy), and the wall
 * time. The verdicts are src/lab/analysis/governor-frontier.ts (unit-tested); nothing here asserts on time.
 *
 * THICKET_BENCH_FRONTIER=quick-sim,default,quick picks the studies (default: all three);
 * THICKET_BENCH_FRONTIER_ITEMS=N caps the items per suite of every study picked.
 *
 *   import { benchFrontier } from './frontier.ts';  const { rows, tables } = await benchFrontier();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import pc from 'picocolors';
import { Journal } from '../src/journal/index.ts';
import { loadFleetConfig } from '../src/models/index.ts';
import {
  autoEfficiency,
  builtinStudyPath,
  cascadesFromSmall,
  cascadeVerdict,
  configurations,
  governorVerdict,
  loadStudyFile,
  parseStudy,
  runStudy,
  seedClaims,
  summarizeEfficiency,
  CASCADE_ACCURACY_TARGET,
  CASCADE_SAVED_TARGET,
  DOLLAR_EFFICIENCY_TARGET,
  GOVERNOR_TOLERANCE,
  TOKEN_EFFICIENCY_TARGET,
  type EfficiencyRow,
  type Interval,
  type StudyDefinition,
  type StudyRun,
} from '../src/lab/index.ts';
import { builtinPolicy, selectFrontier, type Objective } from '../src/governor/index.ts';
import type { BenchRow } from './foundation.ts';

/** `quick-sim-usd`: the quick simulated study with `optimize: usd` — auto on its dollar tables. */
export const FRONTIER_STUDIES = ['quick-sim', 'quick-sim-usd', 'default', 'quick'] as const;
type FrontierStudy = (typeof FRONTIER_STUDIES)[number];

/** The governor's policy is fitted on suites generated from seeds at or above this: a study seed here is not held out. */
const FITTING_SEEDS_FROM = 1000;

export interface FrontierBench {
  rows: BenchRow[];
  tables: string[];
}

function selectedStudies(): FrontierStudy[] {
  const names = (process.env['THICKET_BENCH_FRONTIER'] ?? FRONTIER_STUDIES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const unknown = names.filter((name) => !(FRONTIER_STUDIES as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`THICKET_BENCH_FRONTIER: no study ${unknown.join(', ')} (choose from ${FRONTIER_STUDIES.join(', ')})`);
  return names as FrontierStudy[];
}

/** The cap on items per suite (THICKET_BENCH_FRONTIER_ITEMS), if any: by default every study runs in full. */
function itemCap(): number | undefined {
  const raw = process.env['THICKET_BENCH_FRONTIER_ITEMS'];
  if (raw !== undefined && raw !== '') {
    const cap = Number(raw);
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`THICKET_BENCH_FRONTIER_ITEMS must be a whole number ≥ 1; got "${raw}"`);
    return cap;
  }
  return undefined;
}

/** The built-in study as written, its suites capped at `cap` items, without the TIM experiment. */
function frontierStudy(name: FrontierStudy, cap: number | undefined): StudyDefinition {
  const usd = name.endsWith('-usd');
  const { source: _source, tim: _tim, ...study } = loadStudyFile(builtinStudyPath(usd ? name.slice(0, -'-usd'.length) : name));
  const suites = study.suites.map((suite) =>
    'items' in suite && cap !== undefined ? { ...suite, items: Math.min(suite.items, cap) } : suite,
  );
  return parseStudy(
    { ...study, suites, ...(usd ? { id: `${study.id}-usd`, optimize: 'usd' } : {}) },
    `built-in study ${name} (frontier bench)`,
  );
}

const pct = (share: number): string => `${share < 0 ? '−' : ''}${Math.abs(share * 100).toFixed(1)}%`;
const points = (share: number): string => `${share >= 0 ? '+' : '−'}${Math.abs(share * 100).toFixed(1)}`;
const interval = (ci: Interval, format: (value: number) => string): string => `[${format(ci.low)}, ${format(ci.high)}]`;
const verdict = (met: boolean): string => (met ? pc.green('yes') : pc.red('no'));
const tokens = (value: number): string => Math.round(value).toLocaleString('en-US');
const dollars = (value: number): string => (value === 0 ? '$0' : `$${value < 0.01 ? value.toPrecision(2) : value.toFixed(4)}`);
const ratio = (value: number | undefined): string =>
  value === undefined ? '—' : !Number.isFinite(value) ? '∞' : value === 0 ? '0×' : `${value.toFixed(2)}× (1/${(1 / value).toFixed(1)})`;

function frontierTable(
  run: StudyRun,
  label: string,
  objective: Objective,
): { table: string; met: number; total: number; byInterval: number; worst?: string } {
  const rows = seedClaims(run.cells, run.models).governor.sort(
    (a, b) => a.suite.localeCompare(b.suite) || a.budget - b.budget || a.model.localeCompare(b.model),
  );
  const table = new Table({
    head: [
      'suite',
      'budget',
      'model',
      'best fixed',
      'acc [95% CI]',
      'auto acc [95% CI]',
      'auto tok',
      'auto runs (train acc)',
      'gap pts [95% CI]',
      'met',
    ].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
  });
  let met = 0;
  let byInterval = 0;
  // What the built-in policy's tokens table runs for the cell, and what that scored on the TRAINING seeds.
  const policy = builtinPolicy().policy;
  const kindOf = new Map(run.suites.map((suite) => [suite.name, suite.kind]));
  const choiceOf = (row: (typeof rows)[number]): string => {
    const selected = selectFrontier(policy.frontier, {
      family: kindOf.get(row.suite) ?? row.suite,
      model: row.model,
      tier: run.models[row.model]?.tier,
      budget: { totalTokens: row.budget },
      usdPerToken: 0,
      objective,
    });
    return selected ? `${selected.entry.choice} ${pc.dim(`(${pct(selected.entry.train.accuracy)})`)}` : pc.dim('probe path');
  };
  for (const row of rows) {
    const judged = governorVerdict(row);
    if (judged.met) met++;
    if (judged.by === 'interval') byInterval++;
    table.push([
      row.suite,
      tokens(row.budget),
      row.model,
      `${row.bestFixed.architecture} ${pc.dim(`${tokens(row.bestFixed.meanTokens)} tok`)}`,
      `${pct(row.bestFixed.accuracy)} ${pc.dim(interval(row.bestFixed.ci, pct))}`,
      `${pct(row.auto.accuracy)} ${pc.dim(interval(row.auto.ci, pct))}`,
      tokens(row.auto.meanTokens),
      choiceOf(row),
      `${(row.gap < -GOVERNOR_TOLERANCE ? pc.red : pc.green)(points(row.gap))} ${pc.dim(interval(row.gapCi, points))}`,
      judged.by === 'interval' ? `${verdict(true)} ${pc.dim('(CI)')}` : verdict(judged.met),
    ]);
  }
  const worst = rows.slice().sort((a, b) => a.gap - b.gap)[0];
  const meanGap = rows.reduce((sum, row) => sum + row.gap, 0) / Math.max(1, rows.length);
  const fittedOn = policy.frontier ? `tables fitted on seeds ${policy.frontier.source.seeds.join(', ')}` : 'no frontier tables';
  const losses = rows.filter((row) => row.gap < -GOVERNOR_TOLERANCE && row.gapCi.high < 0).length;
  return {
    table:
      `${pc.bold(`${label} — auto against the best fixed architecture`)} (met: gap ≥ −${GOVERNOR_TOLERANCE * 100} pts, or its 95% CI reaches 0; ` +
      `${met}/${rows.length} cells; mean gap ${points(meanGap)} pts; ${losses} significant loss(es). "best fixed" is the best of ` +
      `several noisy estimates on the same items, so it is biased upwards)\n` +
      `${pc.dim(`auto runs: the built-in policy's choice (${fittedOn}) and its accuracy on those training items`)}\n${table.toString()}`,
    met,
    total: rows.length,
    byInterval,
    ...(worst
      ? {
          worst: `worst ${points(worst.gap)} pts (${worst.suite}, ${worst.model}, ${tokens(worst.budget)}: ${worst.bestFixed.architecture})`,
        }
      : {}),
  };
}

const SKIPPED: Record<NonNullable<EfficiencyRow['skipped']>, string> = {
  unpriced: 'skipped: $0',
  'zero-baseline': 'skipped: width 0%',
  'no-auto': 'skipped: no auto',
  'no-width': 'skipped: no width',
  'single-baseline': 'skipped: best width is 1 call',
};

function efficiencyTable(rows: readonly EfficiencyRow[], title: string, cost: (value: number) => string): string {
  const table = new Table({
    head: ['suite', 'model', 'best width @ budget', 'acc', 'cost', 'auto reaching', 'auto cheapest', 'cost', 'ratio', 'met'].map((cell) =>
      pc.bold(cell),
    ),
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    const base = row.baseline;
    table.push([
      row.suite,
      row.model,
      `${base.architecture} @ ${tokens(base.budget)}`,
      pct(base.accuracy),
      cost(base.cost),
      `${row.reaching}/${row.autoBudgets} budgets`,
      row.auto ? `@ ${tokens(row.auto.budget)}: ${pct(row.auto.accuracy)}` : '—',
      row.auto ? cost(row.auto.cost) : '—',
      ratio(row.ratio),
      row.skipped ? pc.dim(SKIPPED[row.skipped]) : verdict(row.met),
    ]);
  }
  return `${pc.bold(title)}\n${table.toString()}`;
}

const skippedReasons = (rows: readonly EfficiencyRow[]): string =>
  [...new Set(rows.flatMap((row) => (row.skipped ? [SKIPPED[row.skipped].replace('skipped: ', '')] : [])))].join(', ');

function efficiencyRow(name: string, rows: readonly EfficiencyRow[], target: number, unit: string): BenchRow {
  const summary = summarizeEfficiency(rows);
  if (summary.evaluated === 0)
    return {
      name,
      value: '—',
      target: `≤ 1/${1 / target} of the ${unit}`,
      met: undefined,
      note: rows.every((row) => row.skipped === 'unpriced')
        ? 'skipped: every model here costs $0 (tiny local models)'
        : 'nothing to compare',
    };
  return {
    name,
    value: `median ${ratio(summary.medianRatio)}`,
    target: `≤ 1/${1 / target} of the ${unit}`,
    met: summary.met === summary.evaluated,
    note:
      `${summary.met}/${summary.evaluated} (suite, model) met; auto never reached the best width accuracy in ${summary.unreached}` +
      (summary.skipped > 0 ? `; ${summary.skipped} skipped (${skippedReasons(rows)})` : ''),
  };
}

async function benchOne(name: FrontierStudy): Promise<FrontierBench> {
  const cap = itemCap();
  const study = frontierStudy(name, cap);
  const scratch = mkdtempSync(join(tmpdir(), 'thicket-bench-frontier-'));
  const journal = Journal.open(join(scratch, 'journal.db'));
  let run: StudyRun;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    let reported = 0;
    run = await runStudy(study, {
      journal,
      config: study.config !== undefined ? loadFleetConfig(study.config).config : { version: 1, models: {} },
      corpusDir: join(scratch, 'corpus'),
      onProgress: (progress) => {
        const quarter = Math.floor((progress.done / Math.max(1, progress.total)) * 4);
        if (quarter > reported && quarter < 4) {
          reported = quarter;
          process.stderr.write(pc.dim(`frontier ${name}: ${progress.done}/${progress.total} cells\n`));
        }
      },
    });
  } finally {
    journal.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  const tiny = Object.entries(run.models).filter(([, facts]) => facts.tinyTrained);
  const label = run.simulated ? `${name} [SIMULATED]` : `${name} [real — tiny models trained on synthetic tasks]`;
  const tag = run.simulated ? 'SIM' : 'tiny real';
  const suiteSeeds = [...new Map(run.suites.map((suite) => [`${suite.name}@${suite.seed}`, suite])).values()];
  const fitted = [...study.seeds, ...suiteSeeds.map((suite) => suite.seed)].filter((seed) => seed >= FITTING_SEEDS_FROM);
  const header = [
    pc.bold(`═══ ${label}: ${study.title ?? study.id}`),
    run.simulated
      ? pc.yellow('SIMULATED fleet: a workload simulator, not any real model’s accuracy.')
      : pc.cyan(
          `REAL — tiny models trained on synthetic tasks (${tiny.map(([model]) => model).join(', ')}): real inference, not a capable model.`,
        ),
    `Held-out items: study seeds ${study.seeds.join(', ')}; suites ${suiteSeeds
      .map((suite) => `${suite.name} (seed ${suite.seed}, ${suite.items} items)`)
      .join(', ')}. The governor's policy is fitted on seeds ≥ ${FITTING_SEEDS_FROM}.` +
      (fitted.length > 0 ? pc.red(` NOT HELD OUT: seeds ${fitted.join(', ')} are in the fitting range.`) : ''),
    `Items per suite: ${cap === undefined ? 'the study’s own (no cap)' : `capped at ${cap} (THICKET_BENCH_FRONTIER_ITEMS)`}.`,
    `Wall time ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU): ${run.cells.length.toLocaleString('en-US')} cells, ` +
      `${run.calls.new.toLocaleString('en-US')} ${run.simulated ? 'simulated' : 'llama.cpp'} calls, status ${run.status}` +
      (run.counts.failed > 0 ? pc.red(`, ${run.counts.failed} cells failed (${run.failures[0]?.code}: ${run.failures[0]?.message})`) : '') +
      (run.notRunnable.length > 0
        ? `; not runnable: ${run.notRunnable.map((entry) => `${entry.architecture} on ${entry.suite}`).join(', ')}`
        : ''),
  ].join('\n');

  const frontier = frontierTable(run, label, study.optimize ?? 'tokens');
  const configs = configurations(run.cells);
  const tokenRows = autoEfficiency(configs, 'tokens', TOKEN_EFFICIENCY_TARGET);
  const dollarRows = autoEfficiency(configs, 'usd', DOLLAR_EFFICIENCY_TARGET);
  const cascades = cascadesFromSmall(seedClaims(run.cells, run.models).cascade, run.models)
    .map((row) => cascadeVerdict(row, configs))
    .sort((a, b) => a.suite.localeCompare(b.suite) || a.cascadeModel.localeCompare(b.cascadeModel) || a.budget - b.budget);
  const cascadeTable = new Table({
    head: ['suite', 'budget', 'cascade from', 'always', 'acc cascade / large', 'ratio', 'cost saved', 'met'].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
  });
  for (const row of cascades)
    cascadeTable.push([
      row.suite,
      tokens(row.budget),
      row.cascadeModel,
      row.largeModel,
      `${pct(row.cascadeAccuracy)} / ${pct(row.largeAccuracy)}`,
      row.vacuous ? pc.dim('— (both 0%)') : (row.accuracyRatio >= CASCADE_ACCURACY_TARGET ? pc.green : pc.red)(pct(row.accuracyRatio)),
      `${(row.saved >= CASCADE_SAVED_TARGET ? pc.green : pc.red)(pct(row.saved))} ${pc.dim(row.unit === 'usd' ? 'of $' : `of ${row.unit}`)}`,
      row.vacuous ? pc.dim('no verdict') : verdict(row.met),
    ]);
  const judgedCascades = cascades.filter((row) => !row.vacuous);
  const cascadesMet = cascades.filter((row) => row.met);
  const bestCascade = cascades
    .filter((row) => !row.vacuous && row.accuracyRatio >= CASCADE_ACCURACY_TARGET)
    .sort((a, b) => b.saved - a.saved)[0];

  const tables = [
    header,
    frontier.table,
    efficiencyTable(tokenRows, `${label} — tokens: auto's cheapest budget matching the best width strategy (target ≤ 1/4)`, tokens),
    efficiencyTable(dollarRows, `${label} — dollars: the same in mean $ per query (target ≤ 1/2; $0 models skipped)`, dollars),
    `${pc.bold(`${label} — cascades from a small model against always-large`)} (target: ≥ ${pct(CASCADE_SAVED_TARGET)} of the cost saved at ≥ ` +
      `${pct(CASCADE_ACCURACY_TARGET)} of its accuracy; cost in $ where priced, else compute)\n` +
      (cascades.length > 0 ? cascadeTable.toString() : pc.dim('(no cascade from a small-tier model in this study)')),
  ];
  const rows: BenchRow[] = [
    {
      name: `${name} [${tag}]: auto ≥ best fixed − ${GOVERNOR_TOLERANCE * 100} pts or within CI`,
      value: `${frontier.met} / ${frontier.total} cells`,
      target: `${frontier.total} / ${frontier.total}`,
      met: frontier.total > 0 && frontier.met === frontier.total,
      note: `${frontier.byInterval} met only by the CI${frontier.worst ? `; ${frontier.worst}` : ''}`,
    },
    efficiencyRow(`${name} [${tag}]: tokens to match best width (Snell)`, tokenRows, TOKEN_EFFICIENCY_TARGET, 'tokens'),
    efficiencyRow(`${name} [${tag}]: dollars to match best width`, dollarRows, DOLLAR_EFFICIENCY_TARGET, 'dollars'),
    {
      name: `${name} [${tag}]: cascade small→large`,
      value: judgedCascades.length > 0 ? `${cascadesMet.length} / ${judgedCascades.length} budgets` : '—',
      target: `≥ 60% saved at ≥ 98% acc`,
      met: judgedCascades.length > 0 ? cascadesMet.length === judgedCascades.length : undefined,
      note:
        (bestCascade
          ? `best at ≥ 98% acc: ${pct(bestCascade.saved)} of ${bestCascade.unit === 'usd' ? '$' : bestCascade.unit} saved (${bestCascade.suite}, ` +
            `${bestCascade.cascadeModel}, ${tokens(bestCascade.budget)})`
          : judgedCascades.length > 0
            ? 'no budget keeps ≥ 98% of always-large accuracy'
            : 'no cascade from a small-tier model') +
        (cascades.length > judgedCascades.length ? `; ${cascades.length - judgedCascades.length} without a verdict (both 0%)` : ''),
    },
    {
      name: `${name} [${tag}]: wall time`,
      value: `${seconds.toFixed(1)} s`,
      target: '—',
      met: undefined,
      note: `${run.cells.length.toLocaleString('en-US')} cells, ${cpuSeconds.toFixed(1)} s CPU${cap !== undefined ? `, ≤ ${cap} items/suite` : ''}`,
    },
  ];
  return { rows, tables };
}

export async function benchFrontier(): Promise<FrontierBench> {
  const result: FrontierBench = { rows: [], tables: [] };
  for (const name of selectedStudies()) {
    const one = await benchOne(name);
    result.rows.push(...one.rows);
    result.tables.push(...one.tables);
  }
  return result;
}
