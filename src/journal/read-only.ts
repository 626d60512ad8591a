/**
 * Opening a journal for reading only (`runs ls/show`, `sim fit`, exports). Such a command must never create or
 * change a file: not the journal (a mistyped path is an error, not a new empty database), and not the WAL's
 * `-wal`/`-shm` companions either. And it must work where the user cannot write — a journal on read-only
 * storage, or another user's.
 *
 * SQLite cannot give both with a plain read-only open: reading a WAL-mode file needs a `-shm` file, which it
 * creates (and leaves behind) when it may, and fails to create (`SQLITE_READONLY_DIRECTORY`) when it may not.
 * So:
 * - when a `-wal` file exists, a writer is running (or was killed) and the latest commits may live only there:
 *   open read-only in place (the writer's `-shm` is already there), sharing its locks;
 * - otherwise every commit is in the main file: read a private in-memory copy of it (the WAL flag in the header
 *   cleared — an in-memory database has no WAL), with `query_only` on. Nothing is created, nothing locked;
 * - and when the in-place open is refused for want of write access, the in-memory copy too (what the main file
 *   holds is then all that can be read).
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/** SQLite's file header: bytes 18 and 19 are the write/read format versions, 2 meaning WAL. */
const WRITE_VERSION_OFFSET = 18;
const READ_VERSION_OFFSET = 19;

export function openReadOnlyDatabase(path: string, busyTimeoutMs: number): Database.Database {
  if (existsSync(`${path}-wal`)) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
      db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
      return db;
    } catch (error) {
      db?.close();
      if (!deniedWrite(error)) throw error;
    }
  }
  return inMemoryCopy(path);
}

function inMemoryCopy(path: string): Database.Database {
  const bytes = readFileSync(path);
  if (bytes.length >= 100 && bytes[WRITE_VERSION_OFFSET] === 2) {
    bytes[WRITE_VERSION_OFFSET] = 1;
    bytes[READ_VERSION_OFFSET] = 1;
  }
  const db = new Database(bytes);
  db.pragma('query_only = ON');
  return db;
}

function deniedWrite(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN'));
}
