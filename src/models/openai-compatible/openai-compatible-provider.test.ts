/**
 * The OpenAI-compatible provider against a real HTTP server (node:http on 127.0.0.1, ephemeral port) that
 * imitates /v1/chat/completions. No mocks of the openai client: every request goes over a real socket.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  CancelledError,
  ContextOverflowError,
  InvalidInputError,
  ProviderError,
  ThicketError,
  TimeoutError,
  countMessageTokens,
  countTokens,
} from '../../core/index.ts';
import type { GenerateRequest } from '../spec.ts';
import { OpenAICompatibleProvider, mapFinishReason, parseRetryAfterMs } from './index.ts';

interface SeenRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

type Handler = (request: SeenRequest, res: ServerResponse, req: IncomingMessage) => void;

const API_KEY = 'sk-thicket-test-SECRET-0123456789';

let server: Server;
let baseURL: string;
let handler: Handler = (_request, res) => res.end();
const seen: SeenRequest[] = [];
/** Responses a test left hanging; ended after each test so no socket outlives it. */
const hanging: ServerResponse[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: SeenRequest = { method: req.method, url: req.url, headers: req.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      seen.push(request);
      handler(request, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(() => {
  seen.length = 0;
  for (const res of hanging.splice(0)) res.destroy();
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function completion(content: string | null, extra: Record<string, unknown> = {}, finishReason: string | null = 'stop'): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...extra,
  };
}

function provider(options: { apiKey?: string; useMaxCompletionTokens?: boolean; headers?: Record<string, string>; fetch?: typeof fetch } = {}): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({ baseURL, modelId: 'test-model', apiKey: API_KEY, ...options });
}

const baseRequest: GenerateRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is 2 + 2?' },
  ],
  maxOutputTokens: 64,
};

