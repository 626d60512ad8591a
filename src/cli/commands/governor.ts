/**
 * `thicket governor calibrate|fit` and `thicket export trajectories`: measure every cascade stage and
 * compute arm on a task suite (journaled), fit the governor's policy (cascade thresholds + per-difficulty
 * allocation) from those runs, and export the planner's (query, spec, outcome, cost) trajectories as JSONL.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openFleet } from '../../runtime/index.ts';
import { TaskOracleRegistry, loadFleetConfig } from '../../models/index.ts';
import { builtinStudyPath, fitGovernorFromStudies, loadStudyFile, multihopSuite, registerSuiteTasks } from '../../lab/index.ts';
import { Journal, defaultJournalTarget, resolveJournalTarget } from '../../journal/index.ts';
import {
  CORPUS_CANDIDATE_ARMS,
  DEFAULT_CANDIDATE_ARMS,
  DEFAULT_POLICY,
  fleetBinder,
  fleetTiers,
  routerStages,
  calibrate,
  calibrationItems,
  exportTrajectories,
  fitGovernorPolicy,
  mixedArithmeticSuite,
  readPolicy,
  writePolicy,
  type CascadeTarget,
} from '../../governor/index.ts';
import { InvalidInputError, writableFolderIssue, type UsageTotals } from '../../core/index.ts';
import { IssueCollector } from '../options.ts';
import { formatUsd, processOutput } from '../output.ts';
import { confirmSpend, spendLine } from '../spend-guard.ts';

export interface GovernorFlags {
  study?: string[];
  seeds?: string;
  heldOut?: string;
  tolerance?: string;
  items?: string;
  seed?: string;
  model?: string;
  levels?: string;
  policy?: string;
  verifier?: boolean;
  suite?: string;
  out?: string;
  runs?: string;
  target?: string;
  costCap?: string;
  db?: string;
  config?: string;
  json?: boolean;
  /** Spend on non-simulated models without asking. */
  yes?: boolean;
  /** Most dollars calibration may spend (also counts as consent to spend). */
  maxUsd?: string;
}

