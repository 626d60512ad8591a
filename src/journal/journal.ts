/**
 * The run journal: every run, step, model call and ledger entry, in one SQLite file (better-sqlite3).
 *
 * Everything is synchronous and every statement is prepared once. `record` (a model call plus its 'settle'
 * ledger entry) is a single IMMEDIATE transaction and `lookup` a primary-key read, because the fleet pays for
 * both on every model call. The file runs in WAL mode with `synchronous = NORMAL`: a committed transaction
 * survives the process being killed at any instant (only a power cut can lose the last few commits, never
 * corrupt the file).
 *
 * Errors: bad arguments raise InvalidInputError (code INVALID_INPUT); anything SQLite raises is wrapped in a
 * JournalError whose `cause` is the original error (SQLITE_BUSY is marked retryable).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import envPaths from 'env-paths';
import { InvalidInputError, JournalError, ThicketError, type InputIssue, type UsageTotals } from '../core/index.ts';
import type { CallRecorder, RecordedCall, RecordedFinishReason, RecordedResponse } from './call-recorder.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, SCHEMA_VERSION_TABLE, type Migration } from './schema.ts';

// ---------------------------------------------------------------------------------------------------------
// Public types

interface PendingCall {
  runId: string;
  call: RecordedCall;
  requestJson: string;
  responseJson: string;
  tagsJson: string;
  at: string;
}

export type RunStatus = 'running' | 'ok' | 'budget_exhausted' | 'cancelled' | 'error';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'ok', 'budget_exhausted', 'cancelled', 'error'];

export type LedgerKind = 'settle' | 'replay' | 'refuse';
export const LEDGER_KINDS: readonly LedgerKind[] = ['settle', 'replay', 'refuse'];

export interface JournalOptions {
  /** How long a writer waits for another process's lock before failing with SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number | undefined;
  /** Wall-clock source for timestamps, epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
}

export interface NewRun {
  id: string;
  command: string;
  query: string;
  /** The command's arguments/flags (JSON). */
  args?: unknown;
  seed?: number | null | undefined;
  simulated: boolean;
  /** The budget the run was given (JSON). On resume, a given budget replaces the stored one. */
  budget?: unknown;
}

export interface RunRow {
  id: string;
  command: string;
  query: string;
  args: unknown;
  seed: number | null;
  simulated: boolean;
  status: RunStatus;
  answer: string | null;
  /** The error that ended the run, as JSON (`{ name, message, code, ... }` for errors). */
  error: unknown;
  budget: unknown;
  usage: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface RunSummary extends RunRow {
  /** Aggregated over the run's recorded calls. */
  totals: UsageTotals;
}

export interface FinishRun {
  status: RunStatus;
  answer?: string | null | undefined;
  /** An Error (serialised as name, message and its own fields) or any JSON value. */
  error?: unknown;
  usage?: unknown;
}

export interface StepInput {
  stepId: string;
  kind: string;
  /** Free-form; 'pending' and 'running' count as open, anything else as ended. */
  status: string;
  /** Omitted fields keep their stored value on update. */
  input?: unknown;
  output?: unknown;
  usage?: unknown;
  /** ISO timestamps. `startedAt` defaults to now on insert; `endedAt` to now once the status is not open. */
  startedAt?: string | undefined;
  endedAt?: string | undefined;
}

export interface StepRow {
  runId: string;
  stepId: string;
  kind: string;
  status: string;
  input: unknown;
  output: unknown;
  usage: unknown;
  startedAt: string;
  endedAt: string | null;
}

/** A recorded call as listings want it: the RecordedCall plus flattened copies of its most used fields. */
export interface CallRow extends RecordedCall {
  runId: string;
  createdAt: string;
  /** `request.metadata.stepId` when the request carried one. */
  stepId: string | null;
  text: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  finishReason: RecordedFinishReason;
  simulated: boolean;
  usageEstimated: boolean;
}

export interface LedgerEntryInput {
  kind: LedgerKind;
  callKey?: string | null | undefined;
  budgetPath: string;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  costUsd?: number | undefined;
  detail?: unknown;
}

export interface LedgerEntryRow {
  id: number;
  runId: string;
  callKey: string | null;
  kind: LedgerKind;
  budgetPath: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  detail: unknown;
  at: string;
}

export interface ModelSpend extends UsageTotals {
  model: string;
  provider: string;
}

// ---------------------------------------------------------------------------------------------------------
// Default location

/** `THICKET_DB` when set, else `<per-user data folder>/journal.db` (e.g. `~/.local/share/thicket/journal.db`). */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['THICKET_DB'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return join(envPaths('thicket', { suffix: '' }).data, 'journal.db');
}

// ---------------------------------------------------------------------------------------------------------
// Row shapes as SQLite returns them

interface RunDbRow {
  id: string;
  command: string;
  query: string;
  args_json: string | null;
  seed: number | null;
  simulated: number;
  status: RunStatus;
  answer: string | null;
  error_json: string | null;
  budget_json: string | null;
  usage_json: string | null;
  created_at: string;
  updated_at: string;
}

interface TotalsDbRow {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

interface StepDbRow {
  run_id: string;
  step_id: string;
  kind: string;
  status: string;
  input_json: string | null;
  output_json: string | null;
  usage_json: string | null;
  started_at: string;
  ended_at: string | null;
}

interface CallDbRow {
  run_id: string;
  call_key: string;
  request_hash: string;
  model: string;
  provider: string;
  request_json: string;
  response_json: string;
  text: string;
  cost_usd: number;
  attempts: number;
  budget_path: string;
  tags_json: string;
  created_at: string;
}

interface LedgerDbRow {
  id: number;
  run_id: string;
  call_key: string | null;
  kind: LedgerKind;
  budget_path: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  detail_json: string | null;
  at: string;
}

type Statement<Result = unknown> = Database.Statement<unknown[], Result>;

const CALL_COLUMNS =
  'run_id, call_key, request_hash, model, provider, request_json, response_json, text, cost_usd, attempts, budget_path, tags_json, created_at';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------------------
// The journal

export class Journal {
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private closed = false;
  private statements: Statements | undefined;
  private readonly pending = new Map<string, PendingCall>();
  private flushScheduled = false;
  private flushFailure: unknown;

