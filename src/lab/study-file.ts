/**
 * Study files: YAML or JSON declaring suites × architectures × budgets × models × seeds. Validated with zod
 * (structure) and then against the architecture registry and the fleet (names that must resolve); every
 * problem is reported at once with its path (`suites[1].items`, `architectures[3]`), and unparsable files
 * with `line:column`, so a user fixes a study in one pass.
 *
 *   version: 1
 *   id: quick
 *   suites: [{ kind: arithmetic, items: 12 }, { kind: multihop, items: 12, hops: [1, 3] }]
 *   architectures: [single, vote, search@3]
 *   budgets: [800, 3000]
 *   models: [sim:small]
 */
import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidInputError, readUserFile, type InputIssue } from '../core/index.ts';
import { TINY_MODELS, TINY_PREFIX, tinyModelInfo, zodIssues, type ModelResolver } from '../models/index.ts';
import { OBJECTIVES } from '../governor/index.ts';
import type { ArchitectureRegistry } from './architectures.ts';
import { AGENTSNET_FAMILIES, AGENTSNET_TASKS, type SuiteSpec } from './suites/index.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const range = (low: number, high: number) =>
  z
    .tuple([z.number().int().min(low).max(high), z.number().int().min(low).max(high)])
    .refine(([from, to]) => from <= to, { message: 'the first bound must not exceed the second' });
const items = z.number().int().min(1).max(100_000);
const suiteName = z.string().regex(NAME, 'use letters, digits, ".", "_" or "-"').optional();

const suiteSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('arithmetic'),
      name: suiteName,
      items,
      operations: range(1, 12).default([2, 6]),
      maxOperand: z.number().int().min(3).max(10_000).optional(),
      maxFactor: z.number().int().min(2).max(1000).optional(),
      minDifficulty: z.number().optional(),
      maxDifficulty: z.number().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('logic'), name: suiteName, items, steps: range(1, 24).default([2, 8]) }).strict(),
  z
    .object({
      kind: z.literal('multihop'),
      name: suiteName,
      items,
      hops: range(1, 3).default([1, 3]),
      countries: z.number().int().min(3).max(1000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('agentsnet'),
      name: suiteName,
      tasks: z
        .array(z.enum(AGENTSNET_TASKS))
        .min(1)
        .default([...AGENTSNET_TASKS]),
      sizes: z.array(z.number().int().min(2).max(10_000)).min(1),
      families: z
        .array(z.enum(AGENTSNET_FAMILIES))
        .min(1)
        .default([...AGENTSNET_FAMILIES]),
      instances: z.number().int().min(1).max(100).default(3),
    })
    .strict(),
]);

export const studySchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    id: z.string().regex(NAME, 'use 1–64 letters, digits, ".", "_" or "-"'),
    title: z.string().optional(),
    description: z.string().optional(),
    suites: z.array(suiteSchema).min(1),
    architectures: z.array(z.string().min(1)).min(1),
    /** Per-query hard budgets (the matched budgets), in `budgetUnit`. */
    budgets: z.array(z.number().positive().max(Number.MAX_SAFE_INTEGER)).min(1),
    budgetUnit: z.enum(['tokens', 'usd']).default('tokens'),
    models: z.array(z.string().min(1)).min(1),
    seeds: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1),
      )
      .min(1)
      .default([1]),
    /** Cells in flight at once. */
    concurrency: z.number().int().min(1).max(512).default(8),
    maxOutputTokens: z.number().int().min(16).max(1_000_000).default(384),
    /** `degrade`: run, operators do less when the cap bites; `scale`: shrink the workflow to the cap first. */
    budgetPolicy: z.enum(['degrade', 'scale']).default('degrade'),
    /** What `auto` spends least of at the accuracy the budget buys — its frontier table's objective (default tokens). */
    optimize: z.enum(OBJECTIVES).optional(),
    /** Optional caps on the whole study's spend; cells that could overrun them are not started. */
    limits: z
      .object({ usd: z.number().positive().max(Number.MAX_SAFE_INTEGER).optional(), tokens: z.number().int().positive().optional() })
      .strict()
      .optional(),
    /**
     * The TIM experiment after the cells (src/lab/tiny-thread-eval.ts): a `tiny:` thread model on held-out problems
     * whose full thread trace exceeds its context — KV-pruned thread vs unpruned vs chain of thought. Local and
     * free; measured again on resume (greedy decoding on one sequence: the same result).
     */
    tim: z
      .object({
        model: z.string().min(1),
        items: z.number().int().min(1).max(1000).default(10),
        bufferSize: z.number().int().min(1).max(8).default(2),
      })
      .strict()
      .optional(),
    /** Fleet config file (relative to the study file). */
    config: z.string().min(1).optional(),
    /** Report folder (relative to the working directory). */
    output: z.string().min(1).optional(),
  })
  .strict();

