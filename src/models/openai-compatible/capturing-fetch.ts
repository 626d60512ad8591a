/**
 * The transport under the `openai` client: a fetch that keeps the raw status and body text of the last response
 * of a call. The client drops error bodies it cannot fit into its `{ error: {...} }` shape and never shows the
 * text of a body that is not JSON; the error mapper and the response parser need both.
 */
import { raceSignal } from '../abort.ts';

/** What the capturing fetch saw of the last HTTP response of one call. */
export interface CapturedResponse {
  status?: number;
  body?: string;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** A fetch over `customFetch` (or the global one) that records into `captured` and hands the client a fresh copy. */
export function capturingFetch(customFetch: typeof fetch | undefined, captured: CapturedResponse): typeof fetch {
  return async (input, init) => {
    const fetchImpl = customFetch ?? globalThis.fetch;
    const signal = init?.signal ?? undefined;
    // Raced against the signal so that a custom fetch which ignores aborts still lets the client settle (and
    // clear its own timer) the moment the call is aborted.
    const response = await settleOnAbort(fetchImpl(input, init), signal);
    const text = await settleOnAbort(response.text(), signal);
    captured.status = response.status;
    captured.body = text;
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** `promise`, or a rejection with an AbortError (what the openai client expects) as soon as `signal` aborts. */
function settleOnAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return raceSignal(promise, signal, () => new DOMException('The operation was aborted.', 'AbortError'));
}