/** Rejection of `promise`, asserted to be a ThicketError. */
async function rejection(promise: Promise<unknown>): Promise<ThicketError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(ThicketError.isInstance(error), `expected a ThicketError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected the call to reject');
}

describe('OpenAICompatibleProvider: success path', () => {
  it('maps the request body and reads reported usage', async () => {
    const body = completion('4', { usage: { prompt_tokens: 23, completion_tokens: 1, total_tokens: 24 } });
    handler = (_request, res) => json(res, 200, body);
    const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'], additionalProperties: false };

    const response = await provider({ headers: { 'x-team': 'thicket' } }).doGenerate({
      ...baseRequest,
      temperature: 0.7,
      topP: 0.9,
      stop: ['\n\n', 'END'],
      seed: 42,
      responseSchema: { name: 'arith answer', schema },
    });

    assert.equal(seen.length, 1);
    const sent = seen[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/v1/chat/completions');
    assert.equal(sent.headers['authorization'], `Bearer ${API_KEY}`);
    assert.equal(sent.headers['x-team'], 'thicket');
    assert.equal(sent.body['model'], 'test-model');
    assert.deepEqual(sent.body['messages'], baseRequest.messages);
    assert.equal(sent.body['max_tokens'], 64);
    assert.equal('max_completion_tokens' in sent.body, false);
    assert.equal(sent.body['temperature'], 0.7);
    assert.equal(sent.body['top_p'], 0.9);
    assert.deepEqual(sent.body['stop'], ['\n\n', 'END']);
    assert.equal(sent.body['seed'], 42);
    assert.equal(sent.body['stream'], false);
    // json_schema names must match ^[a-zA-Z0-9_-]{1,64}$ for OpenAI: the space becomes an underscore.
    assert.deepEqual(sent.body['response_format'], { type: 'json_schema', json_schema: { name: 'arith_answer', schema, strict: true } });

    assert.equal(response.text, '4');
    assert.deepEqual(response.usage, { inputTokens: 23, outputTokens: 1 });
    assert.equal(response.usageEstimated, false);
    assert.equal(response.finishReason, 'stop');
    assert.equal(response.simulated, false);
    assert.equal(typeof response.latencyMs, 'number');
    assert.ok(response.latencyMs >= 0 && response.latencyMs < 10_000);
    assert.deepEqual(response.raw, body);
    assert.equal(response.object, undefined, 'the provider must not parse JSON output');
  });

  it('omits optional sampling fields the request does not set, and can send max_completion_tokens', async () => {
    handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    await provider({ useMaxCompletionTokens: true }).doGenerate({ ...baseRequest, stop: [] });
    const sent = seen[0]!.body;
    assert.equal(sent['max_completion_tokens'], 64);
    for (const field of ['max_tokens', 'temperature', 'top_p', 'stop', 'seed', 'response_format']) assert.equal(field in sent, false, field);
  });

  it('sends no Authorization header when no apiKey is configured', async () => {
    handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    await new OpenAICompatibleProvider({ baseURL, modelId: 'test-model' }).doGenerate(baseRequest);
    assert.equal(seen[0]!.headers['authorization'], undefined);
  });

  it('estimates usage with the tokenizer when the server reports none', async () => {
    const text = 'The answer is four, because two plus two makes four.';
    handler = (_request, res) => json(res, 200, completion(text));
    const response = await provider().doGenerate(baseRequest);
    assert.equal(response.text, text);
    assert.equal(response.usageEstimated, true);
    assert.deepEqual(response.usage, { inputTokens: countMessageTokens(baseRequest.messages), outputTokens: countTokens(text) });
    assert.ok(response.usage.inputTokens > 10 && response.usage.outputTokens > 5);
  });

  it('estimates only the missing half of a partial usage block (and treats 0 prompt tokens as unreported)', async () => {
    handler = (_request, res) => json(res, 200, completion('four', { usage: { prompt_tokens: 0, completion_tokens: 3 } }));
    const response = await provider().doGenerate(baseRequest);
    assert.deepEqual(response.usage, { inputTokens: countMessageTokens(baseRequest.messages), outputTokens: 3 });
    assert.equal(response.usageEstimated, true);
  });

  it('maps finish reasons and a null content', async () => {
    const cases: Array<[string | null, string]> = [
      ['length', 'length'],
      ['content_filter', 'content-filter'],
      ['tool_calls', 'other'],
      [null, 'other'],
    ];
    for (const [wire, expected] of cases) {
      handler = (_request, res) => json(res, 200, completion(null, { usage: { prompt_tokens: 9, completion_tokens: 0 } }, wire));
      const response = await provider().doGenerate(baseRequest);
      assert.equal(response.finishReason, expected, `finish_reason ${String(wire)}`);
      assert.equal(response.text, '');
      assert.deepEqual(response.usage, { inputTokens: 9, outputTokens: 0 });
      assert.equal(response.usageEstimated, false);
    }
    assert.equal(mapFinishReason('stop'), 'stop');
    assert.equal(mapFinishReason('function_call'), 'other');
  });
});

describe('OpenAICompatibleProvider: HTTP errors', () => {
  it('429 with retry-after: 2 → RATE_LIMITED, retryable, retryAfterMs 2000', async () => {
    handler = (_request, res) => json(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '2' });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.status, 429);
    assert.equal(error.isRetryable, true);
    assert.equal(error.retryAfterMs, 2000);
    assert.match(error.message, /HTTP 429/);
    assert.match(error.message, /Rate limit reached/);
    assert.equal(seen.length, 1, 'the openai client must not retry on its own');
  });

  it('429 with retry-after-ms takes precedence over retry-after', async () => {
    handler = (_request, res) => json(res, 429, { error: { message: 'slow down' } }, { 'retry-after-ms': '1500', 'retry-after': '9' });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.retryAfterMs, 1500);
    assert.equal(seen.length, 1);
  });

  it('429 insufficient_quota is not retryable (waiting does not refill an account)', async () => {
    handler = (_request, res) => json(res, 429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.isRetryable, false);
  });

  it('parses retry-after as seconds, HTTP dates and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': '0.5' }), now), 500);
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now), 7000);
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now), 0);
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(parseRetryAfterMs(new Headers(), now), undefined);
    assert.equal(parseRetryAfterMs(undefined, now), undefined);
  });

  it('500 → retryable PROVIDER_ERROR with status and body', async () => {
    const body = { error: { message: 'CUDA out of memory', type: 'InternalServerError' } };
    handler = (_request, res) => json(res, 500, body);
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, 500);
    assert.equal(error.isRetryable, true);
    assert.equal(error.retryAfterMs, undefined);
    assert.deepEqual(JSON.parse(error.responseBody ?? ''), body);
    assert.match(error.message, /HTTP 500/);
    assert.match(error.message, /CUDA out of memory/);
    assert.equal(seen.length, 1);
  });

  it('400 → non-retryable PROVIDER_ERROR', async () => {
    handler = (_request, res) => json(res, 400, { error: { message: "Unsupported parameter: 'top_p'", type: 'invalid_request_error', code: 'unsupported_parameter' } });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, 400);
    assert.equal(error.isRetryable, false);
    assert.match(error.message, /Unsupported parameter/);
    assert.match(error.message, /unsupported_parameter/);
  });

  it('keeps the message of error bodies without an `error` wrapper (older vLLM) and of plain-text bodies', async () => {
    handler = (_request, res) => json(res, 404, { object: 'error', message: 'The model `nope` does not exist.', type: 'NotFoundError', code: 404 });
    const notFound = await rejection(provider().doGenerate(baseRequest));
    assert.ok(notFound instanceof ProviderError);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.isRetryable, false);
    assert.match(notFound.message, /does not exist/);

    handler = (_request, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    };
    const badGateway = await rejection(provider().doGenerate(baseRequest));
    assert.ok(badGateway instanceof ProviderError);
    assert.equal(badGateway.status, 502);
    assert.equal(badGateway.isRetryable, true);
    assert.equal(badGateway.responseBody, '<html>Bad Gateway</html>');
  });

  // Documented behaviour: a context-length 400 becomes ContextOverflowError (code CONTEXT_OVERFLOW) when the
  // server's message or body names the context window; otherwise a non-retryable ProviderError (PROVIDER_ERROR)
  // whose message starts with "Context length exceeded". Neither is retryable: the same prompt overflows again.
  it('400 context length (OpenAI/vLLM message with numbers) → ContextOverflowError, non-retryable', async () => {
    handler = (_request, res) =>
      json(res, 400, {
        error: {
          message: "This model's maximum context length is 8192 tokens. However, you requested 9100 tokens (9000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ContextOverflowError);
    assert.equal(error.code, 'CONTEXT_OVERFLOW');
    assert.equal(error.isRetryable, false);
    assert.equal(error.contextWindow, 8192);
    assert.equal(error.promptTokens, 9000);
    assert.equal(error.model, 'test-model');
  });

  it('400 context overflow from llama.cpp (n_ctx / n_prompt_tokens fields) → ContextOverflowError', async () => {
    handler = (_request, res) =>
      json(res, 400, { error: { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 5000, n_ctx: 4096 } });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ContextOverflowError);
    assert.equal(error.contextWindow, 4096);
    assert.equal(error.promptTokens, 5000);
  });

  it('400 context_length_exceeded without numbers → non-retryable PROVIDER_ERROR saying so', async () => {
    handler = (_request, res) => json(res, 400, { error: { message: 'Input is too long for this model.', type: 'invalid_request_error', code: 'context_length_exceeded' } });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, 400);
    assert.equal(error.isRetryable, false);
    assert.match(error.message, /^Context length exceeded/);
    assert.match(error.message, /Input is too long/);
  });
});

describe('OpenAICompatibleProvider: broken responses and connections', () => {
  it('malformed JSON body → retryable ProviderError with the body attached', async () => {
    handler = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    };
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.isRetryable, true);
    assert.equal(error.status, 200);
    assert.match(error.message, /malformed response: the body is not valid JSON/);
    assert.equal(error.responseBody, '{not json');
  });

  it('malformed body with a non-JSON content type → the same error', async () => {
    handler = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{not json');
    };
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, /not valid JSON/);
  });

  it('a JSON body without choices → retryable ProviderError; an HTTP-200 error object keeps its message', async () => {
    handler = (_request, res) => json(res, 200, { id: 'x', object: 'chat.completion' });
    const noChoices = await rejection(provider().doGenerate(baseRequest));
    assert.ok(noChoices instanceof ProviderError);
    assert.equal(noChoices.isRetryable, true);
    assert.match(noChoices.message, /has no choices/);

    handler = (_request, res) => json(res, 200, { error: { message: 'upstream provider overloaded', code: 502 } });
    const gateway = await rejection(provider().doGenerate(baseRequest));
    assert.ok(gateway instanceof ProviderError);
    assert.equal(gateway.isRetryable, true);
    assert.match(gateway.message, /upstream provider overloaded/);
  });

  it('connection refused → retryable ProviderError without status', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await rejection(new OpenAICompatibleProvider({ baseURL: `http://127.0.0.1:${port}/v1`, modelId: 'm', apiKey: API_KEY }).doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, undefined);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, new RegExp(`Could not reach http://127\\.0\\.0\\.1:${port}/v1`));
    assert.match(error.message, /ECONNREFUSED/);
  });
});

