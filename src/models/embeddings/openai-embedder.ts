/**
 * Embeddings from an OpenAI-compatible `POST {baseURL}/embeddings` endpoint (OpenAI, vLLM, Ollama,
 * llama.cpp server, LM Studio, TEI behind a gateway, …), through the official `openai` client.
 *
 * As with the chat provider: the client gets every option explicitly (no OPENAI_* environment variable
 * leaks to another server), `maxRetries: 0` (retrying is the caller's decision) and no client timeout
 * (callers abort through `signal`). Vectors are requested as floats — several local servers do not speak
 * the client's default base64 encoding — and returned in input order, L2-normalised.
 *
 * @example
 *   const embedder = new OpenAICompatibleEmbedder({ baseURL: 'http://localhost:11434/v1', model: 'nomic-embed-text', dimension: 768 });
 */
import type OpenAI from 'openai';
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { InvalidInputError, ProviderError, ThicketError, type InputIssue } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { checkBaseUrl, createOpenAIClient, endpointName } from '../openai-compatible/client.ts';
import { normalizeVector, type EmbedOptions, type Embedder } from './embedder.ts';

export interface OpenAICompatibleEmbedderOptions {
  baseURL: string;
  model: string;
  /** Vector length the model returns; every response is checked against it. */
  dimension: number;
  /** Sent as a Bearer token; omitted → no Authorization header at all. */
  apiKey?: string;
  headers?: Record<string, string>;
  /** Ask the server for `dimension`-long vectors (OpenAI text-embedding-3-* can shorten theirs). Default false. */
  sendDimensions?: boolean;
  /** Texts per request (default 64). */
  batchSize?: number;
  fetch?: typeof fetch;
}

export class OpenAICompatibleEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly sendDimensions: boolean;
  private readonly batchSize: number;

  constructor(options: OpenAICompatibleEmbedderOptions) {
    const issues: InputIssue[] = [];
    const url = checkBaseUrl(options.baseURL, issues);
    if (typeof options.model !== 'string' || options.model.trim() === '')
      issues.push({ path: 'model', message: 'must be a non-empty string' });
    if (!Number.isInteger(options.dimension) || options.dimension <= 0)
      issues.push({ path: 'dimension', message: 'must be a positive integer' });
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize <= 0))
      issues.push({ path: 'batchSize', message: 'must be a positive integer' });
    if (issues.length > 0 || !url) throw new InvalidInputError('Invalid openai-compatible embedder options', issues, 'INVALID_CONFIG');
    this.model = options.model;
    this.dimension = options.dimension;
    this.sendDimensions = options.sendDimensions ?? false;
    this.batchSize = options.batchSize ?? 64;
    this.id = `openai-compatible:${options.model}@${endpointName(url)}`;
    this.client = createOpenAIClient({ baseURL: options.baseURL, apiKey: options.apiKey, headers: options.headers, fetch: options.fetch });
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let from = 0; from < texts.length; from += this.batchSize) {
      vectors.push(...(await this.embedBatch(texts.slice(from, from + this.batchSize), options.signal)));
    }
    return vectors;
  }

  private async embedBatch(texts: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    if (signal?.aborted) throw abortError(signal, this.id);
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    try {
      response = await this.client.embeddings.create(
        { model: this.model, input: [...texts], encoding_format: 'float', ...(this.sendDimensions ? { dimensions: this.dimension } : {}) },
        signal ? { signal } : {},
      );
    } catch (error) {
      if (signal?.aborted) throw abortError(signal, this.id);
      throw this.mapError(error);
    }
    const data = Array.isArray(response?.data) ? response.data : [];
    if (data.length !== texts.length)
      throw new ProviderError(`${this.id} returned ${data.length} embeddings for ${texts.length} texts.`, { isRetryable: true });
    const ordered = [...data].sort((a, b) => a.index - b.index);
    return ordered.map((item, position) => {
      const values = item.embedding as unknown;
      if (!Array.isArray(values) || values.length !== this.dimension || values.some((value) => typeof value !== 'number')) {
        throw new ProviderError(`${this.id} returned a malformed embedding at index ${position} (expected ${this.dimension} numbers).`, {
          isRetryable: false,
        });
      }
      return normalizeVector(Float32Array.from(values as number[]));
    });
  }

  private mapError(error: unknown): ThicketError {
    if (ThicketError.isInstance(error)) return error;
    if (error instanceof APIUserAbortError)
      return new ProviderError(`Embedding call to ${this.id} was aborted.`, { cause: error, isRetryable: false });
    if (error instanceof APIConnectionError) return new ProviderError(`Could not reach ${this.id}: ${error.message}`, { cause: error });
    if (error instanceof APIError && typeof error.status === 'number') {
      const message =
        typeof error.error === 'object' && error.error !== null && 'message' in error.error
          ? String((error.error as { message: unknown }).message)
          : error.message;
      return new ProviderError(`${this.id} answered HTTP ${error.status}: ${message.slice(0, 500)}`, {
        status: error.status,
        cause: error,
      });
    }
    return new ProviderError(`Embedding call to ${this.id} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
