/** API keys over REST (admin): create (the token is in the response, once), list with spend, revoke; `/v1/me`. */
import { createRoute, z } from '@hono/zod-openapi';
import { requireAdmin } from './access.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import { parseKeySettings, type ApiKey } from './keys.ts';

const keyView = (key: ApiKey): Record<string, unknown> => ({
  id: key.id,
  name: key.name,
  role: key.role,
  settings: key.settings,
  created_at: key.createdAt,
  revoked_at: key.revokedAt,
});

export function registerKeyRoutes(app: GatewayApp, context: GatewayContext): void {
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
