/**
 * The OpenAI-compatible provider: one `ModelProvider` for every server that speaks the chat-completions wire
 * protocol (`POST {baseURL}/chat/completions`) — vLLM, Ollama, llama.cpp server, LM Studio, OpenAI itself, and
 * the many gateways in front of them.
 *
 * Why the official `openai` client and not the AI SDK: the OpenAI-compatible chat-completions protocol is the
 * one thing all of these servers actually speak, and the `openai` client is the reference implementation of it.
 * It exposes the raw HTTP status, the response headers (Retry-After) and the server's `usage` block unchanged,
 * and — once `maxRetries` is 0 — it adds no retry, back-off, caching or budget behaviour of its own. The AI SDK
 * would add an abstraction layer (its own call options, usage normalisation and error classes) between the fleet
 * and the wire whose main benefit, switching between many provider protocols, Thicket does not need here: one
 * protocol covers every target, and retries, budgets and timeouts belong to the fleet.
 *
 * What this provider does NOT do (the fleet does): retries, budget accounting, timeouts (they arrive as an
 * aborted `abortSignal`), caching, and parsing the model's JSON output.
 */
import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  CancelledError,
  ContextOverflowError,
  InvalidInputError,
  ProviderError,
  ThicketError,
  countMessageTokens,
  countTokens,
  toThicketError,
  type InputIssue,
  type Usage,
} from '../../core/index.ts';
import { abortError, raceSignal } from '../abort.ts';
import { checkBaseUrl, createOpenAIClient, endpointName } from './client.ts';
import { MODEL_SPEC_VERSION, type FinishReason, type GenerateRequest, type GenerateResponse, type ModelProvider } from '../spec.ts';

type ChatCompletionCreateParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type ChatCompletionMessageParam = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export const OPENAI_COMPATIBLE_PROVIDER_ID = 'openai-compatible' as const;

export interface OpenAICompatibleProviderOptions {
  /** The server's OpenAI-compatible root, e.g. `http://localhost:11434/v1` (Ollama), `http://localhost:8000/v1` (vLLM). */
  baseURL: string;
  /** The model name the server expects in the request's `model` field. */
  modelId: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. When omitted, no Authorization header is sent at all. The provider
   * never reads environment variables (in particular not OPENAI_API_KEY): an OpenAI key must not silently travel
   * to an arbitrary local server. The config layer decides which key goes where.
   */
  apiKey?: string;
  /** Extra headers on every request (they override the defaults, including Authorization). */
  headers?: Record<string, string>;
  /** A fetch implementation (proxies, tests). Defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Send the output cap as `max_completion_tokens` instead of `max_tokens`. OpenAI's reasoning models (o-series,
   * gpt-5) reject `max_tokens`; most self-hosted servers only know `max_tokens`, hence the default.
   */
  useMaxCompletionTokens?: boolean;
}

/** What the capturing fetch saw of the last HTTP response of one call. */
interface CapturedResponse {
  status?: number;
  body?: string;
}

/**
 * Node's setTimeout maximum (~24.8 days); larger values overflow and fire immediately. The client must not time
 * out on its own: the fleet enforces per-call timeouts by aborting `abortSignal` with a TimeoutError.
 */
