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
 *
 * The Journal is the entry that composes its parts, each over the one open handle (journal-handle.ts):
 * opening (open-journal.ts), the group commit (group-commit.ts), runs and steps (run-records.ts), model calls
 * and their intents (call-records.ts), the ledger (ledger-entries.ts) and API keys (api-keys.ts).
 */
import type Database from 'better-sqlite3';
import { JournalError, type ThicketError, type UsageTotals } from '../core/index.ts';
import { ApiKeyTable, type NewApiKey } from './api-keys.ts';
import { applyMigrations, prepareVersionOf } from './apply-migrations.ts';
import type { CallIntent, CallRecorder, RecordedCall } from './call-recorder.ts';
import { CallRecords } from './call-records.ts';
import { GroupCommit } from './group-commit.ts';
import { JournalHandle } from './journal-handle.ts';
import { LedgerEntries } from './ledger-entries.ts';
import { openJournal, openJournalReadOnly } from './open-journal.ts';
import { RunRecords } from './run-records.ts';
import { JOURNAL_COMPONENT, JOURNAL_MIGRATIONS, type Migration } from './schema.ts';
import type { SqlDriver } from './sql-driver.ts';
import type {
  ApiKeyRow,
  CallIntentRow,
  CallRow,
  FinishRun,
  JournalOptions,
  LedgerEntryInput,
  LedgerEntryRow,
  ModelSpend,
  NewRun,
  RunFilter,
  RunRow,
  RunSummary,
  StepInput,
  StepRow,
} from './types.ts';
import { checkMigrations } from './validation.ts';

export class Journal {
  /** Absolute path of the database file (or `:memory:`), or the PostgreSQL URL (password redacted). */
  readonly path: string;
  /**
   * Whether a call another process already journaled under the same key and request is accepted as a duplicate
   * (kept once, counted in `duplicateCalls`) instead of refused as a conflict. Queue workers set it: BullMQ may
   * hand a job to a second worker while the first, starved or cut off, still runs it. Off by default, where a
   * second answer under one key can only be a bug.
   */
  acceptDuplicateCalls = false;
  /** Duplicates accepted (see `acceptDuplicateCalls`): calls paid twice, kept once. */
  duplicateCalls = 0;
  private readonly handle: JournalHandle;
  private readonly commit: GroupCommit;
  private readonly runs: RunRecords;
  private readonly calls: CallRecords;
  private readonly ledger: LedgerEntries;
  private apiKeyTable: ApiKeyTable | undefined;

  private constructor(path: string, db: SqlDriver, now: () => number, simulatedCommitWindowMs: number) {
    this.path = path;
    this.handle = new JournalHandle(path, db, now);
    // The parts and the buffer's scheduled flushes call this Journal's `flush`, so a wrapper of it sees them all.
    this.commit = new GroupCommit(this.handle, () => this.flush());
    this.runs = new RunRecords(this.handle, this.commit);
    this.calls = new CallRecords(this.handle, this.commit, simulatedCommitWindowMs);
    this.ledger = new LedgerEntries(this.handle, this.commit);
  }

  /**
   * Opens (creating if needed, with its parent folder) the journal at `path` and brings its schema up to date.
   * `:memory:` opens a private in-memory journal (no WAL). A `postgres://` or `postgresql://` URL opens the
   * journal in that database, in the schema named by its `?schema=` (default `thicket`, created if absent);
   * a server that cannot be reached within `connectTimeoutMs` is a JournalError JOURNAL_UNREACHABLE.
   */
  static open(path: string, options: JournalOptions = {}): Journal {
    return openJournal(path, options, (where, driver, simulatedCommitWindowMs) => {
      const journal = new Journal(where, driver, options.now ?? Date.now, simulatedCommitWindowMs);
      journal.migrate(JOURNAL_COMPONENT, JOURNAL_MIGRATIONS);
      journal.handle.prepare();
      return journal;
    });
  }

  /**
   * Opens an existing journal for reading only: creates no file (not even `-wal`/`-shm`), writes nothing, and
   * works where the user cannot write (read-only.ts). A missing file is INVALID_INPUT; a journal whose schema
   * is older than this Thicket's must be opened once by a writing command first (reading cannot migrate it).
   */
  static openReadOnly(path: string, options: JournalOptions = {}): Journal {
    return openJournalReadOnly(
      path,
      options,
      (where, driver) => {
        const journal = new Journal(where, driver, options.now ?? Date.now, 0);
        journal.handle.prepare();
        return journal;
      },
      (target) => Journal.open(target, options),
    );
  }

