/** The journal's API: open, runs, steps, calls and their ledger. Across processes and crashes: journal-durability.test.ts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ThicketError, sumUsd } from '../core/index.ts';
import type { CallRecorder as FleetCallRecorder } from '../models/index.ts';
import { Journal, defaultJournalPath, defaultJournalTarget, resolveJournalTarget, type RecordedCall } from './index.ts';
import { JOURNAL_MIGRATIONS } from './schema.ts';
import { sampleCall } from './testing/fixtures.ts';
import { describeJournalBackends } from './testing/backends.ts';
import { assertCode, baseRun, recordedOf, useTempJournals } from './testing/journal-cases.ts';

const files = useTempJournals();

describe('Journal.open (SQLite file)', () => {
  const { freshPath, withJournal } = files;
  it('creates the parent folder, uses WAL, NORMAL sync, foreign keys and a busy timeout', () => {
    withJournal((journal, path) => {
      assert.ok(existsSync(path));
      assert.equal(journal.journalMode(), 'wal');
      assert.equal(journal.sqlite.pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.equal(journal.sqlite.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(journal.sqlite.pragma('busy_timeout', { simple: true }), 5000);
      assert.equal(journal.schemaVersion(), JOURNAL_MIGRATIONS.length);
    });
  });

  it('rejects an empty path with INVALID_INPUT and an unusable file with JOURNAL_ERROR', () => {
    assert.throws(() => Journal.open(''), assertCode('INVALID_INPUT', /path/));
    const folder = join(dirname(freshPath()), 'a-folder');
    Journal.open(join(folder, 'x.db')).close();
    assert.throws(() => Journal.open(folder), assertCode('JOURNAL_ERROR'));
  });

  it('fails with JOURNAL_ERROR once closed, and close is idempotent', () => {
    const journal = Journal.open(freshPath());
    journal.close();
    journal.close();
    assert.equal(journal.isOpen, false);
    assert.throws(() => journal.getRun('x'), assertCode('JOURNAL_ERROR', /closed/));
  });

  it('defaultJournalTarget prefers THICKET_DATABASE_URL; resolveJournalTarget leaves URLs as they are', () => {
    const url = 'postgres://u@h:5432/db?schema=s';
    assert.equal(defaultJournalTarget({ THICKET_DATABASE_URL: url, THICKET_DB: '/tmp/x/j.db' }), url);
    assert.equal(defaultJournalTarget({ THICKET_DB: '/tmp/x/j.db' }), '/tmp/x/j.db');
    assert.equal(resolveJournalTarget(url), url);
    assert.equal(resolveJournalTarget(':memory:'), ':memory:');
    assert.equal(resolveJournalTarget('rel/j.db'), join(process.cwd(), 'rel', 'j.db'));
  });

  it('defaultJournalPath honours THICKET_DB, else a per-user data folder', () => {
    assert.equal(defaultJournalPath({ THICKET_DB: '/tmp/x/j.db' }), '/tmp/x/j.db');
    const fallback = defaultJournalPath({});
    assert.match(fallback, /thicket[/\\]journal\.db$/);
    assert.doesNotMatch(fallback, /nodejs/);
  });
});

describeJournalBackends('journal API', ({ name: backend, withJournal }) => {
  describe('runs', () => {
    it('creates, reads and finishes a run', () => {
      withJournal((journal) => {
        const created = journal.createRun(baseRun);
        assert.equal(created.status, 'running');
        assert.deepEqual(created.args, baseRun.args);
        assert.deepEqual(created.budget, baseRun.budget);
        assert.equal(created.seed, 42);
        assert.equal(created.simulated, true);
        assert.deepEqual(journal.getRun('run-1'), created);
        assert.equal(journal.getRun('nope'), undefined);

        const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15, usd: 0.1 + 0.2, calls: 1 };
        const finished = journal.finishRun('run-1', { status: 'ok', answer: '4', usage });
        assert.equal(finished.status, 'ok');
        assert.equal(finished.answer, '4');
        assert.deepEqual(finished.usage, usage);
        assert.equal(finished.error, null);

        const failed = journal.finishRun('run-1', { status: 'error', error: new ThicketError('INTERNAL', 'boom', 'other') });
        assert.deepEqual(failed.error, { name: 'ThicketError', message: 'boom', code: 'INTERNAL', category: 'other', isRetryable: false });
      });
    });

    it('rejects a duplicate id, bad arguments and unknown runs', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        assert.throws(() => journal.createRun(baseRun), assertCode('JOURNAL_ERROR', /UNIQUE|unique constraint/));
        assert.throws(() => journal.createRun({ ...baseRun, id: '' }), assertCode('INVALID_INPUT', /id: must be a non-empty string/));
        assert.throws(() => journal.createRun({ ...baseRun, id: 'r2', seed: 1.5 }), assertCode('INVALID_INPUT', /seed/));
        assert.throws(() => journal.getRun(''), assertCode('INVALID_INPUT'));
        assert.throws(() => journal.finishRun('run-1', { status: 'running' }), assertCode('INVALID_INPUT', /status/));
        assert.throws(() => journal.finishRun('ghost', { status: 'ok' }), assertCode('INVALID_INPUT', /no run with id "ghost"/));
        assert.throws(() => journal.recorder('ghost'), assertCode('INVALID_INPUT', /ghost/));
        const cyclic: Record<string, unknown> = {};
        cyclic['self'] = cyclic;
        assert.throws(
          () => journal.createRun({ ...baseRun, id: 'r3', args: cyclic }),
          assertCode('INVALID_INPUT', /args: is not JSON-serialisable/),
        );
      });
    });

    it('beginOrResumeRun creates, then resumes with status back to running', () => {
      withJournal((journal) => {
        const first = journal.beginOrResumeRun(baseRun);
        assert.equal(first.resumed, false);
        journal.finishRun('run-1', { status: 'budget_exhausted', error: { code: 'BUDGET_EXHAUSTED' } });
        const second = journal.beginOrResumeRun({ ...baseRun, budget: { usd: 2 } });
        assert.equal(second.resumed, true);
        assert.equal(second.run.status, 'running');
        assert.equal(second.run.error, null);
        assert.deepEqual(second.run.budget, { usd: 2 });
        assert.equal(second.run.createdAt, first.run.createdAt);
      });
    });

    it('refuses to resume with a different command or query, naming each field', () => {
      withJournal((journal) => {
        journal.beginOrResumeRun(baseRun);
        assert.throws(
          () => journal.beginOrResumeRun({ ...baseRun, query: 'What is 3+3?' }),
          (error: unknown) => {
            assertCode('INVALID_INPUT')(error);
            const issues = (error as { issues: Array<{ path: string }> }).issues;
            assert.deepEqual(
              issues.map((issue) => issue.path),
              ['query'],
            );
            assert.match((error as Error).message, /query: the journal has "What is 2\+2\?", got "What is 3\+3\?"/);
            return true;
          },
        );
        assert.throws(
          () => journal.beginOrResumeRun({ ...baseRun, command: 'debate', query: 'other' }),
          (error: unknown) => {
            assertCode('INVALID_INPUT')(error);
            assert.deepEqual(
              (error as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path),
              ['command', 'query'],
            );
            return true;
          },
        );
        assert.equal(journal.getRun('run-1')?.query, baseRun.query);
      });
    });

    it('listRuns is newest first with per-run totals from the calls', () => {
      let clock = Date.UTC(2025, 0, 1);
      withJournal(
        (journal) => {
          for (const id of ['a', 'b', 'c']) journal.createRun({ ...baseRun, id });
          const calls = [0, 1, 2].map((index) => sampleCall(index));
          for (const call of calls) journal.recorder('b').record(call);
          journal.recorder('c').record(sampleCall(10));
          const runs = journal.listRuns({ limit: 10 });
          assert.deepEqual(
            runs.map((run) => run.id),
            ['c', 'b', 'a'],
          );
          const b = runs[1]!;
          assert.equal(b.totals.calls, 3);
          assert.equal(
            b.totals.inputTokens,
            calls.reduce((sum, call) => sum + call.response.usage.inputTokens, 0),
          );
          assert.equal(
            b.totals.outputTokens,
            calls.reduce((sum, call) => sum + call.response.usage.outputTokens, 0),
          );
          assert.equal(b.totals.totalTokens, b.totals.inputTokens + b.totals.outputTokens);
          // Totals are exact sums on the nano-dollar grid (core/usage.ts), whatever the order of the calls.
          assert.equal(b.totals.usd, sumUsd(calls.map((call) => call.costUsd)));
          assert.equal(b.totals.usd, sumUsd(calls.map((call) => call.costUsd).reverse()));
          assert.deepEqual(runs[2]!.totals, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
          assert.deepEqual(journal.runTotals('b'), b.totals);
          assert.deepEqual(
            journal.listRuns({ limit: 2 }).map((run) => run.id),
            ['c', 'b'],
          );
          assert.throws(() => journal.listRuns({ limit: 0 }), assertCode('INVALID_INPUT', /limit/));
        },
        { now: () => (clock += 1000) },
      );
    });

    it('listRuns breaks timestamp ties by insertion order', () => {
      withJournal(
        (journal) => {
          for (const id of ['x', 'y', 'z']) journal.createRun({ ...baseRun, id });
          assert.deepEqual(
            journal.listRuns().map((run) => run.id),
            ['z', 'y', 'x'],
          );
        },
        { now: () => 0 },
      );
    });
  });

  describe('steps', () => {
    it('upserts steps, keeping omitted fields and ending them once not open', () => {
      let clock = Date.UTC(2025, 0, 1);
      withJournal(
        (journal) => {
          journal.createRun(baseRun);
          const started = journal.upsertStep('run-1', {
            stepId: 'vote/sample-1',
            kind: 'sample',
            status: 'running',
            input: { prompt: 'p' },
          });
          assert.equal(started.endedAt, null);
          const done = journal.upsertStep('run-1', {
            stepId: 'vote/sample-1',
            kind: 'sample',
            status: 'ok',
            output: { answer: 4 },
            usage: { inputTokens: 3 },
          });
          assert.deepEqual(done.input, { prompt: 'p' });
          assert.deepEqual(done.output, { answer: 4 });
          assert.equal(done.startedAt, started.startedAt);
          assert.ok(done.endedAt !== null && done.endedAt > done.startedAt);
          journal.upsertStep('run-1', { stepId: 'vote/aggregate', kind: 'aggregate', status: 'pending' });
          assert.deepEqual(
            journal.getSteps('run-1').map((step) => step.stepId),
            ['vote/sample-1', 'vote/aggregate'],
          );
          assert.throws(
            () => journal.upsertStep('ghost', { stepId: 's', kind: 'k', status: 'ok' }),
            assertCode('JOURNAL_ERROR', /FOREIGN KEY|foreign key constraint/),
          );
          assert.throws(
            () => journal.upsertStep('run-1', { stepId: '', kind: '', status: 'ok' }),
            assertCode('INVALID_INPUT', /stepId.*kind/),
          );
        },
        { now: () => (clock += 1000) },
      );
    });
  });

  describe('calls', () => {
    it('record + lookup round-trips every value exactly, floats included', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const recorder = journal.recorder('run-1');
        const calls = Array.from({ length: 12 }, (_, index) => sampleCall(index));
        for (const call of calls) recorder.record(call);
        for (const call of calls) {
          const stored = recorder.lookup(call.callKey);
          assert.deepStrictEqual(stored, call);
          assert.ok(Object.is(stored.costUsd, call.costUsd));
          assert.ok(Object.is(stored.response.latencyMs, call.response.latencyMs));
          assert.ok(Object.is(stored.response.confidence, call.response.confidence));
        }
        assert.equal(recorder.lookup('absent#0'), undefined);
        const rows = journal.getCalls('run-1');
        assert.deepStrictEqual(rows.map(recordedOf), calls);
        rows.forEach((row, index) => {
          const call = calls[index]!;
          assert.equal(row.runId, 'run-1');
          assert.equal(typeof row.createdAt, 'string');
          assert.equal(row.stepId, `vote/sample-${index}`);
          assert.equal(row.text, call.response.text);
          assert.equal(row.inputTokens, call.response.usage.inputTokens);
          assert.equal(row.outputTokens, call.response.usage.outputTokens);
          assert.equal(row.latencyMs, call.response.latencyMs);
          assert.equal(row.finishReason, 'stop');
          assert.equal(row.usageEstimated, call.response.usageEstimated);
        });
        // Each call settled exactly once in the ledger, with its usage and cost.
        const ledger = journal.getLedgerEntries('run-1');
        assert.equal(ledger.length, calls.length);
        ledger.forEach((entry, index) => {
          const call = calls[index]!;
          assert.equal(entry.kind, 'settle');
          assert.equal(entry.callKey, call.callKey);
          assert.equal(entry.budgetPath, call.budgetPath);
          assert.equal(entry.inputTokens, call.response.usage.inputTokens);
          assert.equal(entry.outputTokens, call.response.usage.outputTokens);
          assert.ok(Object.is(entry.costUsd, call.costUsd));
        });
      });
    });

    it('a recorder is usable wherever the fleet expects its CallRecorder', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const recorder: FleetCallRecorder = journal.recorder('run-1');
        recorder.record(sampleCall(1));
        assert.equal(recorder.lookup(sampleCall(1).callKey)?.response.text, sampleCall(1).response.text);
      });
    });

    it('recording an identical call twice is a no-op; a different call under the same key is refused', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const recorder = journal.recorder('run-1');
        const call = sampleCall(3);
        recorder.record(call);
        recorder.record(sampleCall(3));
        assert.equal(journal.getCalls('run-1').length, 1);
        assert.equal(journal.getLedgerEntries('run-1').length, 1);
        const changed: RecordedCall = { ...call, response: { ...call.response, text: 'different' } };
        assert.throws(() => recorder.record(changed), assertCode('JOURNAL_ERROR', /already recorded/));
        assert.equal(recorder.lookup(call.callKey)?.response.text, call.response.text);
      });
    });

    it('with acceptDuplicateCalls (queue workers), a committed call answered again is kept once and counted', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const call = sampleCall(4);
        journal.recorder('run-1').record(call);
        journal.flush();
        const second: RecordedCall = { ...call, response: { ...call.response, text: 'a second copy of the job' } };
        journal.acceptDuplicateCalls = true;
        journal.recorder('run-1').record(second);
        assert.equal(journal.duplicateCalls, 1);
        assert.equal(journal.getCalls('run-1').length, 1);
        assert.equal(journal.getLedgerEntries('run-1').length, 1);
        assert.equal(journal.recorder('run-1').lookup(call.callKey)?.response.text, call.response.text, 'the first answer stays');
        // A different request under the same key is still a conflict.
        const other: RecordedCall = { ...second, requestHash: 'f'.repeat(64) };
        assert.throws(() => journal.recorder('run-1').record(other), assertCode('JOURNAL_ERROR', /already recorded/));
      });
    });

    it('rejects invalid calls with INVALID_INPUT listing every problem', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const call = sampleCall(1);
        const bad = {
          ...call,
          callKey: '',
          costUsd: Number.NaN,
          response: { ...call.response, usage: { inputTokens: -1, outputTokens: 1.5 } },
        };
        assert.throws(
          () => journal.recorder('run-1').record(bad),
          (error: unknown) => {
            assertCode('INVALID_INPUT')(error);
            const paths = (error as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path);
            assert.deepEqual(paths, ['callKey', 'costUsd', 'response.usage.inputTokens', 'response.usage.outputTokens']);
            return true;
          },
        );
        assert.throws(() => journal.recorder('run-1').lookup(''), assertCode('INVALID_INPUT', /callKey/));
        assert.equal(journal.getCalls('run-1').length, 0);
      });
    });

    it('writes the call row and its ledger entry atomically (a failing ledger insert leaves neither)', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const recorder = journal.recorder('run-1');
        // 1. A real constraint: a settle entry for this key already exists, so the second settle violates the
        //    one-settle-per-call unique index after the call row was inserted in the same transaction.
        const call = sampleCall(5);
        journal.recordLedgerEntry('run-1', { kind: 'settle', callKey: call.callKey, budgetPath: 'run/other' });
        // Records are group-committed; flush() is the commit, where the constraint fires.
        recorder.record(call);
        assert.throws(
          () => journal.flush(),
          (error: unknown) => {
            assertCode('JOURNAL_ERROR', /UNIQUE constraint failed|duplicate key value violates unique constraint/)(error);
            assert.equal((error as { cause: { code: string } }).cause.code, backend === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : '23505');
            return true;
          },
        );
        assert.equal(recorder.lookup(call.callKey), undefined);
        assert.equal(journal.getLedgerEntries('run-1').length, 1);

        // 2. An injected failure of the ledger insert itself.
        journal.sql.exec(
          backend === 'sqlite'
            ? `CREATE TRIGGER fail_ledger BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'injected ledger failure'); END`
            : `CREATE FUNCTION fail_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected ledger failure'; END $$;
             CREATE TRIGGER fail_ledger BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION fail_ledger();`,
        );
        const other = sampleCall(6);
        recorder.record(other);
        assert.throws(() => journal.flush(), assertCode('JOURNAL_ERROR', /injected ledger failure/));
        assert.equal(recorder.lookup(other.callKey), undefined);
        assert.equal(journal.getCalls('run-1').length, 0);
        assert.equal(journal.getLedgerEntries('run-1').length, 1);
        if (backend === 'sqlite') assert.equal(journal.sqlite.inTransaction, false);

        // The journal stays usable after the rollback.
        journal.sql.exec(backend === 'sqlite' ? 'DROP TRIGGER fail_ledger' : 'DROP TRIGGER fail_ledger ON ledger_entries');
        recorder.record(other);
        assert.deepStrictEqual(recorder.lookup(other.callKey), other);
        assert.equal(journal.getLedgerEntries('run-1').length, 2);
      });
    });

    it('recordLedgerEntry appends refusals and replays; spendByModel groups by model', () => {
      withJournal((journal) => {
        journal.createRun(baseRun);
        const recorder = journal.recorder('run-1');
        const calls = [0, 1, 2, 3, 4].map((index) => sampleCall(index));
        for (const call of calls) recorder.record(call);
        const id = journal.recordLedgerEntry('run-1', {
          kind: 'refuse',
          budgetPath: 'run/vote',
          inputTokens: 500,
          detail: { dimension: 'usd' },
        });
        journal.recordLedgerEntry('run-1', {
          kind: 'replay',
          callKey: calls[0]!.callKey,
          budgetPath: 'run/vote',
          costUsd: calls[0]!.costUsd,
        });
        const ledger = journal.getLedgerEntries('run-1');
        assert.deepEqual(
          ledger.map((entry) => entry.kind),
          ['settle', 'settle', 'settle', 'settle', 'settle', 'refuse', 'replay'],
        );
        assert.equal(ledger[5]!.id, id);
        assert.deepEqual(ledger[5]!.detail, { dimension: 'usd' });
        assert.equal(ledger[5]!.callKey, null);
        assert.throws(
          () => journal.recordLedgerEntry('run-1', { kind: 'spend' as 'settle', budgetPath: 'x', costUsd: -1 }),
          assertCode('INVALID_INPUT', /kind.*costUsd/),
        );

        const spend = journal.spendByModel('run-1');
        assert.deepEqual(spend.map((row) => row.model).sort(), ['sim:large', 'sim:small']);
        for (const row of spend) {
          const mine = calls.filter((call) => call.model === row.model);
          assert.equal(row.provider, 'sim');
          assert.equal(row.calls, mine.length);
          assert.equal(
            row.inputTokens,
            mine.reduce((sum, call) => sum + call.response.usage.inputTokens, 0),
          );
          assert.equal(row.usd, sumUsd(mine.map((call) => call.costUsd)));
        }
        assert.ok(spend[0]!.usd >= spend[1]!.usd);
      });
    });
  });
});
