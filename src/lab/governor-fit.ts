/**
 * Fitting the governor's frontier tables from matched-budget studies on TRAINING seeds: every fixed strategy
 * and the governor's own arms (`adaptive-vote@n`, `router`, `governed`) run on the same training items at
 * every budget and model; `fitFrontier` (governor/frontier.ts) then picks, per (task family, model, budget
 * level) and objective, the cheapest candidate within a point of the best. The studies' own seeds are the
 * held-out items: a fit refuses any seed the caller marks held out, so figures reported on them stay honest.
 */
import { InvalidInputError } from '../core/index.ts';
import type { Journal } from '../journal/index.ts';
import {
  DEFAULT_POLICY,
  OBJECTIVES,
  cellForArchitecture,
  fitFrontier,
  parsePolicy,
  type Frontier,
  type FrontierRecord,
  type GovernorPolicy,
  type Objective,
} from '../governor/index.ts';
import { runStudy, type RunStudyOptions, type StudyRun } from './runner.ts';
import type { StudyDefinition } from './study-file.ts';

/** The governor's arms run next to a study's fixed strategies when it is used for fitting. */
export function governorCandidates(study: StudyDefinition): string[] {
  const widths = study.architectures
    .map((name) => /^vote@(\d+)$/.exec(name)?.[1])
    .filter((value): value is string => value !== undefined)
    .map(Number);
  const samples = widths.length > 0 ? widths : [5, 9, 15];
  return [...samples.map((n) => `adaptive-vote@${n}`), 'router', 'governed'];
}

/** The training observations of a study run: one per (item, seed, candidate, budget, model); `auto` is not a candidate. */
export function frontierRecords(run: Pick<StudyRun, 'cells' | 'suites' | 'models'>): FrontierRecord[] {
  const kindOf = new Map(run.suites.map((suite) => [suite.name, suite.kind]));
  return run.cells
    .filter((cell) => cell.architecture !== 'auto' && cell.budgetUnit === 'tokens')
    .map((cell) => ({
      family: kindOf.get(cell.suite) ?? cell.suite,
      model: cell.model,
      tier: run.models[cell.model]?.tier,
      level: cell.budget,
      // Seeds generate different items: an item is (seed, task).
      itemId: `${cell.seed}:${cell.taskId}`,
      choice: cell.architecture,
      score: cell.score,
      tokens: cell.usage.totalTokens,
      usd: cell.usage.usd,
      seconds: cell.latencyMs / 1000,
    }));
}

export interface TrainingStudy {
  study: StudyDefinition;
  /** Training seeds: must not include any held-out seed. */
  seeds: number[];
}

export interface FitFromStudiesOptions extends Pick<RunStudyOptions, 'config' | 'architectures' | 'onProgress'> {
  journal: Journal;
  studies: readonly TrainingStudy[];
  /** Seeds reserved for evaluation (the built-in studies' own): a training study using one is refused. */
  heldOutSeeds?: readonly number[];
  tolerance?: number;
  objectives?: readonly Objective[];
  base?: GovernorPolicy;
}

export interface FittedFrontierPolicy {
  /** The training observations the tables were fitted from. */
  observations: FrontierRecord[];
  policy: GovernorPolicy;
  frontier: Frontier;
  runs: StudyRun[];
  records: number;
}

export async function fitGovernorFromStudies(options: FitFromStudiesOptions): Promise<FittedFrontierPolicy> {
  const held = new Set(options.heldOutSeeds ?? []);
  const problems = options.studies.flatMap((training, index) =>
    training.seeds
      .filter((seed) => held.has(seed))
      .map((seed) => ({ path: `studies[${index}].seeds`, message: `seed ${seed} is held out for evaluation; train on other seeds` })),
  );
  if (problems.length > 0) throw new InvalidInputError('Invalid governor fit', problems);
  const runs: StudyRun[] = [];
  const records: FrontierRecord[] = [];
  for (const training of options.studies) {
    const study: StudyDefinition = {
      ...training.study,
      id: `${training.study.id}-train-${training.seeds.join('-')}`,
      seeds: training.seeds,
      architectures: [
        ...training.study.architectures.filter((name) => name !== 'auto'),
        ...governorCandidates(training.study).filter((name) => !training.study.architectures.includes(name)),
      ],
    };
    const run = await runStudy(study, {
      journal: options.journal,
      ...(options.config ? { config: options.config } : {}),
      ...(options.architectures ? { architectures: options.architectures } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    runs.push(run);
    records.push(...frontierRecords(run));
  }
  const source: Frontier['source'] = {
    studies: options.studies.map((training) => training.study.id),
    seeds: [...new Set(options.studies.flatMap((training) => training.seeds))].sort((a, b) => a - b),
    items: new Set(records.map((record) => `${record.family}|${record.itemId}`)).size,
  };
  const { policy, frontier } = policyFromRecords(records, source, { ...options, runIds: runs.map((run) => run.runId) });
  return { policy, frontier, runs, records: records.length, observations: records };
}

/** Fits the frontier tables from training observations (written by a previous fit, or just measured) into a policy. */
export function policyFromRecords(
  records: readonly FrontierRecord[],
  source: Frontier['source'],
  options: Pick<FitFromStudiesOptions, 'tolerance' | 'objectives' | 'base'> & { runIds?: readonly string[] } = {},
): { policy: GovernorPolicy; frontier: Frontier } {
  const frontier = fitFrontier(records, {
    cellOf: cellForArchitecture,
    objectives: options.objectives ?? OBJECTIVES,
    ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
    source,
  });
  const base = options.base ?? DEFAULT_POLICY;
  const policy = parsePolicy({
    ...structuredClone(base),
    createdAt: new Date().toISOString(),
    source: {
      runs: [...(options.runIds ?? [])],
      items: frontier.source.items,
      note: `frontier tables fitted on training seeds ${frontier.source.seeds.join(', ')} of ${frontier.source.studies.join(', ')}`,
    },
    frontier,
  });
  return { policy, frontier };
}
