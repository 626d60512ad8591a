import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal/index.ts';
import {
  ARM_STEP_KIND,
  CALIBRATE_COMMAND,
  DEFAULT_POLICY,
  NEVER_ACCEPT,
  STAGE_STEP_KIND,
  calibrate,
  calibrationItems,
  evaluateCascade,
  fitCascadePolicy,
  fitGovernorPolicy,
  largestOnly,
  mixedArithmeticSuite,
  parsePolicy,
  readCalibration,
  readPolicy,
  writePolicy,
  type CalibrationRecord,
  type StageObservation,
} from './index.ts';
import { governorHarness } from './testing.ts';

/** 19 signal values 0.05, 0.10, …, 0.95. */
const GRID = Array.from({ length: 19 }, (_, index) => Math.round((index + 1) * 5) / 100);

function stage(tier: 'small' | 'medium' | 'large', correct: boolean, signals: StageObservation['signals'], cost: number): StageObservation {
  return {
    tier,
    model: `sim:${tier}`,
    samples: 3,
    answer: correct ? 'right' : 'wrong',
    correct,
    signals,
    cost: { usd: cost / 1000, tokens: cost * 100 },
  };
}

/**
 * 361 items; stage 0 is right exactly when its confidence ≥ 0.6, stage 1 exactly when its agreement ≥ 0.7
 * (the other signal of each stage is a permutation of the same values: uninformative about correctness),
 * the last stage is always right. Costs 1 / 3 / 10.
 */
function threeStageRecords(): CalibrationRecord[] {
  return Array.from({ length: 361 }, (_, index) => {
    const first = GRID[index % 19]!;
    const second = GRID[Math.floor(index / 19) % 19]!;
    return {
      itemId: `item-${index}`,
      stages: [
        stage('small', first >= 0.6, { confidence: first, agreement: GRID[(5 * (index % 19)) % 19]! }, 1),
        stage('medium', second >= 0.7, { agreement: second, confidence: GRID[(7 * Math.floor(index / 19)) % 19]! }, 3),
        stage('large', true, {}, 10),
      ],
    };
  });
}

/** 190 items; stage 0 right exactly when confidence ≥ 0.6; the large stage wrong on every 20th item. */
function twoStageRecords(): CalibrationRecord[] {
  return Array.from({ length: 190 }, (_, index) => {
    const value = GRID[index % 19]!;
    return {
      itemId: `item-${index}`,
      stages: [stage('small', value >= 0.6, { confidence: value }, 1), stage('large', index % 20 !== 0, {}, 10)],
    };
  });
}

describe('fitCascadePolicy', () => {
  it('recovers the known optimal cut-off: the cheapest policy at ≥ 98% of the last stage alone', () => {
    const records = twoStageRecords();
    const fit = fitCascadePolicy(records);
    assert.deepEqual(
      fit.stages.map((entry) => [entry.tier, entry.signal, entry.threshold]),
      [
        ['small', 'confidence', 0.6],
        ['large', 'confidence', 0],
      ],
    );
    // Everything accepted at stage 0 is right; everything below 0.6 goes to the large stage.
    const outcome = evaluateCascade(records, [{ signal: 'confidence', threshold: 0.6 }]);
    assert.equal(fit.report.train.accuracy, outcome.accuracy);
    assert.ok(fit.report.train.accuracy >= 0.98 * largestOnly(records).accuracy);
    assert.equal(fit.report.margin, 0);
    assert.equal(fit.report.crossValidated.met, true);
    assert.equal(fit.report.crossValidated.folds, 5);
    // Cost: stage 0 always (1) + the large stage for the 11 of 19 values below 0.6 (10 each), in dollars.
    assert.ok(Math.abs(fit.report.train.cost - (1 + (10 * 11) / 19) / 1000) < 1e-12);
  });

  it('recovers per-stage cut-offs and picks the informative signal at each stage', () => {
    const fit = fitCascadePolicy(threeStageRecords());
    assert.deepEqual(
      fit.stages.map((entry) => [entry.tier, entry.signal, entry.threshold]),
      [
        ['small', 'confidence', 0.6],
        ['medium', 'agreement', 0.7],
        ['large', 'confidence', 0],
      ],
    );
    assert.equal(fit.report.train.accuracy, 1);
  });

  it('cost cap: the most accurate policy whose mean cost fits under the cap', () => {
    const records = twoStageRecords();
    const cap = evaluateCascade(records, [{ signal: 'confidence', threshold: 0.5 }]).cost;
    const fit = fitCascadePolicy(records, { kind: 'cost-cap', maxCost: cap });
    assert.ok(fit.report.train.cost <= cap * (1 - fit.report.margin) + 1e-12);
    // Brute force over every threshold that respects the (margin-tightened) cap: none is more accurate.
    for (const threshold of [...GRID, NEVER_ACCEPT]) {
      const outcome = evaluateCascade(records, [{ signal: 'confidence', threshold }]);
      if (outcome.cost <= cap * (1 - fit.report.margin) + 1e-12)
        assert.ok(outcome.accuracy <= fit.report.train.accuracy + 1e-12, `threshold ${threshold} beats the fit`);
    }
    assert.ok(fit.stages[0]!.threshold <= 0.5);
  });

  it('falls back to the most accurate policy when no policy reaches the target', () => {
    const records = twoStageRecords();
    const fit = fitCascadePolicy(records, { kind: 'relative-accuracy', ratio: 1.2 });
    assert.equal(fit.report.crossValidated.met, false);
    assert.equal(fit.stages[0]!.threshold, 0.6);
  });
});

