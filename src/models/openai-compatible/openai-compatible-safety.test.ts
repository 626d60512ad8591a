/**
 * The OpenAI-compatible provider against a real HTTP server (testing.ts): aborts (caller signal, timeout, hung
 * server), credentials (the key never reaches an error), and construction (options validated with every
 * problem listed). The success path and error mapping: openai-compatible-provider.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { CancelledError, InvalidInputError, ProviderError, TimeoutError } from '../../core/index.ts';
import { OpenAICompatibleProvider } from './index.ts';
import { API_KEY, baseRequest, completion, json, rejection, useFakeOpenAIServer } from './testing.ts';

const fake = useFakeOpenAIServer();
/**
 * Only a guard against a hang (a test that waits on an event that never comes); the tests wait on events
 * (the request reaching the server, the abort, the hang-up), never on wall-clock delays, so load cannot fail them.
 */
const HANG_GUARD_MS = 60_000;

describe('OpenAICompatibleProvider: aborts', () => {
  /**
   * A server that accepts the request and never answers; `arrived` resolves once the request reached it, `closed`
   * when the client hangs up. Tests abort on `arrived` (an event), not after a wall-clock delay: a 50 ms timer
   * could fire before the request got to the server on a loaded machine, and then nothing would ever close.
   */
  function neverAnswer(): { arrived: Promise<void>; closed: Promise<void> } {
    let markArrived: () => void = () => {};
    let markClosed: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      markArrived = resolve;
    });
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    fake.handler = (_request, res) => {
      fake.hanging.push(res);
      res.on('close', () => markClosed());
      markArrived();
    };
    return { arrived, closed };
  }

  /** Starts the call and tracks whether it has settled (so a test can assert it was still pending before the abort). */
  function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    return { promise: tracked, settled: () => done };
  }

  it(
    'a TimeoutError abort reason rejects with that TimeoutError, quickly, and closes the connection',
    { timeout: HANG_GUARD_MS },
    async () => {
      const { arrived, closed } = neverAnswer();
      const controller = new AbortController();
      const reason = new TimeoutError('Call timed out after 50ms.');
      const call = track(rejection(fake.provider().doGenerate({ ...baseRequest, abortSignal: controller.signal })));
      // Abort once the server holds the request (an event, not a timer), after checking nothing settled before it.
      await arrived;
      assert.equal(call.settled(), false, 'rejected before the abort');
      controller.abort(reason);
      const error = await call.promise;
      assert.ok(error instanceof TimeoutError);
      assert.equal(error, reason);
      assert.equal(error.code, 'TIMEOUT');
      assert.equal(fake.seen.length, 1, 'the request reached the server');
      await closed;
    },
  );

  it('a CancelledError abort reason rejects with that CancelledError', { timeout: HANG_GUARD_MS }, async () => {
    const { arrived, closed } = neverAnswer();
    const controller = new AbortController();
    const reason = new CancelledError('User pressed Ctrl-C.');
    const call = track(rejection(fake.provider().doGenerate({ ...baseRequest, abortSignal: controller.signal })));
    await arrived;
    assert.equal(call.settled(), false, 'rejected before the abort');
    controller.abort(reason);
    const error = await call.promise;
    assert.ok(error instanceof CancelledError);
    assert.equal(error, reason);
    assert.equal(error.code, 'CANCELLED');
    assert.equal(error.isRetryable, false);
    await closed;
  });

  it('AbortSignal.timeout and a reason-less abort map to TimeoutError and CancelledError', { timeout: HANG_GUARD_MS }, async () => {
    // What AbortSignal.timeout() aborts with (a DOMException named TimeoutError), given once the request is at
    // the server: a real 50 ms AbortSignal.timeout could fire before the request left on a loaded machine, and
    // its request could then reach the server during the next test.
    const first = neverAnswer();
    const timeoutController = new AbortController();
    const timing = rejection(fake.provider().doGenerate({ ...baseRequest, abortSignal: timeoutController.signal }));
    await first.arrived;
    timeoutController.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    const timedOut = await timing;
    assert.ok(timedOut instanceof TimeoutError);
    assert.equal(timedOut.code, 'TIMEOUT');
    await first.closed;

    const second = neverAnswer();
    const controller = new AbortController();
    const call = rejection(fake.provider().doGenerate({ ...baseRequest, abortSignal: controller.signal }));
    await second.arrived;
    controller.abort();
    const cancelled = await call;
    assert.ok(cancelled instanceof CancelledError);
    assert.equal(cancelled.code, 'CANCELLED');
    await second.closed;
    assert.equal(fake.seen.length, 2, 'each call reached the server once');
  });

  it('an already-aborted signal rejects without sending anything', async () => {
    fake.handler = (_request, res) => json(res, 200, completion('should not be reached'));
    const reason = new CancelledError('Cancelled before start.');
    const error = await rejection(fake.provider().doGenerate({ ...baseRequest, abortSignal: AbortSignal.abort(reason) }));
    assert.equal(error, reason);
    assert.equal(fake.seen.length, 0);
  });

  it('honours an abort even when a custom fetch ignores its signal (and leaves no timer behind)', async () => {
    const controller = new AbortController();
    const reason = new TimeoutError('Call timed out after 50ms.');
    // Aborted once the provider is stuck inside the fetch (an event), not after a wall-clock delay.
    const stuckFetch: typeof fetch = () => {
      queueMicrotask(() => controller.abort(reason));
      return new Promise<Response>(() => {});
    };
    const error = await rejection(fake.provider({ fetch: stuckFetch }).doGenerate({ ...baseRequest, abortSignal: controller.signal }));
    assert.equal(error, reason);
    assert.equal(fake.seen.length, 0, 'the stuck fetch sent nothing');
  });

  it('leaves no abort listener behind on the caller signal', async () => {
    fake.handler = (_request, res) => json(res, 200, completion('ok', { usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      removed++;
      remove(...args);
    };
    for (let call = 0; call < 3; call++) await fake.provider().doGenerate({ ...baseRequest, abortSignal: signal });
    assert.equal(added, 3);
    assert.equal(removed, 3);
  });
});

