/**
 * `thicket governor calibrate|fit` and `thicket export trajectories`: measure every cascade stage and
 * compute arm on a task suite (journaled), fit the governor's policy (cascade thresholds + per-difficulty
 * allocation) from those runs, and export the planner's (query, spec, outcome, cost) trajectories as JSONL.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { VirtualClock, systemClock } from '../../core/index.ts';
import { Fleet, FleetResolver, TaskOracleRegistry, loadFleetConfig } from '../../models/index.ts';
import { multihopSuite, registerSuiteTasks } from '../../lab/index.ts';
import { Journal, defaultJournalPath } from '../../journal/index.ts';
import {
  CORPUS_CANDIDATE_ARMS,
  DEFAULT_CANDIDATE_ARMS,
  calibrate,
  calibrationItems,
  exportTrajectories,
  fitGovernorPolicy,
  fleetBinder,
  mixedArithmeticSuite,
  readPolicy,
  registryBinder,
  writePolicy,
  type CapabilityBinder,
  type CascadeTarget,
  type QueryPolicy,
} from '../../governor/index.ts';
import { CapabilityRegistry, NoCapabilityError, defaultRegistryPath, openRegistry } from '../../registry/index.ts';
import { InvalidInputError } from '../../core/index.ts';
import { IssueCollector } from '../options.ts';
import { processOutput } from '../output.ts';

export interface GovernorFlags {
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
        : flags.levels.split(',').map((level) => issues.number('--levels', level, { integer: true, positive: true }) ?? 0);
  const suiteName = flags.suite ?? 'arithmetic';
  if (suiteName !== 'arithmetic' && suiteName !== 'multihop') issues.add('--suite', `must be arithmetic or multihop; got "${suiteName}"`);
  if (suiteName === 'multihop' && levels !== undefined && levels.length === 0)
    issues.add('--levels', 'the multihop suite calibrates arms only: give at least one level');
  issues.throwIfAny('Invalid calibrate request');
  const { config } = loadFleetConfig(flags.config);
  const model = flags.model ?? config.defaultModel ?? 'sim:small';
  const simulated = new FleetResolver({ config, clock: systemClock, seed }).resolve(model).profile.simulated;
  const clock = simulated ? new VirtualClock() : systemClock;
  // Multi-hop: the lab's generated world (fictional facts, so closed-book answers are guesses) and its corpus;
  // the sim grades its questions by task id (hop structure), so the tasks are registered with the fleet.
  const multihop = suiteName === 'multihop' ? multihopSuite({ name: 'governor-calibrate', items, seed }) : undefined;
  const tasks = new TaskOracleRegistry();
  if (multihop) registerSuiteTasks(tasks, multihop);
  const fleet = new Fleet({ resolver: new FleetResolver({ config, clock, seed, tasks }), clock, seed });
  const policy = flags.policy !== undefined ? readPolicy(flags.policy) : undefined;
  const journal = Journal.open(resolve(flags.db ?? defaultJournalPath()));
  try {
    const summary = await calibrate({
      fleet,
      journal,
      model,
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
            arms: [...DEFAULT_CANDIDATE_ARMS, { arm: 'plan' as const }],
          }),
    });
    output.out(
      output.json
        ? JSON.stringify(summary)
        : `calibrated ${JSON.stringify(summary)}${simulated ? ' [SIMULATED]' : ''}\nNext: thicket governor fit --out policy.json`,
    );
    return 0;
  } finally {
    journal.close();
  }
}

export async function governorFitCommand(flags: GovernorFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (flags.out === undefined) issues.add('--out', 'where to write the fitted policy (JSON)');
  const ratio = flags.target === undefined ? 0.98 : issues.number('--target', flags.target.replace(/^relative:/, ''), { min: 0, max: 1 });
  const costCap = issues.number('--cost-cap', flags.costCap, { positive: true });
  issues.throwIfAny('Invalid fit request');
  const path = resolve(flags.db ?? defaultJournalPath());
  if (!existsSync(path))
    throw new InvalidInputError('No journal', [
      { path: '--db', message: `${path} does not exist; run \`thicket governor calibrate\` first` },
    ]);
  const journal = Journal.open(path);
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

export async function exportTrajectoriesCommand(flags: GovernorFlags): Promise<number> {
  const path = resolve(flags.db ?? defaultJournalPath());
  if (!existsSync(path)) throw new InvalidInputError('No journal', [{ path: '--db', message: `${path} does not exist` }]);
  const journal = Journal.open(path);
  try {
    const count = exportTrajectories(journal, flags.out ?? process.stdout, flags.runs ? { runIds: flags.runs.split(',') } : {});
    if (flags.out) process.stderr.write(`wrote ${count} trajectories to ${flags.out}\n`);
    return 0;
  } finally {
    journal.close();
  }
}

/**
 * The capability binder of `solve --strategy auto`. Without a query policy: the fleet's tiers (as before).
 * With one (`--require`, `--forbid`, …): the capability registry's model cards under that policy
 * (`registryBinder`), from `--registry`, $THICKET_REGISTRY or registry.db beside the journal — never created
 * here; a missing registry file counts as an empty registry, i.e. the fleet's tiers under the same policy.
 * The starting model becomes the cheapest bound model at or above the `--model` tier, and a run whose policy
 * leaves nothing to start with is rejected before the journal is opened (NoCapabilityError, exit 2). Bound
 * models must keep the run's simulated/real nature (a simulated run runs on a virtual clock).
 */
export async function governorBinding(options: {
  fleet: Fleet;
  model: string;
  simulated: boolean;
  policy: QueryPolicy;
  registry?: string;
  planner?: string;
  /** Fleet-binder candidates above the starting tier (real fleets). */
  candidates?: readonly string[];
}): Promise<{ binder: CapabilityBinder; start: string; source: 'fleet' | 'registry' | 'fleet-under-policy' }> {
  const { fleet, policy } = options;
  const constrained =
    (policy.require?.length ?? 0) > 0 ||
    (policy.forbid?.length ?? 0) > 0 ||
    policy.providers !== undefined ||
    policy.maxCostPerCall !== undefined;
  if (!constrained) {
    return {
      binder: fleetBinder(fleet, options.model, {
        ...(options.candidates ? { candidates: options.candidates } : {}),
        ...(options.planner ? { planner: options.planner } : {}),
      }),
      start: options.model,
      source: 'fleet',
    };
  }
  const path = options.registry ?? defaultRegistryPath();
  const registry = existsSync(path) ? await openRegistry({ path }) : await CapabilityRegistry.open();
  let binder: Awaited<ReturnType<typeof registryBinder>>;
  try {
    const accept = (model: string): boolean => fleet.model(model).profile.simulated === options.simulated;
    binder = await registryBinder({ registry, fleet, start: options.model, policy, accept });
  } finally {
    // Discovery ran up front: the binder needs nothing more from the registry.
    registry.close();
  }
  const startTier = fleet.model(options.model).profile.tier;
  const start = binder.bind('answer', { minTier: startTier })?.model;
  if (start === undefined)
    throw new NoCapabilityError(`answer (tier ${startTier} or above)`, ['status=active', 'binding=model', ...binder.checks]);
  if (options.planner !== undefined && !(binder.candidates['plan'] ?? []).some((entry) => entry.model === options.planner)) {
    throw new InvalidInputError('Invalid solve request', [
      { path: '--planner', message: `${options.planner} is not a model card passing the query policy (${binder.checks.join(', ')})` },
    ]);
  }
  return { binder, start, source: binder.source === 'registry' ? 'registry' : 'fleet-under-policy' };
}
