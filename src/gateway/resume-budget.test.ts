/**
 * Repeating a run id resumes the run, and what it already spent was counted by its key when it was paid: a
 * finished run repeated after its key ran dry replays for free (200, nothing new sent), while a new run on the
 * same dry key is refused before anything is sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, openAIError, postJson, startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

describe('resuming a run under its key budget', () => {
  let test: TestGateway;
  before(async () => {
    test = await startTestGateway();
  });
  after(() => test.close());

  it('a finished run replays for free on a key with nothing left; a new run is refused', async () => {
    const { key, token } = test.running.gateway.context.keys.create({ name: 'dry', settings: { budget: { totalTokens: 3000 } } });
    const url = `${test.url}/v1/chat/completions`;
    const first = await postJson(url, chatBody('vote@sim:small', { thicket: { samples: 3, runId: 'kept' } }), { token });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const firstUsage = (first.body['thicket'] as { usage: { totalTokens: number; calls: number } }).usage;
    // Spend the rest of the key on other runs until it is refused.
    for (let index = 0; index < 20; index++) {
      const other = await postJson(url, chatBody('single@sim:small'), { token });
      if (other.status === 429) break;
    }
    const spend = test.running.gateway.context.budgets.spend(key);
    const fresh = await postJson(url, chatBody('single@sim:small'), { token });
    assert.equal(fresh.status, 429, `the key has ${JSON.stringify(spend.remaining)} left`);
    assert.equal(openAIError(fresh.body).type, 'insufficient_quota');

    const again = await postJson(url, chatBody('vote@sim:small', { thicket: { samples: 3, runId: 'kept' } }), { token });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const extension = again.body['thicket'] as {
      resumed: boolean;
      new_usage: { calls: number };
      usage: { totalTokens: number };
      replayed_calls: number;
    };
    assert.equal(extension.resumed, true);
    assert.equal(extension.new_usage.calls, 0, 'nothing new was sent');
    assert.equal(extension.replayed_calls, firstUsage.calls);
    assert.equal(extension.usage.totalTokens, firstUsage.totalTokens);
    assert.deepEqual(test.running.gateway.context.budgets.spend(key).spent, spend.spent, 'the key paid nothing more');
  });
});
