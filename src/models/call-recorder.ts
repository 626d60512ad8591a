/**
 * What the fleet needs from a journal to replay and record calls. Defined here (dependency inversion) because
 * the journal layer sits above models; `journal.recorder(runId)` implements it.
 */
import type { GenerateResponse } from './spec.ts';

export interface RecordedCall {
  /** `requestHash#occurrence`: identical requests within one run are told apart by their order. */
  callKey: string;
  requestHash: string;
  model: string;
  provider: string;
  /** The request without its abort signal (JSON-serialisable). */
  request: unknown;
  response: Omit<GenerateResponse, 'abortSignal'>;
  costUsd: number;
  attempts: number;
  /** Everything billed for this call across its attempts (failed ones included); a replay charges exactly this. */
  billed?: { inputTokens: number; outputTokens: number; usd: number; calls: number };
  budgetPath: string;
  tags: Record<string, string>;
  /**
   * Set when the call FAILED after the provider answered (and billed): its output was truncated or did not
   * parse/match its schema on every attempt. `response` is the last attempt's, `billed` everything spent. A
   * replay charges `billed` and throws this error again — a failed call is never replayed as a success.
   */
  error?: RecordedCallError;
  /**
   * Set when the provider reported more than the call was reserved for (e.g. more output tokens than
   * `max_tokens`): the excess, which was booked anyway (what the provider reports is what it bills).
   */
  overrun?: { inputTokens: number; outputTokens: number; usd: number };
}

/**
 * One attempt about to be sent, at its reservation (the worst case the provider can bill for it). The journal
 * commits it durably before the request leaves, and resolves it with the call's result: an intent still open
 * after a crash was possibly billed, so a resumed run counts it at this worst case.
 */
export interface CallIntent {
  callKey: string;
  attempt: number;
  model: string;
  /** What the call is for (its purpose or operator tag), for reports; null when untagged. */
  purpose: string | null;
  budgetPath: string;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/** The error a failed call ended with, as recorded (enough to throw an equivalent ThicketError on replay). */
export interface RecordedCallError {
  name: string;
  code: string;
  category: 'bad_input' | 'budget' | 'cancelled' | 'other';
  message: string;
  isRetryable?: boolean;
}

export interface CallRecorder {
  lookup(callKey: string): RecordedCall | undefined;
  /** Synchronous; the journal group-commits on the next event-loop turn. Atomic per call: the call row and its ledger entry, or neither. */
  record(call: RecordedCall): void;
  /**
   * Optional (recorders without it keep no intents). Durably records — synchronously committed, so it survives
   * the process being killed — that an attempt is about to be sent. `record` of the same call key resolves
   * every intent of that call in the same transaction as the call row. Throws when it cannot be written; then
   * nothing must be sent.
   */
  intend?(intent: CallIntent): void;
  /**
   * Optional. The call ended without a result to record (refused, or failed before the provider answered):
   * its intents are resolved with nothing billed (group-committed).
   */
  abandon?(callKey: string): void;
}
