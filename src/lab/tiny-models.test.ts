/**
 * Thicket's shipped tiny models (models/tiny, issue 18): each file matches its card's sha256, and its greedy
 * held-out accuracy — re-measured here on the embedded engine, through the `tiny:` provider — is within ±3
 * points of what its card says, overall and where a difficulty level has enough items. Accuracy must be
 * imperfect and fall with difficulty (so strategies have something to win): checked too.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { disposeLlamaEngine, shippedTinyModels, TINY_LABEL, TINY_MODELS, tinyModelFile } from '../models/index.ts';
import { evaluateTinyModel } from './tiny.ts';
import { runTimExperiment, type TimExperiment, type TimMode } from './tiny-thread-eval.ts';

after(() => disposeLlamaEngine());

const shipped = shippedTinyModels();

describe('shipped tiny models', () => {
  it('every catalogued model is shipped with its card', () => {
    assert.deepEqual(
      shipped.map((model) => model.name),
      TINY_MODELS.map((model) => model.name),
    );
    let total = 0;
    for (const model of shipped) {
      total += model.card.bytes;
      assert.equal(model.card.reference, model.reference);
      assert.equal(model.card.label, TINY_LABEL);
      assert.equal(model.card.format, model.format);
      assert.equal(model.card.tier, model.tier);
    }
    assert.ok(total <= 60 * 1024 * 1024, `shipped weights together ≤ 60 MB (${total} bytes)`);
  });

  /** TIM items re-run in CI (of the card's 60): each thread takes ~1–2 s. */
  const TIM_CHECKED_ITEMS = 20;

  for (const model of shipped.filter((entry) => entry.format === 'thread'))
    it(`${model.reference}: sha256, and the TIM experiment item by item as its card records it`, async () => {
      const file = tinyModelFile(model.name);
      assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), model.card.sha256);
      const card = model.card.tim as unknown as TimExperiment;
      const items = Math.min(TIM_CHECKED_ITEMS, card.items);
      const measured = await runTimExperiment(model.reference, { items, seed: card.seed, bufferSize: card.bufferSize });
      for (const mode of ['pruned', 'unpruned', 'cot'] as TimMode[]) {
        const expected = card.modes[mode]!.perItem.slice(0, items);
        const got = measured.modes[mode]!.perItem;
        // Greedy on one sequence: deterministic; one flip of slack for a different CPU's float rounding.
        const flips = [...expected].filter((outcome, index) => outcome !== got[index]).length;
        assert.ok(flips <= 1, `${mode}: ${got} vs card ${expected}`);
      }
      const { pruned, unpruned, cot } = measured.modes as Required<TimExperiment['modes']>;
      // The premise: every correct trace exceeds the context; pruning keeps the thread inside it.
      assert.ok(measured.referenceTrace.min > measured.contextSize, `whole traces ≥ ${measured.referenceTrace.min} cells`);
      assert.equal(pruned.overflows, 0);
      assert.ok(pruned.peakKv.max <= measured.contextSize);
      // Unpruned, the model's own documents (often shorter than the correct one) still run out of context on some.
      assert.ok(unpruned.overflows > 0, 'some unpruned threads ran out of context');
      // Real but imperfect, step by step (every item is wrong at the end: see the card).
      for (const mode of ['pruned', 'unpruned', 'cot'] as TimMode[]) {
        const now = measured.modes[mode]!.steps;
        assert.ok(now.checked > 0, `${mode}: steps were written`);
        assert.ok(now.accuracy > 0.05 && now.accuracy < 1, `${mode}: step accuracy ${now.accuracy}`);
      }
      assert.ok(cot.peakKv.max < pruned.peakKv.max, 'plain lines are shorter than the JSON thread');
    });

  for (const model of shipped.filter((entry) => entry.format !== 'thread'))
    it(`${model.reference}: the file's sha256 and held-out accuracy match its card (±3 points)`, async () => {
      const file = tinyModelFile(model.name);
      assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), model.card.sha256);
      const card = model.card.heldOut;
      const measured = await evaluateTinyModel(model.reference, {
        items: card.items,
        seed: card.seed,
        maxOutputTokens: card.maxOutputTokens,
      });
      assert.equal(measured.items, card.items);
      assert.ok(Math.abs(measured.accuracy - card.accuracy) <= 0.03, `accuracy ${measured.accuracy} vs card ${card.accuracy}`);
      for (const [operations, group] of Object.entries(card.byOperations)) {
        const now = measured.byOperations[operations]!;
        assert.equal(now.items, group.items);
        assert.ok(Math.abs(now.accuracy - group.accuracy) <= 0.03, `${operations} ops: ${now.accuracy} vs card ${group.accuracy}`);
      }
      // Real but imperfect, and harder items are harder: something for strategies to win.
      assert.ok(measured.accuracy > 0.05 && measured.accuracy < 1, `accuracy ${measured.accuracy} is neither trivial nor perfect`);
      const byOps = Object.values(measured.byOperations).map((group) => group.accuracy);
      assert.ok(byOps[0]! > byOps.at(-1)!, `one operation (${byOps[0]}) is easier than four (${byOps.at(-1)})`);
    });
});
