/**
 * Governor benchmark (SIMULATED): the governor against fixed strategies on mixed-difficulty generated
 * arithmetic suites, every query under the same hard token budget.
 *
 *   1. calibrate on one suite (every cascade stage and every candidate arm on every item, journaled to an
 *      in-memory journal), 2. fit the policy from that journal (cascade thresholds: ≥ 98% of the largest
 *      tier's accuracy at minimum dollars, 5-fold CV; allocation: per bin and budget, CV against the default),
 *   3. evaluate on a DIFFERENT suite (other seed): the governor (learned and default policy), the cascade
 *      router alone, always-small, always-large, width (vote@N on the small tier) and every named strategy.
 *
 * Targets: (a) Snell et al. — the best fixed width strategy's accuracy with ≤ 1/4 of its tokens; (b)
 * FrugalGPT/RouteLLM — the cascade saves ≥ 60% of always-large's cost at ≥ 98% of its accuracy. The
 * governor's spend includes the probe and the planner's own calls. Model behaviour is the simulated fleet's
 * oracle-with-noise: these are mechanics, not any real model's accuracy.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { VirtualClock, normalizeAnswer } from '../src/core/index.ts';
import { Ledger } from '../src/budget/index.ts';
import { Fleet, FleetResolver, TaskOracleRegistry, type SimTask } from '../src/models/index.ts';
import { Journal } from '../src/journal/index.ts';
import { defaultOperators, runWorkflow, simCascadeLadder, strategySpec, type Strategy } from '../src/workflow/index.ts';
import {
  CORPUS_CANDIDATE_ARMS,
  DEFAULT_CANDIDATE_ARMS,
  DEFAULT_POLICY,
  armKey,
  calibrate,
  calibrationItems,
  fitGovernorPolicy,
  governedSolve,
  type AllocationCell,
  type CalibrationItem,
  type GovernorPolicy,
} from '../src/governor/index.ts';
import { multihopSuite, registerSuiteTasks, type SuiteInstance } from '../src/lab/index.ts';
import { arithmeticTaskSet } from '../src/ops/testing/harness.ts';
import type { BenchRow } from './foundation.ts';

export interface GovernorBenchOptions {
  calibrationItems?: number;
  items?: number;
  budgets?: number[];
  seed?: number;
  multihopBudgets?: number[];
  multihopCalibrationItems?: number;
  multihopItems?: number;
}

interface Line {
  name: string;
  budget: number;
  accuracy: number;
  /** Binomial standard error of `accuracy`. */
  standardError: number;
  /** Accuracy per band of operations: 1–2, 3–4 (hard for the small model), 5–7 (hard for every tier). */
  bands: number[];
  tokens: number;
  usd: number;
  planningTokens: number;
}

const BANDS: Array<[number, number]> = [
  [1, 2],
  [3, 4],
  [5, 7],
];
const STRATEGIES: Strategy[] = ['single', 'vote', 'refine', 'thread', 'debate', 'cascade'];
const WIDTHS = [3, 5, 9, 15];

/** A mixed suite: a third of the items from each band of operations (harder bands → higher difficulty). */
function mixedSuite(count: number, seed: number, prefix: string): SimTask[] {
  return BANDS.flatMap(([low, high], band) =>
    arithmeticTaskSet({ count: Math.ceil(count / BANDS.length), seed: seed + band, operations: [low, high], prefix: `${prefix}${band}` }),
  );
}

