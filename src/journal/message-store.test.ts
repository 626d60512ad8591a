/**
 * Schema v3: request messages stored once by content hash, calls referencing their message list. Reads must
 * return exactly the request that was recorded (values and key order), rows written by the v2 schema must stay
 * readable after the upgrade, and storage must actually be shared.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations } from './apply-migrations.ts';
import { Journal, type CallRow, type RecordedCall } from './index.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, SCHEMA_VERSION_TABLE } from './schema.ts';
import { describeJournalBackends } from './testing/backends.ts';
import { sampleCall } from './testing/fixtures.ts';

const run = { id: 'r', command: 'test', query: 'q', seed: 1, simulated: true } as const;

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

/** Agents whose persistent histories grow by a user and an assistant message per round (the AgentsNet shape). */
function conversation(agents: number, rounds: number): RecordedCall[] {
  const calls: RecordedCall[] = [];
  const histories: Message[][] = Array.from({ length: agents }, () => [
    { role: 'system', content: 'You are one agent in a network. Reply in JSON.' },
  ]);
  for (let round = 0; round < rounds; round++) {
    for (let agent = 0; agent < agents; agent++) {
      const history = histories[agent]!;
      history.push({
        role: 'user',
        content: `round ${round}: neighbours said ${JSON.stringify({ from: agent + 1, colour: round % 3 })} ✓ \u2028`,
      });
      const base = sampleCall(round * agents + agent);
      // The fleet records `{ ...request, maxOutputTokens }` around the live history array: snapshot it per call.
      calls.push({
        ...base,
        callKey: `k-${agent}-${round}#0`,
        requestHash: `k-${agent}-${round}`,
        request: { ...(base.request as object), messages: [...history] },
      });
      history.push({ role: 'assistant', content: `{"colour":${(agent + round) % 3}}` });
    }
  }
  return calls;
}

/** The one number a query returns (`SELECT COUNT(*) AS n …`), through the driver seam that works on both engines. */
const scalar = (journal: Journal, sql: string): number => {
  const row = journal.sql.prepare<{ n: number }>(sql).get();
  assert.ok(row !== undefined, sql);
  return row.n;
};
const count = (journal: Journal, table: string): number => scalar(journal, `SELECT COUNT(*) AS n FROM ${table}`);
const recordedOf = (row: CallRow): RecordedCall => {
  const { callKey, requestHash, model, provider, request, response, costUsd, attempts, billed, budgetPath, tags } = row;
  return {
    callKey,
    requestHash,
    model,
    provider,
    request,
    response,
    costUsd,
    attempts,
    ...(billed === undefined ? {} : { billed }),
    budgetPath,
    tags,
  };
};

