/**
 * `resolveEmbedder`: every reference form of `--embedder` / the config's `embedder` (hash, hash-v1-<dim>,
 * hash:<dim>, gguf:<path>, an alias), and every bad one as an InvalidInputError naming its source and reason.
 * Nothing is contacted: an OpenAI-compatible alias is only constructed here (the CLI test calls a fake server).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/index.ts';
import { OpenAICompatibleEmbedder, parseFleetConfig, type FleetConfig } from '../models/index.ts';
import { resolveEmbedder } from './commands.ts';
import { HashingEmbedder } from './embedder.ts';

const config: FleetConfig = parseFleetConfig({
  version: 1,
  embedders: {
    local: {
      provider: 'openai-compatible',
      baseURL: 'http://127.0.0.1:9/v1',
      model: 'nomic-embed-text',
      dimension: 768,
      nullThreshold: 0.42,
    },
    keyed: { provider: 'openai-compatible', baseURL: 'https://api.example.com/v1', model: 'e', dimension: 16, apiKeyEnv: 'EMBED_KEY' },
    gg: { provider: 'llama', path: '/nonexistent/embed.gguf' },
  },
});

async function issueOf(reference: string, source?: string): Promise<{ path: string; message: string }> {
  try {
    await resolveEmbedder(reference, config, { env: {}, ...(source !== undefined ? { source } : {}) });
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.equal(error.issues.length, 1);
    return error.issues[0]!;
  }
  throw new Error(`${reference} resolved`);
}

describe('resolveEmbedder', () => {
  it('hash forms → the hashing embedder of that dimension', async () => {
    for (const [reference, id] of [
      ['hash', 'hash-v1-384'],
      ['hash-v1-512', 'hash-v1-512'],
      ['hash:64', 'hash-v1-64'],
    ] as const) {
      const { embedder } = await resolveEmbedder(reference, config);
      assert.ok(embedder instanceof HashingEmbedder);
      assert.equal(embedder.id, id);
    }
  });

  it('an openai-compatible alias → its embedder, with the configured dimension and τ₀', async () => {
    const resolved = await resolveEmbedder('local', config, { env: {} });
    assert.ok(resolved.embedder instanceof OpenAICompatibleEmbedder);
    assert.equal(resolved.embedder.id, 'openai-compatible:nomic-embed-text@http://127.0.0.1:9/v1');
    assert.equal(resolved.embedder.dimension, 768);
    assert.equal(resolved.nullThreshold, 0.42);
    const keyed = await resolveEmbedder('keyed', config, { env: { EMBED_KEY: 'k' } });
    assert.equal(keyed.embedder.dimension, 16);
    assert.equal(keyed.nullThreshold, undefined);
  });

  it('bad references: InvalidInputError at the source with the reason', async () => {
    assert.deepEqual(await issueOf('nope'), {
      path: '--embedder',
      message:
        '"nope" is not an embedder: use hash, hash-v1-<dimension>, gguf:<path>, or an alias under "embedders" in the fleet config (configured: ' +
        'local, keyed, gg)',
    });
    assert.deepEqual(await issueOf('hash-v1-4', 'embedder'), {
      path: 'embedder',
      message: '"hash-v1-4": the hashing dimension must be 8–16384',
    });
    assert.deepEqual(await issueOf('gguf:'), { path: '--embedder', message: '"gguf:": give a path after gguf:' });
    assert.deepEqual(await issueOf('gguf:/nonexistent/model.gguf'), {
      path: '--embedder',
      message: '"gguf:/nonexistent/model.gguf": no model file at /nonexistent/model.gguf',
    });
    assert.deepEqual(await issueOf('gg'), { path: '--embedder', message: '"gg": no model file at /nonexistent/embed.gguf' });
    assert.deepEqual(await issueOf('keyed'), { path: '--embedder', message: '"keyed": its API key variable EMBED_KEY is not set' });
  });

  it('the config validates its own `embedder` field and the alias entries', () => {
    assert.throws(
      () => parseFleetConfig({ version: 1, embedder: 'local' }),
      (error: unknown) =>
        error instanceof InvalidInputError && error.issues[0]!.path === 'embedder' && /none configured/.test(error.issues[0]!.message),
    );
    assert.throws(
      () => parseFleetConfig({ version: 1, embedders: { x: { provider: 'openai-compatible', baseURL: 'http://h/v1', model: 'm' } } }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.some((issue) => issue.path === 'embedders.x.dimension'),
    );
    assert.equal(parseFleetConfig({ version: 1, embedder: 'hash-v1-256' }).embedder, 'hash-v1-256');
  });
});
