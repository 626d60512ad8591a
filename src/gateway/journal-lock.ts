/**
 * One gateway per journal. A key's budget for the period lives in the memory of the gateway that serves it
 * (its ledger), so two gateway processes on one journal would each let a key spend its whole budget. Until the
 * budget is shared across processes (a Redis ledger), a second gateway on the same journal is refused: a lock
 * file beside the journal names the serving process; one left by a process that died (kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { InvalidInputError } from '../core/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the journal's gateway lock; returns its release. `:memory:` journals are private to the process: no lock. */
export function lockJournalForGateway(journalPath: string): () => void {
  if (journalPath === ':memory:') return () => {};
  const lockPath = `${journalPath}.gateway.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
        throw new InvalidInputError('Another gateway serves this journal', [
          {
            path: 'journal',
            message:
              `${journalPath} is served by the gateway of process ${holder}: API-key budgets are held by one gateway process, ` +
              'so a second one on the same journal could let a key spend its budget twice. Use another --journal, or stop that gateway.',
          },
        ]);
      // Left by a process that is gone (or unreadable): take it over.
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not take the gateway lock ${lockPath}`);
}
