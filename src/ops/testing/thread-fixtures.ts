/**
 * Fixtures for the thread/solo/debate tests: a recorder of the requests the fleet actually received (so
 * tests assert on real prompts, e.g. that pruned subtasks are gone), and long arithmetic chains whose
 * subtask trees are deep enough to overflow the thread's FIFO buffer.
 */
import type { Fleet, GenerateRequest } from '../../models/index.ts';

export interface RecordedRequest {
  model: string;
  request: GenerateRequest;
}

/** Wraps `fleet.call` (this fleet instance only) and returns the live list of requests it received. */
export function recordRequests(fleet: Fleet): RecordedRequest[] {
  const seen: RecordedRequest[] = [];
  const original = fleet.call.bind(fleet);
  fleet.call = (model, request, options) => {
    seen.push({ model, request });
    return original(model, request, options);
  };
  return seen;
}

/** The user turn of a recorded request (the thread puts its whole working memory there). */
export function userText(recorded: RecordedRequest): string {
  return recorded.request.messages
    .filter((message) => message.role === 'user')
    .map((message) => message.content)
    .join('\n');
}

/** Nine operations: with depth 3 the thread finishes six subtask lists, so a buffer of 2 overflows four times. */
export const NINE_STEP_CHAIN = '(12+7)*3 - 4 + 18*5 - 30/6 + 11*7';
/** Fifteen operations: a deeper, wider tree. */
export const FIFTEEN_STEP_CHAIN = '(12+7)*3 - 4 + 18*5 - 30/6 + 11*7 - 9*4 + 64/8 + 13*3 - 25';