export async function benchGovernor(options: GovernorBenchOptions = {}): Promise<{ table: string; rows: BenchRow[]; lines: Line[] }> {
  const seed = options.seed ?? 11;
  const budgets = options.budgets ?? [4_000, 12_000];
  // 600 calibration items: with 240 the per-bin arm choice flipped between seeds (cells of ~50 items, arms
  // a few points apart); the fit itself is unchanged.
  const calibrationTasks = mixedSuite(options.calibrationItems ?? 600, 500, 'cal');
  // 900 held-out items: at 300 the standard error of an accuracy near 60% is ~2.8 points — larger than the
  // 2% margin the cascade row is judged on (the same fitted cascade read 96% and 100% of always-large on two
  // 300-item draws); at 900 it is ~1.6 points.
  const tasks = mixedSuite(options.items ?? 900, 900, 'test');
  const bandOf = (task: SimTask): number => Number(task.id.slice('test'.length, 'test'.length + 1));
  const registry = new TaskOracleRegistry();
  registry.registerTasks([...calibrationTasks, ...tasks]);
  const fleetFor = (): Fleet => {
    const clock = new VirtualClock();
    return new Fleet({ resolver: new FleetResolver({ config: { version: 1, models: {} }, clock, seed, tasks: registry }), clock, seed });
  };

  // 1–2. Calibrate on its own suite and fit the policy from the journal, in two passes: the cascade stages
  // first, then every arm under the fitted cascade (an arm's outcome depends on the router's thresholds).
  const journal = Journal.open(':memory:');
  const items = calibrationItems(calibrationTasks, { registered: true });
  const arms: AllocationCell[] = [...DEFAULT_CANDIDATE_ARMS, { arm: 'plan' }];
  const stagesRun = await calibrate({ fleet: fleetFor(), journal, items, levels: [], seed });
  const cascadeFitted = fitGovernorPolicy(journal, { runIds: [stagesRun.runId] }).policy;
  const armsRun = await calibrate({ fleet: fleetFor(), journal, items, policy: cascadeFitted, stages: false, levels: budgets, arms, seed });
  const learned = fitGovernorPolicy(journal, { runIds: [armsRun.runId], base: cascadeFitted }).policy;
  // The same data, fitted with dollars as the cost: a large-tier token is priced like ~40 small-tier ones, so
  // the token-optimal policy can look 4× cheaper in tokens while spending more dollars than plain width.
  const usdPerToken = fleetFor().model('sim:small').profile.priceOutputPerMillion / 1e6;
  const dollarAware = fitGovernorPolicy(journal, {
    runIds: [armsRun.runId],
    base: cascadeFitted,
    allocation: { costMetric: 'usd', usdPerToken },
  }).policy;
  journal.close();

  // 3. Evaluate on the held-out suite.
  const lines: Line[] = [];
  const evaluate = async (
    name: string,
    budget: number,
    run: (task: SimTask, fleet: Fleet, ledger: Ledger) => Promise<{ answer: string | undefined; planningTokens?: number }>,
  ): Promise<Line> => {
    let correct = 0;
    const bandCorrect = [0, 0, 0];
    const bandCount = [0, 0, 0];
    let tokens = 0;
    let usd = 0;
    let planning = 0;
    for (const task of tasks) {
      const fleet = fleetFor();
      const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: budget } });
      const outcome = await run(task, fleet, ledger);
      const ok = outcome.answer !== undefined && normalizeAnswer(outcome.answer) === normalizeAnswer(task.answer);
      if (ok) correct++;
      bandCount[bandOf(task)]!++;
      if (ok) bandCorrect[bandOf(task)]!++;
      const spent = ledger.report().total;
      tokens += spent.totalTokens;
      usd += spent.usd;
      planning += outcome.planningTokens ?? 0;
    }
    const accuracy = correct / tasks.length;
    const line = {
      name,
      budget,
      accuracy,
      standardError: Math.sqrt((accuracy * (1 - accuracy)) / tasks.length),
      bands: bandCorrect.map((count, band) => count / Math.max(1, bandCount[band]!)),
      tokens: tokens / tasks.length,
      usd: usd / tasks.length,
      planningTokens: planning / tasks.length,
    };
    lines.push(line);
    return line;
  };
  const governor = (policy: GovernorPolicy, force?: AllocationCell) => async (task: SimTask, fleet: Fleet, ledger: Ledger) => {
    const result = await governedSolve({
      query: task.prompt,
      fleet,
      budget: ledger.root,
      policy,
      taskId: task.id,
      ...(force ? { force } : {}),
    });
    return { answer: result.answer, planningTokens: result.spendByAxis['planning']?.totalTokens ?? 0 };
  };
  const spec =
    (strategy: Strategy, model: string, samples = 5) =>
    async (task: SimTask, fleet: Fleet, ledger: Ledger) => {
      const workflow = strategySpec(strategy, {
        model,
        samples,
        maxOutputTokens: 384,
        cascadeModels: simCascadeLadder(model),
        rounds: 2,
        agents: 3,
        steps: 12,
      });
      const result = await runWorkflow({
        spec: workflow,
        query: task.prompt,
        fleet,
        budget: ledger.root,
        operators: defaultOperators(),
        model,
        taskId: task.id,
      });
      return { answer: result.answer };
    };

  const rows: BenchRow[] = [];
  for (const budget of budgets) {
    const learnedLine = await evaluate('governor (learned policy)', budget, governor(learned));
    const dollarLine = await evaluate('governor (learned, dollar cost)', budget, governor(dollarAware));
    const defaultLine = await evaluate('governor (default policy)', budget, governor(DEFAULT_POLICY));
    const cascadeLine = await evaluate('cascade router (fitted thresholds)', budget, governor(learned, { arm: 'cascade' }));
    const small = await evaluate('always-small (single sim:small)', budget, spec('single', 'sim:small'));
    const large = await evaluate('always-large (single sim:large)', budget, spec('single', 'sim:large'));
    const widths: Line[] = [];
    for (const samples of WIDTHS)
      widths.push(await evaluate(`width: vote@${samples} sim:small`, budget, spec('vote', 'sim:small', samples)));
    const fixed: Line[] = [...widths];
    for (const strategy of STRATEGIES.filter((name) => name !== 'single' && name !== 'vote'))
      fixed.push(await evaluate(`strategy: ${strategy} (sim:small)`, budget, spec(strategy, 'sim:small')));
    const bestWidth = best(widths);
    const bestFixed = best(fixed);

    const ratio = bestWidth.tokens / Math.max(1, learnedLine.tokens);
    const dollars = learnedLine.usd / Math.max(1e-12, bestWidth.usd);
    rows.push({
      name: `[SIM] governor vs best width @ ${budget} tok/query`,
      value: `${pct(learnedLine.accuracy)} at ${Math.round(learnedLine.tokens)} tok (${ratio.toFixed(1)}× fewer tokens, ${dollars.toFixed(1)}× the dollars)`,
      target: `≥ ${pct(bestWidth.accuracy)} at ≤ ${Math.round(bestWidth.tokens / 4)} tok`,
      met: learnedLine.accuracy >= bestWidth.accuracy && learnedLine.tokens <= bestWidth.tokens / 4,
      note:
        `best width: ${bestWidth.name} ${pct(bestWidth.accuracy)} at ${Math.round(bestWidth.tokens)} tok, $${bestWidth.usd.toFixed(6)}/query ` +
        `(Snell et al.: > 4× in compute); governor $${learnedLine.usd.toFixed(6)}/query — it buys tokens with dollars (large-tier escalations); ` +
        `tokens include the probe and ${Math.round(learnedLine.planningTokens)} planning tok/query`,
    });
    const dollarRatio = bestWidth.usd / Math.max(1e-12, dollarLine.usd);
    rows.push({
      name: `[SIM] dollar-cost governor vs best width @ ${budget}`,
      value:
        `${pct(dollarLine.accuracy)} at $${dollarLine.usd.toFixed(6)} (${dollarRatio.toFixed(1)}× fewer dollars), ` +
        `${Math.round(dollarLine.tokens)} tok (${(bestWidth.tokens / Math.max(1, dollarLine.tokens)).toFixed(1)}× fewer)`,
      target: `≥ ${pct(bestWidth.accuracy)} at ≤ $${(bestWidth.usd / 4).toFixed(6)}`,
      met: dollarLine.accuracy >= bestWidth.accuracy && dollarLine.usd <= bestWidth.usd / 4,
      note:
        `the same calibration data, allocation fitted with dollars as the ` +
        `cost; best width ${pct(bestWidth.accuracy)} at $${bestWidth.usd.toFixed(6)}/query`,
    });
    const saving = 1 - cascadeLine.usd / Math.max(1e-12, large.usd);
    rows.push({
      name: `[SIM] cascade vs always-large @ ${budget} tok/query`,
      value: `saves ${pct(saving)} at ${pct(cascadeLine.accuracy)} (${pct(cascadeLine.accuracy / Math.max(1e-9, large.accuracy))} of large)`,
      target: '≥ 60% saved at ≥ 98% of large accuracy',
      met: saving >= 0.6 && cascadeLine.accuracy >= 0.98 * large.accuracy,
      note:
        `always-large ${pct(large.accuracy)} at $${large.usd.toFixed(6)}/query; cascade $${cascadeLine.usd.toFixed(6)}/query, probe included ` +
        `(FrugalGPT / RouteLLM)`,
    });
    rows.push({
      name: `[SIM] governor vs best fixed strategy @ ${budget}`,
      value: `${pct(learnedLine.accuracy)} / ${Math.round(learnedLine.tokens)} tok vs ${pct(bestFixed.accuracy)} / ${Math.round(bestFixed.tokens)} tok`,
      target: 'accuracy ≥ best fixed',
      met: learnedLine.accuracy >= bestFixed.accuracy,
      note: `best fixed: ${bestFixed.name}; default policy ${pct(defaultLine.accuracy)} / ${Math.round(defaultLine.tokens)} tok`,
    });
    rows.push({
      name: `[SIM] default policy: hard items, cost @ ${budget}`,
      value: `3–4 ops ${pct(defaultLine.bands[1]!)} vs small ${pct(small.bands[1]!)}; $${defaultLine.usd.toFixed(6)} vs large $${large.usd.toFixed(6)}`,
      target: 'beats always-small on hard items, always-large on cost',
      met: defaultLine.bands[1]! > small.bands[1]! && defaultLine.usd < large.usd,
      note:
        `planning: ${Math.round(defaultLine.planningTokens)} tok/query (${pct(defaultLine.planningTokens / Math.max(1, defaultLine.tokens))} of ` +
        `the default governor's tokens)`,
    });
  }
  const multihop = await benchMultihop({
    seed,
    budgets: options.multihopBudgets ?? [4_000, 12_000],
    calibrationItems: options.multihopCalibrationItems ?? 90,
    items: options.multihopItems ?? 120,
  });
  rows.push(...multihop.rows);
  return {
    table: `${renderTable(lines, tasks.length, calibrationTasks.length, learned, dollarAware)}\n${multihop.table}`,
    rows,
    lines: [...lines, ...multihop.lines],
  };
}

