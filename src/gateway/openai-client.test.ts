/**
 * The gateway through the official `openai` client: what an application pointed at `${url}/v1` sees — answers,
 * usage that matches the journal, streams, and errors raised as the client's own classes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { AuthenticationError, NotFoundError, RateLimitError, UnprocessableEntityError } from 'openai';
import type { ApiKey } from './keys.ts';
import { startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const QUESTION = [{ role: 'user' as const, content: 'What is 17*23?' }];

interface ThicketExtension {
  run_id: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number; usd: number; calls: number };
  new_usage: { calls: number };
  status: string;
}

/** The totals of a run's journaled calls. */
function journaledTotals(test: TestGateway, runId: string): { input: number; output: number; calls: number } {
  const details = test.thicket.runs.get(runId);
  assert.ok(details, `run ${runId} is in the journal`);
  return {
    input: details.calls.reduce((sum, call) => sum + call.inputTokens, 0),
    output: details.calls.reduce((sum, call) => sum + call.outputTokens, 0),
    calls: details.calls.length,
  };
}

describe('the gateway through the openai client', () => {
  let test: TestGateway;
  let client: OpenAI;
  let key: ApiKey;

  before(async () => {
    test = await startTestGateway();
    const created = test.running.gateway.context.keys.create({ name: 'app' });
    key = created.key;
    client = new OpenAI({ apiKey: created.token, baseURL: `${test.url}/v1`, maxRetries: 0 });
  });
  after(() => test.close());

  it('answers a completion whose usage is the journal’s', async () => {
    const completion = await client.chat.completions.create({ model: 'vote@sim:small', messages: QUESTION });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0]!.message.content, '391');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    const extension = (completion as unknown as { thicket: ThicketExtension }).thicket;
    const usage = completion.usage!;
    assert.equal(usage.prompt_tokens, extension.usage.inputTokens);
    assert.equal(usage.completion_tokens, extension.usage.outputTokens);
    assert.equal(usage.total_tokens, extension.usage.totalTokens);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    // vote fans out: several calls, each journaled once, summing to what the response reports.
    const journaled = journaledTotals(test, extension.run_id);
    assert.ok(journaled.calls > 1, `vote made ${journaled.calls} calls`);
    assert.deepEqual(journaled, { input: usage.prompt_tokens, output: usage.completion_tokens, calls: extension.usage.calls });
    assert.equal(test.thicket.runs.get(extension.run_id)!.run.owner, key.id);
    assert.equal(test.thicket.runs.get(extension.run_id)!.run.status, 'ok');
  });

  it('answers n choices as n runs whose usage adds up', async () => {
    const completion = await client.chat.completions.create({
      model: 'single@sim:small',
      messages: QUESTION,
      n: 2,
      thicket: { runId: 'two-choices' },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.deepEqual(
      completion.choices.map((choice) => [choice.index, choice.message.content]),
      [
        [0, '391'],
        [1, '391'],
      ],
    );
    const extension = (completion as unknown as { thicket: ThicketExtension & { run_ids: string[] } }).thicket;
    assert.deepEqual(extension.run_ids, ['two-choices.0', 'two-choices.1']);
    const journaled = extension.run_ids.map((runId) => journaledTotals(test, runId));
    assert.equal(completion.usage!.prompt_tokens, journaled[0]!.input + journaled[1]!.input);
    assert.equal(completion.usage!.completion_tokens, journaled[0]!.output + journaled[1]!.output);
    assert.equal(extension.usage.calls, 2);
  });

  it('streams the answer, then the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'single@sim:small',
      messages: QUESTION,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let usageChunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let extension: ThicketExtension | undefined;
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const choice of chunk.choices) {
        content += choice.delta.content ?? '';
        if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) {
        usageChunks++;
        assert.equal(chunk.choices.length, 0, 'the usage chunk has no choices');
        usage = chunk.usage;
        extension = (chunk as unknown as { thicket: ThicketExtension }).thicket;
      }
    }
    assert.equal(content, '391');
    assert.deepEqual(finishReasons, ['stop']);
    assert.equal(usageChunks, 1);
    assert.ok(usage && extension);
    assert.equal(usage.total_tokens, extension.usage.totalTokens);
    const journaled = journaledTotals(test, extension.run_id);
    assert.deepEqual(journaled, { input: usage.prompt_tokens, output: usage.completion_tokens, calls: 1 });
  });

  it('raises AuthenticationError for an unknown key', async () => {
    const stranger = new OpenAI({ apiKey: 'thk_000000000000_' + 'x'.repeat(43), baseURL: `${test.url}/v1`, maxRetries: 0 });
    await assert.rejects(stranger.chat.completions.create({ model: 'single@sim:small', messages: QUESTION }), (error: unknown) => {
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      assert.equal(error.type, 'authentication_error');
      return true;
    });
  });

  it('raises NotFoundError for an unknown model', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'nope@sim:small', messages: QUESTION }), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'model_not_found');
      assert.equal(error.param, 'model');
      return true;
    });
  });

  it('raises UnprocessableEntityError listing every problem of an invalid body', async () => {
    const request = {
      model: 'single@sim:small',
      messages: QUESTION,
      n: 99,
      thicket: { budget: { tokens: -5 } },
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    await assert.rejects(client.chat.completions.create(request), (error: unknown) => {
      assert.ok(error instanceof UnprocessableEntityError);
      assert.equal(error.status, 422);
      assert.equal(error.code, 'invalid_request');
      const issues = (error.error as { issues?: Array<{ path: string; message: string }> }).issues ?? [];
      assert.deepEqual(issues.map((issue) => issue.path).sort(), ['n', 'thicket.budget.tokens']);
      return true;
    });
    // Nothing was started for it.
    assert.equal(test.thicket.runs.list({ owner: key.id, limit: 100 }).length, 4);
  });

  it('raises RateLimitError (insufficient_quota) once a key’s budget is spent', async () => {
    const { token, key: limited } = test.running.gateway.context.keys.create({ name: 'one-call', settings: { budget: { calls: 1 } } });
    const limitedClient = new OpenAI({ apiKey: token, baseURL: `${test.url}/v1`, maxRetries: 0 });
    const first = await limitedClient.chat.completions.create({ model: 'single@sim:small', messages: QUESTION });
    assert.equal(first.choices[0]!.message.content, '391');
    await assert.rejects(limitedClient.chat.completions.create({ model: 'single@sim:small', messages: QUESTION }), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.code, 'BUDGET_EXHAUSTED');
      assert.equal(error.type, 'insufficient_quota');
      assert.equal(error.param, 'key.budget.calls');
      return true;
    });
    // Refused before anything was sent: one run, one call.
    const runs = test.thicket.runs.list({ owner: limited.id, limit: 100 });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.totals.calls, 1);
    assert.equal(test.running.gateway.context.budgets.spend(limited).spent.calls, 1);
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      assert.equal(model.object, 'model');
      assert.equal(model.owned_by, 'thicket');
      ids.push(model.id);
    }
    for (const id of ['thicket/auto', 'thicket/vote', 'sim:small', 'sim:large', 'vote@sim:small', 'single@sim:large'])
      assert.ok(ids.includes(id), `${id} is listed`);
    assert.equal(new Set(ids).size, ids.length, 'no id twice');
  });
});
