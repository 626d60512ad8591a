/** Where the journal lives when the caller does not say. */
import { join } from 'node:path';
import envPaths from 'env-paths';

/**
 * `THICKET_JOURNAL` when set (`THICKET_DB`, its older spelling, also works), else
 * `<per-user data folder>/journal.db` (e.g. `~/.local/share/thicket/journal.db`).
 */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  for (const name of ['THICKET_JOURNAL', 'THICKET_DB']) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  }
  return join(envPaths('thicket', { suffix: '' }).data, 'journal.db');
}
