/**
 * The OpenAI-compatible provider against a real HTTP server (testing.ts: node:http on 127.0.0.1, ephemeral port)
 * imitating /v1/chat/completions — the success path, HTTP errors, broken responses and connections. No mocks of
 * the openai client: every request goes over a real socket. Aborts, credentials and construction:
 * openai-compatible-safety.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContextOverflowError, ProviderError, countMessageTokens, countTokens } from '../../core/index.ts';
import { OpenAICompatibleProvider, mapFinishReason, parseRetryAfterMs } from './index.ts';
import { API_KEY, baseRequest, completion, json, rejection, useFakeOpenAIServer } from './testing.ts';

const fake = useFakeOpenAIServer();

describe('OpenAICompatibleProvider: success path', () => {
  it('maps the request body and reads reported usage', async () => {
    const body = completion('4', { usage: { prompt_tokens: 23, completion_tokens: 1, total_tokens: 24 } });
    fake.handler = (_request, res) => json(res, 200, body);
    const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'], additionalProperties: false };

    const response = await fake.provider({ headers: { 'x-team': 'thicket' } }).doGenerate({
      ...baseRequest,
      temperature: 0.7,
      topP: 0.9,
      stop: ['\n\n', 'END'],
      seed: 42,
      responseSchema: { name: 'arith answer', schema },
    });

    assert.equal(fake.seen.length, 1);
    const sent = fake.seen[0]!;
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
    fake.handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    await fake.provider({ useMaxCompletionTokens: true }).doGenerate({ ...baseRequest, stop: [] });
    const sent = fake.seen[0]!.body;
    assert.equal(sent['max_completion_tokens'], 64);
    for (const field of ['max_tokens', 'temperature', 'top_p', 'stop', 'seed', 'response_format'])
      assert.equal(field in sent, false, field);
  });

  it('sends no Authorization header when no apiKey is configured', async () => {
    fake.handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    await new OpenAICompatibleProvider({ baseURL: fake.baseURL, modelId: 'test-model' }).doGenerate(baseRequest);
    assert.equal(fake.seen[0]!.headers['authorization'], undefined);
  });

  it('estimates usage with the tokenizer when the server reports none', async () => {
    const text = 'The answer is four, because two plus two makes four.';
    fake.handler = (_request, res) => json(res, 200, completion(text));
    const response = await fake.provider().doGenerate(baseRequest);
    assert.equal(response.text, text);
    assert.equal(response.usageEstimated, true);
    assert.deepEqual(response.usage, { inputTokens: countMessageTokens(baseRequest.messages), outputTokens: countTokens(text) });
    assert.ok(response.usage.inputTokens > 10 && response.usage.outputTokens > 5);
  });

  it('estimates only the missing half of a partial usage block (and treats 0 prompt tokens as unreported)', async () => {
    fake.handler = (_request, res) => json(res, 200, completion('four', { usage: { prompt_tokens: 0, completion_tokens: 3 } }));
    const response = await fake.provider().doGenerate(baseRequest);
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
      fake.handler = (_request, res) => json(res, 200, completion(null, { usage: { prompt_tokens: 9, completion_tokens: 0 } }, wire));
      const response = await fake.provider().doGenerate(baseRequest);
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
    fake.handler = (_request, res) =>
      json(
        res,
        429,
        { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } },
        { 'retry-after': '2' },
      );
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.status, 429);
    assert.equal(error.isRetryable, true);
    assert.equal(error.retryAfterMs, 2000);
    assert.match(error.message, /HTTP 429/);
    assert.match(error.message, /Rate limit reached/);
    assert.equal(fake.seen.length, 1, 'the openai client must not retry on its own');
  });

  it('429 with retry-after-ms takes precedence over retry-after', async () => {
    fake.handler = (_request, res) => json(res, 429, { error: { message: 'slow down' } }, { 'retry-after-ms': '1500', 'retry-after': '9' });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.retryAfterMs, 1500);
    assert.equal(fake.seen.length, 1);
  });

  it('429 insufficient_quota is not retryable (waiting does not refill an account)', async () => {
    fake.handler = (_request, res) =>
      json(res, 429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
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
    fake.handler = (_request, res) => json(res, 500, body);
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, 500);
    assert.equal(error.isRetryable, true);
    assert.equal(error.retryAfterMs, undefined);
    assert.deepEqual(JSON.parse(error.responseBody ?? ''), body);
    assert.match(error.message, /HTTP 500/);
    assert.match(error.message, /CUDA out of memory/);
    assert.equal(fake.seen.length, 1);
  });

  it('400 → non-retryable PROVIDER_ERROR', async () => {
    fake.handler = (_request, res) =>
      json(res, 400, {
        error: { message: "Unsupported parameter: 'top_p'", type: 'invalid_request_error', code: 'unsupported_parameter' },
      });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, 400);
    assert.equal(error.isRetryable, false);
    assert.match(error.message, /Unsupported parameter/);
    assert.match(error.message, /unsupported_parameter/);
  });

  it('keeps the message of error bodies without an `error` wrapper (older vLLM) and of plain-text bodies', async () => {
    fake.handler = (_request, res) =>
      json(res, 404, { object: 'error', message: 'The model `nope` does not exist.', type: 'NotFoundError', code: 404 });
    const notFound = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(notFound instanceof ProviderError);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.isRetryable, false);
    assert.match(notFound.message, /does not exist/);

    fake.handler = (_request, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    };
    const badGateway = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(badGateway instanceof ProviderError);
    assert.equal(badGateway.status, 502);
    assert.equal(badGateway.isRetryable, true);
    assert.equal(badGateway.responseBody, '<html>Bad Gateway</html>');
  });

  // Documented behaviour: a context-length 400 becomes ContextOverflowError (code CONTEXT_OVERFLOW) when the
  // server's message or body names the context window; otherwise a non-retryable ProviderError (PROVIDER_ERROR)
  // whose message starts with "Context length exceeded". Neither is retryable: the same prompt overflows again.
  it('400 context length (OpenAI/vLLM message with numbers) → ContextOverflowError, non-retryable', async () => {
    fake.handler = (_request, res) =>
      json(res, 400, {
        error: {
          message:
            "This model's maximum context length is 8192 tokens. However, you requested 9100 tokens (9000 in the messages, 100 in the completion). " +
            'Please reduce the length of the messages or completion.',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ContextOverflowError);
    assert.equal(error.code, 'CONTEXT_OVERFLOW');
    assert.equal(error.isRetryable, false);
    assert.equal(error.contextWindow, 8192);
    assert.equal(error.promptTokens, 9000);
    assert.equal(error.model, 'test-model');
  });

  it('400 context overflow from llama.cpp (n_ctx / n_prompt_tokens fields) → ContextOverflowError', async () => {
    fake.handler = (_request, res) =>
      json(res, 400, {
        error: {
          code: 400,
          message: 'the request exceeds the available context size, try increasing it',
          type: 'exceed_context_size_error',
          n_prompt_tokens: 5000,
          n_ctx: 4096,
        },
      });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ContextOverflowError);
    assert.equal(error.contextWindow, 4096);
    assert.equal(error.promptTokens, 5000);
  });

  it('400 context_length_exceeded without numbers → non-retryable PROVIDER_ERROR saying so', async () => {
    fake.handler = (_request, res) =>
      json(res, 400, {
        error: { message: 'Input is too long for this model.', type: 'invalid_request_error', code: 'context_length_exceeded' },
      });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
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
    fake.handler = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    };
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.isRetryable, true);
    assert.equal(error.status, 200);
    assert.match(error.message, /malformed response: the body is not valid JSON/);
    assert.equal(error.responseBody, '{not json');
  });

  it('malformed body with a non-JSON content type → the same error', async () => {
    fake.handler = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{not json');
    };
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(error instanceof ProviderError);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, /not valid JSON/);
  });

  it('a JSON body without choices → retryable ProviderError; an HTTP-200 error object keeps its message', async () => {
    fake.handler = (_request, res) => json(res, 200, { id: 'x', object: 'chat.completion' });
    const noChoices = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(noChoices instanceof ProviderError);
    assert.equal(noChoices.isRetryable, true);
    assert.match(noChoices.message, /has no choices/);

    fake.handler = (_request, res) => json(res, 200, { error: { message: 'upstream provider overloaded', code: 502 } });
    const gateway = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(gateway instanceof ProviderError);
    assert.equal(gateway.isRetryable, true);
    assert.match(gateway.message, /upstream provider overloaded/);
  });

  it('connection refused → retryable ProviderError without status', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await rejection(
      new OpenAICompatibleProvider({ baseURL: `http://127.0.0.1:${port}/v1`, modelId: 'm', apiKey: API_KEY }).doGenerate(baseRequest),
    );
    assert.ok(error instanceof ProviderError);
    assert.equal(error.code, 'PROVIDER_ERROR');
    assert.equal(error.status, undefined);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, new RegExp(`Could not reach http://127\\.0\\.0\\.1:${port}/v1`));
    assert.match(error.message, /ECONNREFUSED/);
  });
});
