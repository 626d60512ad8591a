/**
 * Runs a journal test suite against both engines: SQLite (a fresh file per case) and PostgreSQL (a fresh schema
 * per case, dropped after the file's tests). Postgres is the one at THICKET_TEST_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/test); it must be reachable — the suite fails when it is not — unless
 * THICKET_TEST_POSTGRES=0, which skips the Postgres variant and says so.
 */
import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Journal } from '../journal.ts';
import type { JournalOptions } from '../types.ts';

export type JournalBackendName = 'sqlite' | 'postgres';

export interface JournalBackend {
  readonly name: JournalBackendName;
  /** Where a new, empty journal would be opened: a file path in a not-yet-existing folder, or a URL with a fresh schema. */
  readonly freshTarget: () => string;
  /** Opens a fresh journal. */
  readonly open: (options?: JournalOptions) => Journal;
  /** Opens a fresh journal, runs `fn` and closes it. */
  readonly withJournal: <T>(fn: (journal: Journal, target: string) => T, options?: JournalOptions) => T;
}

export const TEST_POSTGRES_URL = process.env['THICKET_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgresSkipped = process.env['THICKET_TEST_POSTGRES'] === '0';

/** A URL of TEST_POSTGRES_URL's database with `schema` as the journal's schema. */
export function postgresUrl(schema: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Drops the given schemas (and everything in them). */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

let schemaCounter = 0;
/** A schema name no other test process uses (pid + counter + time: only uniqueness matters, not the value). */
export function freshSchemaName(): string {
  schemaCounter += 1;
  return `thicket_test_${process.pid}_${schemaCounter}_${Date.now().toString(36)}`;
}

function backend(name: JournalBackendName): JournalBackend {
  let root = '';
  let counter = 0;
  const schemas: string[] = [];
  before(() => {
    if (name === 'sqlite') root = mkdtempSync(join(tmpdir(), 'thicket-journal-'));
  });
  after(async () => {
    if (name === 'sqlite') rmSync(root, { recursive: true, force: true });
    else await dropSchemas(schemas.splice(0));
  });
  const freshTarget = (): string => {
    if (name === 'sqlite') {
      counter += 1;
      return join(root, `case-${counter}`, 'nested', 'journal.db');
    }
    const schema = freshSchemaName();
    schemas.push(schema);
    return postgresUrl(schema);
  };
  const open = (options: JournalOptions = {}): Journal => Journal.open(freshTarget(), options);
  return {
    name,
    freshTarget,
    open,
    withJournal: (fn, options = {}) => {
      const target = freshTarget();
      const journal = Journal.open(target, options);
      try {
        return fn(journal, target);
      } finally {
        journal.close();
      }
    },
  };
}

/** `describe(`${title} [sqlite]`)` and `describe(`${title} [postgres]`)`, each given its backend. */
export function describeJournalBackends(title: string, suite: (backend: JournalBackend) => void): void {
  describe(`${title} [sqlite]`, () => suite(backend('sqlite')));
  describe(`${title} [postgres]`, postgresSkipped ? { skip: 'THICKET_TEST_POSTGRES=0: the PostgreSQL journal is not tested' } : {}, () =>
    suite(backend('postgres')),
  );
}
