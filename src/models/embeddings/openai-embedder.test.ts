/**
 * The OpenAI-compatible embedder against a real HTTP server (node:http on 127.0.0.1, ephemeral port) that
 * imitates POST /v1/embeddings. No mocks of the openai client: every request goes over a real socket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledError, InvalidInputError, ProviderError } from '../../core/index.ts';
import { OpenAICompatibleEmbedder } from './index.ts';

interface Seen {
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}

let server: Server;
let baseURL: string;
const seen: Seen[] = [];
let handler: (request: Seen, res: ServerResponse) => void = () => {};

/** A deterministic 4-dimensional "embedding": character statistics, so different texts differ. */
function fakeVector(text: string): number[] {
  return [text.length, (text.match(/[aeiou]/g) ?? []).length, (text.match(/ /g) ?? []).length, 1];
}

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const request: Seen = { url: req.url, headers: req.headers, body: JSON.parse(raw) as Seen['body'] };
      seen.push(request);
      handler(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** Answers with the items in reverse order, as a server may: the embedder must reorder by `index`. */
const reversed = (request: Seen, res: ServerResponse): void =>
  json(res, 200, {
    object: 'list',
    model: request.body.model,
    data: request.body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text) })).reverse(),
    usage: { prompt_tokens: 3, total_tokens: 3 },
  });

describe('OpenAICompatibleEmbedder', () => {
  it('posts float embeddings requests in batches and returns unit vectors in input order', async () => {
    handler = reversed;
    seen.length = 0;
    const embedder = new OpenAICompatibleEmbedder({ baseURL, model: 'nomic-embed-text', dimension: 4, batchSize: 2 });
    assert.equal(embedder.id, `openai-compatible:nomic-embed-text@${baseURL}`);
    const texts = ['alpha', 'a much longer text here', 'b', 'alpha'];
    const vectors = await embedder.embed(texts);
    assert.equal(seen.length, 2);
    assert.deepEqual(
      seen.map((request) => request.body.input),
      [
        ['alpha', 'a much longer text here'],
        ['b', 'alpha'],
      ],
    );
    assert.equal(seen[0]!.url, '/v1/embeddings');
    assert.equal(seen[0]!.body.encoding_format, 'float');
    assert.equal(seen[0]!.body.dimensions, undefined);
    assert.equal(seen[0]!.headers.authorization, undefined, 'no key configured → no Authorization header');
    texts.forEach((text, index) => {
      const expected = fakeVector(text);
      const length = Math.hypot(...expected);
      assert.deepEqual(
        [...vectors[index]!].map((value) => value.toFixed(5)),
        expected.map((value) => (value / length).toFixed(5)),
      );
    });
  });

  it('sends the key and the requested dimension when configured', async () => {
    handler = reversed;
    seen.length = 0;
    await new OpenAICompatibleEmbedder({
      baseURL,
      model: 'text-embedding-3-small',
      dimension: 4,
      apiKey: 'sk-test-key',
      sendDimensions: true,
    }).embed(['x']);
    assert.equal(seen[0]!.headers.authorization, 'Bearer sk-test-key');
    assert.equal(seen[0]!.body.dimensions, 4);
  });

  it('maps HTTP errors to ProviderError once (no client retries)', async () => {
    handler = (_request, res) => json(res, 503, { error: { message: 'model loading' } });
    seen.length = 0;
    await assert.rejects(new OpenAICompatibleEmbedder({ baseURL, model: 'm', dimension: 4 }).embed(['x']), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.status, 503);
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /HTTP 503: model loading/);
      return true;
    });
    assert.equal(seen.length, 1);
  });

  it('refuses vectors of the wrong dimension and a wrong count', async () => {
    handler = reversed;
    await assert.rejects(
      new OpenAICompatibleEmbedder({ baseURL, model: 'm', dimension: 8 }).embed(['x']),
      /malformed embedding at index 0 \(expected 8 numbers\)/,
    );
    handler = (_request, res) => json(res, 200, { object: 'list', data: [] });
    await assert.rejects(
      new OpenAICompatibleEmbedder({ baseURL, model: 'm', dimension: 4 }).embed(['x']),
      /returned 0 embeddings for 1 texts/,
    );
  });

  it('rejects an abort with CancelledError', async () => {
    handler = () => {}; // never answers
    const controller = new AbortController();
    const call = new OpenAICompatibleEmbedder({ baseURL, model: 'm', dimension: 4 }).embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(call, (error: unknown) => error instanceof CancelledError);
  });

  it('validates its options', () => {
    assert.throws(
      () => new OpenAICompatibleEmbedder({ baseURL: 'not a url', model: '', dimension: 0 }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 3,
    );
  });
});
