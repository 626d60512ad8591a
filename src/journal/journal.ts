/**
 * The run journal: every run, step, model call and ledger entry, in one SQLite file (better-sqlite3) or in a
 * PostgreSQL schema (`Journal.open('postgres://…')`, postgres/driver.ts), behind the same synchronous API.
 *
 * Everything is synchronous and every statement is prepared once (statements.ts). `lookupCall` is a
 * primary-key read and `recordCall` only buffers: the fleet pays for both on every model call, so calls are
 * group-committed by `flush` (see there). The file runs in WAL mode with `synchronous = NORMAL`: a committed
 * transaction survives the process being killed at any instant (only a power cut can lose the last few
 * commits, never corrupt the file).
 *
 * Errors: bad arguments raise InvalidInputError (code INVALID_INPUT, validation.ts); anything SQLite raises is
 * wrapped in a JournalError whose `cause` is the original error (SQLITE_BUSY is marked retryable, errors.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidInputError, JournalError, type InputIssue, type ThicketError, type UsageTotals } from '../core/index.ts';
import { applyMigrations, prepareVersionOf } from './apply-migrations.ts';
import { isPostgresUrl, PostgresDriver } from './postgres/driver.ts';
import { sqliteDriver, type SqlDriver } from './sql-driver.ts';
import type { CallIntent, CallRecorder, RecordedCall } from './call-recorder.ts';
import { closedError, conflictingCallError, newerSchemaError, unknownRun, wrap } from './errors.ts';
import { openReadOnlyDatabase } from './read-only.ts';
import { RunLister, checkRunFilter } from './run-list.ts';
import { ApiKeyTable, type NewApiKey } from './api-keys.ts';
import { MessageStore, type ListNodeInfo } from './message-store.ts';
import { PendingCalls, RESTORED } from './pending-calls.ts';
import {
  isSameStoredCall,
  toCallRow,
  toLedgerRow,
  toRecordedCall,
  toRunRow,
  toStepRow,
  toTotals,
  type RunDbRow,
  type StepDbRow,
  type TotalsDbRow,
} from './rows.ts';
import { toPostgresDdl } from './postgres/dialect.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, SCHEMA_VERSION_TABLE, type Migration } from './schema.ts';
import { prepareStatements, type IntentDbRow, type Statements } from './statements.ts';
import type {
  CallIntentRow,
  CallRow,
  FinishRun,
  JournalOptions,
  LedgerEntryInput,
  LedgerEntryRow,
  ModelSpend,
  NewRun,
  RunRow,
  ApiKeyRow,
  RunFilter,
  RunSummary,
  StepInput,
  StepRow,
} from './types.ts';
import {
  callValues,
  checkLookup,
  checkMigrations,
  finishValues,
  ledgerEntryValues,
  openValues,
  requireId,
  runValues,
  stepValues,
  type RunValues,
} from './validation.ts';

export class Journal {
  /** Absolute path of the database file (or `:memory:`), or the PostgreSQL URL (password redacted). */
  readonly path: string;
  private readonly db: SqlDriver;
  private readonly now: () => number;
  private closed = false;
  private statements: Statements | undefined;
  private messageStore: MessageStore | undefined;
  private runLister: RunLister | undefined;
  private apiKeyTable: ApiKeyTable | undefined;
  private readonly pending = new PendingCalls(() => this.flush());
  /**
   * Whether a call another process already journaled under the same key and request is accepted as a duplicate
   * (kept once, counted in `duplicateCalls`) instead of refused as a conflict. Queue workers set it: BullMQ may
   * hand a job to a second worker while the first, starved or cut off, still runs it. Off by default, where a
   * second answer under one key can only be a bug.
   */
  acceptDuplicateCalls = false;
  /** Duplicates accepted (see `acceptDuplicateCalls`): calls paid twice, kept once. */
  duplicateCalls = 0;
  /** Ids of the intents this handle wrote and has not resolved yet, by run and call key. */
  private readonly openIntents = new Map<string, number[]>();
  /** Runs journaled as simulated that have a recorder: their calls are group-committed within a window. */
  private readonly simulatedRuns = new Set<string>();
  private simulatedCommitWindowMs = 0;
  /** See `tx`. */
  private runInTransaction: ((inner: () => unknown) => unknown) | undefined;

  private constructor(path: string, db: SqlDriver, now: () => number) {
    this.path = path;
    this.db = db;
    this.now = now;
  }

  /**
   * Opens (creating if needed, with its parent folder) the journal at `path` and brings its schema up to date.
   * `:memory:` opens a private in-memory journal (no WAL). A `postgres://` or `postgresql://` URL opens the
   * journal in that database, in the schema named by its `?schema=` (default `thicket`, created if absent);
   * a server that cannot be reached within `connectTimeoutMs` is a JournalError JOURNAL_UNREACHABLE.
   */
  static open(path: string, options: JournalOptions = {}): Journal {
    const { busyTimeoutMs, simulatedCommitWindowMs } = openValues(path, options);
    if (isPostgresUrl(path)) return Journal.openPostgres(path, options, simulatedCommitWindowMs);
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
      const journal = new Journal(fullPath, sqliteDriver(db), options.now ?? Date.now);
      journal.simulatedCommitWindowMs = simulatedCommitWindowMs;
      db.exec(SCHEMA_VERSION_TABLE);
      journal.migrate(JOURNAL_COMPONENT, JOURNAL_MIGRATIONS);
      journal.prepare();
      return journal;
    } catch (error) {
      closeQuietly(db);
      throw wrap(error, `Cannot open journal at ${fullPath}`);
    }
  }

  private static openPostgres(url: string, options: JournalOptions, simulatedCommitWindowMs: number): Journal {
    const driver = PostgresDriver.open(url, { connectTimeoutMs: options.connectTimeoutMs });
    try {
      const journal = new Journal(driver.target.redacted, driver, options.now ?? Date.now);
      journal.simulatedCommitWindowMs = simulatedCommitWindowMs;
      // Under the migration lock: CREATE TABLE IF NOT EXISTS races with a twin process opening a fresh schema.
      driver.transaction(() => {
        driver.lockForMigrations();
        driver.exec(toPostgresDdl(SCHEMA_VERSION_TABLE));
      })();
      journal.migrate(JOURNAL_COMPONENT, JOURNAL_MIGRATIONS);
      journal.prepare();
      return journal;
    } catch (error) {
      closeQuietly(driver);
      throw wrap(error, `Cannot open journal at ${driver.target.redacted}`);
    }
  }

  /** A Postgres journal for reading: every transaction read-only (`default_transaction_read_only`). */
  private static openPostgresReadOnly(url: string, options: JournalOptions): Journal {
    const driver = PostgresDriver.open(url, { connectTimeoutMs: options.connectTimeoutMs, readOnly: true });
    const where = driver.target.redacted;
    try {
      const journal = new Journal(where, driver, options.now ?? Date.now);
      const latest = JOURNAL_MIGRATIONS.at(-1)?.version ?? 0;
      const stored = driver.hasTable('schema_version') ? (prepareVersionOf(driver).get(JOURNAL_COMPONENT)?.version ?? 0) : 0;
      if (stored > latest) throw newerSchemaError(where, JOURNAL_COMPONENT, stored, latest);
      if (stored === 0) throw new InvalidInputError('Cannot read journal', [{ path: where, message: 'no Thicket journal in this schema' }]);
      if (stored < latest) {
        // As for a file: upgrading is a write, done by a writing open (any command that records runs).
        driver.close();
        return Journal.open(url, options);
      }
      journal.prepare();
      return journal;
    } catch (error) {
      closeQuietly(driver);
      throw wrap(error, `Cannot read journal at ${where}`);
    }
  }

  /**
   * Opens an existing journal for reading only: creates no file (not even `-wal`/`-shm`), writes nothing, and
   * works where the user cannot write (read-only.ts). A missing file is INVALID_INPUT; a journal whose schema
   * is older than this Thicket's must be opened once by a writing command first (reading cannot migrate it).
   */
  static openReadOnly(path: string, options: JournalOptions = {}): Journal {
    const { busyTimeoutMs } = openValues(path, options);
    if (isPostgresUrl(path)) return Journal.openPostgresReadOnly(path, options);
    const fullPath = resolve(path);
    if (!existsSync(fullPath)) throw new InvalidInputError('Cannot read journal', [{ path: fullPath, message: 'no journal at this path' }]);
    let db: Database.Database | undefined;
    try {
      db = openReadOnlyDatabase(fullPath, busyTimeoutMs);
      const driver = sqliteDriver(db);
      const journal = new Journal(fullPath, driver, options.now ?? Date.now);
      const latest = JOURNAL_MIGRATIONS.at(-1)?.version ?? 0;
      const stored = driver.hasTable('schema_version') ? (prepareVersionOf(driver).get(JOURNAL_COMPONENT)?.version ?? 0) : 0;
      if (stored > latest) throw newerSchemaError(fullPath, JOURNAL_COMPONENT, stored, latest);
      if (stored === 0) throw new JournalError(`${fullPath} is not a Thicket journal (or an empty one).`);
      if (stored < latest) {
        // Written by an older Thicket: the statements below need the current schema. Upgrade it in place when
        // the file may be written (what any command did before reading became read-only); else say so.
        db.close();
        db = undefined;
        try {
          return Journal.open(fullPath, options);
        } catch (error) {
          throw new JournalError(
            `The journal at ${fullPath} has schema version ${stored}, older than this Thicket's (${latest}), and cannot be upgraded ` +
              `here (${(error as Error).message}). Open it once where it can be written.`,
            { cause: error },
          );
        }
      }
      journal.prepare();
      return journal;
    } catch (error) {
      closeQuietly(db);
      throw wrap(error, `Cannot read journal at ${fullPath}`);
    }
  }

  /**
   * Set while the journal's last write failed for lack of room (or another storage error): what could not be
   * written is kept in memory and written by the next write that succeeds. Long-running commands stop starting
   * new work while it is set (the lab's study runner does), then `flush` to raise it or confirm there is room.
   */
  get storageFailure(): ThicketError | undefined {
    return this.pending.storageFailure as ThicketError | undefined;
  }

  /**
   * The underlying better-sqlite3 handle of a SQLite journal (pragmas, SQLite-only tooling). A PostgreSQL
   * journal has none: this throws there; use `sql`, which works on both.
   */
  get sqlite(): Database.Database {
    this.assertOpen();
    if (this.db.sqlite === undefined) {
      throw new JournalError(
        `The journal at ${this.path} is on PostgreSQL: it has no SQLite handle (use \`journal.sql\`, which works on both).`,
      );
    }
    return this.db.sqlite;
  }

  /**
   * The journal's SQL driver, for later layers' own tables (add them through `migrate`) and for tests: SQL in
   * SQLite's dialect, translated on PostgreSQL (postgres/dialect.ts). `dialect` says which engine it is.
   */
  get sql(): SqlDriver {
    this.assertOpen();
    return this.db;
  }

  /** 'sqlite' or 'postgres'. */
  get dialect(): SqlDriver['dialect'] {
    return this.db.dialect;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Closes the file (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.closed) return;
    let unwritten: unknown;
    try {
      this.flush();
    } catch (error) {
      // Still closed (a full disk must not leave the handle open); the calls that could not be written are lost
      // with this process, as in a crash, and raised.
      unwritten = error;
    }
    this.closed = true;
    this.statements = undefined;
    this.messageStore = undefined;
    try {
      this.db.close();
    } catch (error) {
      throw wrap(error, `Cannot close journal at ${this.path}`);
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- already a ThicketError (flush wraps what it raises)
    if (unwritten !== undefined) throw unwritten;
  }

  /** SQLite's journal mode: 'wal' for a file journal, 'memory' for `:memory:`; 'postgres' on PostgreSQL. */
  journalMode(): string {
    return this.guard('Cannot read journal mode', () =>
      this.db.sqlite === undefined ? 'postgres' : String(this.db.sqlite.pragma('journal_mode', { simple: true })),
    );
  }

  // ------------------------------------------------------------------------------------------- migrations

  /**
   * Applies every migration of `component` newer than its stored version, each in its own IMMEDIATE transaction
   * together with its `schema_version` row. Idempotent. Returns the component's version afterwards. Refuses a
   * journal whose stored version is newer than the migrations given (written by a newer Thicket).
   */
  migrate(component: string, migrations: readonly Migration[]): number {
    this.assertOpen();
    checkMigrations(component, migrations);
    return this.guard(`Cannot migrate journal component "${component}"`, () =>
      applyMigrations(this.db, this.path, component, migrations, () => this.isoNow()),
    );
  }

  /** The stored schema version of `component` (0 when it has none). */
  schemaVersion(component: string = JOURNAL_COMPONENT): number {
    return this.guard('Cannot read schema version', () => prepareVersionOf(this.db).get(component)?.version ?? 0);
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
        const existing = this.stmts().getRun.get(values.id);
        if (existing === undefined) return { run: this.insertRun(values), resumed: false };
        const issues: InputIssue[] = [];
        if (existing.command !== values.command)
          issues.push({
            path: 'command',
            message: `the journal has ${JSON.stringify(existing.command)}, got ${JSON.stringify(values.command)}`,
          });
        // A run billed to one owner (gateway key) is never resumed, nor its calls replayed, by another.
        if ((existing.owner ?? null) !== values.owner) issues.push({ path: 'owner', message: 'the run belongs to another owner' });
        if (existing.query !== values.query)
          issues.push({ path: 'query', message: `the journal has ${JSON.stringify(existing.query)}, got ${JSON.stringify(values.query)}` });
        // Settings that shape the calls (model, samples, seed, …) must match too, or the replayed calls would
        // belong to a different experiment than the one the run row describes. The budget may change.
        const storedArgs = (existing.args_json === null ? {} : JSON.parse(existing.args_json)) as Record<string, unknown>;
        const givenArgs = (values.argsJson === null ? {} : JSON.parse(values.argsJson)) as Record<string, unknown>;
        for (const key of [...new Set([...Object.keys(storedArgs), ...Object.keys(givenArgs)])].sort()) {
          if (JSON.stringify(storedArgs[key]) !== JSON.stringify(givenArgs[key])) {
            issues.push({
              path: `args.${key}`,
              message: `the journal has ${JSON.stringify(storedArgs[key]) ?? 'nothing'}, got ${JSON.stringify(givenArgs[key]) ?? 'nothing'}`,
            });
          }
        }
        if (issues.length > 0)
          throw new InvalidInputError(`Run "${values.id}" cannot be resumed with a different command, query or settings`, issues);
        this.stmts().resumeRun.run(values.budgetJson, this.isoNow(), values.id);
        return { run: this.readRun(values.id), resumed: true };
      }),
    );
  }

  /**
   * Records how the run ended (`status` must not be 'running') and returns the updated run. `steps` (e.g. a
   * solve's trace) are written in the same transaction, with every call still buffered: one commit for the
   * whole end of a run.
   */
  finishRun(id: string, outcome: FinishRun, steps: readonly StepInput[] = []): RunRow {
    const { errorJson, usageJson } = finishValues(id, outcome);
    const values = steps.map((step) => ({ step, ...stepValues(id, step) }));
    this.assertOpen();
    const now = this.isoNow();
    const row = this.writeBatch(
      () => `Cannot finish run "${id}"`,
      () => {
        this.writeSteps(id, values, now);
        const changes = this.stmts().finishRun.run(outcome.status, outcome.answer ?? null, errorJson, usageJson, now, id).changes;
        if (changes === 0) throw unknownRun(id, 'Cannot finish run');
        return this.readRun(id);
      },
    );
    // Its calls are all written now; keeping the id would grow the set by one entry per simulated run for the
    // life of the process (a gateway serves thousands a minute). A resumed run's recorder adds it again.
    this.simulatedRuns.delete(id);
    return row;
  }

  /** Newest first, with totals aggregated over each run's calls. */
  listRuns(filter: RunFilter = {}): RunSummary[] {
    this.flush();
    const issues = checkRunFilter(filter);
    if (issues.length > 0) throw new InvalidInputError('Cannot list runs', issues);
    return this.guard('Cannot list runs', () => {
      this.runLister ??= new RunLister(this.db);
      return this.runLister.list(filter).map((row) => ({ ...toRunRow(row), totals: toTotals(row) }));
    });
  }

  // ----------------------------------------------------------------------------------------------- steps

  /** Inserts or updates a step. On update, omitted input/output/usage keep their stored values. */
  upsertStep(runId: string, step: StepInput): StepRow {
    const values = stepValues(runId, step);
    return this.guard(`Cannot record step "${step.stepId}" of run "${runId}"`, () =>
      this.tx(() => {
        this.writeSteps(runId, [{ step, ...values }], this.isoNow());
        return toStepRow(this.stmts().getStep.get(runId, step.stepId) as StepDbRow);
      }),
    );
  }

  /**
   * Writes many steps in ONE transaction without reading them back: the executor's batched step journal.
   * Validation is the same as `upsertStep`; a bad step rejects the whole batch before anything is written.
   */
  upsertSteps(runId: string, steps: readonly StepInput[]): void {
    const values = steps.map((step) => ({ step, ...stepValues(runId, step) }));
    const now = this.isoNow();
    this.assertOpen();
    // With every call recorded so far, in the same transaction: a step (a node, a study cell) is never
    // committed finished without the calls it made — a crash or full disk loses both or neither.
    this.writeBatch(
      () => `Cannot record ${steps.length} step(s) of run "${runId}"`,
      () => this.writeSteps(runId, values, now),
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
    const run = this.guard(`Cannot read run "${runId}"`, () => this.stmts().getRun.get(runId));
    if (run === undefined) throw unknownRun(runId, 'Cannot create a call recorder');
    if (run.simulated === 1) this.simulatedRuns.add(runId);
    return {
      lookup: (callKey) => this.lookupCall(runId, callKey),
      record: (call) => this.recordCall(runId, call),
      intend: (intent) => this.intendCall(runId, intent),
      abandon: (callKey) => this.abandonCall(runId, callKey),
    };
  }

  /**
   * Journals an attempt about to be sent, at its reservation, and COMMITS it before returning (with every call
   * buffered so far, in the same transaction: one commit per sent call, and recorded calls become durable
   * sooner). WAL with `synchronous = NORMAL` keeps a commit across a kill -9. Resolved by `recordCall` of the
   * same key (the intent is deleted with the call row's insert, in one savepoint) or by `abandonCall`.
   */
  intendCall(runId: string, intent: CallIntent): void {
    this.assertOpen();
    checkLookup(runId, intent.callKey);
    this.pending.throwFlushFailure();
    const key = intentKey(runId, intent.callKey);
    const id = this.writeBatch(
      () => `Cannot journal the intent of call "${intent.callKey}" before sending it`,
      () =>
        Number(
          this.stmts().insertIntent.run(
            runId,
            intent.callKey,
            intent.attempt,
            intent.model,
            intent.purpose,
            intent.budgetPath,
            intent.inputTokens,
            intent.outputTokens,
            intent.usd,
            this.isoNow(),
          ).lastInsertRowid,
        ),
    );
    const ids = this.openIntents.get(key);
    if (ids) ids.push(id);
    else this.openIntents.set(key, [id]);
  }

  /** The call ended without a result to record (unbilled): its intents are deleted by the next group commit. */
  abandonCall(runId: string, callKey: string): void {
    const ids = this.takeIntents(runId, callKey);
    if (ids) this.pending.release(ids);
  }

  /** The run's unresolved intents, oldest first: in flight now, or left by a crash or cancel (see CallIntentRow). */
  callIntents(runId: string): CallIntentRow[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read call intents');
    return this.guard(`Cannot read call intents of run "${runId}"`, () => this.stmts().getIntents.all(runId).map(toIntentRow));
  }

  /**
   * For a run being resumed: marks every unresolved intent as found orphaned (a crash or cancel ended its
   * process before its result was recorded) and returns them all, earlier resumes' orphans included — each
   * was possibly billed, so the resumed run charges their worst case to its ledger up front.
   */
  orphanedIntents(runId: string): CallIntentRow[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read call intents');
    return this.guard(`Cannot read call intents of run "${runId}"`, () =>
      this.tx(() => {
        const s = this.stmts();
        s.orphanIntents.run(this.isoNow(), runId);
        return s.getIntents.all(runId).map(toIntentRow);
      }),
    );
  }

  /** Primary-key read of one recorded call, JSON parsed; undefined when absent. */
  lookupCall(runId: string, callKey: string): RecordedCall | undefined {
    checkLookup(runId, callKey);
    const buffered = this.pending.get(runId, callKey);
    if (buffered) return structuredClone(buffered.call);
    return this.guard(
      () => `Cannot look up call "${callKey}" of run "${runId}"`,
      () => {
        const row = this.stmts().lookupCall.get(runId, callKey);
        return row === undefined ? undefined : toRecordedCall(row, this.readMessages);
      },
    );
  }

  /**
   * Buffers the call for the next `flush`, which inserts it and its 'settle' ledger entry in one transaction:
   * both or neither. Recording the same call key twice is a no-op when the recorded call is identical (no
   * second ledger entry), a JournalError when it differs.
   */
  recordCall(runId: string, call: RecordedCall): void {
    this.assertOpen();
    const { requestJson, messages, responseJson, tagsJson, errorJson } = callValues(runId, call, (request) =>
      this.messages().encodeRequest(request),
    );
    this.pending.throwFlushFailure();
    // Duplicate keys are judged now, not at flush time, so the caller hears about a conflict synchronously.
    const earlier = this.pending.get(runId, call.callKey);
    const stored = earlier
      ? undefined
      : this.guard(`Cannot read call "${call.callKey}"`, () => this.stmts().lookupCall.get(runId, call.callKey));
    if (earlier || stored) {
      // One comparison for both places the earlier copy can be, so buffered and committed calls behave alike.
      const previous = earlier
        ? {
            request_hash: earlier.call.requestHash,
            model: earlier.call.model,
            provider: earlier.call.provider,
            request_json: earlier.requestJson,
            messages_list: earlier.messages?.value.id ?? null,
            response_json: earlier.responseJson,
            text: earlier.call.response.text,
            cost_usd: earlier.call.costUsd,
            budget_path: earlier.call.budgetPath,
            error_json: earlier.errorJson,
          }
        : stored!;
      const same = isSameStoredCall(previous, call, requestJson, messages?.value.id ?? null, responseJson, errorJson);
      // Committed by another process for the same request (a queue job run twice at once, after its first worker
      // lost its lock): the first answer stays the journal's — and every replay's — and this one is counted as a
      // duplicate payment.
      const duplicate =
        this.acceptDuplicateCalls &&
        !same &&
        !earlier &&
        stored !== undefined &&
        stored.request_hash === call.requestHash &&
        stored.model === call.model;
      if (same || duplicate) {
        if (duplicate) this.duplicateCalls++;
        const intents = this.takeIntents(runId, call.callKey);
        if (intents) this.pending.release(intents);
        return;
      }
      throw conflictingCallError(runId, call.callKey);
    }
    const intents = this.takeIntents(runId, call.callKey);
    this.pending.add(
      {
        runId,
        call,
        requestJson,
        messages,
        responseJson,
        tagsJson,
        errorJson,
        at: this.isoNow(),
        ...(intents ? { intents } : {}),
      },
      // A simulated run's calls cost nothing and are made again, identically, when a resumed run misses them:
      // they share commits over a short window (each commit rewrites every B-tree page it touches; a
      // 1,000-agent network committed on every turn wrote over a gigabyte of WAL). Other runs commit on the
      // next turn, and any read, intent or close writes everything buffered first.
      this.simulatedRuns.has(runId) ? this.simulatedCommitWindowMs : 0,
    );
  }

  private takeIntents(runId: string, callKey: string): number[] | undefined {
    if (this.openIntents.size === 0) return undefined;
    const key = intentKey(runId, callKey);
    const ids = this.openIntents.get(key);
    if (ids) this.openIntents.delete(key);
    return ids;
  }

  /**
   * Writes every buffered call (and its ledger entry) in ONE transaction. Group commit: calls that finish in
   * the same event-loop turn share a commit, which takes the journal off the per-call hot path (a commit
   * costs ~60 µs of page writes; a buffered record ~3 µs). Each call is still all-or-nothing, and a flush is
   * scheduled for the very next turn, so a SIGKILL can only lose calls that finished within that turn —
   * on resume they are simply made again. A simulated run's calls wait up to `simulatedCommitWindowMs` (they
   * are free to make again). Every read, intent and `close` flushes first.
   */
  flush(): void {
    if (this.pending.size === 0 || this.closed) return;
    this.writeBatch(undefined, () => undefined);
  }

  /**
   * Writes every buffered call (and intent release) and then `extra`, in ONE immediate transaction. A refused
   * call rolls back alone (its savepoint) and is raised after the commit; a failing `extra` rolls back all.
   */
  private writeBatch<T>(what: (() => string) | undefined, extra: () => T): T {
    const batch = this.pending.drain();
    const releases = this.pending.drainReleases();
    return this.guard(what ?? (() => `Cannot record ${batch.length} call(s)`), () => {
      const s = this.stmts();
      const failures: unknown[] = [];
      const written: ListNodeInfo[] = [];
      let result: T;
      try {
        result = this.tx(() => {
          for (const entry of batch) {
            // Each call is its own savepoint: a refused call (a conflicting record) rolls back alone and the
            // rest of the batch commits. Storage errors (disk full, I/O) abort the whole transaction instead.
            try {
              for (const info of s.recordCall(entry)) written.push(info);
            } catch (error) {
              if (isStorageFailure(error)) throw error;
              failures.push(error);
            }
          }
          for (const id of releases) s.deleteIntent.run(id);
          return extra();
        });
      } catch (error) {
        // Nothing was written: put the batch back, so a later write (once there is room) records it.
        this.pending.restore(batch, releases);
        const wrapped = wrap(error, typeof what === 'function' ? what() : `Cannot record ${batch.length} call(s)`);
        RESTORED.add(wrapped);
        if (isStorageFailure(error)) this.pending.storageFailure = wrapped;
        throw wrapped;
      }
      if (this.pending.storageFailure !== undefined) {
        this.pending.storageFailure = undefined;
        if (this.pending.size > 0) this.flush();
      }
      // Only now are those message rows durable; until then a later call would write them again.
      this.messages().markStored(written);
      if (failures.length > 0) {
        // An intent was committed with this batch and must reach its caller (or it would never be resolved):
        // the refused call is raised by the next record instead.
        if (what !== undefined) this.pending.deferFailure(failures[0]);
        else throw failures[0];
      }
      return result;
    });
  }

  /** Every recorded call of the run, in recording order. */
  getCalls(runId: string): CallRow[] {
    this.flush();
    requireId(runId, 'runId', 'Cannot read calls');
    return this.guard(`Cannot read calls of run "${runId}"`, () =>
      this.stmts()
        .getCalls.all(runId)
        .map((row) => toCallRow(row, this.readMessages)),
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
      this.stmts()
        .spendByModel.all(runId)
        .map((row) => ({ model: row.model, provider: row.provider, ...toTotals(row) })),
    );
  }

  // -------------------------------------------------------------------------------------------- api keys

  /** Stores a gateway key (its secret's SHA-256 only). */
  createApiKey(key: NewApiKey): ApiKeyRow {
    return this.guard(`Cannot create API key "${key.name}"`, () => this.keys().insert(key, this.isoNow()));
  }

  getApiKey(id: string): ApiKeyRow | undefined {
    return this.guard(`Cannot read API key "${id}"`, () => this.keys().get(id));
  }

  findApiKey(secretSha256: string): ApiKeyRow | undefined {
    return this.guard('Cannot read API keys', () => this.keys().findBySecretHash(secretSha256));
  }

  listApiKeys(): ApiKeyRow[] {
    return this.guard('Cannot list API keys', () => this.keys().list());
  }

  /** Revokes a live key; false when it is unknown or already revoked. */
  revokeApiKey(id: string): boolean {
    return this.guard(`Cannot revoke API key "${id}"`, () => this.keys().revoke(id, this.isoNow()));
  }

  /** What runs owned by `owner` and created at or after `since` (ISO) spent (see api-keys.ts). */
  ownerSpend(owner: string, since: string): UsageTotals {
    this.flush();
    return this.guard(`Cannot read the spend of "${owner}"`, () => this.keys().ownerSpend(owner, since));
  }

  private keys(): ApiKeyTable {
    this.assertOpen();
    this.apiKeyTable ??= new ApiKeyTable(this.db);
    return this.apiKeyTable;
  }

  // ---------------------------------------------------------------------------------------------- ledger

  /** Appends a ledger entry (refusals, replays; settles of recorded calls are written by `recordCall`). Returns its id. */
  recordLedgerEntry(runId: string, entry: LedgerEntryInput): number {
    this.flush();
    const { detailJson } = ledgerEntryValues(runId, entry);
    return this.guard(`Cannot record ledger entry of run "${runId}"`, () => {
      const result = this.stmts().insertLedger.run(
        runId,
        entry.callKey ?? null,
        entry.kind,
        entry.budgetPath,
        entry.inputTokens ?? 0,
        entry.outputTokens ?? 0,
        entry.costUsd ?? 0,
        detailJson,
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

  private writeSteps(runId: string, values: ReadonlyArray<{ step: StepInput } & ReturnType<typeof stepValues>>, now: string): void {
    const statement = this.stmts().upsertStep;
    for (const { step, input, output, usage } of values) {
      const open = step.status === 'pending' || step.status === 'running';
      statement.run({
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
        now,
      });
    }
  }

  private insertRun(values: RunValues): RunRow {
    const at = this.isoNow();
    this.stmts().insertRun.run(
      values.id,
      values.command,
      values.query,
      values.argsJson,
      values.seed,
      values.simulated,
      values.budgetJson,
      values.owner,
      at,
      at,
    );
    return this.readRun(values.id);
  }

  /** A run known to exist (written earlier in the same transaction). */
  private readRun(id: string): RunRow {
    return toRunRow(this.stmts().getRun.get(id) as RunDbRow);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /** Reads a stored message list back (for rows written since schema v3). */
  private readonly readMessages = (listId: string): unknown[] => this.messages().read(listId);

  private messages(): MessageStore {
    if (this.messageStore === undefined) throw closedError(this.path);
    return this.messageStore;
  }

  private stmts(): Statements {
    if (this.statements === undefined) throw closedError(this.path);
    return this.statements;
  }

  /** The message store and prepared statements every open journal (read-write or read-only) works through. */
  private prepare(): void {
    this.messageStore = new MessageStore(this.db);
    this.statements = prepareStatements(this.db, this.messageStore);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.path);
  }

  /**
   * Runs `fn` inside an IMMEDIATE transaction (or a savepoint when already inside one). One better-sqlite3
   * transaction function, made once and given `fn` as its argument: making one per call (five wrappers and a
   * defineProperties) cost ~15 µs, paid by every group commit.
   */
  private tx<T>(fn: () => T): T {
    this.runInTransaction ??= this.db.transaction((inner: () => unknown) => inner());
    return this.runInTransaction(fn) as T;
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

/** Open intents are keyed by run and call key; NUL cannot occur in either. */
/** Closes a handle whose open failed part-way; a second failure there would hide the first, which matters more. */
function closeQuietly(db: { close(): unknown } | undefined): void {
  try {
    db?.close();
  } catch {
    // Already failing.
  }
}

function intentKey(runId: string, callKey: string): string {
  return `${runId}\u0000${callKey}`;
}

function toIntentRow(row: IntentDbRow): CallIntentRow {
  return {
    id: row.id,
    runId: row.run_id,
    callKey: row.call_key,
    attempt: row.attempt,
    model: row.model,
    purpose: row.purpose,
    budgetPath: row.budget_path,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    createdAt: row.created_at,
    orphanedAt: row.orphaned_at,
  };
}

/**
 * Errors of the file rather than of one call (disk full, I/O, lock, corruption): they abort the whole group
 * commit, whose batch is then put back. Anything else (a constraint or trigger refusing one row, a conflicting
 * record) is that call's own and rolls back only its savepoint.
 */
function isStorageFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return false;
  return (
    /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CORRUPT|NOTADB|CANTOPEN|NOMEM|INTERRUPT|PROTOCOL)/.test(code) ||
    // PostgreSQL's SQLSTATE classes of the server or connection, not of one row: connection lost (08), a
    // rolled-back transaction (40: serialization, deadlock), a read-only transaction (25), no resources (53:
    // disk full), operator intervention (57), system or internal error (58, XX); and Node's socket errors.
    /^(08|40|25|53|57|58|XX)[0-9A-Z]{3}$/.test(code) ||
    /^E[A-Z]+$/.test(code)
  );
}
