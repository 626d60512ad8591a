/**
 * `thicket serve`: the gateway on a socket (@hono/node-server). With no live API key the gateway is open to
 * whoever can reach it, so it then binds loopback only and says so; SIGTERM/SIGINT drain the runs in flight
 * before the process exits (a crash loses nothing journaled: a repeated request with the same run id resumes).
 */
import { serve, type ServerType } from '@hono/node-server';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidInputError } from '../core/index.ts';
import { createGateway, type Gateway, type GatewayOptions } from './app.ts';
import { lockJournalForGateway } from './journal-lock.ts';
import { assertServable } from './model-names.ts';

export interface ServeOptions extends GatewayOptions {
  /** Default 127.0.0.1. Anything but loopback needs at least one live API key. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
}

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  host: string;
  port: number;
  /** True when no key exists: every caller is the unrestricted local operator. */
  open: boolean;
  /** Drains (up to `drainMs`, default 30 s), closes the socket, the runtime and the exporter. */
  close(options?: { drainMs?: number }): Promise<void>;
}

/** How long responses may still take to finish writing once their runs have ended, when the drain deadline has passed. */
const RESPONSE_GRACE_MS = 2_000;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startGateway(options: ServeOptions): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidInputError('Invalid serve options', [
      { path: 'port', message: `must be a whole number from 0 to 65535, got ${port}` },
    ]);
  const gateway = createGateway(options);
  // A default model that does not resolve would fail every thicket/<strategy> request: refuse to start instead.
  assertServable(options.thicket.config, gateway.context.defaultModel);
  const open = !gateway.context.keys.hasKeys();
  if (open && !LOOPBACK.has(host))
    throw new InvalidInputError('Refusing to serve without API keys on a public address', [
      {
        path: 'host',
        message:
          `"${host}" is not loopback and no API key exists: ` +
          'create one first (thicket keys create --name admin --admin), or bind 127.0.0.1',
      },
    ]);
  const unlock = lockJournalForGateway(options.thicket.journalPath);
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const started = serve({ fetch: gateway.app.fetch, hostname: host, port }, () => resolve(started));
      started.once('error', reject);
    });
  } catch (error) {
    unlock();
    throw error;
  }
  const responses = trackResponses(server);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    gateway,
    url: `http://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    open,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        const drainMs = closeOptions.drainMs ?? 30_000;
        const deadline = Date.now() + drainMs;
        // Stop accepting connections first, then let the runs in flight finish (or cancel them at the deadline).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.drain(drainMs);
        // A run ends before its response does: a stream still writes its answer, usage chunk and [DONE] (a
        // cancelled one its error event), a JSON answer its body. Those responses get until the drain deadline
        // (and at least a moment) to finish; connections with nothing in flight are closed at once.
        await responses.idle(Math.max(RESPONSE_GRACE_MS, deadline - Date.now()));
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
        await gateway.context.telemetry.shutdown();
        await gateway.context.thicket.close();
        unlock();
      })();
      return closing;
    },
  };
}

/** Counts the responses being written (a stream until its last byte): `idle` waits until none is, or the timeout. */
function trackResponses(server: ServerType): { idle(timeoutMs: number): Promise<void> } {
  let inFlight = 0;
  const waiters = new Set<() => void>();
  (server as HttpServer).on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    response.once('close', () => {
      if (--inFlight === 0) for (const wake of waiters) wake();
    });
  });
  return {
    idle: (timeoutMs) =>
      inFlight === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, timeoutMs);
            waiters.add(done);
          }),
  };
}
