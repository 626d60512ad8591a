/**
 * Error mapping: everything an OpenAI-compatible endpoint can fail with — a refused connection, an HTTP error
 * status, an error object sent with HTTP 200, a body that is not what was promised — as one typed ThicketError
 * whose retry flag tells the fleet whether another attempt can help. Every message and kept body passes
 * through `redact`, because some servers quote the Authorization header back.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { CancelledError, ContextOverflowError, ProviderError, ThicketError, countMessageTokens, toThicketError } from '../../core/index.ts';
import type { GenerateRequest } from '../spec.ts';
import type { CapturedResponse } from './capturing-fetch.ts';
import { isCount, isRecord, safeJsonParse } from './wire-json.ts';

/** Response bodies kept on errors are cut to this many characters. */
const MAX_BODY_CHARS = 8_000;
/** Server messages quoted in error messages are cut to this many characters. */
const MAX_MESSAGE_CHARS = 500;
/** Keys shorter than this are not redacted from messages (redacting "x" would garble every message). */
const MIN_REDACTED_KEY_LENGTH = 4;

/** The errors of one endpoint and model, named and redacted for it. */
export class EndpointErrors {
  /**
   * @param modelId  the model as named in messages
   * @param endpoint the endpoint as shown in messages: origin and path, never credentials or query
   * @param apiKey   the key to redact from every message and kept body
   */
  constructor(
    private readonly modelId: string,
    private readonly endpoint: string,
    private readonly apiKey: string | undefined,
  ) {}

  /** Whatever the client threw (or a body that did not parse) as the ThicketError the fleet retries or reports. */
  map(error: unknown, captured: CapturedResponse, request: GenerateRequest): ThicketError {
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
      return this.statusError(error as APIError, error.status, captured, request);
    // The body of a 2xx response did not parse (the client's response.json() threw).
    if (error instanceof SyntaxError && captured.status !== undefined && captured.status < 300)
      return this.malformedBody(captured, 'is not valid JSON');
    return toThicketError(error);
  }

  /**
   * The error a 2xx body carries instead of choices (some gateways report upstream failures as HTTP 200 with an
   * `error` object); undefined when the body holds no error message.
   */
  inBody(body: Record<string, unknown>, captured: CapturedResponse): ProviderError | undefined {
    const serverMessage = errorMessageOf(body);
    if (serverMessage === undefined) return undefined;
    return new ProviderError(
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

  /** A 2xx body that is not the chat completion it promised to be. */
  malformedBody(captured: CapturedResponse, problem: string): ProviderError {
    return new ProviderError(`Model "${this.modelId}" at ${this.endpoint} sent a malformed response: the body ${problem}.`, {
      ...(captured.status !== undefined ? { status: captured.status } : {}),
      responseBody: this.redact(truncate(captured.body ?? '', MAX_BODY_CHARS)),
      // A malformed body is usually a proxy or server hiccup; another attempt may well succeed.
      isRetryable: true,
    });
  }

  private statusError(error: APIError, status: number, captured: CapturedResponse, request: GenerateRequest): ThicketError {
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

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
