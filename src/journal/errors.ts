/**
 * The journal's errors. Bad arguments are InvalidInputError (code INVALID_INPUT); everything else is a
 * JournalError, and `wrap` turns whatever SQLite raises into one (keeping the original as `cause`) so callers
 * only ever see Thicket errors.
 */
import { InvalidInputError, JournalError, ThicketError } from '../core/index.ts';

export function unknownRun(id: string, what: string): InvalidInputError {
  return new InvalidInputError(what, [{ path: 'runId', message: `no run with id ${JSON.stringify(id)} in the journal` }]);
}

export function closedError(path: string): JournalError {
  return new JournalError(`The journal at ${path} is closed.`);
}

export function newerSchemaError(path: string, component: string, stored: number, known: number): JournalError {
  return new JournalError(
    `The database at ${path} has schema version ${stored} for "${component}", newer than this Thicket understands (${known}). Upgrade Thicket or ` +
      `use another database file${component === 'journal' ? ' (THICKET_DB)' : ''}.`,
  );
}

export function conflictingCallError(runId: string, callKey: string): JournalError {
  return new JournalError(`Call "${callKey}" of run "${runId}" is already recorded with a different request or response.`);
}

/** SQLite's and the OS's ways of saying the disk (or the quota) is full. */
const FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE', 'ENOSPC', 'EDQUOT', '53100' /* Postgres: disk_full */]);
/** Worth retrying as they are: a lock held by another writer, or (Postgres) a serialization failure or deadlock. */
const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', '40001', '40P01', '55P03']);

/**
 * Thicket errors pass through; anything else (SqliteError, a Postgres error, TypeError from a closed handle) becomes a JournalError
 * — with code JOURNAL_FULL when the disk is full, saying what to do.
 */
export function wrap(error: unknown, what: string): ThicketError {
  if (ThicketError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && FULL_CODES.has(code)) return journalFullError(what, message, code, error);
  const busy = typeof code === 'string' && BUSY_CODES.has(code);
  return new JournalError(`${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error, isRetryable: busy });
}

/** The journal's disk is full: nothing of the failed write was committed; freeing space and re-running resumes. */
export function journalFullError(what: string, message: string, code: string, cause: unknown): JournalError {
  return new JournalError(
    `${what}: the disk holding the journal is full (${message}; ${code}). Nothing of this write was committed. ` +
      'Free some space (or point --journal at another disk) and run the same command again: finished work is kept and resumed.',
    { cause, code: 'JOURNAL_FULL' },
  );
}
