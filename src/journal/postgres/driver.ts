/**
 * The journal on PostgreSQL, behind the same synchronous SqlDriver as SQLite (../sql-driver.ts).
 *
 * Why synchronous: the journal is synchronous by design — the group commit writes a turn's calls in one
 * transaction without yielding, the ledger's reservations and the fleet's replay lookups happen in the same
 * tick as the decision they guard, and dozens of callers rely on that. Making it async would change every one
 * of them and open windows between "looked up" and "recorded". So the `pg` client runs on a worker thread
 * (worker.ts) and this thread waits for each round trip (synckit's Atomics.wait, the technique
 * eslint-plugin-prettier uses): the contract stays "when the call returns, it is committed", the cost is a
 * network round trip per statement instead of a page write.
 *
 * Each journal keeps one dedicated connection, so BEGIN … COMMIT and savepoints span its statements. Each
 * lives in a schema (the URL's `?schema=`, default `thicket`), created when absent.
 */
import { createSyncFn } from 'synckit';
import { InvalidInputError, JournalError } from '../../core/index.ts';
import type { RunResult, SqlDriver, SqlStatement } from '../sql-driver.ts';
import { quoteIdentifier, toPostgresQuery } from './dialect.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

/** Default wait for a connection before JOURNAL_UNREACHABLE. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** A statement that has not answered after this long fails (a server that stopped answering is not a hang). */
export const DEFAULT_QUERY_TIMEOUT_MS = 120_000;
/** First key of the journal's advisory locks (the second is the schema's hash). */
const MIGRATION_LOCK = 74_727;

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target.trim());
}

export interface PostgresTarget {
  /** What `pg` connects to (the `schema` parameter removed). */
  connectionString: string;
  schema: string;
  /** The URL with its password replaced by `***`, for messages and `Journal.path`. */
  redacted: string;
}

export function parsePostgresTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new InvalidInputError('Cannot open journal', [{ path: 'url', message: `not a valid PostgreSQL URL: ${redactLoosely(url)}` }]);
  }
  const schema = parsed.searchParams.get('schema') ?? 'thicket';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidInputError('Cannot open journal', [
      { path: 'url', message: `schema "${schema}" in ${redact(parsed)}: letters, digits and _ only (at most 63)` },
    ]);
  }
  parsed.searchParams.delete('schema');
  const connectionString = parsed.toString();
  parsed.searchParams.set('schema', schema);
  return { connectionString, schema, redacted: redact(parsed) };
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password !== '') copy.password = '***';
  return copy.toString();
}

function redactLoosely(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

type CallWorker = (request: WorkerRequest) => WorkerResponse;
let callWorker: CallWorker | undefined;
let nextConnectionId = 1;

function worker(): CallWorker {
  // One worker for every Postgres journal of the process (each has its own connection in it); started on the
  // first open. From dist/ it is the compiled worker.js; from src/ (under tsx) a JS entry that loads tsx first.
  const entry = import.meta.url.endsWith('.ts') ? './tsx-worker.mjs' : './worker.js';
  callWorker ??= createSyncFn(new URL(entry, import.meta.url)) as unknown as CallWorker;
  return callWorker;
}

/** A failed round trip as an Error carrying the server's SQLSTATE (or Node's code), as `wrap` expects. */
class PostgresError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'PostgresError';
    this.code = code;
  }
}

export interface PostgresOpenOptions {
  connectTimeoutMs?: number | undefined;
  queryTimeoutMs?: number | undefined;
  /** Every transaction read-only (`default_transaction_read_only`); the schema is not created. */
  readOnly?: boolean | undefined;
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly sqlite = undefined;
  readonly target: PostgresTarget;
  private readonly id: number;
  private readonly names = new Map<string, string>();
  private depth = 0;
  private closed = false;

  private constructor(target: PostgresTarget, id: number) {
    this.target = target;
    this.id = id;
  }

