/**
 * REST for `thicket eval` as background jobs, beside the studies (rest-studies.ts): start (202), list, status
 * with the EvalResult once finished, cancel. Admin only. The client sends its dataset's rows in the body (never
 * a server path): they are written to `evals/<id>/dataset.jsonl` beside the journal, the report goes to the
 * same folder, and starting the same id again resumes its finished cells (changed rows are refused).
 * Custom scorer modules are not accepted over HTTP (they would run the client's code in the gateway).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EvalRequest, EvalResult } from '../lab/index.ts';
import { requireAdmin } from './access.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import type { StudyJob } from './study-jobs.ts';

type EvalJob = StudyJob<EvalRequest, EvalResult>;

export const MAX_EVAL_ROWS = 10_000;
const EVAL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const name = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^,\s]+$/, 'no commas or spaces');
const field = z.string().min(1).max(200);

const evalBody = z
  .object({
    id: z.string().regex(EVAL_ID, 'use 1–64 letters, digits, ".", "_" or "-"').optional(),
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(MAX_EVAL_ROWS)
      .openapi({ description: 'The dataset: one object per item.' }),
    preset: z.enum(['gsm8k', 'math', 'mc', 'hotpot', 'trivia', 'none']).optional(),
    input: field.optional(),
    answer: field.optional(),
    choices: field.optional(),
    context: field.optional(),
    id_field: field.optional().openapi({ description: 'The field holding each item’s id.' }),
    scorer: z
      .string()
      .regex(/^(exact|any-of|mc|f1|json|numeric(:[0-9.]+%?)?|regex:.+|regex|judge:.+)$/, 'a built-in scorer or judge:<model>')
      .optional(),
    judge_budget: z.number().int().positive().max(1e9).optional(),
    limit: z.number().int().min(1).optional(),
    sample: z.number().int().min(1).optional(),
    strict: z.boolean().optional(),
    strategies: z.array(name).min(1).max(16).optional(),
    budgets: z.array(z.number().int().positive().max(1e9)).min(1).max(16).optional(),
    models: z.array(name).min(1).max(16),
    seeds: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1),
      )
      .min(1)
      .max(16)
      .optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
  })
  .strict()
  .openapi('EvalRequest', {
    example: {
      rows: [{ question: 'What is 6*7?', answer: '#### 42' }],
      preset: 'gsm8k',
      strategies: ['single', 'vote'],
      budgets: [2000, 8000],
      models: ['sim:small'],
    },
  });

const idParam = z.object({ id: z.string().regex(EVAL_ID, 'not an eval id') });
const jobSchema = z.object({}).passthrough().openapi('EvalJob');
const jobView = (job: EvalJob, withResult: boolean): Record<string, unknown> => {
  const { dataset: _path, ...request } = job.request;
  return {
    id: job.id,
    status: job.status,
    request,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    simulated: job.result?.simulated ?? null,
    progress: job.progress,
    ...(withResult ? { result: job.result } : {}),
    error: job.error,
  };
};

export function registerEvalRoutes(app: GatewayApp, context: GatewayContext): void {
  const journalPath = context.thicket.journalPath;
  const evalsDir = journalPath === ':memory:' ? null : join(dirname(journalPath), 'evals');
  const evals = context.evals;
  const findJob = (id: string): EvalJob => {
    const job = evals.get(id);
    if (!job) throw new GatewayError(404, 'not_found_error', 'eval_not_found', `No eval "${id}" here.`);
    return job;
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/evals',
      tags: ['Evals'],
      summary: 'Starts a matched-budget evaluation on the rows sent, in the background (admin); poll GET /v1/evals/{id}',
      request: { body: { content: { 'application/json': { schema: evalBody } }, required: true } },
      responses: {
        202: { description: 'Started', content: { 'application/json': { schema: jobSchema } } },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'An eval with this id is running', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'Invalid request or dataset: every problem', content: { 'application/json': { schema: errorSchema } } },
        429: { description: 'Too many evals running', content: { 'application/json': { schema: errorSchema } } },
        503: { description: 'Draining, or no journal file to run evals in', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      if (context.draining) throw new GatewayError(503, 'service_unavailable', 'draining', 'The gateway is shutting down: no new evals.');
      if (evalsDir === null)
        throw new GatewayError(
          503,
          'service_unavailable',
          'evals_unavailable',
          'Evals need a journal file (this gateway runs on an in-memory journal).',
        );
      const body = c.req.valid('json');
      const id = body.id ?? `eval-${randomBytes(6).toString('hex')}`;
      if (evals.get(id)?.status === 'running')
        throw new GatewayError(409, 'invalid_request_error', 'eval_running', `Eval "${id}" is running: cancel it first, or wait.`);
      if (evals.running >= evals.maxRunning)
        throw new GatewayError(
          429,
          'rate_limit_error',
          'too_many_evals',
          `${evals.running} evals are running (at most ${evals.maxRunning}).`,
        );
      const folder = join(evalsDir, id);
      mkdirSync(folder, { recursive: true });
      const dataset = join(folder, 'dataset.jsonl');
      writeFileSync(dataset, `${body.rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
      const request: EvalJob['request'] = {
        dataset,
        models: body.models.join(','),
        ...(body.preset !== undefined ? { preset: body.preset } : {}),
        ...(body.input !== undefined ? { input: body.input } : {}),
        ...(body.answer !== undefined ? { answer: body.answer } : {}),
        ...(body.choices !== undefined ? { choices: body.choices } : {}),
        ...(body.context !== undefined ? { context: body.context } : {}),
        ...(body.id_field !== undefined ? { idField: body.id_field } : {}),
        ...(body.scorer !== undefined ? { scorer: body.scorer } : {}),
        ...(body.judge_budget !== undefined ? { judgeBudget: String(body.judge_budget) } : {}),
        ...(body.limit !== undefined ? { limit: String(body.limit) } : {}),
        ...(body.sample !== undefined ? { sample: String(body.sample) } : {}),
        ...(body.strict === true ? { strict: true } : {}),
        ...(body.strategies ? { strategies: body.strategies.join(',') } : {}),
        ...(body.budgets ? { budgets: body.budgets.map(String).join(',') } : {}),
        ...(body.seeds ? { seeds: body.seeds.map(String).join(',') } : {}),
        ...(body.concurrency !== undefined ? { concurrency: String(body.concurrency) } : {}),
      };
      const job = await evals.start(id, request, join(folder, 'report'));
      context.logger.info({ eval: id, requestId: c.get('requestId') }, 'eval started');
      void job.finished.then(() => context.logger.info({ eval: id, status: job.status }, 'eval finished'));
      return c.json(asJson({ ...jobView(job, false), status_url: `/v1/evals/${id}` }), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals',
      tags: ['Evals'],
      summary: 'Evals started here, oldest first, with their status (admin)',
      responses: {
        200: { description: 'Evals', content: { 'application/json': { schema: z.object({ data: z.array(jobSchema) }) } } },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      return c.json({ data: evals.list().map((job) => asJson(jobView(job, false))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals/{id}',
      tags: ['Evals'],
      summary: 'An eval’s status, and once finished its result: accuracy and cost with CIs, paired comparisons, judge spend (admin)',
      request: { params: idParam },
      responses: {
        200: { description: 'The eval', content: { 'application/json': { schema: jobSchema } } },
        404: { description: 'No such eval here', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      return c.json(asJson(jobView(findJob(c.req.valid('param').id), true)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/evals/{id}/cancel',
      tags: ['Evals'],
      summary: 'Cancels a running eval: its finished cells stay journaled (start the same id again to resume) (admin)',
      request: { params: idParam },
      responses: {
        202: { description: 'Cancellation requested', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: { description: 'No such eval here', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'The eval is not running', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const job = findJob(c.req.valid('param').id);
      if (!evals.cancel(job.id))
        throw new GatewayError(409, 'invalid_request_error', 'eval_not_running', `Eval "${job.id}" is not running (${job.status}).`);
      return c.json({ id: job.id, cancelling: true }, 202);
    },
  );
}
