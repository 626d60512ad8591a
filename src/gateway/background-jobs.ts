/**
 * The REST routes every kind of background job shares (studies in rest-studies.ts, evals in rest-evals.ts):
 * start (202), list, status with the result once finished, cancel. Admin only. A kind names itself once and
 * its routes, error codes and messages follow from that name, so the two kinds cannot drift apart; it keeps
 * its own body schema, how a body becomes the lab's request, and any routes of its own.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireAdmin } from './access.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import type { JobRequest, JobResult, StudyJob, StudyJobs } from './study-jobs.ts';

/** A job id: also its folder's name, so the rule keeps the folder inside the kind's directory. */
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

// The lab takes comma-separated lists (as the CLI flags do); over JSON they are arrays of these, joined.
export const listEntry = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^,\s]+$/, 'no commas or spaces');
/** A seed as the lab takes it (a 31-bit non-negative integer). */
export const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** How a kind of job is named in its paths, error codes and messages. */
export interface JobKind {
  /** 'study': error codes (`study_not_found`), default ids (`study-…`), log fields. */
  noun: string;
  /** 'studies': the path (/v1/studies), the OpenAPI tag, the folder beside the journal. */
  plural: string;
  /** The article before the noun in prose ('a study', 'an eval'). */
  article: 'a' | 'an';
}

export interface JobRoutesSpec<Body extends { id?: string | undefined }, Request extends JobRequest, Result extends JobResult> {
  kind: JobKind;
  jobs: StudyJobs<Request, Result>;
  /** The POST body, named in the OpenAPI document. */
  body: z.ZodType<Body>;
  /** The job schema's OpenAPI description, when it has one. */
  jobDescription?: string;
  summaries: { start: string; get: string };
  /** The start route's 422: what the lab may refuse beyond the body schema. */
  invalidDescription: string;
  /** Appended to the 429 message. */
  busyAdvice?: string;
  /** The request as shown to clients (default: as given). */
  requestView?: (request: StudyJob<Request, Result>['request']) => object;
  /** The lab's request for a body, and where its report goes; `folder` is the job's own folder beside the journal. */
  prepare: (body: Body, folder: string) => { request: StudyJob<Request, Result>['request']; report: string };
}

/** What a kind's own routes reuse. */
export interface JobRoutes {
  /** Where the kind's folders go: beside the journal (null for an in-memory journal, which a job cannot run in). */
  folder: string | null;
  idParam: z.ZodObject<{ id: z.ZodString }>;
  notFound: (id: string) => GatewayError;
}

const capitalized = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

