/**
 * cascade: escalation only below threshold, cost vs always-large at close accuracy on a mixed-difficulty set,
 * the three signals, and budget behaviour (reserve for the last stage, degraded escalation, property test).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cascade, type CascadeStage } from './cascade.ts';
import { sample } from './sample.ts';
import { arithmeticTaskSet, createOpHarness, mapConcurrent, mean, rate } from './testing/harness.ts';
import { assertDegradationsTraced, assertWithinBudget, rootLimits, tightLimits } from './testing/budget-check.ts';

/** Mixed difficulty: a third each of easy, medium and hard items (for sim:large: ~all, most, few right). */
const mixed = [
  ...arithmeticTaskSet({ count: 80, prefix: 'easy', seed: 11, operations: [1, 3], maxDifficulty: 0.5 }),
  ...arithmeticTaskSet({ count: 80, prefix: 'mid', seed: 12, operations: [2, 4], minDifficulty: 0.5, maxDifficulty: 2 }),
  ...arithmeticTaskSet({ count: 80, prefix: 'hard', seed: 13, operations: [3, 6], minDifficulty: 2, maxDifficulty: 3.5 }),
];
const harness = createOpHarness({ tasks: mixed });

const smallThenLarge: CascadeStage[] = [
  { model: 'sim:small', samples: 5, threshold: 0.6, signal: 'agreement' },
  { model: 'sim:large', threshold: 0, signal: 'self' },
];

