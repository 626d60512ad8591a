/**
 * The journal's schema, as numbered migrations. Each component (the journal itself, and any later layer that
 * adds tables) owns its own version sequence in `schema_version`; a migration runs once, inside the same
 * transaction that records it, so a crash mid-migration leaves the previous version intact.
 */
import type Database from 'better-sqlite3';
import { toPostgresDdl } from './postgres/dialect.ts';

/**
 * One migration list serves both engines. A script is written in SQLite's dialect and translated for Postgres
 * mechanically (postgres/dialect.ts: INTEGER → BIGINT, AUTOINCREMENT → identity, REAL → DOUBLE PRECISION,
 * BLOB → BYTEA); a migration whose Postgres form differs by more than that gives both texts. One list, not
 * two, so the engines cannot drift: a new migration that forgets Postgres still runs there, translated.
 */
export interface Migration {
  /** Positive integer, strictly increasing within a component. Never renumber or edit a released migration. */
  version: number;
  name: string;
  /**
   * SQL script (may hold several statements), the script per engine, or a function for data migrations
   * (SQLite only: it is handed the better-sqlite3 handle). Runs inside a transaction.
   */
  up: string | { sqlite: string; postgres: string } | ((db: Database.Database) => void);
}

/** The component name of the journal's own tables. */
export const JOURNAL_COMPONENT = 'journal';

export const SCHEMA_VERSION_TABLE = `
CREATE TABLE IF NOT EXISTS schema_version (
  component  TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL,
  PRIMARY KEY (component, version)
);`;

const V1 = `
CREATE TABLE runs (
  id          TEXT    PRIMARY KEY NOT NULL,
  command     TEXT    NOT NULL,
  query       TEXT    NOT NULL,
  args_json   TEXT,
  seed        INTEGER,
  simulated   INTEGER NOT NULL CHECK (simulated IN (0, 1)),
  status      TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'budget_exhausted', 'cancelled', 'error')),
  answer      TEXT,
  error_json  TEXT,
  budget_json TEXT,
  usage_json  TEXT,
  created_at  TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL
);
CREATE INDEX runs_by_created_at ON runs (created_at);

CREATE TABLE steps (
  run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id     TEXT NOT NULL,
  kind        TEXT NOT NULL,
  status      TEXT NOT NULL,
  input_json  TEXT,
  output_json TEXT,
  usage_json  TEXT,
  started_at  TEXT NOT NULL,
  ended_at    TEXT,
  PRIMARY KEY (run_id, step_id)
);

CREATE TABLE calls (
  run_id          TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  call_key        TEXT    NOT NULL,
  request_hash    TEXT    NOT NULL,
  model           TEXT    NOT NULL,
  provider        TEXT    NOT NULL,
  request_json    TEXT    NOT NULL,
  response_json   TEXT    NOT NULL,
  text            TEXT    NOT NULL,
  input_tokens    INTEGER NOT NULL CHECK (input_tokens >= 0),
  output_tokens   INTEGER NOT NULL CHECK (output_tokens >= 0),
  cost_usd        REAL    NOT NULL CHECK (cost_usd >= 0),
  latency_ms      REAL    NOT NULL,
  simulated       INTEGER NOT NULL CHECK (simulated IN (0, 1)),
  usage_estimated INTEGER NOT NULL CHECK (usage_estimated IN (0, 1)),
  attempts        INTEGER NOT NULL,
  budget_path     TEXT    NOT NULL,
  tags_json       TEXT    NOT NULL,
  created_at      TEXT    NOT NULL,
  PRIMARY KEY (run_id, call_key)
);

CREATE TABLE ledger_entries (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  call_key      TEXT,
  kind          TEXT    NOT NULL CHECK (kind IN ('settle', 'replay', 'refuse')),
  budget_path   TEXT    NOT NULL,
  input_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cost_usd      REAL    NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  detail_json   TEXT,
  at            TEXT    NOT NULL
);
-- One index serves per-run and per-call reads and enforces "a call is settled at most once": settle rows
-- collide on (run_id, call_key, 0), while replays and refusals are kept apart by their own id. (A separate
-- partial unique index would cost an extra page write on every recorded call.)
CREATE UNIQUE INDEX ledger_entries_by_call ON ledger_entries (run_id, call_key, (CASE WHEN kind = 'settle' THEN 0 ELSE id END));
`;

