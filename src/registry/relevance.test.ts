/**
 * Discovery's relevance floor (issue 16 §5: `agents search` always returned k rows, even at negative
 * similarity). Calibrated per embedder on the null corpus; a need nothing matches gives an empty result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HashingEmbedder } from './embedder.ts';
import { agentsSearch, openRegistry } from './index.ts';
import { RELEVANCE_QUANTILE, nullSimilarities, quantile, relevanceFloor } from './null-similarity.ts';
import { card } from './testing/fixtures.ts';

const CARDS = [
  card('contracts', '1.0.0', { description: 'Summarize legal contracts: clauses, parties, obligations, termination and liability.' }),
  card('invoices', '1.0.0', { description: 'Extract totals, dates and vendors from scanned invoices and receipts.' }),
  card('translate', '1.0.0', { description: 'Translate documents between English, French, German and Spanish.' }),
  card('geometry', '1.0.0', { description: 'Solve geometry problems: triangles, circles, areas and angles.' }),
];

describe('relevance floor', () => {
  it('is the RELEVANCE_QUANTILE quantile of the null similarities of the embedder, cached per embedder id', async () => {
    const embedder = new HashingEmbedder({ dimension: 384 });
    const floor = await relevanceFloor(embedder);
    assert.equal(floor, quantile(await nullSimilarities(embedder), RELEVANCE_QUANTILE));
    assert.ok(floor > 0 && floor < 0.1, `hash-v1-384 floor ${floor}`);
    let calls = 0;
    const counting = { id: embedder.id, dimension: 384, embed: (texts: readonly string[]) => (calls++, embedder.embed(texts)) };
    assert.equal(await relevanceFloor(counting), floor);
    assert.equal(calls, 0, 'cached by id');
  });

  it('agents search: a related need finds its card; an unrelated one finds nothing and says how many fell below', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    for (const entry of CARDS) await registry.register(entry);
    const related = await agentsSearch(registry, { need: 'summarize a legal contract', k: 4 });
    assert.equal(related.results[0]?.id, 'contracts');
    assert.ok(related.results.length < 4, 'the unrelated cards fall below the floor');
    assert.ok(related.results.every((result) => (result.explanation as { similarity: number }).similarity > related.floor));

    const unrelated = await agentsSearch(registry, { need: 'bake sourdough bread with rye flour', k: 4 });
    assert.deepEqual(unrelated.results, []);
    assert.equal(unrelated.belowFloor, 4);
    // The floor can be lowered (−1: the nearest whatever they are), as before.
    assert.equal(
      (await agentsSearch(registry, { need: 'bake sourdough bread with rye flour', k: 4, minSimilarity: -1 })).results.length,
      4,
    );
    // The registry itself has no floor unless asked (bindings rank under policy).
    assert.equal((await registry.discover({ need: 'bake sourdough bread with rye flour', k: 4 })).results.length, 4);
    registry.close();
  });
});