export type StudyInput = z.input<typeof studySchema>;
type ParsedStudy = z.output<typeof studySchema>;

/** A validated study, suites named and defaults filled in. */
export interface StudyDefinition extends Omit<ParsedStudy, 'suites' | '$schema'> {
  suites: SuiteSpec[];
  /** Absolute path of the study file, when it came from one. */
  source?: string;
}

/** Structural validation: a StudyDefinition, or every problem with its path. */
export function parseStudy(value: unknown, source = 'study'): StudyDefinition {
  const parsed = studySchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error));
  const { $schema: _ignored, suites, ...rest } = parsed.data;
  const issues: InputIssue[] = [];
  const named = suites.map((suite, index) => ({ ...suite, name: suite.name ?? suite.kind, index }));
  const seen = new Map<string, number>();
  for (const suite of named) {
    const first = seen.get(suite.name);
    if (first !== undefined)
      issues.push({
        path: `suites[${suite.index}].name`,
        message: `"${suite.name}" is already the name of suites[${first}]; give each suite a distinct name`,
      });
    else seen.set(suite.name, suite.index);
  }
  duplicates(rest.architectures, 'architectures', issues);
  duplicates(rest.models, 'models', issues);
  duplicates(rest.budgets, 'budgets', issues);
  duplicates(rest.seeds, 'seeds', issues);
  if (rest.budgetUnit === 'tokens')
    rest.budgets.forEach(
      (budget, index) =>
        Number.isInteger(budget) || issues.push({ path: `budgets[${index}]`, message: 'token budgets must be whole numbers' }),
    );
  if (rest.tim && tinyModelInfo(rest.tim.model)?.format !== 'thread') {
    const threads = TINY_MODELS.filter((model) => model.format === 'thread').map((model) => `${TINY_PREFIX}${model.name}`);
    issues.push({ path: 'tim.model', message: `"${rest.tim.model}" is not a tiny thread model (${threads.join(', ')})` });
  }
  if (issues.length > 0) throw new InvalidInputError(`Invalid ${source}`, issues);
  return { ...rest, suites: named.map(({ index: _index, ...suite }) => suite) };
}

function duplicates(values: readonly unknown[], path: string, issues: InputIssue[]): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) issues.push({ path: `${path}[${index}]`, message: `duplicate ${JSON.stringify(value)}` });
    seen.add(key);
  });
}

/** Reads a study file (`.yaml`, `.yml` or `.json`); syntax errors point at line:column. */
export function readStudyFile(path: string): unknown {
  const extension = extname(path).toLowerCase();
  if (existsSync(path) && extension !== '.json' && extension !== '.yaml' && extension !== '.yml')
    throw new InvalidInputError('Cannot read study', [{ path, message: 'use a .yaml, .yml or .json file' }]);
  return readUserFile(path, { what: 'study' });
}

/** Reads and structurally validates a study file. `config` becomes absolute (relative to the file). */
export function loadStudyFile(path: string): StudyDefinition {
  const absolute = resolve(path);
  const study = parseStudy(readStudyFile(path), `study ${path}`);
  return { ...study, source: absolute, ...(study.config !== undefined ? { config: resolve(dirname(absolute), study.config) } : {}) };
}

/** Built-in study files shipped in `studies/` (`quick`, `default`, `real-model`). */
export function builtinStudyPath(name: string): string {
  return fileURLToPath(new URL(`../../studies/${name}.yaml`, import.meta.url));
}

/**
 * Checks what structure cannot: architecture names (against the registry) and model references (against
 * the fleet). Throws InvalidInputError listing every problem.
 */
export function checkStudy(study: StudyDefinition, registry: ArchitectureRegistry, resolver: ModelResolver, source = 'study'): void {
  const issues: InputIssue[] = [];
  study.architectures.forEach((name, index) => {
    const parsed = registry.parse(name);
    if ('problem' in parsed) issues.push({ path: `architectures[${index}]`, message: parsed.problem });
  });
  study.models.forEach((model, index) => {
    try {
      resolver.resolve(model);
    } catch (error) {
      issues.push({ path: `models[${index}]`, message: (error as Error).message });
    }
  });
  if (issues.length > 0) throw new InvalidInputError(`Invalid ${source}`, issues);
}
