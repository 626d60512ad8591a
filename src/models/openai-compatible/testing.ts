/**
 * Test scaffolding for the OpenAI-compatible provider: a real HTTP server (node:http on 127.0.0.1, ephemeral
 * port) imitating /v1/chat/completions, registered with node:test hooks by `useFakeOpenAIServer()`. No mocks of
 * the openai client: every request goes over a real socket. Used by the provider's test files only.
 */
import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ThicketError } from '../../core/index.ts';
import type { GenerateRequest } from '../spec.ts';
import { OpenAICompatibleProvider } from './index.ts';

export interface SeenRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export type Handler = (request: SeenRequest, res: ServerResponse, req: IncomingMessage) => void;

export const API_KEY = 'sk-thicket-test-SECRET-0123456789';

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1`, set once the server listens. */
  baseURL: string;
  /** How the next requests are answered (reset by nobody: each test sets its own). */
  handler: Handler;
  /** Requests seen during the current test. */
  readonly seen: SeenRequest[];
  /** Responses a test left hanging; destroyed after each test so no socket outlives it. */
  readonly hanging: ServerResponse[];
  /** A provider for this server (model `test-model`, key API_KEY). */
  provider(options?: {
    apiKey?: string;
    useMaxCompletionTokens?: boolean;
    headers?: Record<string, string>;
    fetch?: typeof fetch;
  }): OpenAICompatibleProvider;
}

/** Starts the server before the file's tests, clears per-test state after each, closes it at the end. */
export function useFakeOpenAIServer(): FakeOpenAIServer {
  let server: Server;
  const fake: FakeOpenAIServer = {
    baseURL: '',
    handler: (_request, res) => res.end(),
    seen: [],
    hanging: [],
    provider: (options = {}) => new OpenAICompatibleProvider({ baseURL: fake.baseURL, modelId: 'test-model', apiKey: API_KEY, ...options }),
  };
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const request: SeenRequest = {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        };
        fake.seen.push(request);
        fake.handler(request, res, req);
      });
    });
    // No server-side idle timeout (node's default is 5 s): on a loaded machine the client could reuse a pooled
    // keep-alive socket just as the server closes it (ECONNRESET). Sockets are closed in \`after\`.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterEach(() => {
    fake.seen.length = 0;
    for (const res of fake.hanging.splice(0)) res.destroy();
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });
  return fake;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function completion(
  content: string | null,
  extra: Record<string, unknown> = {},
  finishReason: string | null = 'stop',
): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...extra,
  };
}

export const baseRequest: GenerateRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is 2 + 2?' },
  ],
  maxOutputTokens: 64,
};

/** Rejection of `promise`, asserted to be a ThicketError. */
export async function rejection(promise: Promise<unknown>): Promise<ThicketError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(ThicketError.isInstance(error), `expected a ThicketError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected the call to reject');
}
