/** `GET /v1/models` (what the key may run) and the operational routes: /healthz, /readyz, /metrics. */
import { createRoute, z } from '@hono/zod-openapi';
import { errorSchema } from './chat-route.ts';
import type { GatewayApp, GatewayContext } from './context.ts';
import { GatewayError, toGatewayError } from './errors.ts';
import { keyAllowsModel } from './keys.ts';
import { fleetModels, servedModelIds } from './model-names.ts';

export function registerModelRoutes(app: GatewayApp, context: GatewayContext): void {
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

export function registerOperationalRoutes(app: GatewayApp, context: GatewayContext): void {
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
