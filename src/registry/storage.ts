/**
 * The registry's SQLite tables and statements. The registry may live in its own file or share a database
 * (e.g. the journal's): its tables are prefixed `registry_` and its migrations are recorded under the
 * component `registry` in the shared `schema_version` table, the same way the journal records its own.
 *
 * `registry_cards.key` is AUTOINCREMENT on purpose: it is also the key of the card's vector in the HNSW
 * index, and a reused key could make a stale index return a different card than the one it indexed.
 * Filter fields (status, provider, labels, cost, latency, quality) are plain columns so that opening a
 * registry of a million cards never parses a million card documents.
 */
import type Database from 'better-sqlite3';
import { SCHEMA_VERSION_TABLE, applyMigrations, type Migration } from '../journal/index.ts';
import type { CardStatus } from './card.ts';

const REGISTRY_COMPONENT = 'registry';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'cards, vectors, meta',
    up: `
CREATE TABLE registry_cards (
  key           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT    NOT NULL,
  version       TEXT    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('active', 'deprecated', 'yanked')),
  provider      TEXT    NOT NULL,
  binding_kind  TEXT    NOT NULL,
  labels        TEXT    NOT NULL,
  cost_per_call REAL,
  latency_ms    REAL,
  quality       REAL    NOT NULL,
  content_hash  TEXT    NOT NULL,
  card_json     TEXT    NOT NULL,
  registered_at TEXT    NOT NULL,
  updated_at    TEXT    NOT NULL,
  UNIQUE (id, version)
);
CREATE TABLE registry_vectors (
  key       INTEGER PRIMARY KEY NOT NULL REFERENCES registry_cards (key) ON DELETE CASCADE,
  embedder  TEXT    NOT NULL,
  dimension INTEGER NOT NULL,
  vector    BLOB    NOT NULL
);
CREATE TABLE registry_meta (
  name  TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);`,
  },
];

/**
 * Brings the registry's tables up to date with the journal's migration runner: each migration commits together
 * with its version row, and a file from a newer Thicket is refused before anything is touched.
 */
export function migrateRegistry(db: Database.Database, now: () => string): void {
  db.exec(SCHEMA_VERSION_TABLE);
  applyMigrations(db, db.name, REGISTRY_COMPONENT, MIGRATIONS, now);
}

export interface CardRow {
  key: number;
  id: string;
  version: string;
  status: CardStatus;
  provider: string;
  binding_kind: string;
  labels: string;
  cost_per_call: number | null;
  latency_ms: number | null;
  quality: number;
  content_hash: string;
  card_json: string;
  registered_at: string;
  updated_at: string;
  /** From the vector row (LEFT JOIN): null when the card has no vector yet. */
  embedder: string | null;
  dimension: number | null;
}

/**
 * What opening a registry reads for every card — filter columns and the vector, never the document — as a raw
 * row: key, id, status, provider, binding kind, labels, cost, latency, quality, content hash, embedder,
 * dimension, vector.
 */
export type LoadRow = [
  number,
  string,
  CardStatus,
  string,
  string,
  string,
  number | null,
  number | null,
  number,
  string,
  string | null,
  number | null,
  Buffer | null,
];

/** A discovery result's row: status, card document, registration time. */
export type ResultRow = [CardStatus, string, string];

const SELECT_CARD = 'SELECT c.*, v.embedder, v.dimension FROM registry_cards c LEFT JOIN registry_vectors v ON v.key = c.key';

type Statement<Params extends unknown[], Row = unknown> = Database.Statement<Params, Row>;

