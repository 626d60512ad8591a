/**
 * REST for the lab's matched-budget studies, run as background jobs in the gateway's process: start (202),
 * list, status with the StudyResult once finished, cancel, and the report's JSON. Admin only: a study's model
 * calls are not charged to any client key's budget. The client names the study (its id) but never a server
 * path: the study file is a built-in one, and the report goes to `studies/<id>/` beside the journal.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireAdmin } from './access.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import type { StudyJob } from './study-jobs.ts';

/** Items per suite at most (the built-in studies use 24–80). */
export const MAX_STUDY_ITEMS = 1_000;
/** The study file's id rule; it also keeps the report folder's name inside the studies directory. */
const STUDY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

// The lab takes comma-separated overrides (as the CLI flags do); over JSON they are arrays, joined here.
const listItem = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^,\s]+$/, 'no commas or spaces');
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(32);

const studyBody = z
  .object({
    quick: z
      .union([z.boolean(), z.enum(['tiny', 'sim'])])
      .optional()
      .openapi({
        description:
          'The built-in quick study: true or "tiny" on the tiny models Thicket trained (real), "sim" on the simulated fleet; ' +
          'else the built-in default study.',
      }),
    id: z
      .string()
      .regex(STUDY_ID, 'use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit')
      .optional()
      .openapi({ description: 'Study id; starting an id again resumes its finished cells. Default: a new id.' }),
    suites: list(listItem).optional().openapi({ description: 'Only these suites of the study.' }),
    architectures: list(listItem).optional(),
    budgets: list(z.number().positive().max(1e9)).optional().openapi({ description: 'Per-query budgets (the study’s unit).' }),
    models: list(listItem).optional(),
    seeds: list(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    ).optional(),
    items: z.number().int().min(1).max(MAX_STUDY_ITEMS).optional().openapi({ description: 'Items per suite.' }),
    concurrency: z.number().int().min(1).max(64).optional(),
  })
  .strict()
  .openapi('StudyRequest', { example: { quick: 'sim', items: 4, architectures: ['single', 'vote'], models: ['sim:small'] } });

const idParam = z.object({ id: z.string().regex(STUDY_ID, 'not a study id') });
const jobSchema = z
  .object({})
  .passthrough()
  .openapi('StudyJob', {
    description:
      'id, status (running | ok | error | cancelled), request, started_at, finished_at, simulated, progress (total, done, failed cells), error; ' +
      'GET /v1/studies/{id} adds result (the StudyResult).',
  });

const jobView = (job: StudyJob, withResult: boolean): Record<string, unknown> => ({
  id: job.id,
  status: job.status,
  request: job.request,
  started_at: job.startedAt,
  finished_at: job.finishedAt,
  simulated: job.result?.simulated ?? null,
  progress: job.progress,
  ...(withResult ? { result: job.result } : {}),
  error: job.error,
});

