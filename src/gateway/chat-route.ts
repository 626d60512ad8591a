/**
 * `POST /v1/chat/completions`: an OpenAI chat completion answered by a Thicket run under the caller's key. Every
 * check that can refuse the request runs before anything is sent to a model (schema, model, permissions, rate,
 * concurrency, the key's remaining budget); the run itself reserves from the key's budget before each call.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { chatRequestSchema, openAIUsage, sumUsage, thicketExtension } from './chat.ts';
import { planChat } from './chat-plan.ts';
import { choiceOf, completionId, solveAll } from './chat-run.ts';
import { streamChat } from './chat-stream.ts';
import type { GatewayApp, GatewayContext } from './context.ts';

const errorSchema = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }).passthrough(),
  })
  .openapi('Error');

export const chatRoute = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  tags: ['OpenAI-compatible'],
  summary: 'A chat completion answered by a Thicket strategy under a hard budget',
  request: { body: { content: { 'application/json': { schema: chatRequestSchema } }, required: true } },
  responses: {
    200: {
      description: 'The completion (JSON), or Server-Sent Events in OpenAI chunk format when `stream: true`.',
      content: {
        'application/json': { schema: z.object({}).passthrough().openapi('ChatCompletion') },
        'text/event-stream': { schema: z.string() },
      },
    },
    401: { description: 'Missing or unknown API key', content: { 'application/json': { schema: errorSchema } } },
    403: { description: 'The key may not use this model', content: { 'application/json': { schema: errorSchema } } },
    404: { description: 'Unknown model', content: { 'application/json': { schema: errorSchema } } },
    413: { description: 'Body too large', content: { 'application/json': { schema: errorSchema } } },
    422: {
      description: 'Invalid request (every problem listed in `error.issues`)',
      content: { 'application/json': { schema: errorSchema } },
    },
    429: {
      description: 'Over the key budget (`insufficient_quota`, nothing was sent to a model), rate or concurrency limit',
      content: { 'application/json': { schema: errorSchema } },
    },
  },
});

export { errorSchema };

export function registerChatRoute(app: GatewayApp, gateway: GatewayContext): void {
  app.openapi(chatRoute, async (c) => {
    const request = c.req.valid('json');
    const plan = planChat(gateway, c, request);
    const created = Math.floor(Date.now() / 1000);
    const span = c.get('span');
    c.header('x-thicket-run-id', plan.runs[0]!.runId);
    if (!request.stream) {
      try {
        const results = await solveAll(gateway, plan, c.req.raw.signal, span);
        const usage = sumUsage(results.map((result) => result.usage));
        c.header('x-thicket-simulated', String(results.every((result) => result.simulated)));
        return c.json(
          {
            id: completionId(plan.runs[0]!.runId),
            object: 'chat.completion',
            created,
            model: request.model,
            system_fingerprint: 'thicket-0.1.0',
            choices: results.map((result, index) => choiceOf(result, index, request)),
            usage: openAIUsage(usage),
            thicket: thicketExtension(results, plan.ignored),
          },
          200,
        );
      } finally {
        plan.release();
      }
    }
    return streamChat(c, gateway, plan, created, span);
  });
}