describe('cascade', () => {
  it('escalates exactly when the signal is below the threshold, and the last stage always answers', async () => {
    const stages: CascadeStage[] = [
      { model: 'sim:small', samples: 5, threshold: 0.8, signal: 'agreement' },
      { model: 'sim:medium', threshold: 0.85, signal: 'self' },
      { model: 'sim:medium', threshold: 0.7, signal: 'verifier', verifierModel: 'sim:large' },
      { model: 'sim:large', threshold: 0.99, signal: 'self' },
    ];
    const rows = await mapConcurrent(mixed, 16, async (task) =>
      cascade(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, stages }),
    );
    for (const result of rows) {
      const reports = result.details.stages;
      reports.forEach((report, index) => {
        const last = index === stages.length - 1;
        const below = report.confidence === undefined || report.confidence < report.threshold;
        assert.equal(report.escalated, !last && below, JSON.stringify(report));
        assert.equal(report.accepted, report.answer !== undefined && (last || !below));
      });
      assert.equal(result.details.escalations, reports.length - 1);
      assert.equal(result.details.acceptedAt, reports.length - 1);
      assert.equal(result.answer, reports.at(-1)!.answer);
      assert.ok(!result.budgetExhausted);
    }
    const reached = [0, 1, 2, 3].map((stage) => rows.filter((result) => result.details.stagesTried > stage).length);
    // Every stage sees some items and passes some on (measured: 240 → 133 → 107 → 75 items reach stages 1–4).
    assert.ok(
      reached[0] === 240 && reached[1]! < 240 && reached[2]! < reached[1]! && reached[3]! < reached[2]! && reached[3]! > 0,
      String(reached),
    );
  });

  it('costs well below always-large at close accuracy on a mixed-difficulty set (240 items)', async () => {
    const rows = await mapConcurrent(mixed, 16, async (task) => {
      const viaCascade = harness.fresh({ taskId: task.id });
      const result = await cascade(viaCascade.context, { prompt: task.prompt, stages: smallThenLarge });
      const alone = harness.fresh({ taskId: task.id, model: 'sim:large' });
      const large = await sample(alone.context, { samples: 1, prompt: task.prompt });
      return {
        cascade: harness.isCorrect(task.id, result.answer),
        large: harness.isCorrect(task.id, large.answer),
        cascadeUsd: viaCascade.ledger.report().total.usd,
        largeUsd: alone.ledger.report().total.usd,
        escalated: result.details.escalations > 0,
        stageSpend: result.details.stages.reduce((sum, stage) => sum + stage.spend.usd, 0),
      };
    });
    const costRatio = mean(rows.map((row) => row.cascadeUsd)) / mean(rows.map((row) => row.largeUsd));
    // Measured: cascade 0.708 vs always-large 0.738 accuracy at 0.28 of the cost ($0.00108 vs $0.00390 per item), 18% escalated.
    assert.ok(costRatio < 0.45, `cost ratio ${costRatio.toFixed(3)}`);
    assert.ok(
      rate(rows.map((row) => row.cascade)) >= rate(rows.map((row) => row.large)) - 0.05,
      `cascade ${rate(rows.map((row) => row.cascade))} vs large ${rate(rows.map((row) => row.large))}`,
    );
    assert.ok(rate(rows.map((row) => row.escalated)) < 0.4);
    // Per-stage spend adds up to the operator's total.
    for (const row of rows) assert.ok(Math.abs(row.stageSpend - row.cascadeUsd) < 1e-12);
  });

  it('keeps a last-stage call in reserve while a cheaper stage runs', async () => {
    const task = mixed[100]!;
    const probe = harness.fresh({ taskId: task.id });
    const largeCall = probe.context.fleet.worstCase('sim:large', [{ role: 'user', content: task.prompt }], 512);
    // Room for one worst-case large call and a couple of small samples, not for 9 small samples on top.
    const slice = { usd: largeCall.usd * 1.05 };
    const fresh = harness.fresh({ taskId: task.id, slice });
    const result = await cascade(fresh.context, {
      prompt: task.prompt,
      stages: [
        { model: 'sim:small', samples: 9, threshold: 1.01, signal: 'agreement' },
        { model: 'sim:large', threshold: 0, signal: 'self' },
      ],
    });
    assert.equal(result.details.stagesTried, 2, JSON.stringify(result.details));
    assert.ok(result.details.stages[0]!.samples < 9);
    assert.equal(result.details.answeredBy, 1);
    assert.ok(result.degraded.some((reason) => reason.startsWith('stage 0 (sim:small): samples 9 →')));
    assertWithinBudget(fresh, slice);
  });

  it('returns the best answer so far when an escalation cannot be afforded', async () => {
    const task = mixed[120]!;
    const probe = harness.fresh({ taskId: task.id });
    const shortest = probe.context.fleet.worstCase('sim:large', [{ role: 'user', content: task.prompt }], 64);
    // Less than even the shortest useful large call: no reserve is possible, the small stage runs on everything.
    const fresh = harness.fresh({ taskId: task.id, slice: { usd: shortest.usd * 0.9 } });
    const result = await cascade(fresh.context, {
      prompt: task.prompt,
      stages: [
        { model: 'sim:small', samples: 3, threshold: 1.01, signal: 'agreement' },
        { model: 'sim:large', threshold: 0, signal: 'self' },
      ],
    });
    assert.equal(result.details.stagesTried, 1);
    assert.equal(result.details.answeredBy, 0);
    assert.equal(result.answer, result.details.stages[0]!.answer);
    assert.ok(result.budgetExhausted);
    assert.ok(result.degraded.includes('escalation to sim:large skipped (budget)'));
    assertDegradationsTraced(result, fresh);
  });

  it('property: never spends beyond its slice and degrades instead of throwing', async () => {
    const stage = fc.record({
      model: fc.constantFrom('sim:small', 'sim:medium', 'sim:large'),
      samples: fc.integer({ min: 1, max: 6 }),
      threshold: fc.double({ min: 0, max: 1.01, noNaN: true }),
      signal: fc.constantFrom('agreement' as const, 'verifier' as const, 'self' as const),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          slice: tightLimits(2),
          root: rootLimits(2),
          stages: fc.array(stage, { minLength: 1, maxLength: 3 }),
          useChecker: fc.boolean(),
          task: fc.integer({ min: 0, max: mixed.length - 1 }),
        }),
        async (params) => {
          const task = mixed[params.task]!;
          const fresh = harness.fresh({ taskId: task.id, limits: params.root, slice: params.slice });
          const result = await cascade(fresh.context, {
            prompt: task.prompt,
            stages: params.stages,
            ...(params.useChecker ? { checker: (answer: string) => harness.isCorrect(task.id, answer) } : {}),
          });
          assertWithinBudget(fresh, params.slice, params.root);
          assertDegradationsTraced(result, fresh);
          const spent = result.details.stages.reduce((sum, report) => sum + report.spend.calls, 0);
          assert.equal(spent, fresh.budget.spent().calls);
        },
      ),
      { seed: 3, numRuns: 250 },
    );
  });
});