describeJournalBackends('content-addressed messages (schema v3)', (backend) => {
  it('reads back exactly the recorded request (values and key order), from the buffer, the file and after reopening', () => {
    const target = backend.freshTarget();
    const calls = conversation(3, 6);
    const journal = Journal.open(target);
    journal.createRun(run);
    const recorder = journal.recorder('r');
    for (const call of calls) recorder.record(call);
    for (const call of calls) assert.deepStrictEqual(recorder.lookup(call.callKey), call); // buffered
    journal.flush();
    for (const call of calls) {
      const stored = recorder.lookup(call.callKey)!;
      assert.deepStrictEqual(stored, call);
      assert.equal(JSON.stringify(stored.request), JSON.stringify(call.request), 'same key order');
    }
    journal.close();
    const reopened = Journal.open(target);
    try {
      assert.deepStrictEqual(reopened.getCalls('r').map(recordedOf), calls);
      assert.deepStrictEqual(reopened.recorder('r').lookup(calls[10]!.callKey), calls[10]);
    } finally {
      reopened.close();
    }
  });

  it('stores each distinct message once and each call as a reference to its list (row counts)', () => {
    const journal = backend.open();
    try {
      journal.createRun(run);
      const agents = 4;
      const rounds = 8;
      const calls = conversation(agents, rounds);
      const recorder = journal.recorder('r');
      for (const call of calls) recorder.record(call);
      journal.flush();
      // Messages: the shared system prompt once, every (distinct) user message once, and the replies, which
      // are only three distinct texts however many agents and rounds repeat them.
      assert.equal(count(journal, 'messages'), 1 + agents * rounds + 3);
      // Lists: one row per distinct prefix: the shared [system], then per agent 2 rows per round but the last.
      assert.equal(count(journal, 'message_lists'), 1 + agents * (2 * rounds - 1));
      assert.equal(scalar(journal, 'SELECT COUNT(*) AS n FROM calls WHERE messages_list IS NULL'), 0);
      // No call row holds message text any more.
      assert.equal(scalar(journal, "SELECT COUNT(*) AS n FROM calls WHERE request_json LIKE '%neighbours said%'"), 0);
      // Storage grows with the number of messages, not with calls × history length.
      const stored = scalar(
        journal,
        'SELECT (SELECT SUM(LENGTH(json)) FROM messages) + (SELECT SUM(LENGTH(request_json)) FROM calls) AS n',
      );
      const inline = calls.reduce((sum, call) => sum + JSON.stringify(call.request).length, 0);
      assert.ok(stored * 3 < inline, `stored ${stored} chars vs ${inline} inline`);
      // The same lists recorded again in another run add no message rows.
      journal.createRun({ ...run, id: 'r2' });
      const again = journal.recorder('r2');
      for (const call of conversation(agents, rounds)) again.record(call);
      journal.flush();
      assert.equal(count(journal, 'message_lists'), 1 + agents * (2 * rounds - 1));
      assert.deepStrictEqual(
        journal.getCalls('r2').map((row) => row.request),
        calls.map((call) => call.request),
      );
    } finally {
      journal.close();
    }
  });

  it('stores requests without a message list inline, and reads them back', () => {
    const journal = backend.open();
    try {
      journal.createRun(run);
      const recorder = journal.recorder('r');
      const odd: RecordedCall[] = [
        { ...sampleCall(1), callKey: 'a#0', request: { messages: [], maxOutputTokens: 8 } },
        { ...sampleCall(2), callKey: 'b#0', request: { prompt: 'no messages' } },
        { ...sampleCall(3), callKey: 'c#0', request: ['not', 'an', 'object'] },
        {
          ...sampleCall(4),
          callKey: 'd#0',
          request: { messages: [{ role: 'user', content: 'x', name: 'extra field', nested: { z: [1, null] } }] },
        },
      ];
      for (const call of odd) recorder.record(call);
      journal.flush();
      for (const call of odd) assert.deepStrictEqual(recorder.lookup(call.callKey), call);
      assert.equal(scalar(journal, 'SELECT COUNT(*) AS n FROM calls WHERE messages_list IS NULL'), 3);
    } finally {
      journal.close();
    }
  });

  it('notices a message edited in place after it was recorded (no stale cache)', () => {
    const journal = backend.open();
    try {
      journal.createRun(run);
      const recorder = journal.recorder('r');
      const messages: Message[] = [
        { role: 'system', content: 's' },
        { role: 'user', content: 'first' },
      ];
      recorder.record({ ...sampleCall(1), callKey: 'a#0', request: { messages: structuredClone(messages) } });
      const live = { ...sampleCall(2), callKey: 'b#0', request: { messages } };
      recorder.record(live);
      journal.flush();
      messages[1]!.content = 'edited';
      messages.push({ role: 'assistant', content: 'r' });
      recorder.record({ ...sampleCall(3), callKey: 'c#0', request: { messages } });
      journal.flush();
      assert.deepStrictEqual((recorder.lookup('b#0')!.request as { messages: Message[] }).messages, [
        { role: 'system', content: 's' },
        { role: 'user', content: 'first' },
      ]);
      assert.deepStrictEqual((recorder.lookup('c#0')!.request as { messages: Message[] }).messages, messages);
      // A field added in place changes the message's JSON too.
      (messages[0] as Message & { name?: string }).name = 'added';
      recorder.record({ ...sampleCall(4), callKey: 'd#0', request: { messages } });
      journal.flush();
      assert.deepStrictEqual((recorder.lookup('d#0')!.request as { messages: Message[] }).messages, messages);
      assert.equal((recorder.lookup('c#0')!.request as { messages: Array<{ name?: string }> }).messages[0]!.name, undefined);
    } finally {
      journal.close();
    }
  });

  it('a call rolled back in the group commit does not leave later calls referencing unwritten messages', () => {
    const journal = backend.open();
    try {
      journal.createRun(run);
      // Make one call's insert fail inside its savepoint (as a constraint violation would).
      journal.sql.exec(
        backend.name === 'sqlite'
          ? "CREATE TEMP TRIGGER refuse BEFORE INSERT ON calls WHEN NEW.call_key = 'boom#0' BEGIN SELECT RAISE(ABORT, 'refused'); END;"
          : `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON calls FOR EACH ROW WHEN (NEW.call_key = 'boom#0') EXECUTE FUNCTION refuse();`,
      );
      const recorder = journal.recorder('r');
      const messages: Message[] = [
        { role: 'system', content: 'fresh system' },
        { role: 'user', content: 'fresh question' },
      ];
      recorder.record({ ...sampleCall(1), callKey: 'boom#0', request: { messages } });
      assert.throws(() => journal.flush(), /refused/);
      assert.equal(count(journal, 'messages'), 0);
      messages.push({ role: 'assistant', content: 'answer' });
      const next = { ...sampleCall(2), callKey: 'ok#0', request: { messages } };
      recorder.record(next);
      journal.flush();
      assert.deepStrictEqual(recorder.lookup('ok#0'), next);
      assert.equal(recorder.lookup('boom#0'), undefined);
    } finally {
      journal.close();
    }
  });
});

