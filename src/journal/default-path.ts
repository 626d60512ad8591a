/** Where the journal lives when the caller does not say. */
import { join } from 'node:path';
import envPaths from 'env-paths';

/** `THICKET_DB` when set, else `<per-user data folder>/journal.db` (e.g. `~/.local/share/thicket/journal.db`). */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['THICKET_DB'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return join(envPaths('thicket', { suffix: '' }).data, 'journal.db');
}
