/**
 * A simulated run's recorded calls share group commits over a window (`simulatedCommitWindowMs`): they cost
 * nothing and are made again identically on resume, and committing every turn rewrote the same B-tree pages
 * over and over. Other runs keep committing on the next turn; reads and close write everything buffered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Journal } from './index.ts';
import { sampleCall } from './testing/fixtures.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What another connection sees in the file right now (committed rows only). */
function committedCalls(path: string, runId: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM calls WHERE run_id = ?').get(runId) as { n: number }).n;
  } finally {
    db.close();
  }
}

function withFolder(test: (folder: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thicket-sim-commit-'));
    try {
      await test(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
}

describe('group commit of simulated runs', () => {
  it(
    'a simulated run buffers across turns until its window, a read or close; a real run commits on the next turn',
    withFolder(async (folder) => {
      const path = join(folder, 'journal.db');
      // A window no test machine reaches: what is committed before it is committed by a read or close.
      const journal = Journal.open(path, { simulatedCommitWindowMs: 600_000 });
      journal.beginOrResumeRun({ id: 'sim', command: 'test', query: 'q', simulated: true });
      journal.beginOrResumeRun({ id: 'real', command: 'test', query: 'q', simulated: false });
      const sim = journal.recorder('sim');
      const real = journal.recorder('real');
      for (let turn = 0; turn < 5; turn++) {
        sim.record(sampleCall(turn));
        await nextTurn();
        await nextTurn();
      }
      assert.equal(committedCalls(path, 'sim'), 0, 'still buffered after several turns');
      real.record(sampleCall(100));
      await nextTurn();
      await nextTurn();
      // The real run's call committed on the next turn — and with it everything buffered (one commit).
      assert.equal(committedCalls(path, 'real'), 1);
      assert.equal(committedCalls(path, 'sim'), 5);
      sim.record(sampleCall(10));
      assert.equal(journal.getCalls('sim').length, 6, 'a read sees (and writes) the buffered calls');
      assert.equal(committedCalls(path, 'sim'), 6);
      sim.record(sampleCall(11));
      journal.close();
      assert.equal(committedCalls(path, 'sim'), 7, 'close writes what is buffered');
    }),
  );

  it(
    'the window elapses on its own: nothing else needs to happen for the calls to be committed',
    withFolder(async (folder) => {
      const path = join(folder, 'journal.db');
      const journal = Journal.open(path, { simulatedCommitWindowMs: 5 });
      try {
        journal.beginOrResumeRun({ id: 'sim', command: 'test', query: 'q', simulated: true });
        const sim = journal.recorder('sim');
        for (let index = 0; index < 20; index++) sim.record(sampleCall(index));
        // Wait on the event (rows visible to another connection), not on a duration.
        const committed = new Promise<void>((resolve) => {
          const check = (): void => {
            if (committedCalls(path, 'sim') === 20) resolve();
            else setTimeout(check, 1);
          };
          check();
        });
        await committed;
        assert.equal(committedCalls(path, 'sim'), 20);
      } finally {
        journal.close();
      }
    }),
  );

  it('refuses a window that is not a non-negative integer', () => {
    assert.throws(() => Journal.open(':memory:', { simulatedCommitWindowMs: -1 }), { code: 'INVALID_INPUT' });
    assert.throws(() => Journal.open(':memory:', { simulatedCommitWindowMs: 1.5 }), { code: 'INVALID_INPUT' });
  });
});
