/**
 * Runs over REST: started in the background (the console's playground), followed live over SSE until
 * `run-finished`, listed with filters (a client key sees only its own), read back with calls and trace, cancelled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { callJson, postJson, startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

/** The SSE events of a response body, read to its end: `{ event, data }` per block. */
async function readEvents(response: Response): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const text = await response.text();
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '{}';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

describe('runs over REST', () => {
  let test: TestGateway;
  let token: string;
  let otherToken: string;
  before(async () => {
    test = await startTestGateway({ simulatedClock: 'real' });
    token = test.running.gateway.context.keys.create({ name: 'owner' }).token;
    otherToken = test.running.gateway.context.keys.create({ name: 'other' }).token;
  });
  after(() => test.close());

  it('starts a run in the background and streams its events live to run-finished', async () => {
    const started = await postJson(
      `${test.url}/v1/runs`,
      { query: 'What is 17*23?', strategy: 'vote', model: 'sim:small', samples: 3, budget: { tokens: 5000 }, runId: 'bg-1' },
      { token },
    );
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body['run_id'], 'bg-1');
    const events = await readEvents(
      await fetch(`${test.url}${started.body['events_url'] as string}`, { headers: { authorization: `Bearer ${token}` } }),
    );
    const types = events.map((entry) => entry.event);
    assert.equal(types[0], 'run-started');
    assert.equal(types.at(-1), 'run-finished');
    assert.equal(types.filter((type) => type === 'call-finished').length, 3);
    const result = events.at(-1)!.data['result'] as { answer: string; status: string; usage: { totalTokens: number } };
    assert.equal(result.answer, '391');

    const detail = await callJson<{ run: { status: string; owner: string }; calls: unknown[]; steps: Array<{ stepId: string }> }>(
      test.url,
      'GET',
      '/v1/runs/bg-1',
      token,
    );
    assert.equal(detail.status, 200);
    assert.equal(detail.json.run.status, 'ok');
    assert.equal(detail.json.calls.length, 3);
    assert.ok(
      detail.json.steps.some((step) => step.stepId === '__trace__'),
      'the trace is in the steps',
    );
    const hidden = await callJson(test.url, 'GET', '/v1/runs/bg-1', otherToken);
    assert.equal(hidden.status, 404, 'another key does not see the run');
  });

  it('lists runs with filters, a client key seeing only its own; rejects a bad filter with every problem', async () => {
    await postJson(
      `${test.url}/v1/chat/completions`,
      { model: 'single@sim:small', messages: [{ role: 'user', content: 'What is 2+3?' }] },
      { token: otherToken },
    );
    const mine = await callJson<{ data: Array<{ id: string; strategy: string; owner: string }> }>(
      test.url,
      'GET',
      '/v1/runs?strategy=vote',
      token,
    );
    assert.equal(mine.status, 200);
    assert.ok(mine.json.data.length >= 1);
    assert.ok(mine.json.data.every((run) => run.strategy === 'vote'));
    const theirs = await callJson<{ data: Array<{ id: string }> }>(test.url, 'GET', '/v1/runs', otherToken);
    assert.ok(theirs.json.data.every((run) => run.id !== 'bg-1'));
    const bad = await callJson<{ error: { issues: unknown[] } }>(test.url, 'GET', '/v1/runs?status=nope&limit=0', token);
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.issues.length, 2);
  });

  it('filters runs by cost (min_usd / max_usd, inclusive) on the totals the list shows, across the whole journal', async () => {
    // A cheap run (one call) beside bg-1 (three votes): their totals differ.
    const cheap = await postJson(
      `${test.url}/v1/chat/completions`,
      { model: 'single@sim:small', messages: [{ role: 'user', content: 'What is 2+2?' }] },
      { token },
    );
    assert.equal(cheap.status, 200);
    type Listed = { data: Array<{ id: string; totals: { usd: number } }> };
    const all = (await callJson<Listed>(test.url, 'GET', '/v1/runs', token)).json.data;
    const costs = all.map((run) => run.totals.usd).sort((a, b) => a - b);
    assert.ok(costs.length >= 2 && costs[0]! > 0 && costs[0]! < costs.at(-1)!, JSON.stringify(costs));
    const ids = async (query: string): Promise<string[]> =>
      (await callJson<Listed>(test.url, 'GET', `/v1/runs?${query}`, token)).json.data.map((run) => run.id).sort();
    const expect = (keep: (usd: number) => boolean): string[] =>
      all
        .filter((run) => keep(run.totals.usd))
        .map((run) => run.id)
        .sort();
    const top = costs.at(-1)!;
    const bottom = costs[0]!;
    assert.deepEqual(
      await ids(`min_usd=${top}`),
      expect((usd) => usd >= top),
    );
    assert.ok((await ids(`min_usd=${top}`)).includes('bg-1'), 'bounds are inclusive: the dearest run is kept');
    assert.deepEqual(
      await ids(`max_usd=${bottom}`),
      expect((usd) => usd <= bottom),
    );
    assert.deepEqual(
      await ids(`min_usd=${bottom}&max_usd=${top}`),
      expect(() => true),
    );
    assert.deepEqual(await ids(`min_usd=${top * 2}`), []);
    // Paging applies after the filter: the first page holds only matching runs.
    assert.deepEqual(await ids(`min_usd=${top}&limit=1`), ['bg-1']);
    const bad = await callJson<{ error: { issues: Array<{ path: string }> } }>(test.url, 'GET', '/v1/runs?min_usd=-1&max_usd=x', token);
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.issues.length, 2);
  });

  it('cancels a run in flight: it ends cancelled and nothing stays reserved', async () => {
    const started = await postJson(
      `${test.url}/v1/runs`,
      { query: 'What is 17*23?', strategy: 'vote', model: 'sim:small', samples: 12, runId: 'bg-cancel' },
      { token },
    );
    assert.equal(started.status, 202);
    const events = fetch(`${test.url}/v1/runs/bg-cancel/events`, { headers: { authorization: `Bearer ${token}` } }).then(readEvents);
    const other = await callJson(test.url, 'POST', '/v1/runs/bg-cancel/cancel', otherToken);
    assert.equal(other.status, 404, 'another key cannot cancel it');
    const cancelled = await callJson(test.url, 'POST', '/v1/runs/bg-cancel/cancel', token);
    assert.equal(cancelled.status, 202);
    const last = (await events).at(-1)!;
    assert.equal(last.event, 'run-finished');
    assert.equal((last.data['result'] as { status: string }).status, 'cancelled');
    const key = test.running.gateway.context.keys.list().find((entry) => entry.name === 'owner')!;
    assert.equal(test.running.gateway.context.budgets.spend(key).reserved.calls, 0);
  });
});
