/**
 * Opening a journal's database: a SQLite file (created with its folder, in WAL mode) or a PostgreSQL schema,
 * for writing or for reading only. `Journal.open` and `Journal.openReadOnly` hand in how the Journal is made
 * on the opened driver (migrated, prepared): that runs inside the same error handling, so a handle whose set-up
 * fails part-way is closed and the error names the journal.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidInputError, JournalError } from '../core/index.ts';
import { prepareVersionOf } from './apply-migrations.ts';
import { newerSchemaError, wrap } from './errors.ts';
import { toPostgresDdl } from './postgres/dialect.ts';
import { isPostgresUrl, PostgresDriver } from './postgres/driver.ts';
import { openReadOnlyDatabase } from './read-only.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, SCHEMA_VERSION_TABLE } from './schema.ts';
import { sqliteDriver, type SqlDriver } from './sql-driver.ts';
import type { JournalOptions } from './types.ts';
import { openValues } from './validation.ts';

/** Makes the journal on an opened driver; `where` names it (the absolute path, or the URL with its password redacted). */
export type MakeJournal<J> = (where: string, driver: SqlDriver, simulatedCommitWindowMs: number) => J;

/** Opens (creating if needed) the journal at `path` for writing; `make` migrates it. See `Journal.open`. */
export function openJournal<J>(path: string, options: JournalOptions, make: MakeJournal<J>): J {
  const { busyTimeoutMs, simulatedCommitWindowMs } = openValues(path, options);
  if (isPostgresUrl(path)) return openPostgres(path, options, simulatedCommitWindowMs, make);
  const memory = path === ':memory:';
  const fullPath = memory ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (!memory) mkdirSync(dirname(fullPath), { recursive: true });
    db = new Database(fullPath, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const driver = sqliteDriver(db);
    db.exec(SCHEMA_VERSION_TABLE);
    return make(fullPath, driver, simulatedCommitWindowMs);
  } catch (error) {
    closeQuietly(db);
    throw wrap(error, `Cannot open journal at ${fullPath}`);
  }
}

function openPostgres<J>(url: string, options: JournalOptions, simulatedCommitWindowMs: number, make: MakeJournal<J>): J {
  const driver = PostgresDriver.open(url, { connectTimeoutMs: options.connectTimeoutMs });
  try {
    // Under the migration lock: CREATE TABLE IF NOT EXISTS races with a twin process opening a fresh schema.
    driver.transaction(() => {
      driver.lockForMigrations();
      driver.exec(toPostgresDdl(SCHEMA_VERSION_TABLE));
    })();
    return make(driver.target.redacted, driver, simulatedCommitWindowMs);
  } catch (error) {
    closeQuietly(driver);
    throw wrap(error, `Cannot open journal at ${driver.target.redacted}`);
  }
}

/**
 * Opens an existing journal for reading only (see `Journal.openReadOnly`): `make` prepares it as it is, and
 * `openWritable` opens the same target for writing instead when its schema is older than this Thicket's
 * (reading cannot migrate it; a writing open upgrades it).
 */
export function openJournalReadOnly<J>(
  path: string,
  options: JournalOptions,
  make: (where: string, driver: SqlDriver) => J,
  openWritable: (target: string) => J,
): J {
  const { busyTimeoutMs } = openValues(path, options);
  if (isPostgresUrl(path)) return openPostgresReadOnly(path, options, make, openWritable);
  const fullPath = resolve(path);
  if (!existsSync(fullPath)) throw new InvalidInputError('Cannot read journal', [{ path: fullPath, message: 'no journal at this path' }]);
  let db: Database.Database | undefined;
  try {
    db = openReadOnlyDatabase(fullPath, busyTimeoutMs);
    const driver = sqliteDriver(db);
    const { stored, latest } = journalVersions(driver);
    if (stored > latest) throw newerSchemaError(fullPath, JOURNAL_COMPONENT, stored, latest);
    if (stored === 0) throw new JournalError(`${fullPath} is not a Thicket journal (or an empty one).`);
    if (stored < latest) {
      // Written by an older Thicket: the statements need the current schema. Upgrade it in place when the
      // file may be written (what any command did before reading became read-only); else say so.
      db.close();
      db = undefined;
      try {
        return openWritable(fullPath);
      } catch (error) {
        throw new JournalError(
          `The journal at ${fullPath} has schema version ${stored}, older than this Thicket's (${latest}), and cannot be upgraded ` +
            `here (${(error as Error).message}). Open it once where it can be written.`,
          { cause: error },
        );
      }
    }
    return make(fullPath, driver);
  } catch (error) {
    closeQuietly(db);
    throw wrap(error, `Cannot read journal at ${fullPath}`);
  }
}

/** A Postgres journal for reading: every transaction read-only (`default_transaction_read_only`). */
function openPostgresReadOnly<J>(
  url: string,
  options: JournalOptions,
  make: (where: string, driver: SqlDriver) => J,
  openWritable: (target: string) => J,
): J {
  const driver = PostgresDriver.open(url, { connectTimeoutMs: options.connectTimeoutMs, readOnly: true });
  const where = driver.target.redacted;
  try {
    const { stored, latest } = journalVersions(driver);
    if (stored > latest) throw newerSchemaError(where, JOURNAL_COMPONENT, stored, latest);
    if (stored === 0) throw new InvalidInputError('Cannot read journal', [{ path: where, message: 'no Thicket journal in this schema' }]);
    if (stored < latest) {
      // As for a file: upgrading is a write, done by a writing open (any command that records runs).
      driver.close();
      return openWritable(url);
    }
    return make(where, driver);
  } catch (error) {
    closeQuietly(driver);
    throw wrap(error, `Cannot read journal at ${where}`);
  }
}

/** The journal schema version stored in the database (0 for none) and the latest this Thicket knows. */
function journalVersions(driver: SqlDriver): { stored: number; latest: number } {
  const latest = JOURNAL_MIGRATIONS.at(-1)?.version ?? 0;
  const stored = driver.hasTable('schema_version') ? (prepareVersionOf(driver).get(JOURNAL_COMPONENT)?.version ?? 0) : 0;
  return { stored, latest };
}

/** Closes a handle whose open failed part-way; a second failure there would hide the first, which matters more. */
function closeQuietly(db: { close(): unknown } | undefined): void {
  try {
    db?.close();
  } catch {
    // Already failing.
  }
}