  /**
   * Set while the journal's last write failed for lack of room (or another storage error): what could not be
   * written is kept in memory and written by the next write that succeeds. Long-running commands stop starting
   * new work while it is set (the lab's study runner does), then `flush` to raise it or confirm there is room.
   */
  get storageFailure(): ThicketError | undefined {
    return this.commit.pending.storageFailure as ThicketError | undefined;
  }

  /**
   * The underlying better-sqlite3 handle of a SQLite journal (pragmas, SQLite-only tooling). A PostgreSQL
   * journal has none: this throws there; use `sql`, which works on both.
   */
  get sqlite(): Database.Database {
    this.handle.assertOpen();
    if (this.handle.db.sqlite === undefined) {
      throw new JournalError(
        `The journal at ${this.path} is on PostgreSQL: it has no SQLite handle (use \`journal.sql\`, which works on both).`,
      );
    }
    return this.handle.db.sqlite;
  }

  /**
   * The journal's SQL driver, for later layers' own tables (add them through `migrate`) and for tests: SQL in
   * SQLite's dialect, translated on PostgreSQL (postgres/dialect.ts). `dialect` says which engine it is.
   */
  get sql(): SqlDriver {
    this.handle.assertOpen();
    return this.handle.db;
  }

  /** 'sqlite' or 'postgres'. */
  get dialect(): SqlDriver['dialect'] {
    return this.handle.db.dialect;
  }

  get isOpen(): boolean {
    return this.handle.isOpen;
  }

  /** Closes the file (checkpointing the WAL). Idempotent. */
  close(): void {
    if (!this.handle.isOpen) return;
    let unwritten: unknown;
    try {
      this.flush();
    } catch (error) {
      // Still closed (a full disk must not leave the handle open); the calls that could not be written are lost
      // with this process, as in a crash, and raised.
      unwritten = error;
    }
    this.handle.close();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- already a ThicketError (flush wraps what it raises)
    if (unwritten !== undefined) throw unwritten;
  }

  /** SQLite's journal mode: 'wal' for a file journal, 'memory' for `:memory:`; 'postgres' on PostgreSQL. */
  journalMode(): string {
    const { db } = this.handle;
    return this.handle.guard('Cannot read journal mode', () =>
      db.sqlite === undefined ? 'postgres' : String(db.sqlite.pragma('journal_mode', { simple: true })),
    );
  }

  // ------------------------------------------------------------------------------------------- migrations

  /**
   * Applies every migration of `component` newer than its stored version, each in its own IMMEDIATE transaction
   * together with its `schema_version` row. Idempotent. Returns the component's version afterwards. Refuses a
   * journal whose stored version is newer than the migrations given (written by a newer Thicket).
   */
  migrate(component: string, migrations: readonly Migration[]): number {
    this.handle.assertOpen();
    checkMigrations(component, migrations);
    return this.handle.guard(`Cannot migrate journal component "${component}"`, () =>
      applyMigrations(this.handle.db, this.path, component, migrations, () => this.handle.isoNow()),
    );
  }

  /** The stored schema version of `component` (0 when it has none). */
  schemaVersion(component: string = JOURNAL_COMPONENT): number {
    return this.handle.guard('Cannot read schema version', () => prepareVersionOf(this.handle.db).get(component)?.version ?? 0);
  }

  // ------------------------------------------------------------------------------------------------ runs

  /** Inserts a new run with status 'running'. Fails (JournalError) if the id exists. */
  createRun(run: NewRun): RunRow {
    return this.runs.create(run);
  }

  getRun(id: string): RunRow | undefined {
    return this.runs.get(id);
  }

  /**
   * Creates the run, or resumes it when the id exists: the command and query must match the stored ones (else
   * InvalidInputError naming each mismatched field); the status goes back to 'running', the answer and error
   * are cleared, and a given budget replaces the stored one.
   */
  beginOrResumeRun(run: NewRun): { run: RunRow; resumed: boolean } {
    return this.runs.beginOrResume(run);
  }

  /**
   * Records how the run ended (`status` must not be 'running') and returns the updated run. `steps` (e.g. a
   * solve's trace) are written in the same transaction, with every call still buffered: one commit for the
   * whole end of a run.
   */
  finishRun(id: string, outcome: FinishRun, steps: readonly StepInput[] = []): RunRow {
    const row = this.runs.finish(id, outcome, steps);
    this.calls.runFinished(id);
    return row;
  }

  /** Newest first, with totals aggregated over each run's calls. */
  listRuns(filter: RunFilter = {}): RunSummary[] {
    return this.runs.list(filter);
  }

  // ----------------------------------------------------------------------------------------------- steps

  /** Inserts or updates a step. On update, omitted input/output/usage keep their stored values. */
  upsertStep(runId: string, step: StepInput): StepRow {
    return this.runs.upsertStep(runId, step);
  }

