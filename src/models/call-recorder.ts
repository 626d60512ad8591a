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
}