// SQLite only: the fixture is a file as the v2 schema wrote it (Postgres journals began at a later schema).
describe('content-addressed messages: v2 upgrade [sqlite]', () => {
  let root = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'thicket-messages-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('upgrades a v2 journal in place: old rows stay readable, new rows are stored by reference', () => {
    const path = join(root, 'v2.db');
    const old = conversation(2, 3);
    // A journal as the v2 schema wrote it: migrations 1–2 only, requests inline.
    const raw = new Database(path);
    raw.exec(SCHEMA_VERSION_TABLE);
    applyMigrations(
      raw,
      path,
      JOURNAL_COMPONENT,
      JOURNAL_MIGRATIONS.filter((migration) => migration.version <= 2),
      () => '2026-01-01T00:00:00.000Z',
    );
    raw
      .prepare(
        "INSERT INTO runs (id, command, query, seed, simulated, status, created_at, updated_at) VALUES ('r', 'test', 'q', 1, 1, 'running', 'x', 'x')",
      )
      .run();
    const insert = raw.prepare(
      `INSERT INTO calls (run_id, call_key, request_hash, model, provider, request_json, response_json, text, input_tokens, output_tokens,
         cost_usd, latency_ms, simulated, usage_estimated, attempts, billed_json, budget_path, tags_json, created_at)
       VALUES ('r', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL, ?, ?, 'x')`,
    );
    for (const call of old) {
      const { text, ...response } = call.response;
      insert.run(
        call.callKey,
        call.requestHash,
        call.model,
        call.provider,
        JSON.stringify(call.request),
        JSON.stringify(response),
        text,
        response.usage.inputTokens,
        response.usage.outputTokens,
        call.costUsd,
        response.latencyMs,
        response.usageEstimated ? 1 : 0,
        call.attempts,
        call.budgetPath,
        JSON.stringify(call.tags),
      );
    }
    raw.close();

    const journal = Journal.open(path);
    try {
      assert.equal(journal.schemaVersion(), JOURNAL_MIGRATIONS.length);
      const recorder = journal.recorder('r');
      for (const call of old) assert.deepStrictEqual(recorder.lookup(call.callKey), call);
      // Recording an old call again is a no-op when identical (the inline row is compared as a whole) …
      recorder.record(structuredClone(old[0]!));
      // … and a conflict when it differs.
      assert.throws(
        () => recorder.record({ ...old[0]!, response: { ...old[0]!.response, text: 'other' } }),
        /different request or response/,
      );
      const added = conversation(2, 4)
        .slice(old.length)
        .map((call) => ({ ...call, callKey: `new-${call.callKey}` }));
      for (const call of added) recorder.record(call);
      journal.flush();
      assert.deepStrictEqual(journal.getCalls('r').map(recordedOf), [...old, ...added]);
      assert.equal(scalar(journal, 'SELECT COUNT(*) AS n FROM calls WHERE messages_list IS NULL'), old.length);
      assert.equal(journal.getLedgerEntries('r').length, added.length);
    } finally {
      journal.close();
    }
  });
});