  /** Connects (JournalError JOURNAL_UNREACHABLE when it cannot, within the connect timeout). */
  static open(url: string, options: PostgresOpenOptions = {}): PostgresDriver {
    const target = parsePostgresTarget(url);
    const fromEnv = Number(process.env['THICKET_DATABASE_CONNECT_TIMEOUT_MS']);
    const connectTimeoutMs =
      options.connectTimeoutMs ?? (Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_CONNECT_TIMEOUT_MS);
    const schema = quoteIdentifier(target.schema);
    const setup = options.readOnly
      ? [{ text: `SET search_path TO ${schema}` }, { text: 'SET default_transaction_read_only = on' }]
      : [
          // Several processes may open a fresh journal at once: CREATE SCHEMA IF NOT EXISTS is not safe
          // against a concurrent twin (it can fail on the catalog's unique index), the lock makes it so.
          { text: 'BEGIN' },
          { text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [MIGRATION_LOCK, target.schema] },
          { text: `CREATE SCHEMA IF NOT EXISTS ${schema}` },
          { text: 'COMMIT' },
          { text: `SET search_path TO ${schema}` },
        ];
    const id = nextConnectionId++;
    const response = worker()({
      op: 'open',
      id,
      connectionString: target.connectionString,
      connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      setup,
    });
    if (!response.ok) {
      const { message, code } = response.error;
      throw new JournalError(
        `Cannot reach the PostgreSQL journal at ${target.redacted}: ${message}${code === undefined ? '' : ` (${code})`}. ` +
          'Check that PostgreSQL is running and the URL (host, port, user, database) is right.',
        { code: 'JOURNAL_UNREACHABLE', isRetryable: true, cause: new PostgresError(message, code) },
      );
    }
    return new PostgresDriver(target, id);
  }

  private query(text: string, values?: unknown[], name?: string): { rows: Record<string, unknown>[]; rowCount: number } {
    if (this.closed) throw new PostgresError('the journal connection is closed', undefined);
    const response = worker()({ op: 'query', id: this.id, text, values, name });
    if (!response.ok) {
      const { message, code, detail } = response.error;
      throw new PostgresError(detail === undefined ? message : `${message} (${detail})`, code);
    }
    return response;
  }

  prepare<Row = unknown>(sql: string): SqlStatement<Row> {
    const { text, names } = toPostgresQuery(sql);
    // A named statement is parsed and planned once per connection, like SQLite's prepared statements.
    let name = this.names.get(text);
    if (name === undefined) {
      name = `thicket_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    const statementName = name;
    const values = (params: unknown[]): unknown[] => {
      if (names === undefined) return params;
      const named = (params[0] ?? {}) as Record<string, unknown>;
      return names.map((key) => named[key] ?? null);
    };
    const execute = (params: unknown[]): { rows: Record<string, unknown>[]; rowCount: number } =>
      this.query(text, values(params), statementName);
    return {
      run: (...params: unknown[]): RunResult => {
        const result = execute(params);
        const id = result.rows[0]?.['id'];
        return { changes: result.rowCount, lastInsertRowid: typeof id === 'number' ? id : 0 };
      },
      get: (...params: unknown[]) => execute(params).rows[0] as Row | undefined,
      all: (...params: unknown[]) => execute(params).rows as Row[],
    };
  }

  exec(sql: string): void {
    this.query(sql);
  }

  transaction<Args extends unknown[], Result>(fn: (...args: Args) => Result): (...args: Args) => Result {
    return (...args: Args): Result => {
      const depth = this.depth;
      const savepoint = `thicket_sp${depth}`;
      this.query(depth === 0 ? 'BEGIN' : `SAVEPOINT ${savepoint}`);
      this.depth = depth + 1;
      let result: Result;
      try {
        result = fn(...args);
      } catch (error) {
        this.depth = depth;
        try {
          this.query(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`);
        } catch {
          // The connection itself failed: the server rolls back what it had; the original error says more.
        }
        throw error;
      }
      this.depth = depth;
      // A failed COMMIT has rolled back everything: it is raised like any failed statement.
      this.query(depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      return result;
    };
  }

  lockForMigrations(): void {
    this.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, this.target.schema]);
  }

  hasTable(name: string): boolean {
    return this.query('SELECT to_regclass($1) IS NOT NULL AS present', [name]).rows[0]?.['present'] === true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const response = worker()({ op: 'close', id: this.id });
    if (!response.ok) throw new PostgresError(response.error.message, response.error.code);
  }
}
