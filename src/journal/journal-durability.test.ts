/**
 * The journal across processes and crashes: everything survives close and reopen, schema migrations (old
 * files upgraded, newer ones refused untouched), and a writer SIGKILLed mid-loop leaves a consistent file.
 * The API itself: journal.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal, type Migration } from './index.ts';
import { JOURNAL_MIGRATIONS } from './schema.ts';
import { sampleCall } from './testing/fixtures.ts';
import { describeJournalBackends } from './testing/backends.ts';
import { assertCode, baseRun, recordedOf, useTempJournals } from './testing/journal-cases.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { freshPath } = useTempJournals();

describeJournalBackends('persistence and migrations', ({ name: backend, freshTarget, withJournal }) => {
  it('everything survives close and reopen', () => {
    const path = freshTarget();
    const first = Journal.open(path);
    first.createRun(baseRun);
    const call = sampleCall(9);
    first.recorder('run-1').record(call);
    first.upsertStep('run-1', { stepId: 's1', kind: 'sample', status: 'ok', output: 1 });
    first.finishRun('run-1', { status: 'ok', answer: '4' });
    first.close();

    const second = Journal.open(path);
    try {
      assert.equal(second.getRun('run-1')?.status, 'ok');
      assert.deepStrictEqual(second.recorder('run-1').lookup(call.callKey), call);
      assert.equal(second.getSteps('run-1').length, 1);
      assert.equal(second.runTotals('run-1').calls, 1);
    } finally {
      second.close();
    }
  });

  it('re-opening is idempotent; later layers add tables with their own versions', () => {
    const path = freshTarget();
    Journal.open(path).close();
    Journal.open(path).close();
    const extension: Migration[] = [
      { version: 1, name: 'notes', up: 'CREATE TABLE ext_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)' },
      // A function migration runs on SQLite only; the per-engine form runs everywhere.
      backend === 'sqlite'
        ? { version: 2, name: 'note tag', up: (db) => db.exec('ALTER TABLE ext_notes ADD COLUMN tag TEXT') }
        : { version: 2, name: 'note tag', up: { sqlite: 'unused', postgres: 'ALTER TABLE ext_notes ADD COLUMN tag TEXT' } },
    ];
    const journal = Journal.open(path);
    try {
      assert.equal(journal.migrate('ext', extension.slice(0, 1)), 1);
      assert.equal(journal.migrate('ext', extension), 2);
      assert.equal(journal.migrate('ext', extension), 2);
      journal.sql.prepare('INSERT INTO ext_notes (note, tag) VALUES (?, ?)').run('hi', 't');
      assert.equal(
        journal.sql.prepare<{ id: number }>('SELECT id FROM ext_notes').get()?.id,
        1,
        'INTEGER PRIMARY KEY generates ids on both',
      );
      const versions = journal.sql.prepare('SELECT component, version FROM schema_version ORDER BY component, version').all();
      assert.deepEqual(versions, [
        { component: 'ext', version: 1 },
        { component: 'ext', version: 2 },
        ...JOURNAL_MIGRATIONS.map((migration) => ({ component: 'journal', version: migration.version })),
      ]);
      // A journal written by a newer schema is refused rather than misread.
      assert.throws(() => journal.migrate('ext', extension.slice(0, 1)), assertCode('JOURNAL_ERROR', /newer/));
      assert.throws(() => journal.migrate('ext', [extension[1]!, extension[0]!]), assertCode('INVALID_INPUT', /version/));
    } finally {
      journal.close();
    }
    const again = Journal.open(path);
    try {
      assert.equal(again.schemaVersion(), JOURNAL_MIGRATIONS.length);
      assert.equal(again.schemaVersion('ext'), 2);
      assert.equal(again.sql.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM schema_version').get()?.n, 2 + JOURNAL_MIGRATIONS.length);
    } finally {
      again.close();
    }
  });

  it('a failing migration leaves the previous version intact', () => {
    withJournal((journal) => {
      const broken: Migration[] = [
        { version: 1, name: 'ok', up: 'CREATE TABLE ext_a (id INTEGER)' },
        { version: 2, name: 'broken', up: 'CREATE TABLE ext_b (id INTEGER); SELECT * FROM no_such_table;' },
      ];
      assert.throws(() => journal.migrate('ext', broken), assertCode('JOURNAL_ERROR', /no such table|does not exist/));
      assert.equal(journal.schemaVersion('ext'), 1);
      assert.equal(journal.sql.hasTable('ext_a'), true);
      assert.equal(journal.sql.hasTable('ext_b'), false, 'the failed migration rolled back as a whole');
    });
  });
});

describe('crash safety', () => {
  it('a writer SIGKILLed mid-loop leaves a consistent journal holding every call it reported', async () => {
    const path = freshPath();
    const script = join(here, 'testing', 'crash-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, 'crash-run', '1000000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedAt = -1;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killedAt >= 0) return;
      const lines = stdout.split('\n').filter((line) => /^\d+$/.test(line));
      const seen = Number(lines[lines.length - 1] ?? 0);
      if (seen >= 50) {
        killedAt = seen;
        child.kill('SIGKILL');
      }
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    assert.equal(exit.signal, 'SIGKILL', `writer was not killed (exit ${exit.code}); stderr: ${stderr}`);
    assert.ok(killedAt >= 50);
    const printed = stdout
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
    const lastPrinted = printed[printed.length - 1]!;
    assert.ok(lastPrinted >= killedAt);

    const journal = Journal.open(path);
    try {
      assert.equal(journal.sqlite.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(journal.sqlite.pragma('foreign_key_check'), []);
      const calls = journal.getCalls('crash-run');
      // Every reported call is there; at most one more committed between its commit and the kill.
      assert.ok(calls.length >= lastPrinted, `journal holds ${calls.length} calls, writer reported ${lastPrinted}`);
      assert.ok(calls.length <= lastPrinted + 1);
      // Each call is complete and exactly the one written.
      calls.forEach((call, index) => {
        assert.deepStrictEqual(recordedOf(call), sampleCall(index, { textBytes: 512 }));
      });
      // Call rows and settle entries match one to one.
      const settles = journal.getLedgerEntries('crash-run').filter((entry) => entry.kind === 'settle');
      assert.deepEqual(
        settles.map((entry) => entry.callKey),
        calls.map((call) => call.callKey),
      );
      const orphans = journal.sqlite
        .prepare(
          `SELECT (SELECT COUNT(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.run_id = c.run_id AND l.call_key = ` +
            `c.call_key AND l.kind = 'settle'))
                + (SELECT COUNT(*) FROM ledger_entries l WHERE l.kind = 'settle' AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.run_id = l.run_id ` +
            `AND c.call_key = l.call_key))`,
        )
        .pluck()
        .get();
      assert.equal(orphans, 0);
      // The writer can carry on where it stopped.
      const resumed = journal.beginOrResumeRun({ id: 'crash-run', command: 'crash-test', query: 'record until killed', simulated: true });
      assert.equal(resumed.resumed, true);
    } finally {
      journal.close();
    }
  });
});
