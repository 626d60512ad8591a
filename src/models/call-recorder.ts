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
}

export interface CallRecorder {
  lookup(callKey: string): RecordedCall | undefined;
  /** Synchronous; the journal group-commits on the next event-loop turn. Atomic per call: the call row and its ledger entry, or neither. */
  record(call: RecordedCall): void;
}
