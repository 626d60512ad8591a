/**
 * Response parsing: a chat completion as the fleet's `GenerateResponse` — the answer text (string or content
 * parts), the finish reason in the spec's vocabulary, and usage as reported or, where a server leaves it out or
 * sends placeholders, estimated with Thicket's tokenizer (and flagged so).
 */
import { countMessageTokens, countTokens, type Usage } from '../../core/index.ts';
import type { FinishReason, GenerateRequest, GenerateResponse } from '../spec.ts';
import type { CapturedResponse } from './capturing-fetch.ts';
import type { EndpointErrors } from './error-mapping.ts';
import { isCount, isRecord } from './wire-json.ts';

/** The completion the client returned (or the body it could not type), checked and read field by field. */
export function completionResponse(
  completion: unknown,
  captured: CapturedResponse,
  request: GenerateRequest,
  latencyMs: number,
  errors: EndpointErrors,
): GenerateResponse {
  let body = completion;
  // A server that sends JSON with a non-JSON content type gets its body back from the client as a string.
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      throw errors.malformedBody(captured, 'is not valid JSON');
    }
  }
  if (!isRecord(body)) throw errors.malformedBody(captured, 'is not a JSON object');
  const choices = body['choices'];
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  if (!isRecord(choice)) throw errors.inBody(body, captured) ?? errors.malformedBody(captured, 'has no choices');
  const message = isRecord(choice['message']) ? choice['message'] : {};
  const text = contentText(message['content']);
  const reasoning =
    typeof message['reasoning_content'] === 'string'
      ? message['reasoning_content']
      : typeof message['reasoning'] === 'string'
        ? message['reasoning']
        : '';
  const { usage, estimated } = usageOf(body['usage'], request, text, reasoning);
  return {
    text,
    usage,
    usageEstimated: estimated,
    finishReason: mapFinishReason(choice['finish_reason']),
    latencyMs,
    simulated: false,
    raw: body,
  };
}

export function mapFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
    case 'eos':
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'error':
      return 'error';
    default:
      // tool_calls, function_call, null and anything server-specific.
      return 'other';
  }
}

/**
 * Usage as reported, else estimated with Thicket's tokenizer. A count counts as reported when it is a
 * non-negative number — except a prompt of 0 tokens (no chat prompt is empty once templated) and 0 output
 * tokens next to non-empty text, which some servers send as placeholders.
 */
function usageOf(raw: unknown, request: GenerateRequest, text: string, reasoning: string): { usage: Usage; estimated: boolean } {
  const reported = isRecord(raw) ? raw : {};
  const promptTokens = reported['prompt_tokens'];
  const completionTokens = reported['completion_tokens'];
  const inputReported = isCount(promptTokens) && promptTokens > 0;
  const outputReported = isCount(completionTokens) && (completionTokens > 0 || (text === '' && reasoning === ''));
  const inputTokens = inputReported ? promptTokens : countMessageTokens(request.messages);
  // Reasoning text the server returned separately was generated (and billed) too.
  const outputTokens = outputReported ? completionTokens : countTokens(text) + countTokens(reasoning);
  return { usage: { inputTokens, outputTokens }, estimated: !inputReported || !outputReported };
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  // A few servers return content parts instead of a string.
  if (Array.isArray(content))
    return content.map((part) => (isRecord(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('');
  return '';
}