describe('OpenAICompatibleProvider: aborts', () => {
  /** A server that accepts the request and never answers; resolves `closed` when the client hangs up. */
  function neverAnswer(): { closed: Promise<void> } {
    let markClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    handler = (_request, res) => {
      hanging.push(res);
      res.on('close', () => markClosed());
    };
    return { closed };
  }

  async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms}ms`)), ms);
    });
    try {
      return await Promise.race([promise, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('a TimeoutError abort reason rejects with that TimeoutError, quickly, and closes the connection', async () => {
    const { closed } = neverAnswer();
    const controller = new AbortController();
    const reason = new TimeoutError('Call timed out after 50ms.');
    const timer = setTimeout(() => controller.abort(reason), 50);
    const started = performance.now();
    try {
      const error = await rejection(provider().doGenerate({ ...baseRequest, abortSignal: controller.signal }));
      const elapsed = performance.now() - started;
      assert.ok(error instanceof TimeoutError);
      assert.equal(error, reason);
      assert.equal(error.code, 'TIMEOUT');
      assert.ok(elapsed >= 40, `rejected before the abort (${elapsed}ms)`);
      assert.ok(elapsed < 2_000, `took ${elapsed}ms to honour the abort`);
    } finally {
      clearTimeout(timer);
    }
    assert.equal(seen.length, 1, 'the request reached the server');
    await within(closed, 2_000, 'the server seeing the client hang up');
  });

  it('a CancelledError abort reason rejects with that CancelledError', async () => {
    const { closed } = neverAnswer();
    const controller = new AbortController();
    const reason = new CancelledError('User pressed Ctrl-C.');
    const timer = setTimeout(() => controller.abort(reason), 50);
    try {
      const error = await rejection(provider().doGenerate({ ...baseRequest, abortSignal: controller.signal }));
      assert.ok(error instanceof CancelledError);
      assert.equal(error, reason);
      assert.equal(error.code, 'CANCELLED');
      assert.equal(error.isRetryable, false);
    } finally {
      clearTimeout(timer);
    }
    await within(closed, 2_000, 'the server seeing the client hang up');
  });

  it('AbortSignal.timeout and a reason-less abort map to TimeoutError and CancelledError', async () => {
    neverAnswer();
    const timedOut = await rejection(provider().doGenerate({ ...baseRequest, abortSignal: AbortSignal.timeout(50) }));
    assert.ok(timedOut instanceof TimeoutError);
    assert.equal(timedOut.code, 'TIMEOUT');

    neverAnswer();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 50);
    try {
      const cancelled = await rejection(provider().doGenerate({ ...baseRequest, abortSignal: controller.signal }));
      assert.ok(cancelled instanceof CancelledError);
      assert.equal(cancelled.code, 'CANCELLED');
    } finally {
      clearTimeout(timer);
    }
  });

  it('an already-aborted signal rejects without sending anything', async () => {
    handler = (_request, res) => json(res, 200, completion('should not be reached'));
    const reason = new CancelledError('Cancelled before start.');
    const error = await rejection(provider().doGenerate({ ...baseRequest, abortSignal: AbortSignal.abort(reason) }));
    assert.equal(error, reason);
    assert.equal(seen.length, 0);
  });

  it('honours an abort even when a custom fetch ignores its signal (and leaves no timer behind)', async () => {
    const stuckFetch: typeof fetch = () => new Promise<Response>(() => {});
    const controller = new AbortController();
    const reason = new TimeoutError('Call timed out after 50ms.');
    const timer = setTimeout(() => controller.abort(reason), 50);
    try {
      const error = await rejection(provider({ fetch: stuckFetch }).doGenerate({ ...baseRequest, abortSignal: controller.signal }));
      assert.equal(error, reason);
    } finally {
      clearTimeout(timer);
    }
  });

  it('leaves no abort listener behind on the caller signal', async () => {
    handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      removed++;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    for (let call = 0; call < 3; call++) await provider().doGenerate({ ...baseRequest, abortSignal: signal });
    assert.equal(added, 3);
    assert.equal(removed, 3);
  });
});

describe('OpenAICompatibleProvider: credentials', () => {
  it('sends the key as a Bearer header and never puts it in an error', async () => {
    handler = (request, res) =>
      json(res, 401, { error: { message: `Incorrect API key provided: ${String(request.headers['authorization'])}`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    const error = await rejection(provider().doGenerate(baseRequest));
    assert.equal(seen[0]!.headers['authorization'], `Bearer ${API_KEY}`);
    assert.ok(error instanceof ProviderError);
    assert.equal(error.status, 401);
    assert.equal(error.isRetryable, false);
    assert.match(error.message, /Incorrect API key provided: Bearer \[REDACTED\]/);
    assert.equal(error.message.includes(API_KEY), false);
    assert.equal((error.responseBody ?? '').includes(API_KEY), false);
    assert.equal(JSON.stringify(error).includes(API_KEY), false);
    assert.equal(inspect(error, { depth: 10 }).includes(API_KEY), false);
  });

  it('keeps the key out of connection errors and 500 messages too', async () => {
    handler = (request, res) => json(res, 500, { detail: `failed for ${String(request.headers['authorization'])}` });
    const serverError = await rejection(provider().doGenerate(baseRequest));
    assert.ok(serverError instanceof ProviderError);
    assert.equal(serverError.status, 500);
    assert.match(serverError.message, /failed for Bearer \[REDACTED\]/);
    assert.equal(inspect(serverError, { depth: 10 }).includes(API_KEY), false);

    const refused = await rejection(new OpenAICompatibleProvider({ baseURL: 'http://127.0.0.1:1/v1', modelId: 'm', apiKey: API_KEY }).doGenerate(baseRequest));
    assert.ok(refused instanceof ProviderError);
    assert.equal(inspect(refused, { depth: 10 }).includes(API_KEY), false);
  });
});

describe('OpenAICompatibleProvider: construction', () => {
  it('declares spec v1 and its ids', () => {
    const instance = provider();
    assert.equal(instance.specificationVersion, 'thicket.v1');
    assert.equal(instance.providerId, 'openai-compatible');
    assert.equal(instance.modelId, 'test-model');
  });

  it('rejects bad options with INVALID_CONFIG, listing every problem', () => {
    assert.throws(
      () => new OpenAICompatibleProvider({ baseURL: 'localhost:11434', modelId: '' }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.code, 'INVALID_CONFIG');
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['baseURL', 'modelId'],
        );
        return true;
      },
    );
    assert.throws(() => new OpenAICompatibleProvider({ baseURL: 'http://user:pw@localhost/v1', modelId: 'm' }), /must not contain credentials/);
  });
});