  private constructor(path: string, db: Database.Database, now: () => number) {
    this.path = path;
    this.db = db;
    this.now = now;
  }

  /**
   * Opens (creating if needed, with its parent folder) the journal at `path` and brings its schema up to date.
   * `:memory:` opens a private in-memory journal (no WAL).
   */
  static open(path: string, options: JournalOptions = {}): Journal {
    if (typeof path !== 'string' || path.trim() === '') throw new InvalidInputError('Cannot open journal', [{ path: 'path', message: 'must be a non-empty file path' }]);
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new InvalidInputError('Cannot open journal', [{ path: 'busyTimeoutMs', message: 'must be a non-negative integer' }]);
    }
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
      const journal = new Journal(fullPath, db, options.now ?? Date.now);
      db.exec(SCHEMA_VERSION_TABLE);
      journal.migrate(JOURNAL_COMPONENT, JOURNAL_MIGRATIONS);
      journal.statements = prepareStatements(db);
      return journal;
    } catch (error) {
      try {
        db?.close();
      } catch {
        // Already failing; the original error matters more.
      }
      throw wrap(error, `Cannot open journal at ${fullPath}`);
    }
  }

  /** The underlying better-sqlite3 handle, for later layers' own tables (add them through `migrate`). */
  get sqlite(): Database.Database {
    this.assertOpen();
    return this.db;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Closes the file (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.statements = undefined;
    try {
      this.db.close();
    } catch (error) {
      throw wrap(error, `Cannot close journal at ${this.path}`);
    }
  }

  /** SQLite's journal mode: 'wal' for a file journal, 'memory' for `:memory:`. */
  journalMode(): string {
    return this.guard('Cannot read journal mode', () => String(this.db.pragma('journal_mode', { simple: true })));
  }

  // ------------------------------------------------------------------------------------------- migrations

  /**
   * Applies every migration of `component` newer than its stored version, each in its own IMMEDIATE transaction
   * together with its `schema_version` row. Idempotent. Returns the component's version afterwards. Refuses a
   * journal whose stored version is newer than the migrations given (written by a newer Thicket).
   */
  migrate(component: string, migrations: readonly Migration[]): number {
    this.assertOpen();
    const issues: InputIssue[] = [];
    if (typeof component !== 'string' || component.trim() === '') issues.push({ path: 'component', message: 'must be a non-empty string' });
    let previous = 0;
    migrations.forEach((migration, index) => {
      if (!Number.isInteger(migration.version) || migration.version <= previous) {
        issues.push({ path: `migrations[${index}].version`, message: `must be an integer greater than ${previous}` });
      } else previous = migration.version;
      if (typeof migration.name !== 'string' || migration.name === '') issues.push({ path: `migrations[${index}].name`, message: 'must be a non-empty string' });
      if (typeof migration.up !== 'string' && typeof migration.up !== 'function') issues.push({ path: `migrations[${index}].up`, message: 'must be SQL text or a function' });
    });
    if (issues.length > 0) throw new InvalidInputError('Invalid migrations', issues);
    const latest = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;

    return this.guard(`Cannot migrate journal component "${component}"`, () => {
      const versionOf = this.db.prepare<[string], { version: number | null }>('SELECT MAX(version) AS version FROM schema_version WHERE component = ?');
      const insertVersion = this.db.prepare('INSERT INTO schema_version (component, version, name, applied_at) VALUES (?, ?, ?, ?)');
      const stored = versionOf.get(component)?.version ?? 0;
      if (stored > latest) throw newerSchemaError(this.path, component, stored, latest);
      for (const migration of migrations) {
        if (migration.version <= stored) continue;
        const apply = this.db.transaction(() => {
          // Re-read inside the write lock: another process may have migrated meanwhile.
          const current = versionOf.get(component)?.version ?? 0;
          if (current >= migration.version) return;
          if (typeof migration.up === 'string') this.db.exec(migration.up);
          else migration.up(this.db);
          insertVersion.run(component, migration.version, migration.name, this.isoNow());
        });
        apply.immediate();
      }
      const final = versionOf.get(component)?.version ?? 0;
      if (final > latest) throw newerSchemaError(this.path, component, final, latest);
      return final;
    });
  }

  /** The stored schema version of `component` (0 when it has none). */
  schemaVersion(component: string = JOURNAL_COMPONENT): number {
    return this.guard('Cannot read schema version', () => {
      const row = this.db.prepare<[string], { version: number | null }>('SELECT MAX(version) AS version FROM schema_version WHERE component = ?').get(component);
      return row?.version ?? 0;
    });
  }

  // ------------------------------------------------------------------------------------------------ runs

  /** Inserts a new run with status 'running'. Fails (JournalError) if the id exists. */
  createRun(run: NewRun): RunRow {
    const values = runValues(run);
    return this.guard(`Cannot create run "${run.id}"`, () => this.tx(() => this.insertRun(values)));
  }

  getRun(id: string): RunRow | undefined {
    this.flush();
    requireId(id, 'id', 'Cannot read run');
    return this.guard(`Cannot read run "${id}"`, () => {
      const row = this.stmts().getRun.get(id);
      return row === undefined ? undefined : toRunRow(row);
    });
  }

  /**
   * Creates the run, or resumes it when the id exists: the command and query must match the stored ones (else
   * InvalidInputError naming each mismatched field); the status goes back to 'running', the answer and error
   * are cleared, and a given budget replaces the stored one.
   */
  beginOrResumeRun(run: NewRun): { run: RunRow; resumed: boolean } {
    const values = runValues(run);
    return this.guard(`Cannot begin run "${run.id}"`, () =>
      this.tx(() => {
        const s = this.stmts();
        const existing = s.getRun.get(values.id);
        if (existing === undefined) return { run: this.insertRun(values), resumed: false };
        const issues: InputIssue[] = [];
        if (existing.command !== values.command) issues.push({ path: 'command', message: `the journal has ${JSON.stringify(existing.command)}, got ${JSON.stringify(values.command)}` });
        if (existing.query !== values.query) issues.push({ path: 'query', message: `the journal has ${JSON.stringify(existing.query)}, got ${JSON.stringify(values.query)}` });
        if (issues.length > 0) throw new InvalidInputError(`Run "${values.id}" cannot be resumed with a different command or query`, issues);
        s.resumeRun.run(values.budgetJson, this.isoNow(), values.id);
        return { run: toRunRow(s.getRun.get(values.id) as RunDbRow), resumed: true };
      }),
    );
  }

  /** Records how the run ended. `status` must not be 'running'. Returns the updated run. */
  finishRun(id: string, outcome: FinishRun): RunRow {
    this.flush();
    const issues: InputIssue[] = [];
    checkId(id, 'id', issues);
    if (!RUN_STATUSES.includes(outcome?.status) || outcome.status === 'running') {
      issues.push({ path: 'status', message: `must be one of ${RUN_STATUSES.filter((status) => status !== 'running').join(', ')}` });
    }
    if (outcome?.answer !== undefined && outcome.answer !== null && typeof outcome.answer !== 'string') issues.push({ path: 'answer', message: 'must be a string or null' });
    const errorJson = encodeJson(serialiseError(outcome?.error), 'error', issues);
    const usageJson = encodeJson(outcome?.usage, 'usage', issues);
    if (issues.length > 0) throw new InvalidInputError(`Cannot finish run "${String(id)}"`, issues);
    return this.guard(`Cannot finish run "${id}"`, () =>
      this.tx(() => {
        const s = this.stmts();
        const changes = s.finishRun.run(outcome.status, outcome.answer ?? null, errorJson, usageJson, this.isoNow(), id).changes;
        if (changes === 0) throw unknownRun(id, 'Cannot finish run');
        return toRunRow(s.getRun.get(id) as RunDbRow);
      }),
    );
  }

  /** Newest first, with totals aggregated over each run's calls. */
  listRuns(options: { limit?: number | undefined } = {}): RunSummary[] {
    this.flush();
    const limit = options.limit ?? 20;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidInputError('Cannot list runs', [{ path: 'limit', message: 'must be a positive integer' }]);
    }
    return this.guard('Cannot list runs', () =>
      this.stmts().listRuns.all(limit).map((row) => ({ ...toRunRow(row), totals: toTotals(row) })),
    );
  }