export async function governorCalibrateCommand(flags: GovernorFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const items = issues.number('--items', flags.items ?? '120', { integer: true, min: 1, max: 100_000 }) ?? 120;
  const seed = issues.number('--seed', flags.seed ?? '0', { integer: true, min: 0 }) ?? 0;
  const levels =
    flags.levels === undefined
      ? undefined
      : flags.levels === ''
        ? []
        : flags.levels.split(',').map((level) => issues.number('--levels', level.trim(), { integer: true, positive: true }) ?? 0);
  const suiteName = flags.suite ?? 'arithmetic';
  if (suiteName !== 'arithmetic' && suiteName !== 'multihop') issues.add('--suite', `must be arithmetic or multihop; got "${suiteName}"`);
  if (suiteName === 'multihop' && levels !== undefined && levels.length === 0)
    issues.add('--levels', 'the multihop suite calibrates arms only: give at least one level');
  const maxUsd = issues.number('--max-usd', flags.maxUsd, { positive: true });
  issues.throwIfAny('Invalid calibrate request');
  const { config } = loadFleetConfig(flags.config);
  const model = flags.model ?? config.defaultModel ?? 'sim:small';
  // Multi-hop: the lab's generated world (fictional facts, so closed-book answers are guesses) and its corpus;
  // the sim grades its questions by task id (hop structure), so the tasks are registered with the fleet.
  const multihop = suiteName === 'multihop' ? multihopSuite({ name: 'governor-calibrate', items, seed }) : undefined;
  const tasks = new TaskOracleRegistry();
  if (multihop) registerSuiteTasks(tasks, multihop);
  const { fleet, simulated } = openFleet({ config, seed, models: [model], tasks });
  const policy = flags.policy !== undefined ? readPolicy(flags.policy) : undefined;
  const armCells = multihop ? CORPUS_CANDIDATE_ARMS : [...DEFAULT_CANDIDATE_ARMS, { arm: 'plan' as const }];
  const levelCount = levels?.length ?? (policy ?? DEFAULT_POLICY).allocation.levels.length;
  // The models calibration binds: the starting model's tier ladder (the sim's tiers; a real model alone).
  const ladder = [...new Set([model, ...Object.values(fleetTiers(fleet, model))])];
  const stageCount = multihop
    ? 0
    : routerStages(policy ?? DEFAULT_POLICY, fleetBinder(fleet, model), {}, fleet.model(model).profile.tier, model).length;
  // Say what will be called and how much work it is, and get consent before paying a real endpoint.
  await confirmSpend({
    command: 'governor calibrate',
    fleet,
    models: ladder,
    plan: `${items} items × (${stageCount} cascade stages + ${armCells.length} arms at ${levelCount} ` + `budget levels)`,
    ...(flags.yes ? { yes: true } : {}),
    maxUsd,
  });
  const progress = (done: number, total: number, spent: UsageTotals): void =>
    void process.stderr.write(`${spendLine('governor calibrate', done, total, 'item', spent)}\n`);
  const journal = Journal.open(resolveJournalTarget(flags.db ?? defaultJournalTarget()));
  try {
    const summary = await calibrate({
      fleet,
      journal,
      model,
      onItem: progress,
      ...(maxUsd !== undefined ? { maxUsd } : {}),
      ...(policy ? { policy } : {}),
      ...(levels ? { levels } : {}),
      verifier: Boolean(flags.verifier),
      seed,
      ...(multihop
        ? {
            items: multihop.tasks.map((task) => ({
              id: task.id,
              prompt: task.prompt,
              taskId: task.id,
              checker: (answer: string) => multihop.check(task, answer) >= 1,
            })),
            // Closed-book cascade stages on fictional facts say nothing: only the arms (search among them) run.
            stages: false,
            arms: CORPUS_CANDIDATE_ARMS,
            retriever: multihop.retriever!,
          }
        : {
            items: calibrationItems(mixedArithmeticSuite({ count: items, seed })),
            arms: armCells,
          }),
    });
    const spent = summary.usage;
    output.out(
      output.json
        ? JSON.stringify(summary)
        : `calibrated ${summary.items} items (${summary.stageSteps} stage and ${summary.armSteps} arm observations) in run ` +
            `${summary.runId}${simulated ? ' [SIMULATED]' : ''}: ${spent.calls} calls, ${spent.totalTokens} tokens, ` +
            `${formatUsd(spent.usd)}${summary.status === 'budget_exhausted' ? ` — stopped at --max-usd ${formatUsd(maxUsd ?? 0)}` : ''}` +
            `\nNext: thicket governor fit --out policy.json`,
    );
    return summary.status === 'budget_exhausted' ? 3 : 0;
  } finally {
    journal.close();
  }
}

export async function governorFitCommand(flags: GovernorFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (flags.out === undefined) issues.add('--out', 'where to write the fitted policy (JSON)');
  else {
    // Checked before the fit, so a policy is never fitted only to be lost at the write.
    const location = writableFolderIssue(dirname(resolve(flags.out)), '--out');
    if (location) issues.add(location.path, location.message);
  }
  const ratio = flags.target === undefined ? 0.98 : issues.number('--target', flags.target.replace(/^relative:/, ''), { min: 0, max: 1 });
  const costCap = issues.number('--cost-cap', flags.costCap, { positive: true });
  issues.throwIfAny('Invalid fit request');
  const path = resolveJournalTarget(flags.db ?? defaultJournalTarget());
  if (!existsSync(path))
    throw new InvalidInputError('No journal', [
      { path: '--db', message: `${path} does not exist; run \`thicket governor calibrate\` first` },
    ]);
  const journal = Journal.openReadOnly(path);
  try {
    const target = (
      costCap !== undefined ? { kind: 'cost-cap', maxCost: costCap } : { kind: 'relative-accuracy', ratio: ratio ?? 0.98 }
    ) as CascadeTarget;
    const fitted = fitGovernorPolicy(journal, {
      target,
      ...(flags.runs ? { runIds: flags.runs.split(',') } : {}),
      ...(flags.policy ? { base: readPolicy(flags.policy) } : {}),
    });
    writePolicy(flags.out!, fitted.policy);
    output.out(
      output.json
        ? JSON.stringify({
            out: flags.out,
            data: fitted.data,
            cascade: fitted.policy.cascade,
            allocation: fitted.allocationReport,
            ...(fitted.corpusReport ? { corpus: fitted.corpusReport } : {}),
          })
        : `wrote ${flags.out} (from ${fitted.data.runIds.length} run(s), ${fitted.data.cascadeItems} cascade items, ${fitted.data.armRecords} arm ` +
            `records)\nUse it: thicket solve "…" --policy ${flags.out}`,
    );
    return 0;
  } finally {
    journal.close();
  }
}