/** Spelled out (not inferred) so that the declaration emit (tsconfig.build.json) can name better-sqlite3's types. */
export interface Statements {
  insertCard: Statement<
    [string, string, string, string, string, string, number | null, number | null, number, string, string, string, string]
  >;
  upsertVector: Statement<[number, string, number, Buffer]>;
  byIdVersion: Statement<[string, string], CardRow>;
  byKey: Statement<[number], CardRow>;
  resultByKey: Statement<[number], ResultRow>;
  versionsOf: Statement<[string], { key: number; version: string; status: CardStatus }>;
  setStatus: Statement<[string, string, number]>;
  list: Statement<[{ id: string | null; status: string | null; limit: number; offset: number }], CardRow>;
  count: Statement<[], { cards: number }>;
  listTexts: Statement<[], { key: number; card_json: string }>;
  load: Statement<[], LoadRow>;
  hashOf: Statement<[string, string], { content_hash: string }>;
  embedders: Statement<[], { embedder: string; dimension: number; count: number }>;
  getMeta: Statement<[string], { value: string }>;
  setMeta: Statement<[string, string]>;
}

export function prepareStatements(db: Database.Database): Statements {
  return {
    insertCard: db.prepare<
      [string, string, string, string, string, string, number | null, number | null, number, string, string, string, string]
    >(
      `INSERT INTO registry_cards (id, version, status, provider, binding_kind, labels, cost_per_call, latency_ms, quality, content_hash, ` +
        `card_json, registered_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertVector: db.prepare<[number, string, number, Buffer]>(
      'INSERT OR REPLACE INTO registry_vectors (key, embedder, dimension, vector) VALUES (?, ?, ?, ?)',
    ),
    byIdVersion: db.prepare<[string, string], CardRow>(`${SELECT_CARD} WHERE c.id = ? AND c.version = ?`),
    byKey: db.prepare<[number], CardRow>(`${SELECT_CARD} WHERE c.key = ?`),
    // What a discovery result needs and nothing else: no vector join (every indexed card carries the registry's
    // embedder), raw rows (no per-row object of column names).
    resultByKey: db.prepare<[number], ResultRow>('SELECT status, card_json, registered_at FROM registry_cards WHERE key = ?').raw(true),
    versionsOf: db.prepare<[string], { key: number; version: string; status: CardStatus }>(
      'SELECT key, version, status FROM registry_cards WHERE id = ?',
    ),
    setStatus: db.prepare<[string, string, number]>('UPDATE registry_cards SET status = ?, updated_at = ? WHERE key = ?'),
    list: db.prepare<[{ id: string | null; status: string | null; limit: number; offset: number }], CardRow>(
      `${SELECT_CARD} WHERE (@id IS NULL OR c.id = @id) AND (@status IS NULL OR c.status = @status) ORDER BY c.id, c.key LIMIT @limit OFFSET @offset`,
    ),
    count: db.prepare<[], { cards: number }>('SELECT COUNT(*) AS cards FROM registry_cards'),
    listTexts: db.prepare<[], { key: number; card_json: string }>('SELECT key, card_json FROM registry_cards ORDER BY key'),
    load: db
      .prepare<[], LoadRow>(
        `SELECT c.key, c.id, c.status, c.provider, c.binding_kind, c.labels, c.cost_per_call, c.latency_ms, c.quality, c.content_hash, v.embedder, ` +
          `v.dimension, v.vector
         FROM registry_cards c LEFT JOIN registry_vectors v ON v.key = c.key ORDER BY c.key`,
      )
      .raw(true),
    hashOf: db.prepare<[string, string], { content_hash: string }>('SELECT content_hash FROM registry_cards WHERE id = ? AND version = ?'),
    embedders: db.prepare<[], { embedder: string; dimension: number; count: number }>(
      'SELECT embedder, dimension, COUNT(*) AS count FROM registry_vectors GROUP BY embedder, dimension',
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM registry_meta WHERE name = ?'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO registry_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ),
  };
}

/** Vectors are stored as little-endian float32 bytes (a copy: the Buffer must not alias a reused array). */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
}

export function blobToVector(blob: Buffer, into?: Float32Array, offset = 0): Float32Array {
  // Copy bytes rather than view them: SQLite's buffers need not be 4-byte aligned.
  const target = into ?? new Float32Array(blob.byteLength / 4);
  new Uint8Array(target.buffer, target.byteOffset + offset * 4, blob.byteLength).set(blob);
  return target;
}
