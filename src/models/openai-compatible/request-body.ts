/**
 * Request building: a `GenerateRequest` as the chat-completions body every OpenAI-compatible server accepts.
 * Only fields the request sets are sent, so servers that reject unknown or unsupported parameters see none.
 */
import type OpenAI from 'openai';
import type { GenerateRequest } from '../spec.ts';

export type ChatCompletionCreateParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type ChatCompletionMessageParam = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** GenerateRequest → chat.completions.create body; the output cap goes out as `max_completion_tokens` when asked. */
export function chatCompletionBody(request: GenerateRequest, modelId: string, useMaxCompletionTokens: boolean): ChatCompletionCreateParams {
  const messages = request.messages.map((message): ChatCompletionMessageParam => ({ role: message.role, content: message.content }));
  const body: ChatCompletionCreateParams = { model: modelId, messages, stream: false };
  if (useMaxCompletionTokens) body.max_completion_tokens = request.maxOutputTokens;
  else body.max_tokens = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.responseSchema !== undefined) {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: schemaName(request.responseSchema.name), schema: request.responseSchema.schema, strict: true },
    };
  }
  return body;
}

/** OpenAI requires json_schema names to match ^[a-zA-Z0-9_-]{1,64}$. */
function schemaName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'response' : cleaned;
}