  // ----------------------------------------------------------------------------------------------- steps

  /** Inserts or updates a step. On update, omitted input/output/usage keep their stored values. */
  upsertStep(runId: string, step: StepInput): StepRow {
    const issues: InputIssue[] = [];
    checkId(runId, 'runId', issues);
    checkId(step?.stepId, 'stepId', issues);
    checkId(step?.kind, 'kind', issues);
    checkId(step?.status, 'status', issues);
    if (step?.startedAt !== undefined && typeof step.startedAt !== 'string') issues.push({ path: 'startedAt', message: 'must be an ISO timestamp string' });
    if (step?.endedAt !== undefined && typeof step.endedAt !== 'string') issues.push({ path: 'endedAt', message: 'must be an ISO timestamp string' });
    const input = encodeJson(step?.input, 'input', issues);
    const output = encodeJson(step?.output, 'output', issues);
    const usage = encodeJson(step?.usage, 'usage', issues);
    if (issues.length > 0) throw new InvalidInputError('Cannot record step', issues);
    const open = step.status === 'pending' || step.status === 'running';
    return this.guard(`Cannot record step "${step.stepId}" of run "${runId}"`, () =>
      this.tx(() => {
        const s = this.stmts();
        s.upsertStep.run({
          runId,
          stepId: step.stepId,
          kind: step.kind,
          status: step.status,
          input,
          output,
          usage,
          startedAt: step.startedAt ?? null,
          endedAt: step.endedAt ?? null,
          open: open ? 1 : 0,
          now: this.isoNow(),
        });
        return toStepRow(s.getStep.get(runId, step.stepId) as StepDbRow);
      }),
    );
  }