/** Response bodies kept on errors are cut to this many characters. */
const MAX_BODY_CHARS = 8_000;
/** Server messages quoted in error messages are cut to this many characters. */
const MAX_MESSAGE_CHARS = 500;
/** Keys shorter than this are not redacted from messages (redacting "x" would garble every message). */
const MIN_REDACTED_KEY_LENGTH = 4;

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export class OpenAICompatibleProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = OPENAI_COMPATIBLE_PROVIDER_ID;
  readonly modelId: string;
  readonly baseURL: string;

  private readonly client: OpenAI;
  private readonly apiKey: string | undefined;
  private readonly customFetch: typeof fetch | undefined;
  private readonly useMaxCompletionTokens: boolean;
  /** The endpoint as shown in error messages: origin and path, never credentials or query. */
  private readonly endpoint: string;

  constructor(options: OpenAICompatibleProviderOptions) {
    const issues: InputIssue[] = [];
    const url = checkBaseUrl(options.baseURL, issues);
    if (typeof options.modelId !== 'string' || options.modelId.trim() === '')
      issues.push({ path: 'modelId', message: 'must be a non-empty string' });
    if (options.apiKey !== undefined && options.apiKey === '')
      issues.push({ path: 'apiKey', message: 'must not be empty (omit it to send no Authorization header)' });
    if (issues.length > 0 || !url) throw new InvalidInputError('Invalid openai-compatible provider options', issues, 'INVALID_CONFIG');

    this.modelId = options.modelId;
    this.baseURL = options.baseURL;
    this.apiKey = options.apiKey;
    this.customFetch = options.fetch;
    this.useMaxCompletionTokens = options.useMaxCompletionTokens ?? false;
    this.endpoint = endpointName(url);

    // The custom fetch is not handed to the client: every request goes through `capturingFetch`, which uses it.
    this.client = createOpenAIClient({ baseURL: options.baseURL, apiKey: options.apiKey, headers: options.headers });
  }

  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    const signal = request.abortSignal;
    if (signal?.aborted) throw abortError(signal, this.modelId);

    const body = this.buildRequestBody(request);
    const captured: CapturedResponse = {};
    // A per-call view of the client whose fetch keeps the raw response text: the client itself drops error bodies
    // it cannot fit into its `{ error: {...} }` shape, and never shows the text of a body that is not JSON.
    const client = this.client.withOptions({ fetch: this.capturingFetch(captured) });

    // A per-call signal for the client. The client adds an abort listener to whatever signal it gets and never
    // removes it; handing it the caller's (possibly run-wide) signal would pile up listeners across calls.
    const local = new AbortController();
    let rejectOnAbort: (error: ThicketError) => void = () => {};
    const aborted = new Promise<never>((_resolve, reject) => {
      rejectOnAbort = reject;
    });
    aborted.catch(() => {});
    const onAbort = (): void => {
      local.abort(signal?.reason);
      // Reject at once, even if a custom fetch ignores its signal: providers must honour aborts promptly.
      rejectOnAbort(abortError(signal as AbortSignal, this.modelId));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const started = performance.now();
    let completion: unknown;
    try {
      const call = client.chat.completions.create(body, { signal: local.signal });
      completion = await (signal ? Promise.race([call, aborted]) : call);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal, this.modelId);
      throw this.mapError(error, captured, request);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const latencyMs = performance.now() - started;
    return this.toResponse(completion, captured, request, latencyMs);
  }

  /** GenerateRequest → chat.completions.create body. Only fields the request sets are sent. */
  buildRequestBody(request: GenerateRequest): ChatCompletionCreateParams {
    const messages = request.messages.map((message): ChatCompletionMessageParam => ({ role: message.role, content: message.content }));
    const body: ChatCompletionCreateParams = { model: this.modelId, messages, stream: false };
    if (this.useMaxCompletionTokens) body.max_completion_tokens = request.maxOutputTokens;
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

  private capturingFetch(captured: CapturedResponse): typeof fetch {
    return async (input, init) => {
      const fetchImpl = this.customFetch ?? globalThis.fetch;
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

  private toResponse(completion: unknown, captured: CapturedResponse, request: GenerateRequest, latencyMs: number): GenerateResponse {
    let body = completion;
    // A server that sends JSON with a non-JSON content type gets its body back from the client as a string.
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        throw this.malformedBody(captured, 'is not valid JSON');
      }
    }
    if (!isRecord(body)) throw this.malformedBody(captured, 'is not a JSON object');
    const choices = body['choices'];
    const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
    if (!isRecord(choice)) {
      // Some gateways report upstream failures as HTTP 200 with an `error` object.
      const serverMessage = errorMessageOf(body);
      if (serverMessage !== undefined) {
        throw new ProviderError(
          this.redact(
            `Model "${this.modelId}" at ${this.endpoint} answered HTTP ${captured.status ?? 200} with an error: ${truncate(serverMessage, MAX_MESSAGE_CHARS)}`,
          ),
          {
            responseBody: this.redact(truncate(captured.body ?? '', MAX_BODY_CHARS)),
            // An upstream that refused the credentials refuses them again: not retried.
            isRetryable: !isAuthErrorBody(body),
          },
        );
      }
      throw this.malformedBody(captured, 'has no choices');
    }
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

  private malformedBody(captured: CapturedResponse, problem: string): ProviderError {
    return new ProviderError(`Model "${this.modelId}" at ${this.endpoint} sent a malformed response: the body ${problem}.`, {
      ...(captured.status !== undefined ? { status: captured.status } : {}),
      responseBody: this.redact(truncate(captured.body ?? '', MAX_BODY_CHARS)),
      // A malformed body is usually a proxy or server hiccup; another attempt may well succeed.
      isRetryable: true,
    });
  }

  private mapError(error: unknown, captured: CapturedResponse, request: GenerateRequest): ThicketError {
    if (ThicketError.isInstance(error)) return error;
    if (error instanceof APIUserAbortError) return new CancelledError(`Call to model "${this.modelId}" was aborted.`);
    if (error instanceof APIConnectionTimeoutError) {
      return new ProviderError(`Connection to ${this.endpoint} timed out (model "${this.modelId}").`, { cause: error.cause });
    }
    if (error instanceof APIConnectionError) {
      const detail = networkDetail(error.cause);
      return new ProviderError(this.redact(`Could not reach ${this.endpoint} (model "${this.modelId}")${detail ? `: ${detail}` : ''}.`), {
        cause: error.cause,
      });
    }
    if (error instanceof APIError && typeof error.status === 'number')
      return this.mapStatusError(error as APIError, error.status, captured, request);
    // The body of a 2xx response did not parse (the client's response.json() threw).
    if (error instanceof SyntaxError && captured.status !== undefined && captured.status < 300)
      return this.malformedBody(captured, 'is not valid JSON');
    return toThicketError(error);
  }

  private mapStatusError(error: APIError, status: number, captured: CapturedResponse, request: GenerateRequest): ThicketError {
    const rawBody = captured.body ?? (error.error !== undefined ? JSON.stringify({ error: error.error }) : '');
    const parsed = safeJsonParse(rawBody);
    const serverMessage =
      (isRecord(parsed) ? errorMessageOf(parsed) : undefined) ?? (rawBody.trim() === '' ? '(empty body)' : rawBody.trim());
    const errorCode = isRecord(parsed) ? errorCodeOf(parsed) : undefined;
    const retryAfterMs = parseRetryAfterMs(error.headers);

    if (isContextOverflow(status, errorCode, serverMessage)) {
      const numbers = contextNumbers(parsed, serverMessage);
      if (numbers.contextWindow !== undefined) {
        return new ContextOverflowError(this.modelId, numbers.promptTokens ?? countMessageTokens(request.messages), numbers.contextWindow);
      }
      return new ProviderError(
        this.redact(
          `Context length exceeded: model "${this.modelId}" at ${this.endpoint} refused the ` +
            `prompt plus ${request.maxOutputTokens} output tokens (HTTP ${status}): ${truncate(serverMessage, MAX_MESSAGE_CHARS)}`,
        ),
        { status, responseBody: this.redact(truncate(rawBody, MAX_BODY_CHARS)), isRetryable: false },
      );
    }

    let isRetryable: boolean | undefined;
    // OpenAI answers an exhausted account with 429 insufficient_quota: waiting does not help, retrying wastes budget.
    if (errorCode === 'insufficient_quota') isRetryable = false;
    // The server's explicit word (OpenAI sends it), where given.
    const shouldRetry = error.headers?.get('x-should-retry');
    if (shouldRetry === 'true') isRetryable = true;
    else if (shouldRetry === 'false') isRetryable = false;
    // Refused credentials stay refused: another attempt (whatever x-should-retry says) only repeats the refusal.
    if (isAuthFailure(status)) isRetryable = false;

    const code = errorCode !== undefined ? ` [${errorCode}]` : '';
    const hint = isAuthFailure(status) ? ' (the endpoint refused the credentials: check the API key and apiKeyEnv; not retried)' : '';
    return new ProviderError(
      this.redact(
        `Model "${this.modelId}" at ${this.endpoint} answered HTTP ${status}${code}: ${truncate(serverMessage, MAX_MESSAGE_CHARS)}${hint}`,
      ),
      {
        status,
        responseBody: this.redact(truncate(rawBody, MAX_BODY_CHARS)),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(isRetryable !== undefined ? { isRetryable } : {}),
      },
    );
  }

  /** Removes the API key from text that may echo it (some servers quote the Authorization header back). */
  private redact(text: string): string {
    const key = this.apiKey;
    if (key === undefined || key.length < MIN_REDACTED_KEY_LENGTH) return text;
    return text.split(key).join('[REDACTED]');
  }
}

/** `promise`, or a rejection with an AbortError (what the openai client expects) as soon as `signal` aborts. */
function settleOnAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return raceSignal(promise, signal, () => new DOMException('The operation was aborted.', 'AbortError'));
}

