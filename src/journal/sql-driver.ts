/**
 * The journal's seam between its SQL and the database engine. Two engines satisfy it: better-sqlite3 (the
 * embedded default; its own Statement objects are returned as they are, so the SQLite journal runs exactly the
 * code and speed it did before the seam existed) and PostgreSQL (postgres/driver.ts).
 *
 * The seam is synchronous on purpose. The journal is synchronous by design: the group commit runs inside one
 * event-loop turn, the ledger reserves and the fleet looks a call up without yielding, and dozens of callers
 * rely on that. Postgres keeps that contract by running its client on a worker thread and waiting for each
 * round trip (postgres/driver.ts).
 *
 * SQL is written in SQLite's dialect (positional `?` and named `@name` parameters); the Postgres driver
 * translates it (postgres/dialect.ts). Statements whose meaning differs between engines pick by `dialect`.
 */
import type Database from 'better-sqlite3';

export type SqlDialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted (0 for an `INSERT OR IGNORE` that hit an existing key). */
  changes: number;
  /** The id of the inserted row (tables with an integer id key). */
  lastInsertRowid: number | bigint;
}

/** A prepared statement: positional values, or one object for `@name` parameters. */
export interface SqlStatement<Row = unknown> {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
}

export interface SqlDriver {
  readonly dialect: SqlDialect;
  prepare<Row = unknown>(sql: string): SqlStatement<Row>;
  /** Runs a script (several statements, no parameters). */
  exec(sql: string): void;
  /**
   * Wraps `fn` in a transaction: a write transaction taken up front (SQLite's IMMEDIATE, Postgres's BEGIN),
   * or a savepoint when called inside one, so a nested failure rolls back only its own part.
   */
  transaction<Args extends unknown[], Result>(fn: (...args: Args) => Result): (...args: Args) => Result;
  /**
   * Serialises schema changes across processes, held until the enclosing transaction ends: a no-op on SQLite
   * (IMMEDIATE already holds the file's write lock), `pg_advisory_xact_lock` on Postgres.
   */
  lockForMigrations(): void;
  /** Whether the component's `schema_version` table exists. */
  hasTable(name: string): boolean;
  /** The better-sqlite3 handle (SQLite only). */
  readonly sqlite: Database.Database | undefined;
  close(): void;
}

/** better-sqlite3 as a SqlDriver. */
export function sqliteDriver(db: Database.Database): SqlDriver {
  return {
    dialect: 'sqlite',
    sqlite: db,
    // better-sqlite3's statements have exactly the SqlStatement shape: no wrapper on the hot path.
    prepare: <Row>(sql: string) => db.prepare<unknown[], Row>(sql) as unknown as SqlStatement<Row>,
    exec: (sql) => void db.exec(sql),
    transaction: <Args extends unknown[], Result>(fn: (...args: Args) => Result) => {
      // `.immediate` begins IMMEDIATE at the top level and is a savepoint when nested, like the plain variant.
      const transaction = db.transaction(fn);
      return (...args: Args): Result => transaction.immediate(...args);
    },
    lockForMigrations: () => undefined,
    hasTable: (name) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined,
    close: () => void db.close(),
  };
}

/** A driver as is, or a better-sqlite3 handle wrapped in one (callers that keep their own SQLite file). */
export function asSqlDriver(db: SqlDriver | Database.Database): SqlDriver {
  return 'dialect' in db ? db : sqliteDriver(db);
}