  /** The run's steps in the order they started. */
  getSteps(runId: string): StepRow[] {
    requireId(runId, 'runId', 'Cannot read steps');
    return this.guard(`Cannot read steps of run "${runId}"`, () => this.stmts().getSteps.all(runId).map(toStepRow));
  }

  // ----------------------------------------------------------------------------------------------- calls

  /** The fleet's view of this run's calls. Fails with InvalidInputError when the run does not exist. */
  recorder(runId: string): CallRecorder {
    requireId(runId, 'runId', 'Cannot create a call recorder');
    const exists = this.guard(`Cannot read run "${runId}"`, () => this.stmts().getRun.get(runId) !== undefined);
    if (!exists) throw unknownRun(runId, 'Cannot create a call recorder');
    return {
      lookup: (callKey) => this.lookupCall(runId, callKey),
      record: (call) => this.recordCall(runId, call),
    };
  }

  /** Primary-key read of one recorded call, JSON parsed; undefined when absent. */
  lookupCall(runId: string, callKey: string): RecordedCall | undefined {
    if (typeof callKey !== 'string' || callKey === '' || typeof runId !== 'string' || runId === '') {
      const issues: InputIssue[] = [];
      checkId(runId, 'runId', issues);
      checkId(callKey, 'callKey', issues);
      throw new InvalidInputError('Cannot look up call', issues);
    }
    const buffered = this.pending.get(`${runId}\u0000${callKey}`);
    if (buffered) return structuredClone(buffered.call);
    return this.guard(() => `Cannot look up call "${callKey}" of run "${runId}"`, () => {
      const row = this.stmts().lookupCall.get(runId, callKey);
      return row === undefined ? undefined : toRecordedCall(row);
    });
  }

