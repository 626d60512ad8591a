/**
 * A run's budget ledger as journaled: entries appended on their own (refusals, replays) and the ledger read back
 * in order. The 'settle' entry of a recorded call is not written here but with its call row, in the same
 * savepoint of the group commit (statements.ts `recordCall`): both or neither.
 */
import type { GroupCommit } from './group-commit.ts';
import type { JournalHandle } from './journal-handle.ts';
import { toLedgerRow } from './rows.ts';
import type { LedgerEntryInput, LedgerEntryRow } from './types.ts';
import { ledgerEntryValues, requireId } from './validation.ts';

export class LedgerEntries {
  constructor(
    private readonly handle: JournalHandle,
    private readonly commit: GroupCommit,
  ) {}

  /** Appends the entry; returns its id. */
  record(runId: string, entry: LedgerEntryInput): number {
    this.commit.flush();
    const { detailJson } = ledgerEntryValues(runId, entry);
    return this.handle.guard(`Cannot record ledger entry of run "${runId}"`, () => {
      const result = this.handle
        .stmts()
        .insertLedger.run(
          runId,
          entry.callKey ?? null,
          entry.kind,
          entry.budgetPath,
          entry.inputTokens ?? 0,
          entry.outputTokens ?? 0,
          entry.costUsd ?? 0,
          detailJson,
          this.handle.isoNow(),
        );
      return Number(result.lastInsertRowid);
    });
  }

  list(runId: string): LedgerEntryRow[] {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read ledger');
    return this.handle.guard(`Cannot read ledger of run "${runId}"`, () => this.handle.stmts().getLedger.all(runId).map(toLedgerRow));
  }
}
