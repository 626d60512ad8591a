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
 *
 * This file holds the call itself (options, client, abort handling); beside it are the request body
 * (request-body.ts), the capturing transport (capturing-fetch.ts), response parsing (completion-response.ts)
 * and error mapping (error-mapping.ts).
 */
import type OpenAI from 'openai';
import { InvalidInputError, type InputIssue, type ThicketError } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { checkBaseUrl, createOpenAIClient, endpointName } from './client.ts';
import { MODEL_SPEC_VERSION, type GenerateRequest, type GenerateResponse, type ModelProvider } from '../spec.ts';
import { capturingFetch, type CapturedResponse } from './capturing-fetch.ts';
import { completionResponse } from './completion-response.ts';
import { EndpointErrors } from './error-mapping.ts';
import { chatCompletionBody, type ChatCompletionCreateParams } from './request-body.ts';

export { mapFinishReason } from './completion-response.ts';
export { parseRetryAfterMs } from './error-mapping.ts';

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

export class OpenAICompatibleProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = OPENAI_COMPATIBLE_PROVIDER_ID;
  readonly modelId: string;
  readonly baseURL: string;

  private readonly client: OpenAI;
  private readonly customFetch: typeof fetch | undefined;
  private readonly useMaxCompletionTokens: boolean;
  /** Errors named for this model and endpoint (origin and path, never credentials or query), the key redacted. */
  private readonly errors: EndpointErrors;

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
    this.customFetch = options.fetch;
    this.useMaxCompletionTokens = options.useMaxCompletionTokens ?? false;
    this.errors = new EndpointErrors(options.modelId, endpointName(url), options.apiKey);

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
    const client = this.client.withOptions({ fetch: capturingFetch(this.customFetch, captured) });

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
      throw this.errors.map(error, captured, request);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const latencyMs = performance.now() - started;
    return completionResponse(completion, captured, request, latencyMs, this.errors);
  }

  /** GenerateRequest → chat.completions.create body. Only fields the request sets are sent. */
  buildRequestBody(request: GenerateRequest): ChatCompletionCreateParams {
    return chatCompletionBody(request, this.modelId, this.useMaxCompletionTokens);
  }
}
