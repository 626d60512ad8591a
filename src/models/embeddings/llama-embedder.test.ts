/**
 * The GGUF embedder on the fixture embedding model (llama architecture with mean pooling, seeded random
 * weights, generated into a temp folder): real llama.cpp embeddings, deterministic, unit length.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, ThicketError } from '../../core/index.ts';
import { disposeLlamaEngine, writeFixtureModel } from '../llama/index.ts';
import { LlamaEmbedder, cosineSimilarity } from './index.ts';

let folder: string;
let embedder: LlamaEmbedder;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-embed-'));
  const modelPath = join(folder, 'embedding.gguf');
  writeFixtureModel(modelPath, { seed: 3, pooling: 'mean' });
  embedder = await LlamaEmbedder.create({ modelPath: `gguf:${modelPath}`, contextSize: 512 });
});

after(async () => {
  await disposeLlamaEngine();
  rmSync(folder, { recursive: true, force: true });
});

const norm = (vector: Float32Array): number => Math.hypot(...vector);

describe('LlamaEmbedder', () => {
  it('knows its identity and dimension from the model', () => {
    assert.match(embedder.id, /^gguf:.*embedding\.gguf$/);
    assert.equal(embedder.dimension, 64);
  });

  it('returns one unit-length vector per text, in order, deterministically', async () => {
    const texts = ['a calculator tool', 'a web search agent', 'a calculator tool'];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, 3);
    for (const vector of vectors) {
      assert.equal(vector.length, 64);
      assert.ok(Math.abs(norm(vector) - 1) < 1e-5);
    }
    assert.ok(cosineSimilarity(vectors[0]!, vectors[2]!) > 0.99999);
    assert.ok(cosineSimilarity(vectors[0]!, vectors[1]!) < 0.99);
    const [again] = await embedder.embed(['a calculator tool']);
    assert.deepEqual([...again!], [...vectors[0]!]);
  });

  it('embeds an empty text as the zero vector and cuts texts longer than the context', async () => {
    const [empty, long] = await embedder.embed(['', 'word '.repeat(2000)]);
    assert.ok(empty!.every((value) => value === 0));
    assert.ok(Math.abs(norm(long!) - 1) < 1e-5);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(embedder.embed(['x'], { signal: controller.signal }), (error: unknown) => error instanceof CancelledError);
  });

  it('names a missing model file', async () => {
    await assert.rejects(
      LlamaEmbedder.create({ modelPath: join(folder, 'missing.gguf') }),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'UNKNOWN_MODEL' && /missing\.gguf/.test(error.message),
    );
  });
});
