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

/** Thicket errors pass through; anything else (SqliteError, TypeError from a closed handle) becomes a JournalError. */
export function wrap(error: unknown, what: string): ThicketError {
  if (ThicketError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  return new JournalError(`${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error, isRetryable: busy });
}
