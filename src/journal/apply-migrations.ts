/**
 * Applies numbered migrations to the journal file. Each component (the journal itself, and any later layer that
 * adds tables) keeps its own version sequence in `schema_version`; see schema.ts for the journal's own.
 */
import type Database from 'better-sqlite3';
import { newerSchemaError } from './errors.ts';
import type { Migration } from './schema.ts';

/** Reads a component's stored version: `.get(component)?.version ?? 0` (0 when it has none). */
export function prepareVersionOf(db: Database.Database): Database.Statement<[string], { version: number | null }> {
  return db.prepare<[string], { version: number | null }>('SELECT MAX(version) AS version FROM schema_version WHERE component = ?');
}

/**
 * Applies every migration of `component` newer than its stored version, each in its own IMMEDIATE transaction
 * together with its `schema_version` row, and returns the version afterwards. `migrations` must already be
 * checked (strictly increasing versions). `journalPath` only names the file in errors.
 */
export function applyMigrations(
  db: Database.Database,
  journalPath: string,
  component: string,
  migrations: readonly Migration[],
  isoNow: () => string,
): number {
  const latest = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;
  const versionOf = prepareVersionOf(db);
  const insertVersion = db.prepare('INSERT INTO schema_version (component, version, name, applied_at) VALUES (?, ?, ?, ?)');
  const stored = versionOf.get(component)?.version ?? 0;
  if (stored > latest) throw newerSchemaError(journalPath, component, stored, latest);
  for (const migration of migrations) {
    if (migration.version <= stored) continue;
    const apply = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const current = versionOf.get(component)?.version ?? 0;
      if (current >= migration.version) return;
      if (typeof migration.up === 'string') db.exec(migration.up);
      else migration.up(db);
      insertVersion.run(component, migration.version, migration.name, isoNow());
    });
    apply.immediate();
  }
  const final = versionOf.get(component)?.version ?? 0;
  if (final > latest) throw newerSchemaError(journalPath, component, final, latest);
  return final;
}
