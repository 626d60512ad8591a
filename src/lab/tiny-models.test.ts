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

  for (const model of shipped)
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
