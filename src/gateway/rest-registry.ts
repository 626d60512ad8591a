/**
 * REST for the capability registry: search under the hard policy filter (any key), a card with its versions
 * (any key), and registering cards (admin). Every route is a thin caller of `thicket.registry`; validation,
 * versioning and ranking live in the registry layer.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { CapabilityConflictError, CapabilityNotFoundError, parseCards, type DiscoveryResult } from '../registry/index.ts';
import { requireAdmin } from './access.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';

/** At most this many results per search (the registry's default is 5). */
export const MAX_SEARCH_RESULTS = 50;
/** At most this many cards per POST (the body limit also applies); larger catalogues go in batches. */
export const MAX_CARDS_PER_REQUEST = 1_000;

/** `a,b , c` → `['a', 'b', 'c']`; absent stays absent (an empty list would mean "no provider allowed"). */
const commaList = z
  .string()
  .max(10_000)
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );

const searchQuery = z.object({
  q: z.string().min(1).max(10_000).openapi({ description: 'What the capability should do.', example: 'summarize legal contracts' }),
  require: commaList.optional().openapi({ description: 'Labels a capability must carry (all of them), comma-separated.' }),
  forbid: commaList.optional().openapi({ description: 'Labels a capability must not carry (any excludes it), comma-separated.' }),
  provider: commaList.optional().openapi({ description: 'Providers allowed (any of them), comma-separated; all when absent.' }),
  maxCostPerCall: z.coerce.number().nonnegative().optional().openapi({ description: 'Upper bound on the expected dollars per call.' }),
  maxLatencyMs: z.coerce.number().nonnegative().optional().openapi({ description: 'Upper bound on latency (p95, else p50), in ms.' }),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_RESULTS).optional().openapi({ description: 'How many results (default 5).' }),
});

// The registry's own schema validates cards (every problem of every card, `[i]`-prefixed for lists); the
// route only checks the outline so that a bad card is answered with the registry's issues, not a union error.
const cardOutline = z
  .object({})
  .passthrough()
  .openapi('CapabilityCard', {
    description:
      'A capability card: id, version (semver), name, binding, provider, and optional description, skills, labels, cost, latency…',
    example: {
      id: 'contracts',
      version: '1.0.0',
      name: 'Contract summarizer',
      description: 'Summarize legal contracts: clauses, parties and obligations.',
      binding: { kind: 'agent', name: 'contracts' },
      provider: 'local',
      labels: ['residency:eu'],
    },
  });

const resultView = (result: DiscoveryResult): Record<string, unknown> => ({
  ref: result.ref,
  score: result.score,
  explanation: result.explanation,
  card: result.card,
});

export function registerRegistryRoutes(app: GatewayApp, context: GatewayContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/registry/search',
      tags: ['Registry'],
      summary: 'Capabilities for a need, best first, that pass every hard constraint (labels, providers, cost, latency)',
      request: { query: searchQuery },
      responses: {
        200: {
          description: 'Results above the relevance floor (none when nothing matches)',
          content: { 'application/json': { schema: z.object({ data: z.array(z.object({}).passthrough()) }) } },
        },
        422: { description: 'Invalid query', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const results = await context.thicket.registry.search({
        need: query.q,
        k: query.limit ?? 5,
        ...(query.require ? { require: query.require } : {}),
        ...(query.forbid ? { forbid: query.forbid } : {}),
        ...(query.provider ? { providers: query.provider } : {}),
        ...(query.maxCostPerCall !== undefined ? { maxCostPerCall: query.maxCostPerCall } : {}),
        ...(query.maxLatencyMs !== undefined ? { maxLatencyMs: query.maxLatencyMs } : {}),
      });
      return c.json({ data: results.map((result) => asJson(resultView(result))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/registry/cards/{ref}',
      tags: ['Registry'],
      summary: 'The card a reference resolves to (`id`, `id@1.4.2`, `id@^1.4`) and every version of its id with its status',
      request: { params: z.object({ ref: z.string().min(1).max(500) }) },
      responses: {
        200: {
          description: 'The card and its versions',
          content: {
            'application/json': {
              schema: z
                .object({})
                .passthrough()
                .openapi({ description: '`card`: the resolved card; `versions`: [{ version, status, registered_at }]' }),
            },
          },
        },
        404: {
          description: 'No card matches (unknown id or version, or yanked)',
          content: { 'application/json': { schema: errorSchema } },
        },
        422: { description: 'Malformed reference', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const { ref } = c.req.valid('param');
      let card;
      try {
        card = await context.thicket.registry.show(ref);
      } catch (error) {
        // The registry calls an unmatched reference bad input (the CLI's exit code); over HTTP it is a missing resource.
        if (error instanceof CapabilityNotFoundError)
          throw new GatewayError(404, 'not_found_error', 'capability_not_found', error.message, { param: 'ref' });
        throw error;
      }
      const versions = (await context.thicket.registry.versions(card.id)).map((stored) => ({
        version: stored.version,
        status: stored.status,
        registered_at: stored.registeredAt,
      }));
      return c.json(asJson({ card, versions }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/registry/cards',
      tags: ['Registry'],
      summary: 'Registers a capability card or a list of them: validated, versioned, embedded and indexed (admin)',
      request: {
        body: {
          content: {
            'application/json': { schema: z.union([cardOutline, z.array(cardOutline).min(1).max(MAX_CARDS_PER_REQUEST)]) },
          },
          required: true,
        },
      },
      responses: {
        201: {
          description: 'Stored: `added` are new id@versions, `unchanged` were already stored with the same content',
          content: { 'application/json': { schema: z.object({ added: z.array(z.string()), unchanged: z.array(z.string()) }) } },
        },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
        409: {
          description: 'An id@version is already stored with different content (versions are immutable)',
          content: { 'application/json': { schema: errorSchema } },
        },
        422: { description: 'Invalid cards: every problem, with its path', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      const body = c.req.valid('json');
      // Validated as one batch first: every problem of every card in one answer, and nothing stored when any
      // card is invalid (the runtime registers a list card by card).
      parseCards(body);
      let results;
      try {
        results = await context.thicket.registry.add(body);
      } catch (error) {
        if (error instanceof CapabilityConflictError)
          throw new GatewayError(409, 'invalid_request_error', 'capability_conflict', error.message);
        throw error;
      }
      return c.json({ added: results.flatMap((result) => result.added), unchanged: results.flatMap((result) => result.unchanged) }, 201);
    },
  );
}
