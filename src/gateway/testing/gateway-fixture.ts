/**
 * Helpers for the gateway's tests: a gateway on 127.0.0.1 (port 0) over a fresh journal in a temporary folder,
 * quiet (silent logger, no process metrics), and small request helpers. Each test file starts its own.
 */
import type { SharedLedger } from '../../budget/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { createThicket, type Thicket } from '../../lab/index.ts';
import { startGateway, type RunningGateway } from '../server.ts';
import type { GatewayTelemetry } from '../telemetry.ts';

export interface TestGateway {
  running: RunningGateway;
  thicket: Thicket;
  url: string;
  journalPath: string;
  /** Closes the gateway (drains, closes the journal) and removes the temporary folder. */
  close(): Promise<void>;
}

export async function startTestGateway(
  options: { simulatedClock?: 'virtual' | 'real'; telemetry?: GatewayTelemetry; journalPath?: string; sharedLedger?: SharedLedger } = {},
): Promise<TestGateway> {
  const dir = options.journalPath === undefined ? mkdtempSync(join(tmpdir(), 'thicket-gateway-')) : undefined;
  const journalPath = options.journalPath ?? join(dir!, 'journal.db');
  const thicket = await createThicket({
    journal: journalPath,
    // Beside the journal: never a file shared with another test.
    registry: join(dirname(journalPath), 'registry.db'),
    ...(options.simulatedClock ? { simulatedClock: options.simulatedClock } : {}),
  });
  const running = await startGateway({
    thicket,
    port: 0,
    logger: pino({ level: 'silent' }),
    processMetrics: false,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.sharedLedger ? { sharedLedger: options.sharedLedger } : {}),
  });
  let closed = false;
  return {
    running,
    thicket,
    url: running.url,
    journalPath,
    close: async () => {
      if (closed) return;
      closed = true;
      await running.close({ drainMs: 5_000 });
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeTempDir(prefix = 'thicket-gateway-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A chat completion request body asking the simulated fleet an arithmetic question. */
export function chatBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'What is 17*23?' }], ...extra };
}

/** POSTs JSON to the gateway; returns the status, headers and parsed body (text when it is not JSON). */
export async function postJson(
  url: string,
  body: unknown,
  options: { token?: string; headers?: Record<string, string>; signal?: AbortSignal; raw?: string } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The `error` object of an OpenAI-style error body; throws when the body does not have that shape. */
export function openAIError(body: Record<string, unknown>): {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  issues?: Array<{ path: string; message: string }>;
} {
  const error = body['error'] as Record<string, unknown> | undefined;
  if (
    !error ||
    typeof error['message'] !== 'string' ||
    typeof error['type'] !== 'string' ||
    !(error['param'] === null || typeof error['param'] === 'string') ||
    !(error['code'] === null || typeof error['code'] === 'string')
  )
    throw new Error(`not an OpenAI error body: ${JSON.stringify(body)}`);
  return error as ReturnType<typeof openAIError>;
}

/** A request with a key; `T` is the body's shape as the test expects it (asserted field by field). */
export async function callJson<T>(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as T };
}

/** A test gateway with an admin and a client key (their tokens), its journal in `folder`, removed on close. */
export async function startKeyedTestGateway(folder: string): Promise<{ test: TestGateway; admin: string; client: string }> {
  const test = await startTestGateway({ journalPath: join(folder, 'j.db') });
  const keys = test.running.gateway.context.keys;
  const admin = keys.create({ name: 'operator', role: 'admin' }).token;
  const client = keys.create({ name: 'app', role: 'client' }).token;
  const closeGateway = (): Promise<void> => test.close();
  return {
    test: {
      ...test,
      close: async () => {
        await closeGateway();
        rmSync(folder, { recursive: true, force: true });
      },
    },
    admin,
    client,
  };
}
