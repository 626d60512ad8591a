/**
 * refine (depth): stopping on verification, running every round otherwise, accuracy over a single draft,
 * the reasoning graph, and budget behaviour (degradation, property test).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { refine } from './refine.ts';
import { arithmeticTaskSet, createOpHarness, mapConcurrent, mean, rate } from './testing/harness.ts';
import { assertDegradationsTraced, assertWithinBudget, rootLimits, tightLimits } from './testing/budget-check.ts';

const tasks = arithmeticTaskSet({ count: 150, minDifficulty: 1, maxDifficulty: 2.5 });
const harness = createOpHarness({ tasks });

describe('refine', () => {
  it('stops as soon as the verifier passes, and runs all K rounds when it never does', async () => {
    const task = tasks[0]!;
    const passing = await refine(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, rounds: 3, checker: () => true });
    assert.deepEqual(
      [passing.calls, passing.details.roundsRun, passing.details.stoppedBecause, passing.details.verified],
      [1, 0, 'verified', true],
    );
    const failing = await refine(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, rounds: 3, checker: () => false });
    // Draft + 3 × (critique + revision); the checker costs no calls.
    assert.deepEqual(
      [failing.calls, failing.details.roundsRun, failing.details.stoppedBecause, failing.details.verified],
      [7, 3, 'rounds', false],
    );
    const unverified = await refine(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, rounds: 2, verify: false });
    assert.deepEqual([unverified.calls, unverified.details.roundsRun], [5, 2]);
  });

  it('with an LLM judge: one judge call per answered draft, and it stops at the first passing draft', async () => {
    const rows = await mapConcurrent(tasks, 16, async (task) =>
      refine(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, rounds: 3, verifierModel: 'sim:large' }),
    );
    for (const result of rows) {
      // Draft + (critique + revision) per round + a judge call per draft that has an answer (a truncated one has none).
      const answered = result.details.drafts.filter((draft) => draft.answer !== undefined).length;
      assert.equal(result.calls, 1 + 2 * result.details.roundsRun + answered);
      const verdicts = result.details.drafts.map((draft) => draft.verdict);
      if (result.details.stoppedBecause === 'verified') {
        assert.equal(verdicts.at(-1), true);
        assert.ok(verdicts.slice(0, -1).every((verdict) => verdict !== true));
      } else {
        assert.equal(result.details.stoppedBecause, 'rounds');
        assert.equal(result.details.roundsRun, 3);
        assert.ok(verdicts.every((verdict) => verdict !== true));
      }
    }
    // Measured: 97 of 150 stop after the draft (2 calls), 24 / 12 / 17 after 1 / 2 / 3 rounds; accuracy 0.567 → 0.793.
    assert.ok(rows.some((result) => result.details.roundsRun === 0) && rows.some((result) => result.details.roundsRun > 0));
  });

  it('improves accuracy over a single draft on average (sim:medium, 150 items, 3 rounds)', async () => {
    const rows = await mapConcurrent(tasks, 16, async (task) => {
      const result = await refine(harness.fresh({ taskId: task.id }).context, { prompt: task.prompt, rounds: 3 });
      return {
        draft: harness.isCorrect(task.id, result.details.drafts[0]!.answer),
        final: harness.isCorrect(task.id, result.answer),
        calls: result.calls,
      };
    });
    const draft = rate(rows.map((row) => row.draft));
    const final = rate(rows.map((row) => row.final));
    // Measured (self-verification by sim:medium): draft 0.567 → refined 0.727 at 3.3 calls per item.
    assert.ok(final - draft >= 0.08, `draft ${draft.toFixed(3)} → refined ${final.toFixed(3)}`);
    assert.ok(mean(rows.map((row) => row.calls)) < 5);
  });

  it('links each revision to the previous draft and the critique', async () => {
    const task = tasks[3]!;
    const fresh = harness.fresh({ taskId: task.id, stepId: 'depth' });
    const result = await refine(fresh.context, { prompt: task.prompt, rounds: 2, checker: () => false });
    const answers = fresh.trace.nodes.filter((node) => node.kind === 'answer');
    const critiques = fresh.trace.nodes.filter((node) => node.kind === 'critique');
    assert.deepEqual([answers.length, critiques.length], [3, 2]);
    for (let round = 1; round <= 2; round++) {
      const from = fresh.trace.edges
        .filter((edge) => edge.from === answers[round]!.id && edge.kind === 'derived-from')
        .map((edge) => edge.to);
      assert.deepEqual(from, [answers[round - 1]!.id, critiques[round - 1]!.id]);
    }
    assert.equal(result.nodeId, answers.at(-1)!.id);
    assert.deepEqual(Object.keys(fresh.ledger.report().byBudget).sort(), ['run', 'run/round-1', 'run/round-2']);
  });

  it('stops refining when a round no longer fits, keeping the best draft so far', async () => {
    const task = tasks[4]!;
    const fresh = harness.fresh({ taskId: task.id, slice: { calls: 4 } });
    const result = await refine(fresh.context, { prompt: task.prompt, rounds: 3, checker: () => false });
    // Draft (1) + round 1 (2) = 3 calls; round 2 needs 2 more than the 1 left.
    assert.deepEqual(
      [result.calls, result.details.roundsRun, result.details.stoppedBecause, result.budgetExhausted],
      [3, 1, 'budget', true],
    );
    assert.deepEqual(result.degraded, ['rounds 3 → 1 (budget)']);
    assert.ok(result.answer !== undefined);
    assertDegradationsTraced(result, fresh);
  });

  it('property: never spends beyond its slice and degrades instead of throwing', async () => {
    const models = ['sim:small', 'sim:medium', 'sim:large'];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Wider limits than for one call: a round is three calls quoting earlier outputs.
          slice: tightLimits(3),
          root: rootLimits(3),
          rounds: fc.integer({ min: 0, max: 4 }),
          model: fc.constantFrom(...models),
          verifierModel: fc.constantFrom(...models),
          verify: fc.boolean(),
          useChecker: fc.boolean(),
          maxOutputTokens: fc.integer({ min: 16, max: 1024 }),
          task: fc.integer({ min: 0, max: tasks.length - 1 }),
        }),
        async (params) => {
          const task = tasks[params.task]!;
          const fresh = harness.fresh({ taskId: task.id, limits: params.root, slice: params.slice });
          const result = await refine(fresh.context, {
            prompt: task.prompt,
            rounds: params.rounds,
            model: params.model,
            verifierModel: params.verifierModel,
            verify: params.verify,
            maxOutputTokens: params.maxOutputTokens,
            ...(params.useChecker ? { checker: (answer: string) => harness.isCorrect(task.id, answer) } : {}),
          });
          assertWithinBudget(fresh, params.slice, params.root);
          assertDegradationsTraced(result, fresh);
        },
      ),
      { seed: 11, numRuns: 250 },
    );
  });
});
