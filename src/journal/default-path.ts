/** Where the journal lives when the caller does not say. */
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { isPostgresUrl } from './postgres/driver.ts';

/**
 * `THICKET_JOURNAL` when set (`THICKET_DB`, its older spelling, also works), else
 * `<per-user data folder>/journal.db` (e.g. `~/.local/share/thicket/journal.db`). Always a file: see
 * `defaultJournalTarget` for the journal a command opens.
 */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  for (const name of ['THICKET_JOURNAL', 'THICKET_DB']) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  }
  return join(envPaths('thicket', { suffix: '' }).data, 'journal.db');
}

/**
 * The journal a command opens without `--journal`/`--db`: `THICKET_DATABASE_URL` when set (a `postgres://`
 * URL: the scale-out configuration, shared by every worker), else `defaultJournalPath`.
 */
export function defaultJournalTarget(env: NodeJS.ProcessEnv = process.env): string {
  const url = env['THICKET_DATABASE_URL'];
  if (url !== undefined && url.trim() !== '') return url.trim();
  return defaultJournalPath(env);
}

/** A journal target as `Journal.open` takes it: a file path made absolute; a Postgres URL or `:memory:` as is. */
export function resolveJournalTarget(target: string): string {
  return isPostgresUrl(target) || target === ':memory:' ? target : resolve(target);
}
