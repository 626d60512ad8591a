/** Journal.openReadOnly: reading commands create no file (not even -wal/-shm), write nothing, and read storage they cannot write. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Journal } from './index.ts';
import { assertCode, baseRun, useTempJournals } from './testing/journal-cases.ts';

const { freshPath } = useTempJournals();

describe('Journal.openReadOnly', () => {
  it('refuses a missing path with INVALID_INPUT and creates nothing (not the file, not its folder)', () => {
    const path = join(dirname(freshPath()), 'no-such-folder', 'journal.db');
    assert.throws(() => Journal.openReadOnly(path), assertCode('INVALID_INPUT', /no journal at this path/));
    assert.equal(existsSync(dirname(path)), false);
  });

  it('reads a closed journal without creating -wal/-shm files, and refuses writes', () => {
    const path = freshPath();
    const writer = Journal.open(path);
    writer.createRun(baseRun);
    writer.close();
    const folder = dirname(path);
    const before = readdirSync(folder).sort();
    assert.equal(existsSync(`${path}-wal`), false, 'a cleanly closed journal has no -wal file');
    const reader = Journal.openReadOnly(path);
    try {
      assert.deepEqual(
        reader.listRuns({}).map((run) => run.id),
        ['run-1'],
      );
      assert.throws(() => reader.createRun({ ...baseRun, id: 'run-2' }), assertCode('JOURNAL_ERROR', /readonly|query_only|read-only/i));
    } finally {
      reader.close();
    }
    assert.deepEqual(readdirSync(folder).sort(), before, 'no file created or removed by reading');
  });

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

  it('sees what a live writer committed to its WAL (read in place, sharing its -wal/-shm)', () => {
    const path = freshPath();
    const writer = Journal.open(path);
    try {
      writer.createRun(baseRun);
      assert.ok(existsSync(`${path}-wal`), 'the writer keeps a -wal file open');
      const reader = Journal.openReadOnly(path);
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

  it('refuses a file that is not a journal', () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const other = Journal.open(path);
    other.sqlite.exec("DELETE FROM schema_version WHERE component = 'journal'");
    other.close();
    assert.throws(() => Journal.openReadOnly(path), assertCode('JOURNAL_ERROR', /not a Thicket journal/));
  });
});
