/**
 * Opening a registry's storage: the SQLite connection a registry opens for itself (with its pragmas), where
 * its index file lives, and the columnar store read back from SQLite. Apart from registry.ts because this is
 * the cold path, tuned for opening a million cards, while the class is the steady-state read and write surface.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Binding } from './card.ts';
import { ColumnStore } from './columns.ts';
import { tagOf } from './registry-rows.ts';
import { blobToVector, type Statements } from './storage.ts';

/** A database the registry owns: created with its folder, tuned for discovery reads. */
export function openOwnDatabase(path: string): Database.Database {
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(memory ? path : resolve(path));
  if (!memory) db.pragma('journal_mode = WAL');
  // Discovery reads each result's card by key; at a million cards (1.5 GB) most of those pages miss
  // SQLite's page cache, and a pread per page made a 10-card read ~0.8 ms (vs ~0.15 ms at 10,000 cards).
  // Memory-mapped reads serve them from the OS page cache without system calls (~5× faster at 1M).
  // SQLite clamps the request to its compile-time maximum (2 GB in better-sqlite3's build). Only for a
  // database the registry opens itself: a shared one keeps its owner's settings.
  if (!memory) db.pragma('mmap_size = 8589934592');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** A shared database is persisted beside its own file; an in-memory one keeps its index in memory only. */
export function defaultIndexPath(db: Database.Database, given: string | undefined): string | undefined {
  const file = db.memory || db.name === '' ? undefined : db.name;
  return given ?? (file === undefined ? undefined : `${resolve(file)}.usearch`);
}

/**
 * The filter columns and vectors of every card whose stored vector has `dimension`; the keys of the others
 * (no vector row, or one of another size) are returned for re-embedding.
 */
export function loadColumns(statements: Statements, dimension: number): { store: ColumnStore; missingKeys: number[] } {
  const store = new ColumnStore(dimension);
  const missingKeys: number[] = [];
  const vector = new Float32Array(dimension);
  // Raw (array) rows: at a million cards, building a million row objects is a visible share of open time.
  for (const [
    key,
    id,
    status,
    provider,
    kind,
    labels,
    cost,
    latency,
    quality,
    hash,
    ,
    vectorDimension,
    blob,
  ] of statements.load.iterate()) {
    if (blob === null || vectorDimension !== dimension) {
      missingKeys.push(key);
      continue;
    }
    blobToVector(blob, vector);
    store.put(
      key,
      {
        id,
        status,
        provider,
        kind: kind as Binding['kind'],
        labels: labels === '' ? [] : labels.split(' '),
        cost: cost ?? undefined,
        latency: latency ?? undefined,
        quality,
        tag: tagOf(hash, vector),
      },
      vector,
    );
  }
  return { store, missingKeys };
}
