/**
 * The gateway's HTTP application (Hono with zod-openapi: every route's schema validates its input and feeds the
 * OpenAPI document). Built on one runtime instance; `server.ts` puts it on a socket.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Journal } from '../journal/index.ts';
import type { Thicket } from '../lab/index.ts';
import { findPulledDefaultModel } from '../models/index.ts';
import { requireAdmin } from './access.ts';
import { limitBody } from './body-limit.ts';
import { GATEWAY_LIMITS } from './chat.ts';
import { errorSchema, registerChatRoute } from './chat-route.ts';
import { asJson, type Caller, type GatewayApp, type GatewayContext, type GatewayEnv } from './context.ts';
import { GatewayError, invalidRequest, toGatewayError } from './errors.ts';
import { KeyBudgets, KeyLimiter, KeyStore, keyAllowsModel, parseKeySettings, type ApiKey } from './keys.ts';
import { LiveRuns } from './live-runs.ts';
import { GatewayMetrics } from './metrics.ts';
import { StudyJobs } from './study-jobs.ts';
import { fleetModels, servedModelIds } from './model-names.ts';
import { GatewayTelemetry } from './telemetry.ts';
import { registerRestRoutes } from './rest.ts';

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
    budgets: new KeyBudgets(journal),
    limiter: new KeyLimiter(),
    live: new LiveRuns(),
    studies: new StudyJobs({ run: (request) => thicket.study(request) }),
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

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Thicket gateway',
      version: '0.1.0',
      description:
        'OpenAI-compatible chat completions answered by Thicket strategies under hard per-key budgets, and REST for runs, studies and the registry.',
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
      const finished = await context.live.drained(timeoutMs);
      if (!finished) {
        context.live.cancelAll('The gateway shut down before the run finished (resume it with the same run id).');
        await context.live.drained(5_000);
      }
      await context.studies.settled(Math.max(timeoutMs, 5_000));
      return finished;
    },
  };
}

function registerModelRoutes(app: GatewayApp, context: GatewayContext): void {
  const modelSchema = z.object({ id: z.string(), object: z.literal('model'), created: z.number(), owned_by: z.string() }).passthrough();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models',
      tags: ['OpenAI-compatible'],
      summary: 'The strategies × models this key may run',
      responses: {
        200: {
          description: 'Models',
          content: { 'application/json': { schema: z.object({ object: z.literal('list'), data: z.array(modelSchema) }) } },
        },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const models = fleetModels(context.thicket.config).filter((model) => !caller.key || keyAllowsModel(caller.key, model.reference));
      const simulated = new Map(models.map((model) => [model.reference, model.simulated]));
      const ids = servedModelIds(models).filter((id) => {
        const reference = id.startsWith('thicket/') ? context.defaultModel : id.includes('@') ? id.slice(id.indexOf('@') + 1) : id;
        return !caller.key || keyAllowsModel(caller.key, reference);
      });
      return c.json(
        {
          object: 'list' as const,
          data: ids.map((id) => {
            const reference = id.startsWith('thicket/') ? context.defaultModel : id.includes('@') ? id.slice(id.indexOf('@') + 1) : id;
            return {
              id,
              object: 'model' as const,
              created: 0,
              owned_by: 'thicket',
              thicket: { model: reference, simulated: simulated.get(reference) ?? false },
            };
          }),
        },
        200,
      );
    },
  );
}

const keyView = (key: ApiKey): Record<string, unknown> => ({
  id: key.id,
  name: key.name,
  role: key.role,
  settings: key.settings,
  created_at: key.createdAt,
  revoked_at: key.revokedAt,
});

function registerKeyRoutes(app: GatewayApp, context: GatewayContext): void {
  const keySchema = z.object({}).passthrough().openapi('ApiKey');
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/keys',
      tags: ['Keys'],
      summary: 'Every key with its spend for the current period (admin)',
      responses: { 200: { description: 'Keys', content: { 'application/json': { schema: z.object({ data: z.array(keySchema) }) } } } },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      return c.json(
        {
          data: context.keys
            .list()
            .map((key) => asJson({ ...keyView(key), ...(key.revokedAt === null ? { spend: context.budgets.spend(key) } : {}) })),
        },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/keys',
      tags: ['Keys'],
      summary: 'Creates a key; its token is in the response, once (admin)',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  name: z.string().min(1).max(100),
                  role: z.enum(['admin', 'client']).optional(),
                  settings: z.unknown().optional(),
                })
                .strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: keySchema } } },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'Invalid settings', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const body = c.req.valid('json');
      const created = context.keys.create({
        name: body.name,
        role: body.role ?? 'client',
        settings: parseKeySettings(body.settings ?? {}),
      });
      return c.json(asJson({ ...keyView(created.key), token: created.token }), 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/keys/{id}',
      tags: ['Keys'],
      summary: 'Revokes a key (admin)',
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: 'Revoked', content: { 'application/json': { schema: keySchema } } },
        404: { description: 'Unknown or already revoked', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const { id } = c.req.valid('param');
      if (!context.keys.revoke(id)) throw new GatewayError(404, 'not_found_error', 'key_not_found', `No live key "${id}".`);
      context.budgets.forget(id);
      return c.json({ id, revoked: true }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/keys/{id}/spend',
      tags: ['Keys'],
      summary: "A key's spend, reservations and remainder for the current period (admin, or the key itself)",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: 'Spend', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: { description: 'Unknown key', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const { id } = c.req.valid('param');
      if (!caller.admin && caller.key?.id !== id) throw new GatewayError(404, 'not_found_error', 'key_not_found', `No key "${id}".`);
      const key = context.keys.get(id);
      if (!key) throw new GatewayError(404, 'not_found_error', 'key_not_found', `No key "${id}".`);
      return c.json(asJson({ ...keyView(key), spend: context.budgets.spend(key), in_flight: context.limiter.running(id) }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me',
      tags: ['Keys'],
      summary: 'The calling key and its spend',
      responses: { 200: { description: 'The caller', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
    }),
    (c) => {
      const { key, admin } = c.get('caller');
      if (!key) return c.json({ key: null, admin, open: true }, 200);
      return c.json(
        asJson({ key: keyView(key), admin, spend: context.budgets.spend(key), in_flight: context.limiter.running(key.id) }),
        200,
      );
    },
  );
}

function registerOperationalRoutes(app: GatewayApp, context: GatewayContext): void {
  const status = z.object({ status: z.string() }).passthrough();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['Operations'],
      summary: 'Liveness: the process answers',
      responses: { 200: { description: 'Alive', content: { 'application/json': { schema: status } } } },
    }),
    (c) => c.json({ status: 'ok' }, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['Operations'],
      summary: 'Readiness: the journal answers and the gateway is not draining',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: status } } },
        503: { description: 'Draining or the journal is unavailable', content: { 'application/json': { schema: status } } },
      },
    }),
    (c) => {
      if (context.draining) return c.json({ status: 'draining' }, 503);
      try {
        context.keys.hasKeys();
        return c.json({ status: 'ready', runs_in_flight: context.live.size, studies_running: context.studies.running }, 200);
      } catch (error) {
        return c.json({ status: 'not ready', error: toGatewayError(error).message }, 503);
      }
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['Operations'],
      summary: 'Prometheus metrics (an admin key once API keys exist)',
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        401: { description: 'No admin key', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      // Labels name keys: once keys exist, only an admin key may scrape (Prometheus sends it as a bearer token).
      if (context.keys.hasKeys()) {
        const header = c.req.header('authorization');
        const key = header?.startsWith('Bearer ') ? context.keys.verify(header.slice(7).trim()) : undefined;
        if (!key) throw new GatewayError(401, 'authentication_error', 'missing_api_key', 'Metrics need an admin key once API keys exist.');
        if (key.role !== 'admin') throw new GatewayError(403, 'permission_error', 'admin_required', 'Metrics need an admin key.');
      }
      return c.text(await context.metrics.registry.metrics(), 200, { 'content-type': context.metrics.registry.contentType });
    },
  );
}