  /**
   * Inserts the call and its 'settle' ledger entry in one transaction: both or neither. Recording the same
   * call key twice is a no-op when the stored call is identical (no second ledger entry), a JournalError when
   * it differs.
   */
  recordCall(runId: string, call: RecordedCall): void {
    const issues = validateCall(runId, call);
    let requestJson = '';
    let responseJson = '';
    let tagsJson = '';
    if (issues.length === 0) {
      const { text: _text, ...response } = call.response;
      requestJson = encodeJson(call.request, 'request', issues) ?? 'null';
      responseJson = encodeJson(response, 'response', issues) ?? '{}';
      tagsJson = encodeJson(call.tags, 'tags', issues) ?? '{}';
    }
    if (issues.length > 0) throw new InvalidInputError('Cannot record call', issues);
    this.assertOpen();
    this.throwFlushFailure();
    // Duplicate keys are judged now, not at flush time, so the caller hears about a conflict synchronously.
    const key = `${runId}\u0000${call.callKey}`;
    const earlier = this.pending.get(key);
    const stored = earlier ? undefined : this.guard(`Cannot read call "${call.callKey}"`, () => this.stmts().lookupCall.get(runId, call.callKey));
    if (earlier || stored) {
      const same = earlier
        ? earlier.requestJson === requestJson && earlier.responseJson === responseJson && earlier.call.response.text === call.response.text && earlier.call.costUsd === call.costUsd && earlier.call.requestHash === call.requestHash
        : stored!.request_json === requestJson && stored!.response_json === responseJson && stored!.text === call.response.text && stored!.cost_usd === call.costUsd && stored!.request_hash === call.requestHash && stored!.model === call.model && stored!.provider === call.provider && stored!.budget_path === call.budgetPath;
      if (same) return;
      throw new JournalError(`Call "${call.callKey}" of run "${runId}" is already recorded with a different request or response.`);
    }
    this.pending.set(key, { runId, call, requestJson, responseJson, tagsJson, at: this.isoNow() });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        try {
          this.flush();
        } catch (error) {
          // Surfaced on the next journal call; throwing here would crash the process from a timer.
          this.flushFailure = error;
        }
      });
    }
  }

  /**
   * Writes every buffered call (and its ledger entry) in ONE transaction. Group commit: calls that finish in
   * the same event-loop turn share a commit, which takes the journal off the per-call hot path (a commit
   * costs ~60 µs of page writes; a buffered record ~3 µs). Each call is still all-or-nothing, and a flush is
   * scheduled for the very next turn, so a SIGKILL can only lose calls that finished within that turn —
   * on resume they are simply made again. Every read and `close` flushes first.
   */
  flush(): void {
    if (this.pending.size === 0 || this.closed) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.guard(() => `Cannot record ${batch.length} call(s)`, () => {
      const s = this.stmts();
      const failures: unknown[] = [];
      this.db.transaction(() => {
        for (const entry of batch) {
          // Each call is its own savepoint: a refused call rolls back alone, the rest of the batch commits.
          try {
            s.recordCall(entry.runId, entry.call, entry.requestJson, entry.responseJson, entry.tagsJson, entry.at);
          } catch (error) {
            failures.push(error);
          }
        }
      }).immediate();
      if (failures.length > 0) throw failures[0];
    });
  }

  private throwFlushFailure(): void {
    if (this.flushFailure === undefined) return;
    const failure = this.flushFailure;
    this.flushFailure = undefined;
    throw wrap(failure, 'An earlier batch of recorded calls could not be written');
  }

  /** Every recorded call of the run, in recording order. */
  getCalls(runId: string): CallRow[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read calls');
    return this.guard(`Cannot read calls of run "${runId}"`, () =>
      this.stmts().getCalls.all(runId).map(toCallRow),
    );
  }

  /** Totals over the run's recorded calls (zeros for a run without calls). */
  runTotals(runId: string): UsageTotals {
    this.flush();
    requireId(runId, 'runId', 'Cannot read run totals');
    return this.guard(`Cannot read totals of run "${runId}"`, () => toTotals(this.stmts().runTotals.get(runId) as TotalsDbRow));
  }

  /** The run's spend per model, most expensive first. */
  spendByModel(runId: string): ModelSpend[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read spend by model');
    return this.guard(`Cannot read spend of run "${runId}"`, () =>
      this.stmts().spendByModel.all(runId).map((row) => ({ model: row.model, provider: row.provider, ...toTotals(row) })),
    );
  }

  // ---------------------------------------------------------------------------------------------- ledger

  /** Appends a ledger entry (refusals, replays; settles of recorded calls are written by `recordCall`). Returns its id. */
  recordLedgerEntry(runId: string, entry: LedgerEntryInput): number {
    this.flush();
    const issues: InputIssue[] = [];
    checkId(runId, 'runId', issues);
    if (!LEDGER_KINDS.includes(entry?.kind)) issues.push({ path: 'kind', message: `must be one of ${LEDGER_KINDS.join(', ')}` });
    if (entry?.callKey !== undefined && entry.callKey !== null) checkId(entry.callKey, 'callKey', issues);
    if (typeof entry?.budgetPath !== 'string') issues.push({ path: 'budgetPath', message: 'must be a string' });
    checkCount(entry?.inputTokens ?? 0, 'inputTokens', issues);
    checkCount(entry?.outputTokens ?? 0, 'outputTokens', issues);
    checkAmount(entry?.costUsd ?? 0, 'costUsd', issues);
    const detail = encodeJson(entry?.detail, 'detail', issues);
    if (issues.length > 0) throw new InvalidInputError('Cannot record ledger entry', issues);
    return this.guard(`Cannot record ledger entry of run "${runId}"`, () => {
      const result = this.stmts().insertLedger.run(
        runId,
        entry.callKey ?? null,
        entry.kind,
        entry.budgetPath,
        entry.inputTokens ?? 0,
        entry.outputTokens ?? 0,
        entry.costUsd ?? 0,
        detail,
        this.isoNow(),
      );
      return Number(result.lastInsertRowid);
    });
  }

  /** The run's ledger in order. */
  getLedgerEntries(runId: string): LedgerEntryRow[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read ledger');
    return this.guard(`Cannot read ledger of run "${runId}"`, () => this.stmts().getLedger.all(runId).map(toLedgerRow));
  }

  // ------------------------------------------------------------------------------------------- internals

  private insertRun(values: RunValues): RunRow {
    const at = this.isoNow();
    const s = this.stmts();
    s.insertRun.run(values.id, values.command, values.query, values.argsJson, values.seed, values.simulated, values.budgetJson, at, at);
    return toRunRow(s.getRun.get(values.id) as RunDbRow);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  private stmts(): Statements {
    if (this.statements === undefined) throw closedError(this.path);
    return this.statements;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.path);
  }

  /** Runs `fn` inside an IMMEDIATE transaction (or a savepoint when already inside one). */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs `fn`, wrapping anything but a ThicketError in a JournalError. `what` may be lazy (hot paths). */
  private guard<T>(what: string | (() => string), fn: () => T): T {
    if (this.closed) throw closedError(this.path);
    try {
      return fn();
    } catch (error) {
      throw wrap(error, typeof what === 'string' ? what : what());
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Prepared statements

interface Statements {
  insertRun: Statement;
  getRun: Statement<RunDbRow>;
  resumeRun: Statement;
  finishRun: Statement;
  listRuns: Statement<RunDbRow & TotalsDbRow>;
  upsertStep: Database.Statement<[Record<string, unknown>], unknown>;
  getStep: Statement<StepDbRow>;
  getSteps: Statement<StepDbRow>;
  lookupCall: Statement<CallDbRow>;
  getCalls: Statement<CallDbRow>;
  runTotals: Statement<TotalsDbRow>;
  spendByModel: Statement<TotalsDbRow & { model: string; provider: string }>;
  insertLedger: Statement;
  getLedger: Statement<LedgerDbRow>;
  recordCall: Database.Transaction<(runId: string, call: RecordedCall, requestJson: string, responseJson: string, tagsJson: string, at: string) => void>;
}

function prepareStatements(db: Database.Database): Statements {
  const insertCall = db.prepare(
    `INSERT OR IGNORE INTO calls (run_id, call_key, request_hash, model, provider, request_json, response_json, text, input_tokens,
       output_tokens, cost_usd, latency_ms, simulated, usage_estimated, attempts, budget_path, tags_json, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertLedger = db.prepare(
    `INSERT INTO ledger_entries (run_id, call_key, kind, budget_path, input_tokens, output_tokens, cost_usd, detail_json, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const sameCall = db.prepare<[string, string], { request_hash: string; model: string; provider: string; request_json: string; response_json: string; text: string; cost_usd: number; budget_path: string }>(
    'SELECT request_hash, model, provider, request_json, response_json, text, cost_usd, budget_path FROM calls WHERE run_id = ? AND call_key = ?',
  );
  const totalsSql = `COUNT(*) AS calls, COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
    COALESCE(SUM(cost_usd), 0.0) AS cost_usd`;

  const recordCall = db.transaction((runId: string, call: RecordedCall, requestJson: string, responseJson: string, tagsJson: string, at: string): void => {
    const response = call.response;
    const inserted = insertCall.run(
      runId,
      call.callKey,
      call.requestHash,
      call.model,
      call.provider,
      requestJson,
      responseJson,
      response.text,
      response.usage.inputTokens,
      response.usage.outputTokens,
      call.costUsd,
      response.latencyMs,
      response.simulated ? 1 : 0,
      response.usageEstimated ? 1 : 0,
      call.attempts,
      call.budgetPath,
      tagsJson,
      at,
    );
    if (inserted.changes === 0) {
      // Same key recorded before: fine when it is the same call (a retried write), an error otherwise.
      const stored = sameCall.get(runId, call.callKey);
      if (
        stored !== undefined &&
        stored.request_hash === call.requestHash &&
        stored.model === call.model &&
        stored.provider === call.provider &&
        stored.request_json === requestJson &&
        stored.response_json === responseJson &&
        stored.text === response.text &&
        stored.cost_usd === call.costUsd &&
        stored.budget_path === call.budgetPath
      ) {
        return;
      }
      throw new JournalError(`Call "${call.callKey}" of run "${runId}" is already recorded with a different request or response.`);
    }
    insertLedger.run(runId, call.callKey, 'settle', call.budgetPath, response.usage.inputTokens, response.usage.outputTokens, call.costUsd, null, at);
  });

  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, command, query, args_json, seed, simulated, status, budget_json, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)`,
    ),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    resumeRun: db.prepare(
      `UPDATE runs SET status = 'running', answer = NULL, error_json = NULL, budget_json = COALESCE(?, budget_json), updated_at = ? WHERE id = ?`,
    ),
    finishRun: db.prepare('UPDATE runs SET status = ?, answer = ?, error_json = ?, usage_json = ?, updated_at = ? WHERE id = ?'),
    listRuns: db.prepare(
      `WITH page AS (SELECT rowid AS seq, * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?)
       SELECT page.*, COUNT(calls.call_key) AS calls, COALESCE(SUM(calls.input_tokens), 0) AS input_tokens,
              COALESCE(SUM(calls.output_tokens), 0) AS output_tokens, COALESCE(SUM(calls.cost_usd), 0.0) AS cost_usd
       FROM page LEFT JOIN calls ON calls.run_id = page.id
       GROUP BY page.seq
       ORDER BY page.created_at DESC, page.seq DESC`,
    ),
    upsertStep: db.prepare<Record<string, unknown>, unknown>(
      `INSERT INTO steps (run_id, step_id, kind, status, input_json, output_json, usage_json, started_at, ended_at)
       VALUES (@runId, @stepId, @kind, @status, @input, @output, @usage, COALESCE(@startedAt, @now),
               CASE WHEN @open THEN @endedAt ELSE COALESCE(@endedAt, @now) END)
       ON CONFLICT (run_id, step_id) DO UPDATE SET
         kind = excluded.kind,
         status = excluded.status,
         input_json = COALESCE(excluded.input_json, steps.input_json),
         output_json = COALESCE(excluded.output_json, steps.output_json),
         usage_json = COALESCE(excluded.usage_json, steps.usage_json),
         started_at = COALESCE(@startedAt, steps.started_at),
         ended_at = CASE WHEN @open THEN @endedAt ELSE COALESCE(@endedAt, steps.ended_at, @now) END`,
    ),
    getStep: db.prepare('SELECT * FROM steps WHERE run_id = ? AND step_id = ?'),
    getSteps: db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY started_at, rowid'),
    lookupCall: db.prepare(`SELECT ${CALL_COLUMNS} FROM calls WHERE run_id = ? AND call_key = ?`),
    getCalls: db.prepare(`SELECT ${CALL_COLUMNS} FROM calls WHERE run_id = ? ORDER BY rowid`),
    runTotals: db.prepare(`SELECT ${totalsSql} FROM calls WHERE run_id = ?`),
    spendByModel: db.prepare(`SELECT model, provider, ${totalsSql} FROM calls WHERE run_id = ? GROUP BY model, provider ORDER BY cost_usd DESC, model, provider`),
    insertLedger,
    getLedger: db.prepare('SELECT * FROM ledger_entries WHERE run_id = ? ORDER BY id'),
    recordCall,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Conversions

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

function toRunRow(row: RunDbRow): RunRow {
  return {
    id: row.id,
    command: row.command,
    query: row.query,
    args: parseJson(row.args_json),
    seed: row.seed,
    simulated: row.simulated === 1,
    status: row.status,
    answer: row.answer,
    error: parseJson(row.error_json),
    budget: parseJson(row.budget_json),
    usage: parseJson(row.usage_json),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toTotals(row: TotalsDbRow): UsageTotals {
  return {
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    totalTokens: row.input_tokens + row.output_tokens,
    costUsd: row.cost_usd,
    calls: row.calls,
  };
}

function toStepRow(row: StepDbRow): StepRow {
  return {
    runId: row.run_id,
    stepId: row.step_id,
    kind: row.kind,
    status: row.status,
    input: parseJson(row.input_json),
    output: parseJson(row.output_json),
    usage: parseJson(row.usage_json),
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

function toRecordedCall(row: CallDbRow): RecordedCall {
  const response = JSON.parse(row.response_json) as Omit<RecordedResponse, 'text'>;
  return {
    callKey: row.call_key,
    requestHash: row.request_hash,
    model: row.model,
    provider: row.provider,
    request: JSON.parse(row.request_json) as unknown,
    response: { text: row.text, ...response },
    costUsd: row.cost_usd,
    attempts: row.attempts,
    budgetPath: row.budget_path,
    tags: JSON.parse(row.tags_json) as Record<string, string>,
  };
}

function toCallRow(row: CallDbRow): CallRow {
  const call = toRecordedCall(row);
  const metadata = (call.request as { metadata?: { stepId?: unknown } } | null)?.metadata;
  const response = call.response;
  return {
    ...call,
    runId: row.run_id,
    createdAt: row.created_at,
    stepId: typeof metadata?.stepId === 'string' ? metadata.stepId : null,
    text: response.text,
    inputTokens: response.usage.inputTokens,
    outputTokens: response.usage.outputTokens,
    latencyMs: response.latencyMs,
    finishReason: response.finishReason,
    simulated: response.simulated,
    usageEstimated: response.usageEstimated,
  };
}

function toLedgerRow(row: LedgerDbRow): LedgerEntryRow {
  return {
    id: row.id,
    runId: row.run_id,
    callKey: row.call_key,
    kind: row.kind,
    budgetPath: row.budget_path,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    detail: parseJson(row.detail_json),
    at: row.at,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Validation and errors

interface RunValues {
  id: string;
  command: string;
  query: string;
  argsJson: string | null;
  seed: number | null;
  simulated: 0 | 1;
  budgetJson: string | null;
}

function runValues(run: NewRun): RunValues {
  const issues: InputIssue[] = [];
  if (typeof run !== 'object' || run === null) throw new InvalidInputError('Invalid run', [{ path: '', message: 'must be an object' }]);
  checkId(run.id, 'id', issues);
  if (typeof run.command !== 'string' || run.command === '') issues.push({ path: 'command', message: 'must be a non-empty string' });
  if (typeof run.query !== 'string') issues.push({ path: 'query', message: 'must be a string' });
  if (run.seed !== undefined && run.seed !== null && !Number.isSafeInteger(run.seed)) issues.push({ path: 'seed', message: 'must be an integer' });
  if (typeof run.simulated !== 'boolean') issues.push({ path: 'simulated', message: 'must be a boolean' });
  const argsJson = encodeJson(run.args, 'args', issues);
  const budgetJson = encodeJson(run.budget, 'budget', issues);
  if (issues.length > 0) throw new InvalidInputError('Invalid run', issues);
  return {
    id: run.id,
    command: run.command,
    query: run.query,
    argsJson,
    seed: run.seed ?? null,
    simulated: run.simulated ? 1 : 0,
    budgetJson,
  };
}

function validateCall(runId: string, call: RecordedCall): InputIssue[] {
  const issues: InputIssue[] = [];
  checkId(runId, 'runId', issues);
  if (typeof call !== 'object' || call === null) {
    issues.push({ path: 'call', message: 'must be an object' });
    return issues;
  }
  checkId(call.callKey, 'callKey', issues);
  checkId(call.requestHash, 'requestHash', issues);
  checkId(call.model, 'model', issues);
  if (typeof call.provider !== 'string') issues.push({ path: 'provider', message: 'must be a string' });
  if (typeof call.budgetPath !== 'string') issues.push({ path: 'budgetPath', message: 'must be a string' });
  checkAmount(call.costUsd, 'costUsd', issues);
  checkCount(call.attempts, 'attempts', issues);
  if (typeof call.tags !== 'object' || call.tags === null) issues.push({ path: 'tags', message: 'must be an object of strings' });
  const response = call.response;
  if (typeof response !== 'object' || response === null) {
    issues.push({ path: 'response', message: 'must be an object' });
    return issues;
  }
  if (typeof response.text !== 'string') issues.push({ path: 'response.text', message: 'must be a string' });
  if (typeof response.usage !== 'object' || response.usage === null) issues.push({ path: 'response.usage', message: 'must be an object' });
  else {
    checkCount(response.usage.inputTokens, 'response.usage.inputTokens', issues);
    checkCount(response.usage.outputTokens, 'response.usage.outputTokens', issues);
  }
  if (typeof response.latencyMs !== 'number' || !Number.isFinite(response.latencyMs)) issues.push({ path: 'response.latencyMs', message: 'must be a finite number' });
  if (typeof response.simulated !== 'boolean') issues.push({ path: 'response.simulated', message: 'must be a boolean' });
  if (typeof response.usageEstimated !== 'boolean') issues.push({ path: 'response.usageEstimated', message: 'must be a boolean' });
  if (typeof response.finishReason !== 'string') issues.push({ path: 'response.finishReason', message: 'must be a string' });
  return issues;
}

function checkId(value: unknown, path: string, issues: InputIssue[]): void {
  if (typeof value !== 'string' || value.trim() === '') issues.push({ path, message: 'must be a non-empty string' });
}

function requireId(value: unknown, path: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(what, [{ path, message: 'must be a non-empty string' }]);
}

function checkCount(value: unknown, path: string, issues: InputIssue[]): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) issues.push({ path, message: 'must be a non-negative integer' });
}

function checkAmount(value: unknown, path: string, issues: InputIssue[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) issues.push({ path, message: 'must be a finite non-negative number' });
}

/** JSON text for a column; NULL for undefined. Unserialisable values (cycles, BigInt) become an issue. */
function encodeJson(value: unknown, path: string, issues: InputIssue[]): string | null {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) {
      issues.push({ path, message: 'is not JSON-serialisable' });
      return null;
    }
    return text;
  } catch (error) {
    issues.push({ path, message: `is not JSON-serialisable (${error instanceof Error ? error.message : String(error)})` });
    return null;
  }
}

/** Errors do not survive JSON.stringify (message is not enumerable): keep name, message and their own fields. */
function serialiseError(error: unknown): unknown {
  if (!(error instanceof Error) && !ThicketError.isInstance(error)) return error;
  const base = { name: (error as Error).name, message: (error as Error).message };
  const full: Record<string, unknown> = { ...(error as unknown as Record<string, unknown>), ...base };
  try {
    JSON.stringify(full);
    return full;
  } catch {
    return ThicketError.isInstance(error) ? { ...base, code: error.code } : base;
  }
}

function unknownRun(id: string, what: string): InvalidInputError {
  return new InvalidInputError(what, [{ path: 'runId', message: `no run with id ${JSON.stringify(id)} in the journal` }]);
}

function closedError(path: string): JournalError {
  return new JournalError(`The journal at ${path} is closed.`);
}

function newerSchemaError(path: string, component: string, stored: number, known: number): JournalError {
  return new JournalError(
    `The journal at ${path} has schema version ${stored} for "${component}", newer than this Thicket understands (${known}). Upgrade Thicket or use another journal (THICKET_DB).`,
  );
}

/** Thicket errors pass through; anything else (SqliteError, TypeError from a closed handle) becomes a JournalError. */
function wrap(error: unknown, what: string): ThicketError {
  if (ThicketError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  return new JournalError(`${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error, isRetryable: busy });
}
