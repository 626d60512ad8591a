/**
 * Disk full mid-study, then resume (issue 16 §3): the journal refusing a write (SQLITE_FULL, simulated with
 * `PRAGMA max_page_count`) must not lose recorded calls for good. A cell is finished only in the same
 * transaction as its calls, so after making room the resumed study has exactly the calls of an uninterrupted
 * one, and every finished cell's calls are in the journal.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal/index.ts';
import { CELL_STEP_KIND, parseStudy, runStudy, type CellResult, type StudyDefinition } from './index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-disk-full-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const study = (): StudyDefinition =>
  parseStudy({
    version: 1,
    id: 'full',
    suites: [
      { kind: 'arithmetic', items: 4, operations: [2, 4] },
      { kind: 'multihop', items: 4, hops: [1, 2] },
    ],
    architectures: ['vote', 'search'],
    budgets: [1500, 4000],
    models: ['sim:small'],
    concurrency: 4,
  });

/** Calls (attempts, as the ledger counts them) recorded per cell step id, from the calls table. */
function callsPerCell(journal: Journal, runId: string): Map<string, number> {
  const rows = journal.sqlite
    .prepare(
      `SELECT substr(call_key, 1, instr(call_key, '|') - 1) AS cell, SUM(COALESCE(json_extract(billed_json, '$.calls'), attempts)) AS calls
       FROM calls WHERE run_id = ? GROUP BY cell`,
    )
    .all(runId) as Array<{ cell: string; calls: number }>;
  return new Map(rows.map((row) => [row.cell, row.calls]));
}

function totalCalls(journal: Journal, runId: string): number {
  return [...callsPerCell(journal, runId).values()].reduce((sum, calls) => sum + calls, 0);
}

/** A finished cell's journaled calls must be the calls it counted; returns how many cells are finished. */
function checkFinished(journal: Journal, runId: string): number {
  const perCell = callsPerCell(journal, runId);
  let finished = 0;
  for (const step of journal.getSteps(runId)) {
    if (step.kind !== CELL_STEP_KIND || step.status !== 'ok') continue;
    finished++;
    const cell = step.output as CellResult;
    assert.equal(perCell.get(step.stepId) ?? 0, cell.usage.calls, `cell ${step.stepId}: journaled calls vs the cell's own count`);
  }
  return finished;
}

const UNLIMITED = 1_073_741_823;

describe('study: disk full, then resume', () => {
  let expected = 0;
  let pages = 0;
  let cells = 0;

  it('an uninterrupted reference', async () => {
    const reference = Journal.open(join(scratch, 'reference.db'));
    const full = await runStudy(study(), { journal: reference });
    expected = totalCalls(reference, full.runId);
    pages = Number(reference.sqlite.pragma('page_count', { simple: true }));
    cells = full.cells.length;
    reference.close();
    assert.ok(expected > 0 && cells > 0);
  });

  it('room coming back after a failed write: the failed batch is written later, nothing is lost', async () => {
    for (const fraction of [0.3, 0.6, 0.85]) {
      const journal = Journal.open(join(scratch, `flaky-${fraction}.db`));
      journal.sqlite.pragma(`max_page_count = ${Math.floor(pages * fraction)}`);
      // The first write refused for lack of room makes room again (another file shrank, a WAL was reset).
      let refused = 0;
      for (const name of ['flush', 'upsertSteps', 'intendCall'] as const) {
        const original = (journal[name] as (...args: unknown[]) => unknown).bind(journal);
        (journal as unknown as Record<string, unknown>)[name] = (...args: unknown[]): unknown => {
          try {
            return original(...args);
          } catch (error) {
            if (/full/i.test(String((error as Error).message)) && refused++ === 0) journal.sqlite.pragma(`max_page_count = ${UNLIMITED}`);
            throw error;
          }
        };
      }
      const run = await runStudy(study(), { journal }).catch((error: unknown) => error as Error);
      assert.ok(refused > 0, `fraction ${fraction}: the disk filled`);
      const runId = 'study-full';
      if (!(run instanceof Error)) assert.equal(run.cells.length, cells);
      checkFinished(journal, runId);
      // Whatever the study made of the refusal, a re-run completes it with exactly the uninterrupted calls.
      const again = await runStudy(study(), { journal });
      assert.equal(again.status, 'ok');
      checkFinished(journal, runId);
      assert.equal(totalCalls(journal, runId), expected, `fraction ${fraction}: every paid call is in the journal`);
      journal.close();
    }
  });

  it('disk full for good: the study fails with JOURNAL_FULL; after making room the same study completes', async () => {
    const path = join(scratch, 'full.db');
    const journal = Journal.open(path);
    journal.sqlite.pragma(`max_page_count = ${Math.floor(pages / 2)}`);
    const failure = await runStudy(study(), { journal }).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message?: string },
    );
    assert.equal(failure?.code, 'JOURNAL_FULL');
    assert.match(failure?.message ?? '', /disk holding the journal is full.*run the same command again/s);
    // "Make room", as the user would, and let this process go (what it held in memory is gone).
    journal.sqlite.pragma(`max_page_count = ${UNLIMITED}`);
    journal.close();

    const reopened = Journal.open(path);
    const finishedBefore = checkFinished(reopened, 'study-full');
    assert.ok(finishedBefore < cells, `${finishedBefore} cells finished before the disk filled`);
    const resumed = await runStudy(study(), { journal: reopened });
    assert.equal(resumed.status, 'ok');
    assert.equal(resumed.cells.length, cells);
    checkFinished(reopened, 'study-full');
    assert.equal(totalCalls(reopened, 'study-full'), expected, 'the resumed study journals exactly the calls of an uninterrupted one');
    reopened.close();
  });
});

describe('disk full: a stable code and exit 1', () => {
  it('SQLITE_FULL / SQLITE_IOERR_SHMSIZE / ENOSPC from the journal are JOURNAL_FULL; ENOSPC elsewhere is STORAGE_FULL', async () => {
    const { JournalError, exitCodeFor, toThicketError } = await import('../core/index.ts');
    const journal = Journal.open(join(scratch, 'tiny.db'));
    journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: true });
    // The file may not grow past its current size: the next write is refused as on a full disk.
    journal.sqlite.pragma(`max_page_count = ${Number(journal.sqlite.pragma('page_count', { simple: true }))}`);
    const error = (() => {
      try {
        for (let index = 0; index < 1000; index++)
          journal.createRun({ id: `r${index}`, command: 'solve', query: 'x'.repeat(2000), simulated: true });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof JournalError);
    assert.equal(error.code, 'JOURNAL_FULL');
    assert.equal(exitCodeFor(error), 1);
    journal.sqlite.pragma(`max_page_count = ${UNLIMITED}`);
    journal.close();

    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write '/out/report.html'"), { code: 'ENOSPC' });
    const storage = toThicketError(enospc);
    assert.equal(storage.code, 'STORAGE_FULL');
    assert.match(storage.message, /disk is full.*run the same command again/);
    assert.equal(exitCodeFor(enospc), 1);
  });
});
