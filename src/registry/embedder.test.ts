import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../core/index.ts';
import { dot, HashingEmbedder, tokenize, type Embedder } from './embedder.ts';

const norm = (vector: Float32Array) => Math.sqrt(dot(vector, vector));

describe('hashing embedder', () => {
  it('is deterministic across instances and names itself by dimension', async () => {
    const first = new HashingEmbedder({ dimension: 256 });
    const second = new HashingEmbedder({ dimension: 256 });
    const [left] = await first.embed(['Summarize long legal contracts']);
    const [right] = await second.embed(['Summarize long legal contracts']);
    assert.deepEqual(left, right);
    assert.equal(first.id, 'hash-v1-256');
    assert.equal(left!.length, 256);
    assert.equal(new HashingEmbedder().id, 'hash-v1-384');
    // Pinned values: if these move, every stored vector changed and the embedder needs a new id.
    const firstNonZero = [...left!]
      .map((value, index) => [index, Number(value.toFixed(5))] as const)
      .filter(([, value]) => value !== 0)
      .slice(0, 4);
    assert.deepEqual(firstNonZero, [
      [2, 0.06626],
      [6, -0.06626],
      [12, -0.06626],
      [14, 0.06626],
    ]);
  });

  it('returns unit vectors (and a zero vector for text with no features)', async () => {
    const embedder = new HashingEmbedder({ dimension: 128 });
    const vectors = await embedder.embed(['a', 'Translate French poetry', 'x'.repeat(5_000), 'the and of']);
    assert.ok(Math.abs(norm(vectors[1]!) - 1) < 1e-5);
    assert.ok(Math.abs(norm(vectors[2]!) - 1) < 1e-5);
    assert.equal(norm(vectors[3]!), 0, 'stop words only');
    assert.equal(norm(vectors[0]!), 0, '"a" is a stop word');
  });

  it('puts similar texts closer than unrelated ones', async () => {
    const embedder = new HashingEmbedder();
    const [contract, contracts, poetry, flight, flights] = await embedder.embed([
      'summarize a long legal contract',
      'summarization of legal contracts and agreements',
      'translate French poetry into German',
      'book a cheap flight to Tokyo',
      'find flights and airfare to Japan, cheap tickets',
    ]);
    assert.ok(dot(contract!, contracts!) > 0.3, `related: ${dot(contract!, contracts!)}`);
    assert.ok(dot(contract!, contracts!) > dot(contract!, poetry!) + 0.2);
    assert.ok(dot(flight!, flights!) > dot(flight!, contract!) + 0.1);
    assert.ok(Math.abs(dot(contract!, poetry!)) < 0.15, `unrelated: ${dot(contract!, poetry!)}`);
  });

  it('tokenizes Unicode words and drops stop words', () => {
    assert.deepEqual(tokenize('The Café — résumé: 3D-printing & the FUTURE'), ['café', 'résumé', '3d', 'printing', 'future']);
  });

  it('rejects a bad dimension, and satisfies the Embedder interface', () => {
    assert.throws(() => new HashingEmbedder({ dimension: 4 }), InvalidInputError);
    assert.throws(() => new HashingEmbedder({ dimension: 12.5 }), InvalidInputError);
    const embedder: Embedder = new HashingEmbedder({ dimension: 64 });
    assert.equal(embedder.dimension, 64);
  });
});