/**
 * Postgres has no rowid: the tables read back in insertion order (runs newest first, a run's steps and calls
 * in order) get an explicit identity column, `seq`, which the translated queries order by instead.
 */
const V1_POSTGRES = `${toPostgresDdl(V1)}
ALTER TABLE runs ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE steps ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE calls ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
`;

export const JOURNAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, calls, ledger_entries',
    up: { sqlite: V1, postgres: V1_POSTGRES },
  },
  {
    version: 2,
    name: "calls.billed_json: everything billed across a call's attempts",
    up: `ALTER TABLE calls ADD COLUMN billed_json TEXT;`,
  },
  {
    version: 3,
    name: 'messages stored once by content hash; calls reference their message list (message-store.ts)',
    // Existing rows keep their inline request_json (messages_list NULL) and stay readable as they are; only
    // calls recorded from now on are stored by reference. Rowid tables, not WITHOUT ROWID: rows are appended in
    // insertion order and only the small key index takes the random (hash-ordered) inserts; every page an
    // insert touches is rewritten to the WAL on each group commit, and random inserts into a table of ~0.5 kB
    // rows touched ~27% more pages (AgentsNet, 300 agents: 1.35 M vs 0.99 M 512-byte blocks written).
    up: `
CREATE TABLE messages (
  hash TEXT PRIMARY KEY NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE message_lists (
  id      TEXT PRIMARY KEY NOT NULL,
  parent  TEXT REFERENCES message_lists (id),
  message TEXT NOT NULL REFERENCES messages (hash)
);
ALTER TABLE calls ADD COLUMN messages_list TEXT REFERENCES message_lists (id);
`,
  },
  {
    version: 4,
    name: 'calls.error_json: calls that spent but failed (truncated or malformed output) are recorded too',
    // NULL for a successful call. A failed call's row holds its last response and, in billed_json, everything
    // its attempts spent; a replay charges that and throws the error again (models/fleet.ts).
    up: `ALTER TABLE calls ADD COLUMN error_json TEXT;`,
  },
  {
    version: 5,
    name: 'call_intents: each attempt at its reservation, committed before it is sent, deleted with its result',
    // A row exists only while its call is unresolved: inserted (synchronously committed) before the request
    // leaves, deleted in the same transaction as the call's row (or when the call ends unbilled). A row left
    // by a crash may have been billed: a resumed run counts it at its reserved worst case (orphaned_at set).
    // No secondary index: the table holds only in-flight attempts and orphans, and every index would cost a
    // page write on the call path.
    up: `
CREATE TABLE call_intents (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  call_key      TEXT    NOT NULL,
  attempt       INTEGER NOT NULL,
  model         TEXT    NOT NULL,
  purpose       TEXT,
  budget_path   TEXT    NOT NULL,
  input_tokens  INTEGER NOT NULL CHECK (input_tokens >= 0),
  output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
  cost_usd      REAL    NOT NULL CHECK (cost_usd >= 0),
  created_at    TEXT    NOT NULL,
  orphaned_at   TEXT
);
`,
  },
  {
    version: 6,
    name: 'runs.owner and api_keys: who a run is billed to (a gateway key), and the gateway keys themselves',
    // owner is NULL for runs started outside the gateway. A key's spend for a period is the sum of its runs'
    // journaled calls (and unresolved intents), read through runs_by_owner. Keys keep only a SHA-256 of the
    // secret: the secret is 32 random bytes, so a slow password hash would add nothing but latency per request.
    up: `
ALTER TABLE runs ADD COLUMN owner TEXT;
CREATE INDEX runs_by_owner ON runs (owner, created_at) WHERE owner IS NOT NULL;
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'client')),
  settings_json TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  revoked_at    TEXT
);
`,
  },
];