describe('calibration journal → fit', () => {
  it('extracts stage records from journaled calibration steps and recovers the cut-off', () => {
    const journal = Journal.open(':memory:');
    journal.createRun({ id: 'cal-synthetic', command: CALIBRATE_COMMAND, query: 'synthetic', simulated: true });
    for (const record of twoStageRecords()) {
      record.stages.forEach((observation, index) =>
        journal.upsertStep('cal-synthetic', {
          stepId: `cal/${record.itemId}/stage-${index}`,
          kind: STAGE_STEP_KIND,
          status: 'ok',
          input: { itemId: record.itemId, stage: index },
          output: observation,
        }),
      );
    }
    journal.upsertStep('cal-synthetic', {
      stepId: 'alloc/x',
      kind: ARM_STEP_KIND,
      status: 'ok',
      input: {},
      output: { itemId: 'x', bin: 'hard', level: 4000, arm: 'stop', cell: { arm: 'stop' }, correct: true, tokens: 500, usd: 0.0001 },
    });
    // A run of another command is not calibration data.
    journal.createRun({ id: 'other', command: 'solve', query: 'q', simulated: true });
    const data = readCalibration(journal);
    assert.deepEqual(data.runIds, ['cal-synthetic']);
    assert.equal(data.records.length, 190);
    assert.equal(data.arms.length, 1);
    const { policy } = fitGovernorPolicy(data);
    assert.equal(policy.cascade.stages[0]!.threshold, 0.6);
    assert.equal(policy.cascade.fit?.items, 190);
    journal.close();
  });

  it('calibrates a simulated suite, fits, and round-trips the policy file', async () => {
    const tasks = mixedArithmeticSuite({ count: 9, seed: 4 });
    const harness = governorHarness({ tasks });
    const journal = Journal.open(':memory:');
    const summary = await calibrate({
      fleet: harness.fleet,
      journal,
      items: calibrationItems(tasks, { registered: true }),
      levels: [2000],
      arms: [{ arm: 'stop' }, { arm: 'vote', samples: 5, lead: 3 }],
    });
    assert.equal(summary.stageSteps, 27);
    assert.equal(summary.armSteps, 18);
    assert.equal(journal.getRun(summary.runId)?.status, 'ok');
    const data = readCalibration(journal);
    assert.equal(data.records.length, 9);
    assert.deepEqual(
      data.records[0]!.stages.map((entry) => entry.model),
      ['sim:small', 'sim:medium', 'sim:large'],
    );
    // Stage 0 is the probe: three (or, on an early exit, two) small samples.
    assert.ok(data.records.every((record) => record.stages[0]!.signals.agreement !== undefined || record.stages[0]!.answer === undefined));
    const fitted = fitGovernorPolicy(journal);
    assert.equal(fitted.data.cascadeItems, 9);
    assert.equal(fitted.data.armRecords, 18);
    assert.deepEqual(fitted.policy.allocation.levels, [2000]);
    const folder = mkdtempSync(join(tmpdir(), 'thicket-governor-'));
    try {
      const path = join(folder, 'policy.json');
      writePolicy(path, fitted.policy);
      assert.deepEqual(readPolicy(path), fitted.policy);
      writeFileSync(path, JSON.stringify({ ...DEFAULT_POLICY, version: 2, probe: { samples: 0 } }));
      assert.throws(
        () => readPolicy(path),
        (error: Error & { code?: string; issues?: Array<{ path: string }> }) => {
          assert.equal(error.code, 'INVALID_CONFIG');
          assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['probe.samples', 'version']);
          return true;
        },
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
      journal.close();
    }
  });

  it('rejects a policy whose allocation table does not match its levels', () => {
    const broken = structuredClone(DEFAULT_POLICY) as { allocation: { cells: { hard: unknown[] } } };
    broken.allocation.cells.hard.pop();
    assert.throws(() => parsePolicy(broken), /allocation\.cells\.hard: needs one cell per level/);
  });
});
