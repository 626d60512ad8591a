/**
 * REST beyond chat completions: runs (list with filters, detail with trace and calls, live events over SSE,
 * cancel, start in the background), plus the registry and studies (rest-registry.ts, rest-studies.ts). A
 * client key sees only its own runs; an admin key (or the open local gateway) sees all.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { MAX_RUN_PAGE, type RunSummary } from '../journal/index.ts';
import type { ThicketEvent } from '../runtime/index.ts';
import { GATEWAY_LIMITS, thicketOptionsSchema } from './chat.ts';
import { planChat } from './chat-plan.ts';
import { errorSchema } from './chat-route.ts';
import { startRun } from './chat-run.ts';
import { asJson, type Caller, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import { registerRegistryRoutes } from './rest-registry.ts';
import { registerStudyRoutes } from './rest-studies.ts';
import { registerEvalRoutes } from './rest-evals.ts';

const runStatuses = ['running', 'ok', 'budget_exhausted', 'cancelled', 'error'] as const;

const startRunSchema = thicketOptionsSchema
  .extend({
    query: z.string().min(1).max(GATEWAY_LIMITS.bodyBytes),
    strategy: z.string().min(1).max(40).optional().openapi({ description: 'auto (default) or a strategy name' }),
    model: z.string().min(1).max(200).optional().openapi({ description: 'a model reference (default: the gateway default)' }),
  })
  .strict()
  .openapi('StartRun');

function visibleRun(context: GatewayContext, caller: Caller, id: string) {
  const details = context.thicket.runs.get(id);
  if (!details || (!caller.admin && details.run.owner !== caller.key?.id))
    throw new GatewayError(404, 'not_found_error', 'run_not_found', `No run "${id}".`);
  return details;
}

const summaryView = (run: RunSummary): Record<string, unknown> => ({
  id: run.id,
  command: run.command,
  query: run.query,
  status: run.status,
  answer: run.answer,
  strategy: (run.args as { strategy?: unknown } | null)?.strategy ?? null,
  model: (run.args as { model?: unknown } | null)?.model ?? null,
  simulated: run.simulated,
  owner: run.owner,
  budget: run.budget,
  totals: run.totals,
  error: run.error,
  created_at: run.createdAt,
  updated_at: run.updatedAt,
});

export function registerRestRoutes(app: GatewayApp, context: GatewayContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runs',
      tags: ['Runs'],
      summary: 'Runs, newest first, with filters (a client key sees its own)',
      request: {
        query: z.object({
          status: z.enum(runStatuses).optional(),
          strategy: z.string().optional(),
          model: z.string().optional(),
          key: z.string().optional().openapi({ description: 'Owner key id (admin only).' }),
          since: z.string().datetime({ offset: true }).optional(),
          until: z.string().datetime({ offset: true }).optional(),
          min_usd: z.coerce.number().min(0).optional().openapi({ description: 'Runs that cost at least this many dollars.' }),
          max_usd: z.coerce.number().min(0).optional().openapi({ description: 'Runs that cost at most this many dollars.' }),
          limit: z.coerce.number().int().min(1).max(MAX_RUN_PAGE).optional(),
          offset: z.coerce.number().int().min(0).optional(),
        }),
      },
      responses: {
        200: {
          description: 'Runs',
          content: { 'application/json': { schema: z.object({ data: z.array(z.object({}).passthrough()) }).passthrough() } },
        },
        422: { description: 'Invalid filter', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const query = c.req.valid('query');
      const owner = caller.admin ? query.key : caller.key?.id;
      const runs = context.thicket.runs.list({
        ...(query.status ? { status: query.status } : {}),
        ...(query.strategy ? { strategy: query.strategy } : {}),
        ...(query.model ? { model: query.model } : {}),
        ...(owner !== undefined ? { owner } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.until ? { until: query.until } : {}),
        ...(query.min_usd !== undefined ? { minUsd: query.min_usd } : {}),
        ...(query.max_usd !== undefined ? { maxUsd: query.max_usd } : {}),
        limit: query.limit ?? 50,
        offset: query.offset ?? 0,
      });
      const live = new Set(context.live.list().map((run) => run.runId));
      return c.json(
        {
          data: runs.map((run) => asJson({ ...summaryView(run), live: live.has(run.id) })),
          limit: query.limit ?? 50,
          offset: query.offset ?? 0,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runs/{id}',
      tags: ['Runs'],
      summary: 'A run with its calls (prompt, response, tokens, latency, replayed) and steps (the trace)',
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: 'The run', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: { description: 'No such run (or not this key’s)', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      const details = visibleRun(context, c.get('caller'), c.req.valid('param').id);
      return c.json(asJson({ ...details, live: context.live.has(details.run.id) }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runs/{id}/events',
      tags: ['Runs'],
      summary: 'The run’s events as Server-Sent Events: those so far, then live until `run-finished`',
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: 'SSE: `event: <type>` / `data: <ThicketEvent JSON>`',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        404: { description: 'No such run', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const id = c.req.valid('param').id;
      const live = context.live.get(id);
      if (live && !caller.admin && live.owner !== caller.key?.id)
        throw new GatewayError(404, 'not_found_error', 'run_not_found', `No run "${id}".`);
      const stored = live ? undefined : visibleRun(context, caller, id);
      return streamSSE(c, async (stream) => {
        if (!live) {
          // Finished (or from another process): what the journal holds, as one event.
          await stream.writeSSE({ event: 'run', data: JSON.stringify({ type: 'run', run: stored!.run }) });
          return;
        }
        const queue: ThicketEvent[] = [...live.events];
        let wake: (() => void) | undefined;
        let done = false;
        const listener = (event: ThicketEvent): void => {
          queue.push(event);
          wake?.();
        };
        live.listeners.add(listener);
        void live.finished.then(() => {
          done = true;
          wake?.();
        });
        stream.onAbort(() => {
          live.listeners.delete(listener);
          done = true;
          wake?.();
        });
        for (;;) {
          const event = queue.shift();
          if (event) {
            await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
            if (event.type === 'run-finished') break;
            continue;
          }
          if (done) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        live.listeners.delete(listener);
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runs/{id}/cancel',
      tags: ['Runs'],
      summary: 'Cancels a run in flight: what it reserved is released; resume it later with the same run id',
      request: { params: z.object({ id: z.string() }) },
      responses: {
        202: { description: 'Cancellation requested', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: { description: 'No such run in flight', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      const caller = c.get('caller');
      const id = c.req.valid('param').id;
      const live = context.live.get(id);
      if (!live || (!caller.admin && live.owner !== caller.key?.id))
        throw new GatewayError(404, 'not_found_error', 'run_not_in_flight', `No run "${id}" in flight here.`);
      live.controller.abort();
      return c.json({ id, cancelling: true }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runs',
      tags: ['Runs'],
      summary: 'Starts a run in the background (the console playground): 202 with its id; follow it at /v1/runs/{id}/events',
      request: { body: { content: { 'application/json': { schema: startRunSchema } }, required: true } },
      responses: {
        202: { description: 'Started', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        422: { description: 'Invalid request', content: { 'application/json': { schema: errorSchema } } },
        429: { description: 'Over the key budget, rate or concurrency limit', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      // The same checks, limits and key budget as a chat completion: the run is one, minus the HTTP wait.
      const { query, strategy, model, ...options } = body;
      const plan = planChat(context, c, {
        model: `${strategy ?? 'auto'}@${model ?? context.defaultModel}`,
        messages: [{ role: 'user', content: query }],
        ...(Object.keys(options).length > 0 ? { thicket: options } : {}),
      });
      const planned = plan.runs[0]!;
      const finished = startRun(context, planned, plan.caller, undefined, c.get('span')).then(
        () => undefined,
        (error: unknown) => context.logger.warn({ runId: planned.runId, err: error }, 'background run failed'),
      );
      void finished.finally(() => plan.release());
      // The run is registered as live by now: its events can be followed at once.
      await Promise.resolve();
      return c.json({ run_id: planned.runId, status: 'running', events_url: `/v1/runs/${planned.runId}/events` }, 202);
    },
  );

  registerRegistryRoutes(app, context);
  registerStudyRoutes(app, context);
  registerEvalRoutes(app, context);
}