export function registerJobRoutes<Body extends { id?: string | undefined }, Request extends JobRequest, Result extends JobResult>(
  app: GatewayApp,
  context: GatewayContext,
  spec: JobRoutesSpec<Body, Request, Result>,
): JobRoutes {
  const { noun, plural, article } = spec.kind;
  const Noun = capitalized(noun);
  const Plural = capitalized(plural);
  const path = `/v1/${plural}`;
  const tags = [Plural];
  const jobs = spec.jobs;
  const journalPath = context.thicket.journalPath;
  const folder = journalPath === ':memory:' ? null : join(dirname(journalPath), plural);
  const idParam = z.object({ id: z.string().regex(JOB_ID, `not ${article} ${noun} id`) });
  const jobSchema = z.object({}).passthrough();
  const namedJobSchema =
    spec.jobDescription === undefined
      ? jobSchema.openapi(`${Noun}Job`)
      : jobSchema.openapi(`${Noun}Job`, { description: spec.jobDescription });
  const errors = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema } } });
  const notAdmin = errors('Not an admin key');
  const noSuchJob = errors(`No such ${noun} here`);

  const notFound = (id: string): GatewayError => new GatewayError(404, 'not_found_error', `${noun}_not_found`, `No ${noun} "${id}" here.`);
  const findJob = (id: string): StudyJob<Request, Result> => {
    const job = jobs.get(id);
    if (!job) throw notFound(id);
    return job;
  };
  const requestView = spec.requestView ?? ((request) => request);
  const jobView = (job: StudyJob<Request, Result>, withResult: boolean): Record<string, unknown> => ({
    id: job.id,
    status: job.status,
    request: requestView(job.request),
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    simulated: job.result?.simulated ?? null,
    progress: job.progress,
    ...(withResult ? { result: job.result } : {}),
    error: job.error,
  });

  app.openapi(
    createRoute({
      method: 'post',
      path,
      tags,
      summary: spec.summaries.start,
      request: { body: { content: { 'application/json': { schema: spec.body } }, required: true } },
      responses: {
        202: { description: 'Started', content: { 'application/json': { schema: namedJobSchema } } },
        403: notAdmin,
        409: errors(`${capitalized(article)} ${noun} with this id is running`),
        422: errors(spec.invalidDescription),
        429: errors(`Too many ${plural} running`),
        503: errors(`Draining, or no journal file to run ${plural} in`),
      },
    }),
    async (c) => {
      requireAdmin(c.get('caller'));
      if (context.draining)
        throw new GatewayError(503, 'service_unavailable', 'draining', `The gateway is shutting down: no new ${plural}.`);
      if (folder === null)
        throw new GatewayError(
          503,
          'service_unavailable',
          `${plural}_unavailable`,
          `${Plural} need a journal file (this gateway runs on an in-memory journal).`,
        );
      const body = c.req.valid('json');
      const id = body.id ?? `${noun}-${randomBytes(6).toString('hex')}`;
      if (jobs.get(id)?.status === 'running')
        throw new GatewayError(409, 'invalid_request_error', `${noun}_running`, `${Noun} "${id}" is running: cancel it first, or wait.`);
      if (jobs.running >= jobs.maxRunning)
        throw new GatewayError(
          429,
          'rate_limit_error',
          `too_many_${plural}`,
          `${jobs.running} ${plural} are running (at most ${jobs.maxRunning})${spec.busyAdvice ?? ''}.`,
        );
      const { request, report } = spec.prepare(body, join(folder, id));
      const job = await jobs.start(id, request, report);
      context.logger.info({ [noun]: id, requestId: c.get('requestId') }, `${noun} started`);
      void job.finished.then(() => context.logger.info({ [noun]: id, status: job.status }, `${noun} finished`));
      return c.json(asJson({ ...jobView(job, false), status_url: `${path}/${id}` }), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path,
      tags,
      summary: `${Plural} started here, oldest first, with their status (admin)`,
      responses: {
        200: { description: Plural, content: { 'application/json': { schema: z.object({ data: z.array(namedJobSchema) }) } } },
        403: notAdmin,
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      return c.json({ data: jobs.list().map((job) => asJson(jobView(job, false))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: `${path}/{id}`,
      tags,
      summary: spec.summaries.get,
      request: { params: idParam },
      responses: {
        200: { description: `The ${noun}`, content: { 'application/json': { schema: namedJobSchema } } },
        404: noSuchJob,
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
      path: `${path}/{id}/cancel`,
      tags,
      summary: `Cancels a running ${noun}: its finished cells stay journaled (start the same id again to resume) (admin)`,
      request: { params: idParam },
      responses: {
        202: { description: 'Cancellation requested', content: { 'application/json': { schema: z.object({}).passthrough() } } },
        404: noSuchJob,
        409: errors(`The ${noun} is not running`),
      },
    }),
    (c) => {
      requireAdmin(c.get('caller'));
      const job = findJob(c.req.valid('param').id);
      if (!jobs.cancel(job.id))
        throw new GatewayError(409, 'invalid_request_error', `${noun}_not_running`, `${Noun} "${job.id}" is not running (${job.status}).`);
      return c.json({ id: job.id, cancelling: true }, 202);
    },
  );

  return { folder, idParam, notFound };
}