  /**
   * Writes many steps in ONE transaction without reading them back: the executor's batched step journal.
   * Validation is the same as `upsertStep`; a bad step rejects the whole batch before anything is written.
   */
  upsertSteps(runId: string, steps: readonly StepInput[]): void {
    this.runs.upsertSteps(runId, steps);
  }

  /** The run's steps in the order they started. */
  getSteps(runId: string): StepRow[] {
    return this.runs.getSteps(runId);
  }

  // ----------------------------------------------------------------------------------------------- calls

  /** The fleet's view of this run's calls. Fails with InvalidInputError when the run does not exist. */
  recorder(runId: string): CallRecorder {
    this.calls.openRecorder(runId);
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
    this.calls.intend(runId, intent);
  }

  /** The call ended without a result to record (unbilled): its intents are deleted by the next group commit. */
  abandonCall(runId: string, callKey: string): void {
    this.calls.abandon(runId, callKey);
  }

  /** The run's unresolved intents, oldest first: in flight now, or left by a crash or cancel (see CallIntentRow). */
  callIntents(runId: string): CallIntentRow[] {
    return this.calls.intents(runId);
  }

  /**
   * For a run being resumed: marks every unresolved intent as found orphaned (a crash or cancel ended its
   * process before its result was recorded) and returns them all, earlier resumes' orphans included — each
   * was possibly billed, so the resumed run charges their worst case to its ledger up front.
   */
  orphanedIntents(runId: string): CallIntentRow[] {
    return this.calls.orphanedIntents(runId);
  }

  /** Primary-key read of one recorded call, JSON parsed; undefined when absent. */
  lookupCall(runId: string, callKey: string): RecordedCall | undefined {
    return this.calls.lookup(runId, callKey);
  }

  /**
   * Buffers the call for the next `flush`, which inserts it and its 'settle' ledger entry in one transaction:
   * both or neither. Recording the same call key twice is a no-op when the recorded call is identical (no
   * second ledger entry), a JournalError when it differs.
   */
  recordCall(runId: string, call: RecordedCall): void {
    if (this.calls.record(runId, call, this.acceptDuplicateCalls)) this.duplicateCalls++;
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
    this.commit.writeBuffered();
  }

  /** Every recorded call of the run, in recording order. */
  getCalls(runId: string): CallRow[] {
    return this.calls.getCalls(runId);
  }

  /** Totals over the run's recorded calls (zeros for a run without calls). */
  runTotals(runId: string): UsageTotals {
    return this.calls.runTotals(runId);
  }

  /** The run's spend per model, most expensive first. */
  spendByModel(runId: string): ModelSpend[] {
    return this.calls.spendByModel(runId);
  }

  // -------------------------------------------------------------------------------------------- api keys

  /** Stores a gateway key (its secret's SHA-256 only). */
  createApiKey(key: NewApiKey): ApiKeyRow {
    return this.handle.guard(`Cannot create API key "${key.name}"`, () => this.keys().insert(key, this.handle.isoNow()));
  }

  getApiKey(id: string): ApiKeyRow | undefined {
    return this.handle.guard(`Cannot read API key "${id}"`, () => this.keys().get(id));
  }

  findApiKey(secretSha256: string): ApiKeyRow | undefined {
    return this.handle.guard('Cannot read API keys', () => this.keys().findBySecretHash(secretSha256));
  }

  listApiKeys(): ApiKeyRow[] {
    return this.handle.guard('Cannot list API keys', () => this.keys().list());
  }

  /** Revokes a live key; false when it is unknown or already revoked. */
  revokeApiKey(id: string): boolean {
    return this.handle.guard(`Cannot revoke API key "${id}"`, () => this.keys().revoke(id, this.handle.isoNow()));
  }

  /** What runs owned by `owner` and created at or after `since` (ISO) spent (see api-keys.ts). */
  ownerSpend(owner: string, since: string): UsageTotals {
    this.flush();
    return this.handle.guard(`Cannot read the spend of "${owner}"`, () => this.keys().ownerSpend(owner, since));
  }

  private keys(): ApiKeyTable {
    this.handle.assertOpen();
    this.apiKeyTable ??= new ApiKeyTable(this.handle.db);
    return this.apiKeyTable;
  }

  // ---------------------------------------------------------------------------------------------- ledger

  /** Appends a ledger entry (refusals, replays; settles of recorded calls are written by `recordCall`). Returns its id. */
  recordLedgerEntry(runId: string, entry: LedgerEntryInput): number {
    return this.ledger.record(runId, entry);
  }

  /** The run's ledger in order. */
  getLedgerEntries(runId: string): LedgerEntryRow[] {
    return this.ledger.list(runId);
  }
}
