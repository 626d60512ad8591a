/**
 * Fleet configuration: which models exist, how to reach them, and what they cost. Validated with zod; every
 * problem is reported with its JSON path. API keys never live in the file — only the name of the
 * environment variable that holds them.
 *
 * Lookup order for the file: an explicit path (flag), then THICKET_CONFIG, then ./thicket.config.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError, type InputIssue } from '../core/index.ts';

const tierSchema = z.enum(['small', 'medium', 'large']);

const commonFields = {
  tier: tierSchema.optional(),
  priceInputPerMillion: z.number().nonnegative().optional(),
  priceOutputPerMillion: z.number().nonnegative().optional(),
  contextWindow: z.number().int().positive().optional(),
  reasoning: z.boolean().optional(),
  maxConcurrency: z.number().int().positive().max(1024).optional(),
  timeoutMs: z.number().int().positive().optional(),
  description: z.string().optional(),
};

export const openAICompatibleModelSchema = z
  .object({
    provider: z.literal('openai-compatible'),
    baseURL: z.url({ message: 'must be a URL such as http://localhost:11434/v1' }),
    model: z.string().min(1),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ...commonFields,
  })
  .strict();

export const simModelSchema = z
  .object({
    provider: z.literal('sim'),
    /** Base profile (`small`, `medium`, `large`, `reasoner-small`, `reasoner-large`). */
    profile: z.string().min(1),
    /** Profile fields to override (skill, gain, prices, latency, faults, …); checked by the sim. */
    overrides: z.record(z.string(), z.unknown()).optional(),
    ...commonFields,
  })
  .strict();

export const llamaModelSchema = z
  .object({
    provider: z.literal('llama'),
    /** Path to a .gguf file, or "default" for the pulled default model. */
    path: z.string().min(1),
    contextSize: z.number().int().positive().optional(),
    sequences: z.number().int().positive().max(64).optional(),
    threads: z.number().int().positive().optional(),
    ...commonFields,
  })
  .strict();

export const modelEntrySchema = z.discriminatedUnion('provider', [openAICompatibleModelSchema, simModelSchema, llamaModelSchema]);

export const fleetConfigSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    defaultModel: z.string().min(1).optional(),
    models: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'aliases use letters, digits, ".", "_" and "-" (no ":")'), modelEntrySchema)
      .default({}),
  })
  .strict();

export type FleetConfig = z.infer<typeof fleetConfigSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export function zodIssues(error: z.ZodError, prefix = ''): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))]
      .filter(Boolean)
      .join('.')
      .replace(/\.\[/g, '['),
    message: issue.message,
  }));
}

export function parseFleetConfig(value: unknown, source = 'fleet config'): FleetConfig {
  const parsed = fleetConfigSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error), 'INVALID_CONFIG');
  const config = parsed.data;
  if (
    config.defaultModel !== undefined &&
    !config.defaultModel.startsWith('sim:') &&
    !(config.defaultModel in config.models) &&
    !config.defaultModel.startsWith('openai:') &&
    !config.defaultModel.startsWith('gguf:')
  ) {
    throw new InvalidInputError(
      `Invalid ${source}`,
      [{ path: 'defaultModel', message: `"${config.defaultModel}" is neither a configured alias nor a sim:/openai:/gguf: reference` }],
      'INVALID_CONFIG',
    );
  }
  return config;
}

export interface LoadedConfig {
  config: FleetConfig;
  /** Absolute path the config came from; undefined when none was found (the empty default). */
  path: string | undefined;
}

/** Loads the fleet config from `explicitPath`, THICKET_CONFIG, or ./thicket.config.json (in that order). */
export function loadFleetConfig(explicitPath?: string, environment: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const candidate = explicitPath ?? environment['THICKET_CONFIG'];
  const path = candidate !== undefined ? resolve(cwd, candidate) : resolve(cwd, 'thicket.config.json');
  if (!existsSync(path)) {
    if (candidate !== undefined)
      throw new InvalidInputError('Cannot load fleet config', [{ path: candidate, message: 'file not found' }], 'INVALID_CONFIG');
    return { config: { version: 1, models: {} }, path: undefined };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(
      'Cannot load fleet config',
      [{ path, message: `not valid JSON (${(error as Error).message})` }],
      'INVALID_CONFIG',
    );
  }
  return { config: parseFleetConfig(raw, `fleet config ${path}`), path };
}
