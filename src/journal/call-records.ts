/**
 * Model calls as the journal records and replays them: the intent journaled before a call is sent, the call
 * buffered for the group commit when it returns (judged against an earlier copy of its key at once, so a
 * conflict reaches the caller synchronously), the primary-key lookup a resumed run replays from, and the reads
 * over a run's calls (rows, totals, spend per model).
 */
import type { UsageTotals } from '../core/index.ts';
import type { CallIntent, RecordedCall } from './call-recorder.ts';
import { conflictingCallError, unknownRun } from './errors.ts';
import type { GroupCommit } from './group-commit.ts';
import type { JournalHandle } from './journal-handle.ts';
import { isSameStoredCall, toCallRow, toIntentRow, toRecordedCall, toTotals, type TotalsDbRow } from './rows.ts';
import type { CallIntentRow, CallRow, ModelSpend } from './types.ts';
import { callValues, checkLookup, requireId } from './validation.ts';

export class CallRecords {
  /** Ids of the intents this handle wrote and has not resolved yet, by run and call key. */
  private readonly openIntents = new Map<string, number[]>();
  /** Runs journaled as simulated that have a recorder: their calls are group-committed within a window. */
  private readonly simulatedRuns = new Set<string>();

  constructor(
    private readonly handle: JournalHandle,
    private readonly commit: GroupCommit,
    private readonly simulatedCommitWindowMs: number,
  ) {}

  /** Checks that the run exists before a recorder is made for it, and notes it when it is simulated. */
  openRecorder(runId: string): void {
    requireId(runId, 'runId', 'Cannot create a call recorder');
    const run = this.handle.guard(`Cannot read run "${runId}"`, () => this.handle.stmts().getRun.get(runId));
    if (run === undefined) throw unknownRun(runId, 'Cannot create a call recorder');
    if (run.simulated === 1) this.simulatedRuns.add(runId);
  }

  /**
   * The run has finished and its calls are all written: keeping the id would grow the set by one entry per
   * simulated run for the life of the process (a gateway serves thousands a minute). A resumed run's recorder
   * adds it again.
   */
  runFinished(runId: string): void {
    this.simulatedRuns.delete(runId);
  }

  intend(runId: string, intent: CallIntent): void {
    this.handle.assertOpen();
    checkLookup(runId, intent.callKey);
    this.commit.pending.throwFlushFailure();
    const key = intentKey(runId, intent.callKey);
    const id = this.commit.writeBatch(
      () => `Cannot journal the intent of call "${intent.callKey}" before sending it`,
      () =>
        Number(
          this.handle
            .stmts()
            .insertIntent.run(
              runId,
              intent.callKey,
              intent.attempt,
              intent.model,
              intent.purpose,
              intent.budgetPath,
              intent.inputTokens,
              intent.outputTokens,
              intent.usd,
              this.handle.isoNow(),
            ).lastInsertRowid,
        ),
    );
    const ids = this.openIntents.get(key);
    if (ids) ids.push(id);
    else this.openIntents.set(key, [id]);
  }

  abandon(runId: string, callKey: string): void {
    const ids = this.takeIntents(runId, callKey);
    if (ids) this.commit.pending.release(ids);
  }

  intents(runId: string): CallIntentRow[] {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read call intents');
    return this.handle.guard(`Cannot read call intents of run "${runId}"`, () =>
      this.handle.stmts().getIntents.all(runId).map(toIntentRow),
    );
  }

  orphanedIntents(runId: string): CallIntentRow[] {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read call intents');
    return this.handle.guard(`Cannot read call intents of run "${runId}"`, () =>
      this.handle.tx(() => {
        const s = this.handle.stmts();
        s.orphanIntents.run(this.handle.isoNow(), runId);
        return s.getIntents.all(runId).map(toIntentRow);
      }),
    );
  }

  lookup(runId: string, callKey: string): RecordedCall | undefined {
    checkLookup(runId, callKey);
    const buffered = this.commit.pending.get(runId, callKey);
    if (buffered) return structuredClone(buffered.call);
    return this.handle.guard(
      () => `Cannot look up call "${callKey}" of run "${runId}"`,
      () => {
        const row = this.handle.stmts().lookupCall.get(runId, callKey);
        return row === undefined ? undefined : toRecordedCall(row, this.handle.readMessages);
      },
    );
  }