describe('OpenAICompatibleProvider: credentials', () => {
  it('sends the key as a Bearer header and never puts it in an error', async () => {
    fake.handler = (request, res) =>
      json(res, 401, {
        error: {
          message: `Incorrect API key provided: ${String(request.headers['authorization'])}`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      });
    const error = await rejection(fake.provider().doGenerate(baseRequest));
    assert.equal(fake.seen[0]!.headers['authorization'], `Bearer ${API_KEY}`);
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
    fake.handler = (request, res) => json(res, 500, { detail: `failed for ${String(request.headers['authorization'])}` });
    const serverError = await rejection(fake.provider().doGenerate(baseRequest));
    assert.ok(serverError instanceof ProviderError);
    assert.equal(serverError.status, 500);
    assert.match(serverError.message, /failed for Bearer \[REDACTED\]/);
    assert.equal(inspect(serverError, { depth: 10 }).includes(API_KEY), false);

    const refused = await rejection(
      new OpenAICompatibleProvider({ baseURL: 'http://127.0.0.1:1/v1', modelId: 'm', apiKey: API_KEY }).doGenerate(baseRequest),
    );
    assert.ok(refused instanceof ProviderError);
    assert.equal(inspect(refused, { depth: 10 }).includes(API_KEY), false);
  });
});

describe('OpenAICompatibleProvider: construction', () => {
  it('declares spec v1 and its ids', () => {
    const instance = fake.provider();
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
    assert.throws(
      () => new OpenAICompatibleProvider({ baseURL: 'http://user:pw@localhost/v1', modelId: 'm' }),
      /must not contain credentials/,
    );
  });
});
