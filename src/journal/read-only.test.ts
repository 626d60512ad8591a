/**
 * Journal.openReadOnly: reading commands create nothing (on SQLite not even -wal/-shm files, on Postgres not the
 * schema), write nothing, and read storage they cannot write.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { applyMigrations } from './apply-migrations.ts';
import { Journal } from './index.ts';
import { toPostgresDdl } from './postgres/dialect.ts';
import { PostgresDriver } from './postgres/driver.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, SCHEMA_VERSION_TABLE } from './schema.ts';
import { TEST_POSTGRES_URL, describeJournalBackends, type JournalBackend } from './testing/backends.ts';
import { assertCode, baseRun, useTempJournals } from './testing/journal-cases.ts';

const { freshPath } = useTempJournals();

/** Whether the Postgres schema a journal URL names exists (asked over a connection of its own). */
async function schemaExists(url: string): Promise<boolean> {
  const schema = new URL(url).searchParams.get('schema');
  assert.ok(schema !== null, url);
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const result = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Writes, at a fresh target, a journal as an older Thicket left it: every migration but the last. */
function olderJournal(backend: JournalBackend): string {
  const target = backend.freshTarget();
  const isoNow = (): string => new Date().toISOString();
  const older = JOURNAL_MIGRATIONS.slice(0, -1);
  if (backend.name === 'sqlite') {
    mkdirSync(dirname(target), { recursive: true });
    const old = new Database(target);
    old.pragma('journal_mode = WAL');
    old.exec(SCHEMA_VERSION_TABLE);
    applyMigrations(old, target, JOURNAL_COMPONENT, older, isoNow);
    old.close();
  } else {
    const old = PostgresDriver.open(target);
    try {
      old.exec(toPostgresDdl(SCHEMA_VERSION_TABLE));
      applyMigrations(old, target, JOURNAL_COMPONENT, older, isoNow);
    } finally {
      old.close();
    }
  }
  return target;
}

describeJournalBackends('Journal.openReadOnly', (backend) => {
  it('refuses a missing journal with INVALID_INPUT and creates nothing (not the file, not its folder, not the schema)', async () => {
    if (backend.name === 'sqlite') {
      const path = join(dirname(backend.freshTarget()), 'no-such-folder', 'journal.db');
      assert.throws(() => Journal.openReadOnly(path), assertCode('INVALID_INPUT', /no journal at this path/));
      assert.equal(existsSync(dirname(path)), false);
    } else {
      const url = backend.freshTarget();
      assert.throws(() => Journal.openReadOnly(url), assertCode('INVALID_INPUT', /no Thicket journal in this schema/));
      assert.equal(await schemaExists(url), false);
    }
  });

  it('reads a closed journal (on SQLite without creating -wal/-shm files), and refuses writes', () => {
    const target = backend.freshTarget();
    const writer = Journal.open(target);
    writer.createRun(baseRun);
    writer.close();
    const folder = backend.name === 'sqlite' ? dirname(target) : undefined;
    const before = folder === undefined ? [] : readdirSync(folder).sort();
    if (backend.name === 'sqlite') assert.equal(existsSync(`${target}-wal`), false, 'a cleanly closed journal has no -wal file');
    const reader = Journal.openReadOnly(target);
    try {
      assert.deepEqual(
        reader.listRuns({}).map((run) => run.id),
        ['run-1'],
      );
      assert.throws(() => reader.createRun({ ...baseRun, id: 'run-2' }), assertCode('JOURNAL_ERROR', /readonly|query_only|read-only/i));
    } finally {
      reader.close();
    }
    if (folder !== undefined) assert.deepEqual(readdirSync(folder).sort(), before, 'no file created or removed by reading');
  });

  it('sees what a live writer commits (on SQLite read in place, sharing its -wal/-shm)', () => {
    const target = backend.freshTarget();
    const writer = Journal.open(target);
    try {
      writer.createRun(baseRun);
      if (backend.name === 'sqlite') assert.ok(existsSync(`${target}-wal`), 'the writer keeps a -wal file open');
      const reader = Journal.openReadOnly(target);
      try {
        assert.equal(reader.getRun('run-1')?.status, 'running');
        writer.createRun({ ...baseRun, id: 'run-2' });
        assert.deepEqual(
          reader
            .listRuns({})
            .map((run) => run.id)
            .sort(),
          ['run-1', 'run-2'],
        );
      } finally {
        reader.close();
      }
    } finally {
      writer.close();
    }
  });

  it('a journal written by an older Thicket is upgraded in place when it may be written (then read)', () => {
    const target = olderJournal(backend);
    const reader = Journal.openReadOnly(target);
    try {
      assert.equal(reader.schemaVersion(), JOURNAL_MIGRATIONS.at(-1)!.version);
      assert.deepEqual(reader.listRuns({}), []);
    } finally {
      reader.close();
    }
  });

  it('refuses a database that is not a journal', () => {
    const target = backend.freshTarget();
    const other = Journal.open(target);
    other.sql.exec("DELETE FROM schema_version WHERE component = 'journal'");
    other.close();
    // The engines word it differently: a SQLite file exists but is no journal; a Postgres schema holds none.
    assert.throws(
      () => Journal.openReadOnly(target),
      backend.name === 'sqlite'
        ? assertCode('JOURNAL_ERROR', /not a Thicket journal/)
        : assertCode('INVALID_INPUT', /no Thicket journal in this schema/),
    );
  });
});

// SQLite only: file and folder permissions are a file's matter (a Postgres reader's rights are the server's).
describe('Journal.openReadOnly [sqlite]', () => {
  it('reads a journal on storage it cannot write (folder 0555, file 0444; as root, where chmod denies nothing, the same path runs)', () => {
    const path = freshPath();
    const writer = Journal.open(path);
    writer.createRun(baseRun);
    writer.close();
    const folder = dirname(path);
    chmodSync(path, 0o444);
    chmodSync(folder, 0o555);
    try {
      const reader = Journal.openReadOnly(path);
      try {
        assert.equal(reader.getRun('run-1')?.query, baseRun.query);
      } finally {
        reader.close();
      }
      assert.deepEqual(readdirSync(folder), ['journal.db']);
    } finally {
      chmodSync(folder, 0o755);
      chmodSync(path, 0o644);
    }
  });
});