  /**
   * Buffers the call (see `Journal.recordCall`). Returns true when it was another process's answer to a call
   * already committed for the same request, kept once because `acceptDuplicates` (see
   * `Journal.acceptDuplicateCalls`): the caller counts it.
   */
  record(runId: string, call: RecordedCall, acceptDuplicates: boolean): boolean {
    this.handle.assertOpen();
    const { requestJson, messages, responseJson, tagsJson, errorJson } = callValues(runId, call, (request) =>
      this.handle.messages().encodeRequest(request),
    );
    const pending = this.commit.pending;
    pending.throwFlushFailure();
    // Duplicate keys are judged now, not at flush time, so the caller hears about a conflict synchronously.
    const earlier = pending.get(runId, call.callKey);
    const stored = earlier
      ? undefined
      : this.handle.guard(`Cannot read call "${call.callKey}"`, () => this.handle.stmts().lookupCall.get(runId, call.callKey));
    if (earlier || stored) {
      // One comparison for both places the earlier copy can be, so buffered and committed calls behave alike.
      const previous = earlier
        ? {
            request_hash: earlier.call.requestHash,
            model: earlier.call.model,
            provider: earlier.call.provider,
            request_json: earlier.requestJson,
            messages_list: earlier.messages?.value.id ?? null,
            response_json: earlier.responseJson,
            text: earlier.call.response.text,
            cost_usd: earlier.call.costUsd,
            budget_path: earlier.call.budgetPath,
            error_json: earlier.errorJson,
          }
        : stored!;
      const same = isSameStoredCall(previous, call, requestJson, messages?.value.id ?? null, responseJson, errorJson);
      // Committed by another process for the same request (a queue job run twice at once, after its first worker
      // lost its lock): the first answer stays the journal's — and every replay's — and this one is counted as a
      // duplicate payment.
      const duplicate =
        acceptDuplicates &&
        !same &&
        !earlier &&
        stored !== undefined &&
        stored.request_hash === call.requestHash &&
        stored.model === call.model;
      if (same || duplicate) {
        const intents = this.takeIntents(runId, call.callKey);
        if (intents) pending.release(intents);
        return duplicate;
      }
      throw conflictingCallError(runId, call.callKey);
    }
    const intents = this.takeIntents(runId, call.callKey);
    pending.add(
      {
        runId,
        call,
        requestJson,
        messages,
        responseJson,
        tagsJson,
        errorJson,
        at: this.handle.isoNow(),
        ...(intents ? { intents } : {}),
      },
      // A simulated run's calls cost nothing and are made again, identically, when a resumed run misses them:
      // they share commits over a short window (each commit rewrites every B-tree page it touches; a
      // 1,000-agent network committed on every turn wrote over a gigabyte of WAL). Other runs commit on the
      // next turn, and any read, intent or close writes everything buffered first.
      this.simulatedRuns.has(runId) ? this.simulatedCommitWindowMs : 0,
    );
    return false;
  }

  getCalls(runId: string): CallRow[] {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read calls');
    return this.handle.guard(`Cannot read calls of run "${runId}"`, () =>
      this.handle
        .stmts()
        .getCalls.all(runId)
        .map((row) => toCallRow(row, this.handle.readMessages)),
    );
  }

  runTotals(runId: string): UsageTotals {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read run totals');
    return this.handle.guard(`Cannot read totals of run "${runId}"`, () =>
      toTotals(this.handle.stmts().runTotals.get(runId) as TotalsDbRow),
    );
  }

  spendByModel(runId: string): ModelSpend[] {
    this.commit.flush();
    requireId(runId, 'runId', 'Cannot read spend by model');
    return this.handle.guard(`Cannot read spend of run "${runId}"`, () =>
      this.handle
        .stmts()
        .spendByModel.all(runId)
        .map((row) => ({ model: row.model, provider: row.provider, ...toTotals(row) })),
    );
  }

  private takeIntents(runId: string, callKey: string): number[] | undefined {
    if (this.openIntents.size === 0) return undefined;
    const key = intentKey(runId, callKey);
    const ids = this.openIntents.get(key);
    if (ids) this.openIntents.delete(key);
    return ids;
  }
}

/** Open intents are keyed by run and call key; NUL cannot occur in either. */
function intentKey(runId: string, callKey: string): string {
  return `${runId}\u0000${callKey}`;
}
