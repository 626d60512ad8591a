/**
 * REST for the lab's matched-budget studies, run as background jobs in the gateway's process: start (202),
 * list, status with the StudyResult once finished, cancel (the routes shared with evals, background-jobs.ts),
 * and the report's JSON. Admin only: a study's model calls are not charged to any client key's budget. The
 * client names the study (its id) but never a server path: the study file is a built-in one, and the report
 * goes to `studies/<id>/` beside the journal.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireAdmin } from './access.ts';
import { JOB_ID, listEntry, registerJobRoutes, seed } from './background-jobs.ts';
import { errorSchema } from './chat-route.ts';
import { asJson, type GatewayApp, type GatewayContext } from './context.ts';
import { GatewayError } from './errors.ts';
import type { StudyJob } from './study-jobs.ts';

/** Items per suite at most (the built-in studies use 24–80). */
export const MAX_STUDY_ITEMS = 1_000;

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
      .regex(JOB_ID, 'use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit')
      .optional()
      .openapi({ description: 'Study id; starting an id again resumes its finished cells. Default: a new id.' }),
    suites: list(listEntry).optional().openapi({ description: 'Only these suites of the study.' }),
    architectures: list(listEntry).optional(),
    budgets: list(z.number().positive().max(1e9)).optional().openapi({ description: 'Per-query budgets (the study’s unit).' }),
    models: list(listEntry).optional(),
    seeds: list(seed).optional(),
    items: z.number().int().min(1).max(MAX_STUDY_ITEMS).optional().openapi({ description: 'Items per suite.' }),
    concurrency: z.number().int().min(1).max(64).optional(),
  })
  .strict()
  .openapi('StudyRequest', { example: { quick: 'sim', items: 4, architectures: ['single', 'vote'], models: ['sim:small'] } });

export function registerStudyRoutes(app: GatewayApp, context: GatewayContext): void {
  const studies = registerJobRoutes(app, context, {
    kind: { noun: 'study', plural: 'studies', article: 'a' },
    jobs: context.studies,
    body: studyBody,
    jobDescription:
      'id, status (running | ok | error | cancelled), request, started_at, finished_at, simulated, progress (total, done, failed cells), error; ' +
      'GET /v1/studies/{id} adds result (the StudyResult).',
    summaries: {
      start: 'Starts a matched-budget study in the background (admin); poll GET /v1/studies/{id}',
      get: 'A study’s status, and once finished its result (counts, accuracy table, headline; `simulated` says so) (admin)',
    },
    invalidDescription: 'Invalid request (unknown suite, architecture or model…): every problem',
    busyAdvice: ': wait for one to finish',
    prepare: (body, folder) => {
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
      return { request, report: folder };
    },
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/studies/{id}/report',
      tags: ['Studies'],
      summary: 'The study’s report as JSON (analysis and run summary; `simulated` says so), once written (admin)',
      request: { params: studies.idParam },
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
      // against JOB_ID, so the path stays inside the studies directory).
      const path = job ? (job.result?.report?.json ?? null) : studies.folder === null ? null : join(studies.folder, id, 'report.json');
      if (path === null || !existsSync(path)) {
        if (!job) throw studies.notFound(id);
        throw new GatewayError(404, 'not_found_error', 'report_not_written', `Study "${id}" wrote no report (${job.status}).`);
      }
      return c.json(asJson(JSON.parse(readFileSync(path, 'utf8'))), 200);
    },
  );
}
