/**
 * The gateway's HTTP application (Hono with zod-openapi: every route's schema validates its input and feeds the
 * OpenAPI document). Built on one runtime instance; `server.ts` puts it on a socket.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Journal } from '../journal/index.ts';
import type { SharedLedger } from '../budget/index.ts';
import type { EvalRequest, Thicket } from '../lab/index.ts';
import { findPulledDefaultModel } from '../models/index.ts';
import { limitBody } from './body-limit.ts';
import { GATEWAY_LIMITS } from './chat.ts';
import { registerChatRoute } from './chat-route.ts';
import { registerConsoleRoutes } from './console-assets.ts';
import type { Caller, GatewayApp, GatewayContext, GatewayEnv } from './context.ts';
import { GatewayError, invalidRequest, toGatewayError } from './errors.ts';
import { KeyBudgets, KeyLimiter, KeyStore } from './keys.ts';
import { LiveRuns } from './live-runs.ts';
import { GatewayMetrics } from './metrics.ts';
import { StudyJobs } from './study-jobs.ts';
import { GatewayTelemetry } from './telemetry.ts';
import { registerRestRoutes } from './rest.ts';
import { registerKeyRoutes } from './rest-keys.ts';
import { registerModelRoutes, registerOperationalRoutes } from './rest-operations.ts';

export interface GatewayOptions {
  thicket: Thicket;
  /** The model `thicket/<strategy>` runs on. Default: the config's default, the pulled embedded model, else `sim:small`. */
  defaultModel?: string;
  /** Origins allowed by CORS (e.g. a console on another port). Default: none — CORS is off. */
  corsOrigins?: string[];
  /** A pino logger of the host's; default a JSON logger on stdout at `logLevel`. */
  logger?: Logger;
  /** Level of the default logger (`silent` for none). Default `info`. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  telemetry?: GatewayTelemetry;
  /** Node process metrics (event loop, memory) in /metrics. Default true. */
  processMetrics?: boolean;
  /**
   * A ledger shared with other gateway processes (Redis: `connectRedisSharedLedger`; `thicket serve --redis`):
   * each key's period budget is then also a shared scope, so together they cannot overspend a key.
   */
  sharedLedger?: SharedLedger;
}

export interface Gateway {
  app: GatewayApp;
  context: GatewayContext;
  /** Stops taking runs, waits up to `timeoutMs` for those in flight, then cancels the rest; true when all finished. */
  drain(timeoutMs: number): Promise<boolean>;
}

const ANONYMOUS: Caller = { key: undefined, admin: true };