/**
 * Multi-hop questions over a generated corpus (the lab's suite: fictional facts, so closed-book answers are
 * guesses). The governor with the corpus (search in its strategy space: the default corpus table, and one
 * fitted from a calibration suite of another world) against the fixed search strategy, closed-book single and
 * width, and the governor without the corpus. Every row spends under the same hard token budget per query.
 */
async function benchMultihop(options: {
  seed: number;
  budgets: number[];
  calibrationItems: number;
  items: number;
}): Promise<{ table: string; rows: BenchRow[]; lines: Line[] }> {
  const calibrationSuite = multihopSuite({ name: 'gov-mh-cal', items: options.calibrationItems, seed: 31 });
  const suite = multihopSuite({ name: 'gov-mh-test', items: options.items, seed: 37 });
  const registry = new TaskOracleRegistry();
  registerSuiteTasks(registry, calibrationSuite);
  registerSuiteTasks(registry, suite);
  const fleetFor = (): Fleet => {
    const clock = new VirtualClock();
    return new Fleet({
      resolver: new FleetResolver({ config: { version: 1, models: {} }, clock, seed: options.seed, tasks: registry }),
      clock,
      seed: options.seed,
    });
  };
  const itemsOf = (instance: SuiteInstance): CalibrationItem[] =>
    instance.tasks.map((task) => ({
      id: task.id,
      prompt: task.prompt,
      taskId: task.id,
      checker: (answer: string) => instance.check(task, answer) >= 1,
    }));

  // Calibrate the corpus table on its own world (the cascade stays the default's: these runs fit arms only).
  const journal = Journal.open(':memory:');
  const run = await calibrate({
    fleet: fleetFor(),
    journal,
    items: itemsOf(calibrationSuite),
    stages: false,
    levels: options.budgets,
    arms: CORPUS_CANDIDATE_ARMS,
    retriever: calibrationSuite.retriever!,
    seed: options.seed,
  });
  const fitted = fitGovernorPolicy(journal, { runIds: [run.runId] });
  journal.close();

  const lines: Line[] = [];
  const hopsOf = (task: SimTask): number => Number((task as { meta?: { hops?: number } }).meta?.hops ?? 1);
  const evaluate = async (
    name: string,
    budget: number,
    solve: (task: SimTask, fleet: Fleet, ledger: Ledger) => Promise<string | undefined>,
  ): Promise<Line> => {
    let correct = 0;
    let tokens = 0;
    let usd = 0;
    const byHops = [0, 0, 0];
    const countHops = [0, 0, 0];
    for (const task of suite.tasks) {
      const fleet = fleetFor();
      const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: budget } });
      const answer = await solve(task, fleet, ledger);
      const ok = suite.check(task, answer) >= 1;
      const hops = hopsOf(task) - 1;
      countHops[hops]!++;
      if (ok) {
        correct++;
        byHops[hops]!++;
      }
      const spent = ledger.report().total;
      tokens += spent.totalTokens;
      usd += spent.usd;
    }
    const accuracy = correct / suite.tasks.length;
    const line: Line = {
      name,
      budget,
      accuracy,
      standardError: Math.sqrt((accuracy * (1 - accuracy)) / suite.tasks.length),
      bands: byHops.map((count, index) => count / Math.max(1, countHops[index]!)),
      tokens: tokens / suite.tasks.length,
      usd: usd / suite.tasks.length,
      planningTokens: 0,
    };
    lines.push(line);
    return line;
  };
  const arms: Record<string, number> = {};
  const governor =
    (policy: GovernorPolicy, corpus: boolean, count = false) =>
    async (task: SimTask, fleet: Fleet, ledger: Ledger) => {
      const result = await governedSolve({
        query: task.prompt,
        fleet,
        budget: ledger.root,
        policy,
        taskId: task.id,
        ...(corpus ? { retriever: suite.retriever! } : {}),
      });
      if (count) arms[result.decision.arm] = (arms[result.decision.arm] ?? 0) + 1;
      return result.answer;
    };
  const fixed =
    (strategy: Strategy, model: string, samples = 1) =>
    async (task: SimTask, fleet: Fleet, ledger: Ledger) => {
      const workflow = strategySpec(strategy, { model, samples, maxOutputTokens: 384, cascadeModels: simCascadeLadder(model), steps: 4 });
      const result = await runWorkflow({
        spec: workflow,
        query: task.prompt,
        fleet,
        budget: ledger.root,
        operators: defaultOperators({ retriever: suite.retriever! }),
        model,
        taskId: task.id,
      });
      return result.answer;
    };
  const rows: BenchRow[] = [];
  for (const budget of options.budgets) {
    for (const key of Object.keys(arms)) delete arms[key];
    const learned = await evaluate('governor + corpus (learned corpus table)', budget, governor(fitted.policy, true, true));
    const byDefault = await evaluate('governor + corpus (default corpus table)', budget, governor(DEFAULT_POLICY, true));
    const closedBook = await evaluate('governor, no corpus', budget, governor(DEFAULT_POLICY, false));
    const searchLine = await evaluate('strategy: search@4 (sim:small)', budget, fixed('search', 'sim:small'));
    await evaluate('single sim:small (closed book)', budget, fixed('single', 'sim:small'));
    await evaluate('single sim:large (closed book)', budget, fixed('single', 'sim:large'));
    await evaluate('width: vote@9 sim:small (closed book)', budget, fixed('vote', 'sim:small', 9));
    const chose = Object.entries(arms)
      .sort((a, b) => b[1] - a[1])
      .map(([arm, count]) => `${arm} ${count}`)
      .join(', ');
    rows.push({
      name: `[SIM] governor on multi-hop + corpus @ ${budget}`,
      value: `${pct(learned.accuracy)} at ${Math.round(learned.tokens)} tok (default table ${pct(byDefault.accuracy)}; no corpus ${pct(closedBook.accuracy)})`,
      target: `chooses search; ≥ search@4 ${pct(searchLine.accuracy)} (${Math.round(searchLine.tokens)} tok)`,
      met: (arms['search'] ?? 0) > 0 && learned.accuracy >= searchLine.accuracy - searchLine.standardError,
      note: `arms chosen: ${chose}; ${suite.tasks.length} questions of 1–3 hops over a generated world; target met within one SE of search@4`,
    });
  }
  const table = new Table({
    head: ['budget', 'strategy', 'accuracy ± SE', '1 hop', '2 hops', '3 hops', 'tokens/query', '$/query'].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
  });
  for (const line of lines)
    table.push([
      line.budget,
      line.name,
      `${pct(line.accuracy)} ± ${(line.standardError * 100).toFixed(1)}`,
      ...line.bands.map(pct),
      Math.round(line.tokens),
      line.usd.toFixed(6),
    ]);
  const corpusCells = fitted.policy.allocation.corpus;
  const cells = corpusCells
    ? (['easy', 'medium', 'hard'] as const).map((bin) => `${bin}: ${corpusCells.cells[bin].map(armKey).join(' / ')}`).join('; ')
    : 'none';
  return {
    table:
      `${pc.yellow('[SIMULATED]')} Governor on ${suite.tasks.length} multi-hop questions over a ` +
      `generated corpus (${suite.description}); corpus table calibrated on ${calibrationSuite.tasks.length} questions of another world.\nLearned ` +
      `corpus allocation per level ${corpusCells?.levels.join('/') ?? '—'}: ${cells}.\nSimulated fleet — not a real model's accuracy.\n${table.toString()}`,
    rows,
    lines,
  };
}

