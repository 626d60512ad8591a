/**
 * REST for `thicket eval` as background jobs, beside the studies (rest-studies.ts; the routes they share are in
 * background-jobs.ts): start (202), list, status with the EvalResult once finished, cancel. Admin only. The
 * client sends its dataset's rows in the body (never a server path): they are written to
 * `evals/<id>/dataset.jsonl` beside the journal, the report goes to the same folder, and starting the same id
 * again resumes its finished cells (changed rows are refused). Custom scorer modules are not accepted over
 * HTTP (they would run the client's code in the gateway).
 */
import { z } from '@hono/zod-openapi';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalRequest, EvalResult } from '../lab/index.ts';
import { JOB_ID, listEntry, registerJobRoutes, seed } from './background-jobs.ts';
import type { GatewayApp, GatewayContext } from './context.ts';
import type { StudyJob } from './study-jobs.ts';

type EvalJob = StudyJob<EvalRequest, EvalResult>;

export const MAX_EVAL_ROWS = 10_000;
const field = z.string().min(1).max(200);

const evalBody = z
  .object({
    id: z.string().regex(JOB_ID, 'use 1–64 letters, digits, ".", "_" or "-"').optional(),
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
    strategies: z.array(listEntry).min(1).max(16).optional(),
    budgets: z.array(z.number().int().positive().max(1e9)).min(1).max(16).optional(),
    models: z.array(listEntry).min(1).max(16),
    seeds: z.array(seed).min(1).max(16).optional(),
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

export function registerEvalRoutes(app: GatewayApp, context: GatewayContext): void {
  registerJobRoutes(app, context, {
    kind: { noun: 'eval', plural: 'evals', article: 'an' },
    jobs: context.evals,
    body: evalBody,
    summaries: {
      start: 'Starts a matched-budget evaluation on the rows sent, in the background (admin); poll GET /v1/evals/{id}',
      get: 'An eval’s status, and once finished its result: accuracy and cost with CIs, paired comparisons, judge spend (admin)',
    },
    invalidDescription: 'Invalid request or dataset: every problem',
    // The dataset's path is the server's business, not the client's.
    requestView: ({ dataset: _path, ...request }) => request,
    prepare: (body, folder) => {
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
      return { request, report: join(folder, 'report') };
    },
  });
}