export function createGateway(options: GatewayOptions): Gateway {
  const { thicket } = options;
  const journal = (): Journal => thicket.openJournal();
  const context: GatewayContext = {
    thicket,
    defaultModel: options.defaultModel ?? thicket.config.defaultModel ?? (findPulledDefaultModel() ? 'gguf:default' : 'sim:small'),
    keys: new KeyStore(journal),
    budgets: new KeyBudgets(journal, undefined, undefined, options.sharedLedger),
    limiter: new KeyLimiter(),
    live: new LiveRuns(),
    studies: new StudyJobs({ run: (request) => thicket.study(request) }),
    evals: new StudyJobs({ run: (request: EvalRequest) => thicket.eval(request) }),
    metrics: new GatewayMetrics({ processMetrics: options.processMetrics ?? true }),
    logger: options.logger ?? pino({ level: options.logLevel ?? 'info', base: { service: 'thicket-gateway' } }),
    telemetry: options.telemetry ?? GatewayTelemetry.off(),
    draining: false,
  };

  const app: GatewayApp = new OpenAPIHono<GatewayEnv>({
    // Schema failures answer 422 with every problem (path + reason), in OpenAI's error shape.
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
      context.metrics.refusals.inc({ reason: 'invalid' });
      return c.json(invalidRequest('Invalid request', issues).body(), 422);
    },
  });

  app.onError((error, c) => {
    let gatewayError: GatewayError;
    if (error instanceof HTTPException) {
      const status = error.status;
      gatewayError =
        status === 413
          ? new GatewayError(
              413,
              'invalid_request_error',
              'body_too_large',
              `The request body is larger than ${GATEWAY_LIMITS.bodyBytes} bytes.`,
            )
          : status === 400
            ? new GatewayError(400, 'invalid_request_error', 'invalid_json', `The request body could not be read: ${error.message}`)
            : status === 415
              ? new GatewayError(
                  415,
                  'invalid_request_error',
                  'unsupported_media_type',
                  'Send the body as JSON (content-type: application/json).',
                )
              : new GatewayError(status === 401 ? 401 : 400, 'invalid_request_error', 'bad_request', error.message);
    } else gatewayError = toGatewayError(error);
    if (gatewayError.status >= 500) context.logger.error({ err: error, requestId: c.get('requestId') }, 'request failed');
    if (gatewayError.extra.retryAfterSeconds !== undefined) c.header('retry-after', String(gatewayError.extra.retryAfterSeconds));
    // The rest of an oversized body was never read, so the server drops the connection after answering: say so,
    // or a keep-alive client sends its next request down a socket that is closing (fetch then fails it).
    if (gatewayError.status === 413) c.header('connection', 'close');
    return c.json(gatewayError.body(), gatewayError.status as 400);
  });
  app.notFound((c) => c.json(new GatewayError(404, 'not_found_error', 'not_found', `No route ${c.req.method} ${c.req.path}.`).body(), 404));

  if (options.corsOrigins && options.corsOrigins.length > 0) app.use('*', cors({ origin: options.corsOrigins }));

  // Request id, span, metrics and the access log, around everything else.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header('x-request-id') ?? randomBytes(8).toString('hex');
    c.set('requestId', requestId);
    const span = context.telemetry.startRequest(c.req.method, c.req.path);
    c.set('span', span);
    c.header('x-request-id', requestId);
    try {
      await next();
    } finally {
      const route = c.req.routePath || c.req.path;
      context.metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
      context.metrics.requestSeconds.observe({ route, method: c.req.method }, (performance.now() - started) / 1000);
      span?.setAttribute('http.response.status_code', c.res.status);
      span?.end();
    }
  });

  // Authentication: Bearer tokens (or `x-api-key`) once any key exists; open (local operator) before that.
  app.use('/v1/*', async (c, next) => {
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : c.req.header('x-api-key');
    if (token === undefined || token === '') {
      if (context.keys.hasKeys()) {
        context.metrics.refusals.inc({ reason: 'auth' });
        throw new GatewayError(
          401,
          'authentication_error',
          'missing_api_key',
          'An API key is required: send "Authorization: Bearer <key>".',
        );
      }
      c.set('caller', ANONYMOUS);
      return next();
    }
    const key = context.keys.verify(token);
    if (!key) {
      context.metrics.refusals.inc({ reason: 'auth' });
      throw new GatewayError(401, 'authentication_error', 'invalid_api_key', 'The API key is not valid (unknown, malformed or revoked).');
    }
    c.set('caller', { key, admin: key.role === 'admin' });
    return next();
  });
  app.use('/v1/*', limitBody(GATEWAY_LIMITS.bodyBytes));

  registerChatRoute(app, context);
  registerModelRoutes(app, context);
  registerKeyRoutes(app, context);
  registerRestRoutes(app, context);
  registerOperationalRoutes(app, context);
  registerConsoleRoutes(app);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Thicket gateway',
      version: '0.1.0',
      description:
        'OpenAI-compatible chat completions answered by Thicket strategies under hard per-key budgets, ' +
        'and REST for runs, studies and the registry.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  return {
    app,
    context,
    drain: async (timeoutMs) => {
      context.draining = true;
      // Studies run for minutes: they are cancelled at once (their finished cells are journaled, and starting
      // the same study id again resumes them) rather than holding the shutdown up to the deadline.
      context.studies.cancelAll('The gateway shut down before the study finished (start it again with the same id to resume).');
      context.evals.cancelAll('The gateway shut down before the eval finished (start it again with the same id to resume).');
      const finished = await context.live.drained(timeoutMs);
      if (!finished) {
        context.live.cancelAll('The gateway shut down before the run finished (resume it with the same run id).');
        await context.live.drained(5_000);
      }
      await Promise.all([context.studies.settled(Math.max(timeoutMs, 5_000)), context.evals.settled(Math.max(timeoutMs, 5_000))]);
      return finished;
    },
  };
}
