/**
 * Hundreds of requests at once on one key whose budget covers a fraction of them: the key's budget holds on
 * every dimension (reservations are checked against the run and the key in one synchronous step), refusals
 * are OpenAI-style 429s, and the key's spend is exactly what its journaled calls add up to.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { UsageTotals } from '../core/index.ts';
import { startTestGateway, makeTempDir, openAIError, postJson } from './testing/gateway-fixture.ts';
import { join } from 'node:path';
import type { KeySettings } from './keys.ts';

const REQUESTS = 200;

interface Outcome {
  runId: string;
  status: number;
  body: Record<string, unknown>;
}

const sumTotals = (lines: readonly UsageTotals[]): UsageTotals =>
  lines.reduce(
    (sum, line) => ({
      inputTokens: sum.inputTokens + line.inputTokens,
      outputTokens: sum.outputTokens + line.outputTokens,
      totalTokens: sum.totalTokens + line.totalTokens,
      usd: sum.usd + line.usd,
      calls: sum.calls + line.calls,
    }),
    { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 },
  );

/** Fires REQUESTS completions at once on one key with `budget`, then checks every invariant of the key's budget. */
async function overload(
  journalPath: string,
  budget: KeySettings['budget'],
  model: string,
  options: Record<string, unknown> = {},
): Promise<{ ok: number; refused: number; spent: UsageTotals }> {
  const test = await startTestGateway({ journalPath });
  const context = test.running.gateway.context;
  const { key, token } = context.keys.create({ name: 'crowd', settings: { budget } });
  let outcomes: Outcome[];
  try {
    outcomes = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, index): Promise<Outcome> => {
        const runId = `crowd-${index}`;
        const response = await postJson(
          `${test.url}/v1/chat/completions`,
          { model, messages: [{ role: 'user', content: 'What is 17*23?' }], thicket: { ...options, runId } },
          { token },
        );
        return { runId, ...response };
      }),
    );

    const spend = context.budgets.spend(key);
    // Nothing is left reserved once every request has been answered.
    assert.deepEqual(spend.reserved, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    for (const [dimension, limit] of Object.entries(budget) as Array<[keyof UsageTotals, number]>)
      assert.ok(spend.spent[dimension] <= limit, `${dimension}: spent ${spend.spent[dimension]} ≤ limit ${limit}`);

    let ok = 0;
    let refused = 0;
    let cutOff = 0;
    for (const outcome of outcomes) {
      const journaled = test.thicket.runs.get(outcome.runId);
      if (outcome.status === 200) {
        ok++;
        const choice = (outcome.body['choices'] as Array<{ message: { content: string }; finish_reason: string }>)[0]!;
        assert.equal(choice.message.content, journaled?.run.answer);
        // A vote cut short by the key's budget still answers, marked as cut short.
        if (journaled?.run.status === 'budget_exhausted') assert.equal(choice.finish_reason, 'length');
        else assert.equal(journaled?.run.status, 'ok');
        continue;
      }
      const error = openAIError(outcome.body);
      const runId = (outcome.body['error'] as { run_id?: string }).run_id;
      if (outcome.status === 502) {
        // Admitted with a sliver of the key's budget left: the run's one call was capped to what was left and
        // cut off before its answer. Paid for, journaled, and counted on the key (checked below).
        cutOff++;
        assert.equal(error.code, 'ANSWER_UNPARSED', JSON.stringify(outcome.body));
        assert.equal(runId, outcome.runId);
        assert.ok(journaled && journaled.calls.length > 0);
        continue;
      }
      assert.equal(outcome.status, 429, `${outcome.runId}: ${JSON.stringify(outcome.body)}`);
      refused++;
      assert.equal(error.code, 'BUDGET_EXHAUSTED');
      assert.equal(error.type, 'insufficient_quota');
      if (runId === undefined) {
        // Refused before the run started: nothing in the journal for it.
        assert.equal(journaled, undefined, `${outcome.runId} was refused up front yet journaled`);
      } else {
        // Started, then refused a reservation before it had an answer: a budget_exhausted run. A single run
        // was refused its one call, so it sent nothing.
        assert.equal(runId, outcome.runId);
        assert.equal(journaled?.run.status, 'budget_exhausted');
        if (!model.startsWith('vote@')) assert.equal(journaled.calls.length, 0);
      }
    }
    assert.equal(ok + refused + cutOff, REQUESTS);
    assert.ok(ok > 0, 'some requests were answered');
    assert.ok(refused > REQUESTS / 2, `most requests were refused (${refused})`);

    // The key's spend is exactly the sum of its journaled runs' calls.
    const runs = test.thicket.runs.list({ owner: key.id, limit: 10_000 });
    const journaled = sumTotals(runs.map((run) => run.totals));
    const spent = spend.spent;
    assert.equal(journaled.calls, spent.calls);
    assert.equal(journaled.inputTokens, spent.inputTokens);
    assert.equal(journaled.outputTokens, spent.outputTokens);
    assert.equal(journaled.totalTokens, spent.totalTokens);
    assert.ok(Math.abs(journaled.usd - spent.usd) < 1e-9, `usd ${journaled.usd} vs ${spent.usd}`);
    assert.equal(runs.filter((run) => run.answer !== null).length, ok, 'every answered request is a run with an answer, and only those');
    return { ok, refused, spent };
  } finally {
    await test.close();
    // The journal survived the crowd intact.
    const db = new Database(journalPath, { readonly: true, fileMustExist: true });
    try {
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    } finally {
      db.close();
    }
  }
}

