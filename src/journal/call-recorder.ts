/**
 * What the fleet needs from a journal to replay and record calls (dependency inversion: models cannot import
 * journal). A structural copy of `src/models/call-recorder.ts`: the journal may only import the models layer
 * through its index.ts, which does not export these yet. `Journal.recorder(runId)` implements it.
 *
 * `finishReason` is spelled as the union of the models layer's `FinishReason` (not plain `string`), so a
 * recorder returned here is assignable to the models layer's `CallRecorder` as it stands.
 */

export type RecordedFinishReason = 'stop' | 'length' | 'content-filter' | 'error' | 'other';

export interface RecordedResponse {
  text: string;
  object?: unknown;
  usage: { inputTokens: number; outputTokens: number };
  usageEstimated: boolean;
  finishReason: RecordedFinishReason;
  latencyMs: number;
  simulated: boolean;
  confidence?: number;
  raw?: unknown;
}

export interface RecordedCall {
  /** `requestHash + '#' + occurrence`: identical requests within one run are told apart by their order. */
  callKey: string;
  requestHash: string;
  /** Model reference, e.g. `sim:small`. */
  model: string;
  provider: string;
  /** GenerateRequest minus abortSignal (JSON-serialisable). */
  request: unknown;
  response: RecordedResponse;
  costUsd: number;
  attempts: number;
  /** Everything billed across the call's attempts (failed ones included); a replay charges exactly this. */
  billed?: { inputTokens: number; outputTokens: number; usd: number; calls: number };
  /** e.g. `run/vote`. */
  budgetPath: string;
  tags: Record<string, string>;
}

export interface CallRecorder {
  /** Primary-key read of a call recorded earlier in this run, or undefined. */
  lookup(callKey: string): RecordedCall | undefined;
  /** Synchronous; group-committed on the next event-loop turn: the call row and its 'settle' ledger entry are written together, or neither. */
  record(call: RecordedCall): void;
}
