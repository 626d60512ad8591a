/**
 * Crash-safety helper (run as a child process by journal.test.ts):
 *   node --import tsx crash-writer.ts <db-path> <run-id> [count]
 * Records `count` sample calls, each in its own transaction, and after every commit writes the number of calls
 * recorded so far to stdout (synchronously, so what the parent reads never runs ahead of the database). Every
 * tenth call it also writes a 'refuse' ledger entry. The parent SIGKILLs it part-way.
 */
import { writeSync } from 'node:fs';
import { Journal } from '../journal.ts';
import { sampleCall } from './fixtures.ts';

const [dbPath, runId, countArg] = process.argv.slice(2);
if (dbPath === undefined || runId === undefined) {
  process.stderr.write('usage: crash-writer.ts <db-path> <run-id> [count]\n');
  process.exit(2);
}
const count = Number(countArg ?? 10_000);

function emit(line: string): void {
  const buffer = Buffer.from(line);
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(1, buffer, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

const journal = Journal.open(dbPath);
journal.beginOrResumeRun({ id: runId, command: 'crash-test', query: 'record until killed', simulated: true, seed: 7 });
const recorder = journal.recorder(runId);
for (let index = 0; index < count; index++) {
  recorder.record(sampleCall(index, { textBytes: 512 }));
  // Records are group-committed on the next event-loop turn; this loop never yields, so commit explicitly.
  journal.flush();
  if (index % 10 === 9) journal.recordLedgerEntry(runId, { kind: 'refuse', budgetPath: 'run/vote', detail: { index } });
  emit(`${index + 1}\n`);
}
journal.close();
emit('done\n');