export function registerStudyRoutes(app: GatewayApp, context: GatewayContext): void {
  const journalPath = context.thicket.journalPath;
  /** Where reports go: beside the journal (null for an in-memory journal, which a study cannot run in). */
  const studiesDir = journalPath === ':memory:' ? null : join(dirname(journalPath), 'studies');

  const notFound = (id: string): GatewayError => new GatewayError(404, 'not_found_error', 'study_not_found', `No study "${id}" here.`);
  const findJob = (id: string): StudyJob => {
    const job = context.studies.get(id);
    if (!job) throw notFound(id);
    return job;
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/studies',
      tags: ['Studies'],
      summary: 'Starts a matched-budget study in the background (admin); poll GET /v1/studies/{id}',
      request: { body: { content: { 'application/json': { schema: studyBody } }, required: true } },
      responses: {
        202: { description: 'Started', content: { 'application/json': { schema: jobSchema } } },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'A study with this id is running', content: { 'application/json': { schema: errorSchema } } },
        422: {
          description: 'Invalid request (unknown suite, architecture or model…): every problem',
          content: { 'application/json': { schema: errorSchema } },
        },
        429: { description: 'Too many studies running', content: { 'application/json': { schema: errorSchema } } },
        503: { description: 'Draining, or no journal file to run studies in', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      if (context.draining) throw new GatewayError(503, 'service_unavailable', 'draining', 'The gateway is shutting down: no new studies.');
      if (studiesDir === null)
        throw new GatewayError(
          503,
          'service_unavailable',
          'studies_unavailable',
          'Studies need a journal file (this gateway runs on an in-memory journal).',
        );
      const body = c.req.valid('json');
      const id = body.id ?? `study-${randomBytes(6).toString('hex')}`;
      if (context.studies.get(id)?.status === 'running')
        throw new GatewayError(409, 'invalid_request_error', 'study_running', `Study "${id}" is running: cancel it first, or wait.`);
      if (context.studies.running >= context.studies.maxRunning)
        throw new GatewayError(
          429,
          'rate_limit_error',
          'too_many_studies',
          `${context.studies.running} studies are running (at most ${context.studies.maxRunning}): wait for one to finish.`,
        );
      const request: StudyJob['request'] = {
        ...(body.quick !== undefined ? { quick: body.quick } : {}),
        ...(body.suites ? { suites: body.suites.join(',') } : {}),
        ...(body.architectures ? { architectures: body.architectures.join(',') } : {}),
        ...(body.budgets ? { budgets: body.budgets.map(String).join(',') } : {}),
        ...(body.models ? { models: body.models.join(',') } : {}),
        ...(body.seeds ? { seeds: body.seeds.map(String).join(',') } : {}),
        ...(body.items !== undefined ? { items: body.items } : {}),
        ...(body.concurrency !== undefined ? { concurrency: body.concurrency } : {}),
      };
      const job = await context.studies.start(id, request, join(studiesDir, id));
      context.logger.info({ study: id, requestId: c.get('requestId') }, 'study started');
      void job.finished.then(() => context.logger.info({ study: id, status: job.status }, 'study finished'));
      return c.json(asJson({ ...jobView(job, false), status_url: `/v1/studies/${id}` }), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/studies',
      tags: ['Studies'],
      summary: 'Studies started here, oldest first, with their status (admin)',
      responses: {
        200: { description: 'Studies', content: { 'application/json': { schema: z.object({ data: z.array(jobSchema) }) } } },
        403: { description: 'Not an admin key', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      return c.json({ data: context.studies.list().map((job) => asJson(jobView(job, false))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/studies/{id}',
      tags: ['Studies'],
      summary: 'A study’s status, and once finished its result (counts, accuracy table, headline; `simulated` says so) (admin)',
      request: { params: idParam },
      responses: {
        200: { description: 'The study', content: { 'application/json': { schema: jobSchema } } },
        404: { description: 'No such study here', content: { 'application/json': { schema: errorSchema } } },
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
      path: '/v1/studies/{id}/cancel',
      tags: ['Studies'],
      summary: 'Cancels a running study: its finished cells stay journaled (start the same id again to resume) (admin)',
      request: { params: idParam },
      responses: {
        202: { description: 'Cancellation requested', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: { description: 'No such study here', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'The study is not running', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const job = findJob(c.req.valid('param').id);
      if (!context.studies.cancel(job.id))
        throw new GatewayError(409, 'invalid_request_error', 'study_not_running', `Study "${job.id}" is not running (${job.status}).`);
      return c.json({ id: job.id, cancelling: true }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/studies/{id}/report',
      tags: ['Studies'],
      summary: 'The study’s report as JSON (analysis and run summary; `simulated` says so), once written (admin)',
      request: { params: idParam },
      responses: {
        200: { description: 'report.json', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: {
          description: 'No report (unknown study, still running, or none written)',
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const { id } = c.req.valid('param');
      const job = context.studies.get(id);
      if (job?.status === 'running')
        throw new GatewayError(
          404,
          'not_found_error',
          'report_not_written',
          `Study "${id}" is running: its report is written when it finishes.`,
        );
      // A finished job names its report; one from before a restart is found in its folder (the id is checked
      // against STUDY_ID, so the path stays inside the studies directory).
      const path = job ? (job.result?.report?.json ?? null) : studiesDir === null ? null : join(studiesDir, id, 'report.json');
      if (path === null || !existsSync(path)) {
        if (!job) throw notFound(id);
        throw new GatewayError(404, 'not_found_error', 'report_not_written', `Study "${id}" wrote no report (${job.status}).`);
      }
      return c.json(asJson(JSON.parse(readFileSync(path, 'utf8'))), 200);
    },
  );
}
