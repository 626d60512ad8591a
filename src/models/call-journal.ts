/**
 * How a call's outcome crosses the journal: the response as stored, a failure as recorded, and that failure
 * rebuilt on replay — so a resumed run throws the same error (code, category, message, retry flag) the
 * original run did.
 */
import { MalformedOutputError, ThicketError, type ErrorCode } from '../core/index.ts';
import type { RecordedCallError } from './call-recorder.ts';
import type { GenerateResponse } from './spec.ts';

export function recordedError(error: ThicketError): RecordedCallError {
  return { name: error.name, code: error.code, category: error.category, message: error.message, isRetryable: error.isRetryable };
}

/** The error a recorded failed call ended with, thrown again on replay (same code, category, message and flag). */
export function replayedError(recorded: RecordedCallError, text: string): ThicketError {
  const options = { isRetryable: recorded.isRetryable ?? false };
  const error =
    recorded.code === 'MALFORMED_OUTPUT'
      ? new MalformedOutputError(recorded.message, text, options)
      : new ThicketError(recorded.code as ErrorCode, recorded.message, recorded.category, options);
  if (error.name !== recorded.name) error.name = recorded.name;
  return error;
}

export function stripForJournal(response: GenerateResponse): GenerateResponse {
  const { raw, ...rest } = response;
  return raw === undefined ? rest : { ...rest, raw };
}
