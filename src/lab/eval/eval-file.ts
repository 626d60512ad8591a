/**
 * What an evaluation is: a dataset (and how to read and score it) × strategies × budgets × models × seeds.
 * Given as `thicket eval <dataset>` flags or as an `eval.yaml` with the same fields (flags win over the file);
 * validated with zod so every problem is reported at once with its path.
 *
 *   # eval.yaml
 *   dataset: fixtures/gsm8k-sample.jsonl     # relative to this file
 *   preset: gsm8k
 *   strategies: [single, vote]
 *   budgets: [2k, 8k]
 *   models: [sim:small]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError, readUserFile, type InputIssue } from '../../core/index.ts';
import { zodIssues } from '../../models/index.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;

/** `2k` → 2000, `1.5m` → 1,500,000, `800` → 800; undefined when it is none of these. */
export function parseAmount(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(text.trim());
  if (!match) return undefined;
  const scale = match[2] === '' ? 1 : match[2]!.toLowerCase() === 'k' ? 1_000 : 1_000_000;
  const value = Math.round(Number(match[1]) * scale * 1e6) / 1e6;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

const amount = z.union([z.number().positive(), z.string()]).transform((value, context) => {
  const parsed = typeof value === 'number' ? value : parseAmount(value);
  if (parsed === undefined) {
    context.addIssue({ code: 'custom', message: `"${String(value)}" is not an amount (e.g. 2000, 2k, 1.5m)` });
    return z.NEVER;
  }
  return parsed;
});
const list = <T extends z.ZodType>(item: T) => z.union([z.array(item).min(1), item.transform((value) => [value])]);

export const evalSchema = z
  .object({
    $schema: z.string().optional(),
    dataset: z.string().min(1),
    format: z.string().optional(),
    preset: z.string().optional(),
    input: z.string().min(1).optional(),
    answer: z.string().min(1).optional(),
    choices: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    /** The field holding each item's id. */
    id: z.string().min(1).optional(),
    scorer: z.string().min(1).optional(),
    limit: z.number().int().min(1).optional(),
    sample: z.number().int().min(1).optional(),
    split: z.string().min(1).optional(),
    strict: z.boolean().default(false),
    strategies: list(z.string().min(1)).default(['single']),
    budgets: list(amount).default([2000]),
    budgetUnit: z.enum(['tokens', 'usd']).default('tokens'),
    models: list(z.string().min(1)),
    seeds: list(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    ).default([1]),
    /** The eval's id: re-running the same id resumes (default: derived from the dataset and the options). */
    name: z.string().regex(NAME, 'use 1–64 letters, digits, ".", "_" or "-"').optional(),
    title: z.string().optional(),
    concurrency: z.number().int().min(1).max(512).default(8),
    maxOutputTokens: z.number().int().min(16).max(1_000_000).default(384),
    /** The LLM judge's slice, in tokens, for all its verdicts together (default 1,500 per cell). */
    judgeBudget: amount.optional(),
    /** A cap on the eval's whole spend, in dollars (enforced: cells it could not cover are not started). */
    maxUsd: z.number().positive().optional(),
    out: z.string().min(1).optional(),
    export: z.enum(EXPORT_FORMATS).optional(),
    config: z.string().min(1).optional(),
  })
  .strict();

export type EvalInput = z.input<typeof evalSchema>;
export type EvalDefinition = Omit<z.output<typeof evalSchema>, '$schema'> & {
  /** Absolute path of the eval file, when there was one. */
  source?: string;
};

export function parseEval(value: unknown, source = 'eval'): EvalDefinition {
  const parsed = evalSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error));
  const { $schema: _schema, ...definition } = parsed.data;
  const issues: InputIssue[] = [];
  for (const key of ['strategies', 'models', 'budgets', 'seeds'] as const) {
    const values: readonly unknown[] = definition[key];
    values.forEach((entry, index) => {
      if (values.indexOf(entry) !== index) issues.push({ path: `${key}[${index}]`, message: `duplicate ${JSON.stringify(entry)}` });
    });
  }
  if (definition.budgetUnit === 'tokens')
    definition.budgets.forEach(
      (budget, index) => Number.isInteger(budget) || issues.push({ path: `budgets[${index}]`, message: 'token budgets are whole numbers' }),
    );
  if (issues.length > 0) throw new InvalidInputError(`Invalid ${source}`, issues);
  return definition;
}

/** Reads an eval file (YAML or JSON); `dataset`, `config` and a scorer module path become absolute, relative to it. */
export function loadEvalFile(path: string): EvalDefinition {
  const absolute = resolve(path);
  const extension = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(extension))
    throw new InvalidInputError('Cannot read eval file', [{ path, message: 'use a .yaml, .yml or .json file' }]);
  const definition = parseEval(readUserFile(path, { what: 'eval file' }), `eval ${path}`);
  const near = (file: string): string => resolve(dirname(absolute), file);
  return {
    ...definition,
    dataset: near(definition.dataset),
    ...(definition.config !== undefined ? { config: near(definition.config) } : {}),
    ...(definition.scorer !== undefined && /\.(m?js|cjs|m?ts)$/.test(definition.scorer) ? { scorer: near(definition.scorer) } : {}),
    source: absolute,
  };
}

/** Whether a `thicket eval` argument names an eval file rather than a dataset. */
export const isEvalFile = (path: string): boolean => /\.(ya?ml)$/i.test(path) || /(^|[/\\])eval\.json$/i.test(path);

/** The fields that decide what the eval's cells mean: their hash names a default eval id (same command → resume). */
export function evalIdentity(definition: EvalDefinition): Record<string, unknown> {
  let digest = 'unreadable';
  try {
    digest = createHash('sha256').update(readFileSync(definition.dataset)).digest('hex').slice(0, 16);
  } catch {
    // the loader reports a missing file with its own message
  }
  return {
    dataset: basename(definition.dataset),
    sha256: digest,
    format: definition.format ?? null,
    preset: definition.preset ?? null,
    fields: {
      input: definition.input,
      answer: definition.answer,
      choices: definition.choices,
      context: definition.context,
      id: definition.id,
    },
    scorer: definition.scorer ?? null,
    limit: definition.limit ?? null,
    sample: definition.sample ?? null,
    split: definition.split ?? null,
  };
}

export function defaultEvalId(definition: EvalDefinition): string {
  const stem = basename(definition.dataset)
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 40);
  const hash = createHash('sha256')
    .update(JSON.stringify(evalIdentity(definition)))
    .digest('hex')
    .slice(0, 8);
  return `${stem || 'eval'}-${hash}`;
}
