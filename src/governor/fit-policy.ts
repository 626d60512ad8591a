/**
 * `governor fit`: turns journaled calibration runs into a policy file. The cascade thresholds come from
 * `fitCascadePolicy` (target: ≥ 98% of the last stage's accuracy at minimum cost by default, or maximum
 * accuracy under a cost cap), the allocation table from `learnAllocation` (per difficulty bin and budget
 * level, cross-validated against the default). The probe, difficulty bins, planner settings and budget split
 * are carried over from the base policy. The result is validated before it is returned.
 */
import type { Journal } from '../journal/index.ts';
import { learnAllocation, type LearnOptions } from './allocation.ts';
import { readCalibration, type CalibrationData } from './calibrate.ts';
import { fitCascadePolicy, type CascadeTarget, type FitCascadeOptions } from './cascade-fit.ts';
import { DEFAULT_POLICY, parsePolicy, type GovernorPolicy } from './policy.ts';

export interface FitPolicyOptions {
  target?: CascadeTarget;
  cascade?: FitCascadeOptions;
  allocation?: LearnOptions;
  base?: GovernorPolicy;
  /** Journal runs to read (default: every `governor calibrate` run). */
  runIds?: readonly string[];
}

export interface FittedPolicy {
  policy: GovernorPolicy;
  data: { runIds: string[]; cascadeItems: number; armRecords: number };
  allocationReport: ReturnType<typeof learnAllocation>['report'];
  /** The corpus table's report, when some calibration runs had a corpus. */
  corpusReport?: ReturnType<typeof learnAllocation>['report'];
}

export function fitGovernorPolicy(source: Journal | CalibrationData, options: FitPolicyOptions = {}): FittedPolicy {
  const data = 'records' in source ? source : readCalibration(source, options.runIds ? { runIds: options.runIds } : {});
  const base = structuredClone(options.base ?? DEFAULT_POLICY);
  let cascade = base.cascade;
  if (data.records.length > 0) {
    const fit = fitCascadePolicy(data.records, options.target ?? { kind: 'relative-accuracy', ratio: 0.98 }, options.cascade ?? {});
    cascade = { stages: fit.stages, fit: fit.report };
  }
  const learned = learnAllocation(data.arms, base, { ...options.allocation, corpus: false });
  // Runs calibrated with a corpus fit the corpus table (search in the strategy space); kept from the base otherwise.
  const corpusLearned = data.arms.some((record) => record.corpus === true)
    ? learnAllocation(data.arms, base, { ...options.allocation, corpus: true })
    : undefined;
  const items = new Set([...data.records.map((record) => record.itemId), ...data.arms.map((record) => record.itemId)]).size;
  const policy = parsePolicy({
    ...base,
    createdAt: new Date().toISOString(),
    source: { runs: data.runIds, items, note: 'fitted by thicket governor fit from journaled calibration runs' },
    // The probe is the cascade's first stage, so its size follows the fit; its early exit is kept (dropping it
    // made every fitted policy probe with the full sample even when the first two samples settle the query).
    probe: probeFor(base.probe, cascade.stages[0]?.samples ?? base.probe.samples),
    cascade,
    allocation: {
      ...(learned.report.length > 0
        ? { levels: learned.levels, cells: learned.cells, fit: { cells: learned.report } }
        : { levels: base.allocation.levels, cells: base.allocation.cells, ...(base.allocation.fit ? { fit: base.allocation.fit } : {}) }),
      ...(corpusLearned
        ? { corpus: { levels: corpusLearned.levels, cells: corpusLearned.cells, fit: { cells: corpusLearned.report } } }
        : base.allocation.corpus
          ? { corpus: base.allocation.corpus }
          : {}),
    },
  });
  return {
    policy,
    data: { runIds: data.runIds, cascadeItems: data.records.length, armRecords: data.arms.length },
    allocationReport: learned.report,
    ...(corpusLearned ? { corpusReport: corpusLearned.report } : {}),
  };
}

function probeFor(probe: GovernorPolicy['probe'], samples: number): GovernorPolicy['probe'] {
  return probe.earlyExit !== undefined && probe.earlyExit.samples < samples ? { samples, earlyExit: probe.earlyExit } : { samples };
}