/**
 * `thicket governor frontier`: runs the study (built-in name or file) on TRAINING seeds with every fixed strategy and
 * the governor's own arms, fits the frontier tables (per task family, model, budget level and objective) and writes
 * a policy — refusing a training seed that is held out for evaluation.
 */
export async function governorFrontierCommand(flags: GovernorFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const seeds = (flags.seeds ?? '1001,1002')
    .split(',')
    .map((text, index) => issues.number(`--seeds[${index}]`, text.trim(), { integer: true, min: 0 }));
  const heldOut = (flags.heldOut ?? '1,2')
    .split(',')
    .filter(Boolean)
    .map((text, index) => issues.number(`--held-out[${index}]`, text.trim(), { integer: true, min: 0 }));
  const tolerance = issues.number('--tolerance', flags.tolerance ?? '0.01', { min: 0, max: 0.5 });
  if (flags.out === undefined) issues.add('--out', 'where to write the fitted policy (JSON)');
  else {
    const location = writableFolderIssue(dirname(resolve(flags.out)), '--out');
    if (location) issues.add(location.path, location.message);
  }
  const studies = (flags.study?.length ? flags.study : ['quick-sim']).map((name, index) => {
    const path = existsSync(name) ? name : builtinStudyPath(name);
    if (!existsSync(path)) {
      issues.add(`--study[${index}]`, `${name} is neither a study file nor a built-in study (quick-sim, quick, default)`);
      return undefined;
    }
    return loadStudyFile(path);
  });
  issues.throwIfAny('Invalid frontier fit request');
  const nonSimulated = studies.flatMap((study) => study!.models).filter((model) => !model.startsWith('sim:') && !model.startsWith('tiny:'));
  if (nonSimulated.length > 0 && !flags.yes)
    throw new InvalidInputError('Invalid frontier fit request', [
      {
        path: '--yes',
        message: `the studies call paid models (${[...new Set(nonSimulated)].join(', ')}); run \`thicket study\` on them first or pass --yes`,
      },
    ]);
  const path = resolveJournalTarget(flags.db ?? defaultJournalTarget());
  const journal = Journal.open(path);
  try {
    const fitted = await fitGovernorFromStudies({
      journal,
      studies: studies.map((study) => ({ study: study!, seeds: seeds as number[] })),
      heldOutSeeds: heldOut as number[],
      ...(tolerance !== undefined ? { tolerance } : {}),
      config: loadFleetConfig(flags.config).config,
      ...(flags.policy ? { base: readPolicy(flags.policy) } : {}),
    });
    writePolicy(flags.out!, fitted.policy);
    const lines = fitted.frontier.tables
      .filter((table) => table.objective === 'tokens')
      .map(
        (table) => `  ${table.family} on ${table.model}: ${table.entries.map((entry) => `${entry.level} → ${entry.choice}`).join(', ')}`,
      );
    output.out(
      output.json
        ? JSON.stringify({ out: flags.out, runs: fitted.runs.map((run) => run.runId), records: fitted.records, frontier: fitted.frontier })
        : `wrote ${flags.out}: ${fitted.frontier.tables.length} tables from ${fitted.records} training cells (seeds ` +
            `${fitted.frontier.source.seeds.join(', ')}; held out: ${heldOut.join(', ')})\n${lines.join('\n')}\n` +
            `Use it: thicket solve "…" --policy ${flags.out}  ·  THICKET_GOVERNOR_POLICY=${flags.out} thicket study …`,
    );
    return 0;
  } finally {
    journal.close();
  }
}

export async function exportTrajectoriesCommand(flags: GovernorFlags): Promise<number> {
  const path = resolveJournalTarget(flags.db ?? defaultJournalTarget());
  if (!existsSync(path)) throw new InvalidInputError('No journal', [{ path: '--db', message: `${path} does not exist` }]);
  const journal = Journal.openReadOnly(path);
  try {
    const count = exportTrajectories(journal, flags.out ?? process.stdout, flags.runs ? { runIds: flags.runs.split(',') } : {});
    if (flags.out) process.stderr.write(`wrote ${count} trajectories to ${flags.out}\n`);
    return 0;
  } finally {
    journal.close();
  }
}
