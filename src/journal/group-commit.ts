/**
 * The group commit: how the calls buffered by `recordCall` (pending-calls.ts) reach the database. Every write
 * that must carry them along (a flush, an intent, a batch of steps, the end of a run) goes through `writeBatch`,
 * one transaction in which each buffered call is its own savepoint. A batch whose transaction fails as a whole
 * (disk full, I/O) is put back to be written by the next write that succeeds.
 */
import { wrap } from './errors.ts';
import type { JournalHandle } from './journal-handle.ts';
import type { ListNodeInfo } from './message-store.ts';
import { PendingCalls, RESTORED } from './pending-calls.ts';

export class GroupCommit {
  readonly pending: PendingCalls;

  /**
   * `flush` is the Journal's own `flush`: the buffer's scheduled flushes, the flush before every read and the
   * retry after a storage failure all call it, so whoever wraps the Journal's method sees every one of them
   * (bench/workflow.ts times the call path's commits that way).
   */
  constructor(
    private readonly handle: JournalHandle,
    readonly flush: () => void,
  ) {
    this.pending = new PendingCalls(flush);
  }

  /** What `Journal.flush` does (see there): writes everything buffered, unless nothing is or the journal is closed. */
  writeBuffered(): void {
    if (this.pending.size === 0 || !this.handle.isOpen) return;
    this.writeBatch(undefined, () => undefined);
  }

  /**
   * Writes every buffered call (and intent release) and then `extra`, in ONE immediate transaction. A refused
   * call rolls back alone (its savepoint) and is raised after the commit; a failing `extra` rolls back all.
   */
  writeBatch<T>(what: (() => string) | undefined, extra: () => T): T {
    const batch = this.pending.drain();
    const releases = this.pending.drainReleases();
    return this.handle.guard(what ?? (() => `Cannot record ${batch.length} call(s)`), () => {
      const s = this.handle.stmts();
      const failures: unknown[] = [];
      const written: ListNodeInfo[] = [];
      let result: T;
      try {
        result = this.handle.tx(() => {
          for (const entry of batch) {
            // Each call is its own savepoint: a refused call (a conflicting record) rolls back alone and the
            // rest of the batch commits. Storage errors (disk full, I/O) abort the whole transaction instead.
            try {
              for (const info of s.recordCall(entry)) written.push(info);
            } catch (error) {
              if (isStorageFailure(error)) throw error;
              failures.push(error);
            }
          }
          for (const id of releases) s.deleteIntent.run(id);
          return extra();
        });
      } catch (error) {
        // Nothing was written: put the batch back, so a later write (once there is room) records it.
        this.pending.restore(batch, releases);
        const wrapped = wrap(error, typeof what === 'function' ? what() : `Cannot record ${batch.length} call(s)`);
        RESTORED.add(wrapped);
        if (isStorageFailure(error)) this.pending.storageFailure = wrapped;
        throw wrapped;
      }
      if (this.pending.storageFailure !== undefined) {
        this.pending.storageFailure = undefined;
        if (this.pending.size > 0) this.flush();
      }
      // Only now are those message rows durable; until then a later call would write them again.
      this.handle.messages().markStored(written);
      if (failures.length > 0) {
        // An intent was committed with this batch and must reach its caller (or it would never be resolved):
        // the refused call is raised by the next record instead.
        if (what !== undefined) this.pending.deferFailure(failures[0]);
        else throw failures[0];
      }
      return result;
    });
  }
}

/**
 * Errors of the file rather than of one call (disk full, I/O, lock, corruption): they abort the whole group
 * commit, whose batch is then put back. Anything else (a constraint or trigger refusing one row, a conflicting
 * record) is that call's own and rolls back only its savepoint.
 */
function isStorageFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return false;
  return (
    /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CORRUPT|NOTADB|CANTOPEN|NOMEM|INTERRUPT|PROTOCOL)/.test(code) ||
    // PostgreSQL's SQLSTATE classes of the server or connection, not of one row: connection lost (08), a
    // rolled-back transaction (40: serialization, deadlock), a read-only transaction (25), no resources (53:
    // disk full), operator intervention (57), system or internal error (58, XX); and Node's socket errors.
    /^(08|40|25|53|57|58|XX)[0-9A-Z]{3}$/.test(code) ||
    /^E[A-Z]+$/.test(code)
  );
}
