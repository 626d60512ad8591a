/**
 * Fleet configuration: which models exist, how to reach them, and what they cost. Validated with zod; every
 * problem is reported with its JSON path. API keys never live in the file — only the name of the
 * environment variable that holds them.
 *
 * Lookup order for the file: an explicit path (flag), then THICKET_CONFIG, then ./thicket.config.json.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError, readUserFile, type InputIssue } from '../core/index.ts';

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
    /**
     * The environment variable holding the key (sent as `Authorization: Bearer …`). When it is unset or empty,
     * calls to the model are refused before anything is sent (MISSING_API_KEY) — unless `apiKeyOptional`.
     * Without `apiKeyEnv` no key is sent (a local server).
     */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** The server needs no key: send the one in `apiKeyEnv` when it is set, and no Authorization header when not. */
    apiKeyOptional: z.boolean().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ...commonFields,
  })
  .strict()
  .refine((entry) => entry.apiKeyOptional === undefined || entry.apiKeyEnv !== undefined, {
    path: ['apiKeyOptional'],
    message: 'only applies with "apiKeyEnv" (without it no key is sent at all)',
  });

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

/** The semantic null threshold τ₀ measured for an embedder (criticality); optional, measured on first use otherwise. */
const nullThresholdField = z.number().min(0).lt(1).optional();

export const openAICompatibleEmbedderSchema = z
  .object({
    provider: z.literal('openai-compatible'),
    baseURL: z.url({ message: 'must be a URL such as http://localhost:11434/v1' }),
    model: z.string().min(1),
    /** Length of the vectors the model returns (checked on every response). */
    dimension: z.number().int().positive(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    headers: z.record(z.string(), z.string()).optional(),
    sendDimensions: z.boolean().optional(),
    batchSize: z.number().int().positive().optional(),
    nullThreshold: nullThresholdField,
  })
  .strict();

export const llamaEmbedderSchema = z
  .object({
    provider: z.literal('llama'),
    /** Path to a .gguf embedding model (or `gguf:<path>`). */
    path: z.string().min(1),
    contextSize: z.number().int().positive().optional(),
    threads: z.number().int().positive().optional(),
    nullThreshold: nullThresholdField,
  })
  .strict();

export const embedderEntrySchema = z.discriminatedUnion('provider', [openAICompatibleEmbedderSchema, llamaEmbedderSchema]);
export type EmbedderEntry = z.infer<typeof embedderEntrySchema>;

export const modelEntrySchema = z.discriminatedUnion('provider', [openAICompatibleModelSchema, simModelSchema, llamaModelSchema]);

export const fleetConfigSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    defaultModel: z.string().min(1).optional(),
    models: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'aliases use letters, digits, ".", "_" and "-" (no ":")'), modelEntrySchema)
      .default({}),
    /**
     * The embedder of the registry and criticality commands when no --embedder is given: `hash` (the default
     * hashing embedder), `hash-v1-<dimension>`, `gguf:<path>`, or an alias in `embedders`.
     */
    embedder: z.string().min(1).optional(),
    /** Named embedding endpoints / models, referenced by alias from `embedder` or --embedder. */
    embedders: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'aliases use letters, digits, ".", "_" and "-" (no ":")'),
        embedderEntrySchema,
      )
      .optional(),
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

/** What an embedder reference names (see `parseEmbedderReference`). */
export type EmbedderReference =
  { kind: 'hash'; dimension: number } | { kind: 'gguf'; path: string } | { kind: 'alias'; alias: string; entry: EmbedderEntry };

/** The hashing embedder's default dimension (`hash` = `hash-v1-384`). */
export const DEFAULT_HASH_DIMENSION = 384;

/**
 * Parses an embedder reference: `hash` (the hashing embedder, 384 dimensions), `hash-v1-<dimension>` or
 * `hash:<dimension>` (8–16384), `gguf:<path>` (a local GGUF embedding model), or an alias in the config's
 * `embedders`. Returns the reason it is not one of those as a string.
 */
export function parseEmbedderReference(reference: string, config: Pick<FleetConfig, 'embedders'>): EmbedderReference | string {
  const trimmed = reference.trim();
  if (trimmed === 'hash') return { kind: 'hash', dimension: DEFAULT_HASH_DIMENSION };
  const hash = /^(?:hash-v1-|hash:)(\d+)$/.exec(trimmed);
  if (hash) {
    const dimension = Number(hash[1]);
    return dimension >= 8 && dimension <= 16_384 ? { kind: 'hash', dimension } : `"${reference}": the hashing dimension must be 8–16384`;
  }
  if (trimmed.startsWith('gguf:'))
    return trimmed.length > 5 ? { kind: 'gguf', path: trimmed.slice(5) } : `"${reference}": give a path after gguf:`;
  const entry = config.embedders?.[trimmed];
  if (entry !== undefined) return { kind: 'alias', alias: trimmed, entry };
  const aliases = Object.keys(config.embedders ?? {});
  return (
    `"${reference}" is not an embedder: use hash, hash-v1-<dimension>, gguf:<path>, or an alias under "embedders" in the fleet config` +
    (aliases.length > 0 ? ` (configured: ${aliases.join(', ')})` : ' (none configured)')
  );
}

export function parseFleetConfig(value: unknown, source = 'fleet config'): FleetConfig {
  const parsed = fleetConfigSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error), 'INVALID_CONFIG');
  const config = parsed.data;
  if (config.embedder !== undefined) {
    const reference = parseEmbedderReference(config.embedder, config);
    if (typeof reference === 'string')
      throw new InvalidInputError(`Invalid ${source}`, [{ path: 'embedder', message: reference }], 'INVALID_CONFIG');
  }
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
  const raw = readUserFile(path, { what: 'fleet config', code: 'INVALID_CONFIG', format: 'json' });
  return { config: parseFleetConfig(raw, `fleet config ${path}`), path };
}
