/**
 * Applies numbered migrations to the journal's database. Each component (the journal itself, and any later
 * layer that adds tables) keeps its own version sequence in `schema_version`; see schema.ts for the journal's own.
 */
import type Database from 'better-sqlite3';
import { JournalError } from '../core/index.ts';
import { newerSchemaError } from './errors.ts';
import { toPostgresDdl } from './postgres/dialect.ts';
import type { Migration } from './schema.ts';
import { asSqlDriver, type SqlDriver, type SqlStatement } from './sql-driver.ts';

/** Reads a component's stored version: `.get(component)?.version ?? 0` (0 when it has none). */
export function prepareVersionOf(db: SqlDriver | Database.Database): SqlStatement<{ version: number | null }> {
  return asSqlDriver(db).prepare<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_version WHERE component = ?');
}

/**
 * Applies every migration of `component` newer than its stored version, each in its own write transaction
 * together with its `schema_version` row, and returns the version afterwards. `migrations` must already be
 * checked (strictly increasing versions). `journalPath` only names the database in errors. Safe with several
 * processes migrating at once: each migration re-reads the version under the write lock (SQLite's IMMEDIATE,
 * Postgres's advisory lock) and skips what another process applied meanwhile.
 */
export function applyMigrations(
  database: SqlDriver | Database.Database,
  journalPath: string,
  component: string,
  migrations: readonly Migration[],
  isoNow: () => string,
): number {
  const db = asSqlDriver(database);
  const latest = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;
  const versionOf = prepareVersionOf(db);
  const insertVersion = db.prepare('INSERT INTO schema_version (component, version, name, applied_at) VALUES (?, ?, ?, ?)');
  const stored = versionOf.get(component)?.version ?? 0;
  if (stored > latest) throw newerSchemaError(journalPath, component, stored, latest);
  for (const migration of migrations) {
    if (migration.version <= stored) continue;
    const apply = db.transaction(() => {
      db.lockForMigrations();
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const current = versionOf.get(component)?.version ?? 0;
      if (current >= migration.version) return;
      runMigration(db, migration);
      insertVersion.run(component, migration.version, migration.name, isoNow());
    });
    apply();
  }
  const final = versionOf.get(component)?.version ?? 0;
  if (final > latest) throw newerSchemaError(journalPath, component, final, latest);
  return final;
}

function runMigration(db: SqlDriver, migration: Migration): void {
  const { up } = migration;
  if (typeof up === 'string') db.exec(db.dialect === 'postgres' ? toPostgresDdl(up) : up);
  else if (typeof up === 'object') db.exec(up[db.dialect]);
  else if (db.sqlite !== undefined) up(db.sqlite);
  else {
    throw new JournalError(
      `Migration ${migration.version} ("${migration.name}") is a function, which runs on SQLite only; ` +
        'give it as SQL ({ sqlite, postgres }) to run on PostgreSQL.',
    );
  }
}
