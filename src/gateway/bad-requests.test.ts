/**
 * Requests the gateway refuses, each with its status and an OpenAI-shaped error body (`error.message`,
 * `type`, `param`, `code`), and none of them starting a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatBody, openAIError, postJson, startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

describe('bad requests', () => {
  let test: TestGateway;
  let chatUrl: string;
  let token: string;

  before(async () => {
    test = await startTestGateway();
    chatUrl = `${test.url}/v1/chat/completions`;
    token = test.running.gateway.context.keys.create({ name: 'client' }).token;
  });
  after(() => test.close());

  /** Sends a chat request and returns its error, checking the status and the OpenAI shape. */
  async function refused(
    status: number,
    body: unknown,
    options: Parameters<typeof postJson>[2] = { token },
  ): Promise<ReturnType<typeof openAIError> & { headers: Headers }> {
    const response = await postJson(chatUrl, body, options);
    assert.equal(response.status, status, JSON.stringify(response.body));
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    return { ...openAIError(response.body), headers: response.headers };
  }

  it('malformed JSON: 400 invalid_json', async () => {
    const error = await refused(400, undefined, { token, raw: '{"model": "single@sim:small", "messages": [' });
    assert.equal(error.code, 'invalid_json');
    assert.equal(error.type, 'invalid_request_error');
  });

  it('a body over 1 MB: 413 body_too_large', async () => {
    const error = await refused(413, chatBody('single@sim:small', { user: 'x', padding: 'y'.repeat(1_100_000) }));
    assert.equal(error.code, 'body_too_large');
    assert.equal(error.type, 'invalid_request_error');
    // The unread rest of the body ends the connection: the answer says so, and the client's next request (on a
    // fresh socket) goes through instead of failing on the closing one.
    assert.equal(error.headers.get('connection'), 'close');
    const next = await postJson(chatUrl, chatBody('single@sim:small'), {
      token: test.running.gateway.context.keys.create({ name: 'after-413' }).token,
    });
    assert.equal(next.status, 200, JSON.stringify(next.body));
  });

  it('an unknown strategy: 404 model_not_found', async () => {
    const error = await refused(404, chatBody('nope@sim:small'));
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.type, 'not_found_error');
    assert.equal(error.param, 'model');
  });

  it('a negative budget: 422 naming the field', async () => {
    const error = await refused(422, chatBody('single@sim:small', { thicket: { budget: { usd: -1, calls: 0 } } }));
    assert.equal(error.code, 'invalid_request');
    assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['thicket.budget.calls', 'thicket.budget.usd']);
    assert.equal(error.param, error.issues?.[0]?.path);
  });

  it('an unknown optimize objective or a non-auto strategy with it: 422 naming the field', async () => {
    const unknown = await refused(422, chatBody('auto@sim:small', { thicket: { optimize: 'karma' } }));
    assert.deepEqual(
      unknown.issues?.map((issue) => issue.path),
      ['thicket.optimize'],
    );
    const notAuto = await refused(422, chatBody('single@sim:small', { thicket: { optimize: 'usd' } }));
    assert.match(JSON.stringify(notAuto.issues), /optimize.*strategy auto only/);
  });

  it('a negative budget header: 422', async () => {
    const error = await refused(422, chatBody('single@sim:small'), { token, headers: { 'x-thicket-budget-tokens': '-20' } });
    assert.deepEqual(
      error.issues?.map((issue) => issue.path),
      ['header x-thicket-budget-tokens'],
    );
  });

  it('tools: 422, refused rather than ignored', async () => {
    const error = await refused(
      422,
      chatBody('single@sim:small', { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }], tool_choice: 'auto' }),
    );
    assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['tool_choice', 'tools']);
  });

  it('no user message: 422', async () => {
    const error = await refused(422, { model: 'single@sim:small', messages: [{ role: 'system', content: 'Be brief.' }] });
    assert.deepEqual(error.issues, [{ path: 'messages', message: 'must contain a user message' }]);
  });

  it('every schema problem at once: 422 listing each', async () => {
    const error = await refused(422, { model: '', messages: [], n: 99, stream: 'yes' });
    assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['messages', 'model', 'n', 'stream']);
  });

  it('a bad key: 401 invalid_api_key; no key at all: 401 missing_api_key', async () => {
    const bad = await refused(401, chatBody('single@sim:small'), { token: 'thk_nope' });
    assert.equal(bad.code, 'invalid_api_key');
    assert.equal(bad.type, 'authentication_error');
    const missing = await refused(401, chatBody('single@sim:small'), {});
    assert.equal(missing.code, 'missing_api_key');
  });

  it('a revoked key: 401', async () => {
    const keys = test.running.gateway.context.keys;
    const { key, token: revokedToken } = keys.create({ name: 'gone' });
    assert.ok(keys.revoke(key.id));
    const error = await refused(401, chatBody('single@sim:small'), { token: revokedToken });
    assert.equal(error.code, 'invalid_api_key');
  });

  it('a client key on an admin route: 403 admin_required', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/keys', undefined],
      ['POST', '/v1/keys', { name: 'sneaky', role: 'admin' }],
    ] as const) {
      const response = await fetch(`${test.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.equal(response.status, 403, `${method} ${path}`);
      const error = openAIError((await response.json()) as Record<string, unknown>);
      assert.equal(error.code, 'admin_required');
      assert.equal(error.type, 'permission_error');
    }
    assert.ok(!test.running.gateway.context.keys.list().some((key) => key.name === 'sneaky'));
  });

  it('a key limited to sim:large calling sim:small: 403 model_not_allowed', async () => {
    const limited = test.running.gateway.context.keys.create({ name: 'large-only', settings: { models: ['sim:large'] } });
    const error = await refused(403, chatBody('single@sim:small'), { token: limited.token });
    assert.equal(error.code, 'model_not_allowed');
    assert.equal(error.type, 'permission_error');
    assert.equal(error.param, 'model');
    const bare = await refused(403, chatBody('sim:small'), { token: limited.token });
    assert.equal(bare.code, 'model_not_allowed');
    // Its model list shows only what it may run.
    const models = (await (await fetch(`${test.url}/v1/models`, { headers: { authorization: `Bearer ${limited.token}` } })).json()) as {
      data: Array<{ id: string }>;
    };
    assert.ok(models.data.some((model) => model.id === 'vote@sim:large'));
    assert.ok(!models.data.some((model) => model.id.endsWith('sim:small')));
  });

  it('over the rpm limit: 429 rate_limit_exceeded with retry-after', async () => {
    const limited = test.running.gateway.context.keys.create({ name: 'slow', settings: { rpm: 2 } });
    for (let index = 0; index < 2; index++) {
      const response = await postJson(chatUrl, chatBody('single@sim:small'), { token: limited.token });
      assert.equal(response.status, 200);
    }
    const error = await refused(429, chatBody('single@sim:small'), { token: limited.token });
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.equal(error.type, 'rate_limit_error');
    const retryAfter = Number(error.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(test.thicket.runs.list({ owner: limited.key.id, limit: 100 }).length, 2);
  });

  it('an unknown route: 404 in the same shape', async () => {
    const response = await fetch(`${test.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 404);
    assert.equal(openAIError((await response.json()) as Record<string, unknown>).code, 'not_found');
  });

  it('none of the refused requests started a run', () => {
    const client = test.running.gateway.context.keys.list().find((key) => key.name === 'client')!;
    assert.equal(test.thicket.runs.list({ owner: client.id, limit: 100 }).length, 0);
  });
});