function best(lines: readonly Line[]): Line {
  return [...lines].sort((a, b) => b.accuracy - a.accuracy || a.tokens - b.tokens)[0]!;
}

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function renderTable(
  lines: readonly Line[],
  items: number,
  calibrationItems: number,
  policy: GovernorPolicy,
  dollarAware: GovernorPolicy,
): string {
  const table = new Table({
    head: ['budget', 'strategy', 'accuracy ± SE', '1–2 ops', '3–4 ops', '5–7 ops', 'tokens/query', '$/query', 'planning tok'].map((cell) =>
      pc.bold(cell),
    ),
    style: { head: [], border: [] },
  });
  for (const line of lines)
    table.push([
      line.budget,
      line.name,
      `${pct(line.accuracy)} ± ${(line.standardError * 100).toFixed(1)}`,
      ...line.bands.map(pct),
      Math.round(line.tokens),
      line.usd.toFixed(6),
      Math.round(line.planningTokens),
    ]);
  const stages = policy.cascade.stages.map((stage) => `${stage.tier}×${stage.samples} ${stage.signal}≥${stage.threshold}`).join(' → ');
  const cellsOf = (fitted: GovernorPolicy): string =>
    (['easy', 'medium', 'hard'] as const).map((bin) => `${bin}: ${fitted.allocation.cells[bin].map(armKey).join(' / ')}`).join('; ');
  return (
    `${pc.yellow('[SIMULATED]')} Governor on ${items} held-out mixed-difficulty arithmetic chains ` +
    `(calibrated on ${calibrationItems} others); bands by operations per chain (3–4: hard for the small tier; 5–7: hard for every tier). Every row ` +
    `spends under the same hard token budget per query; the governor's spend includes its probe and planner calls.\nFitted cascade: ${stages}. ` +
    `Learned allocation per level ${policy.allocation.levels.join('/')}: ${cellsOf(policy)}. With dollars as the cost: ${cellsOf(dollarAware)}` +
    `.\nSimulated fleet — not a real model's accuracy.\n${table.toString()}`
  );
}