describe('one key, 200 requests at once', () => {
  const dir = makeTempDir();
  after(() => dir.remove());

  it('a token budget for ~20 single runs: never overspent, the rest refused', async () => {
    // A single@sim:small run costs ~230 tokens.
    const { ok, spent } = await overload(join(dir.path, 'tokens.db'), { totalTokens: 4_600 }, 'single@sim:small');
    assert.ok(ok >= 5 && ok <= 20, `answered ${ok}`);
    assert.ok(spent.totalTokens <= 4_600);
  });

  it('a dollar budget: never overspent', async () => {
    // A single@sim:small run costs ~$0.000076.
    const { ok, spent } = await overload(join(dir.path, 'usd.db'), { usd: 0.0015 }, 'single@sim:small');
    assert.ok(ok >= 5 && ok <= 20, `answered ${ok}`);
    assert.ok(spent.usd <= 0.0015);
  });

  it('a calls budget with vote fanning out inside each run: never overspent', async () => {
    const { spent } = await overload(join(dir.path, 'calls.db'), { calls: 25 }, 'vote@sim:small', { samples: 5 });
    assert.ok(spent.calls <= 25);
  });

  it('streamed: refused before any call is still a 429; the stream opens only for runs that sent a call', async () => {
    const test = await startTestGateway({ journalPath: join(dir.path, 'streamed.db') });
    const context = test.running.gateway.context;
    const limit = 4_600;
    const { key, token } = context.keys.create({ name: 'streams', settings: { budget: { totalTokens: limit } } });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, index) => {
          const runId = `stream-${index}`;
          const response = await fetch(`${test.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({
              model: 'vote@sim:small',
              messages: [{ role: 'user', content: 'What is 17*23?' }],
              stream: true,
              thicket: { samples: 3, runId },
            }),
          });
          return { runId, status: response.status, text: await response.text() };
        }),
      );
      let answered = 0;
      let refused = 0;
      for (const { runId, status, text } of outcomes) {
        const calls = test.thicket.runs.get(runId)?.calls.length ?? 0;
        if (status === 429) {
          refused++;
          const error = openAIError(JSON.parse(text) as Record<string, unknown>);
          assert.equal(error.code, 'BUDGET_EXHAUSTED');
          assert.equal(error.type, 'insufficient_quota');
          assert.equal(calls, 0, `${runId} was refused with a 429 after sending calls`);
          continue;
        }
        assert.equal(status, 200, text);
        assert.ok(text.trimEnd().endsWith('data: [DONE]'));
        // The stream opened: the run sent at least one call, then either answered or ran out part-way.
        assert.ok(calls > 0, `${runId} opened a stream without sending a call`);
        if (text.includes('"content":"391"')) answered++;
        else assert.match(text, /"code":"BUDGET_EXHAUSTED"/);
      }
      assert.ok(answered > 0 && refused > REQUESTS / 2, `${answered} answered, ${refused} refused`);
      const spend = context.budgets.spend(key);
      assert.ok(spend.spent.totalTokens <= limit);
      assert.equal(spend.reserved.totalTokens, 0);
      const journaled = sumTotals(test.thicket.runs.list({ owner: key.id, limit: 10_000 }).map((run) => run.totals));
      assert.equal(journaled.totalTokens, spend.spent.totalTokens);
      assert.equal(journaled.calls, spend.spent.calls);
    } finally {
      await test.close();
    }
  });

  it('tokens, dollars and calls at once, on vote: never overspent on any', async () => {
    await overload(join(dir.path, 'all.db'), { totalTokens: 20_000, usd: 0.004, calls: 60 }, 'vote@sim:small');
  });
});