/**
 * Milliseconds the server asked us to wait: `retry-after-ms` (OpenAI's extension, milliseconds) first, then
 * `retry-after` as delay-seconds or an HTTP date. Undefined when neither header is present or parseable.
 */
export function parseRetryAfterMs(headers: Headers | undefined | null, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const milliseconds = headers.get('retry-after-ms')?.trim();
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return Number(milliseconds);
  const retryAfter = headers.get('retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
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

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  // A few servers return content parts instead of a string.
  if (Array.isArray(content))
    return content.map((part) => (isRecord(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('');
  return '';
}

/** 401 Unauthorized / 403 Forbidden: the key is missing, wrong or lacks access — never worth another attempt. */
function isAuthFailure(status: number): boolean {
  return status === 401 || status === 403;
}

const AUTH_ERROR_CODES = new Set(['invalid_api_key', 'authentication_error', 'permission_error', 'permission_denied', 'unauthorized']);

/** An error body (sent with HTTP 200 by some gateways) that says the credentials were refused. */
function isAuthErrorBody(body: Record<string, unknown>): boolean {
  const inner = isRecord(body['error']) ? body['error'] : body;
  const code = errorCodeOf(body);
  const status = inner['status'] ?? inner['code'];
  return (code !== undefined && AUTH_ERROR_CODES.has(code.toLowerCase())) || status === 401 || status === 403;
}

/** OpenAI requires json_schema names to match ^[a-zA-Z0-9_-]{1,64}$. */
function schemaName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'response' : cleaned;
}

const CONTEXT_OVERFLOW_PATTERN =
  /context_length_exceeded|exceed_context_size|maximum context length|context length|context size|context window/i;

function isContextOverflow(status: number, errorCode: string | undefined, serverMessage: string): boolean {
  if (status !== 400 && status !== 413 && status !== 422) return false;
  return (errorCode !== undefined && CONTEXT_OVERFLOW_PATTERN.test(errorCode)) || CONTEXT_OVERFLOW_PATTERN.test(serverMessage);
}

/** Token numbers from the known context-overflow messages (OpenAI, vLLM, llama.cpp, Mistral-style). */
function contextNumbers(parsed: unknown, message: string): { promptTokens?: number; contextWindow?: number } {
  const inner = isRecord(parsed) && isRecord(parsed['error']) ? parsed['error'] : isRecord(parsed) ? parsed : {};
  let contextWindow = isCount(inner['n_ctx']) && inner['n_ctx'] > 0 ? inner['n_ctx'] : undefined;
  let promptTokens = isCount(inner['n_prompt_tokens']) && inner['n_prompt_tokens'] > 0 ? inner['n_prompt_tokens'] : undefined;
  contextWindow ??= firstNumber(message, [
    /maximum context length is (\d+)/i,
    /context length of (?:only )?(\d+)/i,
    /(\d+) maximum context length/i,
    /context window of (\d+)/i,
    /context size(?: is| of)? (\d+)/i,
  ]);
  promptTokens ??= firstNumber(message, [
    /(\d+) in the messages/i,
    /messages resulted in (\d+) tokens/i,
    /request has (\d+) input tokens/i,
    /prompt contains (\d+) tokens/i,
  ]);
  return { ...(promptTokens !== undefined ? { promptTokens } : {}), ...(contextWindow !== undefined ? { contextWindow } : {}) };
}

function firstNumber(text: string, patterns: readonly RegExp[]): number | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}

/** The human-readable message of an error body: `{error:{message}}`, `{error:"..."}`, `{message}` (older vLLM), `{detail}` (FastAPI). */
function errorMessageOf(body: Record<string, unknown>): string | undefined {
  const error = body['error'];
  if (isRecord(error) && typeof error['message'] === 'string') return error['message'];
  if (typeof error === 'string' && error !== '') return error;
  if (typeof body['message'] === 'string') return body['message'];
  const detail = body['detail'];
  if (typeof detail === 'string') return detail;
  if (detail !== undefined) return JSON.stringify(detail);
  if (isRecord(error)) return JSON.stringify(error);
  return undefined;
}

function errorCodeOf(body: Record<string, unknown>): string | undefined {
  const inner = isRecord(body['error']) ? body['error'] : body;
  for (const field of ['code', 'type']) {
    const value = inner[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The useful part of a fetch failure: undici wraps the socket error (ECONNREFUSED, ...) in `cause`. */
function networkDetail(cause: unknown): string {
  if (!(cause instanceof Error)) return '';
  const inner = cause.cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === 'string' && !inner.message.includes(code) ? `${code} ${inner.message}` : inner.message;
  }
  return cause.message;
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
