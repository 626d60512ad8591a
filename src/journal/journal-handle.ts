/**
 * An open journal's connection: its SQL driver, the statements and message store prepared on it, and the
 * guards every part of the Journal runs through (the open check, error wrapping, the one transaction function,
 * the clock). The Journal's parts (run-records.ts, call-records.ts, ledger-entries.ts, group-commit.ts) hold
 * this instead of the Journal, so each reaches the database the same way and none reaches another's state.
 */
import { closedError, wrap } from './errors.ts';
import { MessageStore } from './message-store.ts';
import type { ReadMessages } from './rows.ts';
import type { SqlDriver } from './sql-driver.ts';
import { prepareStatements, type Statements } from './statements.ts';

export class JournalHandle {
  private closed = false;
  private statements: Statements | undefined;
  private messageStore: MessageStore | undefined;
  /** See `tx`. */
  private runInTransaction: ((inner: () => unknown) => unknown) | undefined;

  /** `path` names the database in errors: the file's absolute path (or `:memory:`), or the redacted URL. */
  constructor(
    readonly path: string,
    readonly db: SqlDriver,
    private readonly now: () => number,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The message store and prepared statements every open journal (read-write or read-only) works through. */
  prepare(): void {
    this.messageStore = new MessageStore(this.db);
    this.statements = prepareStatements(this.db, this.messageStore);
  }

  /** Marks the handle closed and closes the driver; the Journal flushes what is buffered first. */
  close(): void {
    this.closed = true;
    this.statements = undefined;
    this.messageStore = undefined;
    try {
      this.db.close();
    } catch (error) {
      throw wrap(error, `Cannot close journal at ${this.path}`);
    }
  }

  stmts(): Statements {
    if (this.statements === undefined) throw closedError(this.path);
    return this.statements;
  }

  messages(): MessageStore {
    if (this.messageStore === undefined) throw closedError(this.path);
    return this.messageStore;
  }

  /** Reads a stored message list back (for rows written since schema v3). */
  readonly readMessages: ReadMessages = (listId) => this.messages().read(listId);

  isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  assertOpen(): void {
    if (this.closed) throw closedError(this.path);
  }

  /**
   * Runs `fn` inside an IMMEDIATE transaction (or a savepoint when already inside one). One better-sqlite3
   * transaction function, made once and given `fn` as its argument: making one per call (five wrappers and a
   * defineProperties) cost ~15 µs, paid by every group commit.
   */
  tx<T>(fn: () => T): T {
    this.runInTransaction ??= this.db.transaction((inner: () => unknown) => inner());
    return this.runInTransaction(fn) as T;
  }

  /** Runs `fn`, wrapping anything but a ThicketError in a JournalError. `what` may be lazy (hot paths). */
  guard<T>(what: string | (() => string), fn: () => T): T {
    if (this.closed) throw closedError(this.path);
    try {
      return fn();
    } catch (error) {
      throw wrap(error, typeof what === 'string' ? what : what());
    }
  }
}
