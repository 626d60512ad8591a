/**
 * Turns model references into providers and profiles:
 *   - `sim:<profile>`       the simulated fleet (always available, offline, seeded)
 *   - `<alias>`             a model from the fleet config
 *   - `openai:<model>`      the OpenAI API (or OPENAI_BASE_URL), key from OPENAI_API_KEY
 *   - `gguf:<path>`         a local GGUF file run in-process by node-llama-cpp (`gguf:default`: the pulled default)
 *   - `tiny:<name>`         a tiny model Thicket trained itself, shipped in models/tiny (real, tiny, synthetic tasks)
 */
import { MissingApiKeyError, UnknownModelError, type Clock } from '../core/index.ts';
import type { FleetConfig, ModelEntry } from './config.ts';
import type { ModelResolver, ResolvedModel } from './fleet.ts';
import { OpenAICompatibleProvider } from './openai-compatible/index.ts';
import { TINY_PREFIX, resolveGgufModel, resolveTinyModel, shippedTinyModels } from './llama/index.ts';
import { DEFAULT_SIM_PROFILES, SimProvider, TaskOracleRegistry, mergeSimProfile, type SimProfile } from './sim/index.ts';
import type { ModelProfile } from './spec.ts';
import { hostedModelPrice } from './prices.ts';

export interface ResolverOptions {
  config: FleetConfig;
  clock: Clock;
  seed: number;
  tasks?: TaskOracleRegistry;
  environment?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_CONTEXT_WINDOW = 32_768;

/**
 * Real providers count prompts with their own tokenizer and chat template; ours (o200k) can differ by a few
 * percent, so reservations add 10% + 32 tokens to stay a true worst case.
 */
const realPromptMargin = (counted: number): number => Math.ceil(counted * 0.1) + 32;
const exactPromptMargin = (): number => 0;

/**
 * Every model reference a fleet offers without being named in full: the simulated profiles, the shipped tiny
 * models and the config's aliases (`thicket fleet` and the gateway's `GET /v1/models` list these).
 */
export function fleetReferences(config: FleetConfig): string[] {
  return [
    ...Object.keys(DEFAULT_SIM_PROFILES).map((name) => `sim:${name}`),
    ...shippedTinyModels().map((model) => model.reference),
    ...Object.keys(config.models),
  ];
}

export class FleetResolver implements ModelResolver {
  readonly tasks: TaskOracleRegistry;
  private readonly options: ResolverOptions;

  constructor(options: ResolverOptions) {
    this.options = options;
    this.tasks = options.tasks ?? new TaskOracleRegistry();
  }

  resolve(reference: string): ResolvedModel {
    const { config } = this.options;
    const entry = config.models[reference];
    if (entry) return this.fromEntry(reference, entry);
    if (reference.startsWith('sim:')) {
      const name = reference.slice(4);
      const profile = DEFAULT_SIM_PROFILES[name];
      if (!profile)
        throw new UnknownModelError(
          reference,
          `Simulated profiles: ${Object.keys(DEFAULT_SIM_PROFILES)
            .map((key) => `sim:${key}`)
            .join(', ')}.`,
        );
      return this.sim(reference, name, profile, {});
    }
    if (reference.startsWith('openai:') && reference.length > 7) {
      const environment = this.options.environment ?? process.env;
      const apiKey = environment['OPENAI_API_KEY'];
      const baseURL = environment['OPENAI_BASE_URL'];
      const modelId = reference.slice(7);
      const provider = new OpenAICompatibleProvider({
        baseURL: baseURL ?? 'https://api.openai.com/v1',
        modelId,
        ...(apiKey ? { apiKey } : {}),
      });
      const entry = { tier: 'large' as const };
      return {
        provider,
        profile: realProfile(reference, entry, { modelId, ...(baseURL !== undefined ? { baseURL } : { providerId: 'openai' }) }),
        promptMargin: realPromptMargin,
        // OpenAI answers a request without a key with 401 after a round trip (and a key-less request to
        // OPENAI_BASE_URL would be as wrong): refused before anything is sent.
        ...(apiKey ? {} : { notReady: missingKey(reference, 'OPENAI_API_KEY', apiKey, OPENAI_KEY_HINT) }),
      };
    }
    if (reference.startsWith('gguf:') && reference.length > 5)
      return resolveGgufModel(
        reference,
        { path: reference.slice(5) },
        { environment: this.options.environment ?? process.env, seed: this.options.seed },
      );
    if (reference.startsWith(TINY_PREFIX)) return resolveTinyModel(reference, { seed: this.options.seed });
    const aliases = Object.keys(config.models);
    throw new UnknownModelError(
      reference,
      `Use sim:small|medium|large|reasoner-small|reasoner-large, tiny:<name>, openai:<model>, gguf:<path>|gguf:default, or an alias from ` +
        `thicket.config.json${aliases.length ? ` (${aliases.join(', ')})` : ' (none configured)'}.`,
    );
  }

  private fromEntry(reference: string, entry: ModelEntry): ResolvedModel {
    if (entry.provider === 'llama')
      return resolveGgufModel(reference, entry, { environment: this.options.environment ?? process.env, seed: this.options.seed });
    if (entry.provider === 'sim') {
      const base = DEFAULT_SIM_PROFILES[entry.profile];
      if (!base) throw new UnknownModelError(`sim:${entry.profile}`, `Alias "${reference}" names an unknown simulated profile.`);
      return this.sim(reference, entry.profile, base, { ...entry.overrides, ...pickDefined(entry) });
    }
    const environment = this.options.environment ?? process.env;
    const apiKey = entry.apiKeyEnv ? environment[entry.apiKeyEnv] : undefined;
    const provider = new OpenAICompatibleProvider({
      baseURL: entry.baseURL,
      modelId: entry.model,
      ...(apiKey ? { apiKey } : {}),
      ...(entry.headers ? { headers: entry.headers } : {}),
    });
    // A named key variable that is unset or empty: requests would go out without Authorization. Refused
    // before anything is sent, unless the model says it needs no key.
    const keyMissing = entry.apiKeyEnv !== undefined && !apiKey && entry.apiKeyOptional !== true;
    const profile = realProfile(reference, entry, { modelId: entry.model, baseURL: entry.baseURL });
    if (entry.structuredOutput === true) profile.structuredOutput = true;
    return {
      provider,
      profile,
      promptMargin: realPromptMargin,
      ...(keyMissing ? { notReady: missingKey(reference, entry.apiKeyEnv as string, apiKey) } : {}),
    };
  }

  private sim(reference: string, name: string, base: SimProfile, overrides: Record<string, unknown>): ResolvedModel {
    const profile = mergeSimProfile(base, overrides);
    const provider = new SimProvider({ profileName: name, profile, seed: this.options.seed, clock: this.options.clock, tasks: this.tasks });
    return {
      provider,
      profile: {
        reference,
        tier: profile.tier,
        priceInputPerMillion: profile.priceInputPerMillion,
        priceOutputPerMillion: profile.priceOutputPerMillion,
        contextWindow: profile.contextWindow,
        reasoning: profile.reasoning,
        maxConcurrency: typeof overrides['maxConcurrency'] === 'number' ? overrides['maxConcurrency'] : 64,
        timeoutMs: typeof overrides['timeoutMs'] === 'number' ? overrides['timeoutMs'] : DEFAULT_TIMEOUT_MS,
        simulated: true,
      },
      promptMargin: exactPromptMargin,
    };
  }
}

function pickDefined(entry: ModelEntry): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of [
    'tier',
    'priceInputPerMillion',
    'priceOutputPerMillion',
    'contextWindow',
    'reasoning',
    'maxConcurrency',
    'timeoutMs',
  ] as const) {
    if (entry[key] !== undefined) picked[key] = entry[key];
  }
  return picked;
}

const OPENAI_KEY_HINT = '(or configure the endpoint as an alias in thicket.config.json, with its own apiKeyEnv)';

function missingKey(reference: string, variable: string, value: string | undefined, hint?: string): MissingApiKeyError {
  return new MissingApiKeyError(reference, variable, { empty: value === '', ...(hint !== undefined ? { hint } : {}) });
}

/**
 * The profile of a real model. Prices: the config's, else (when `hosted` names a hosted endpoint) the price
 * table's for what the config leaves out — looked up only then, so local and fully priced models never load
 * the table. A model priced by neither is `unpriced` (its prices are 0; dollar limits cannot hold on it).
 */
function realProfile(
  reference: string,
  entry: Partial<Omit<ModelEntry, 'provider'>>,
  hosted?: { modelId: string; providerId?: string; baseURL?: string },
): ModelProfile {
  const contextWindow = entry.contextWindow ?? DEFAULT_CONTEXT_WINDOW;
  let input = entry.priceInputPerMillion;
  let output = entry.priceOutputPerMillion;
  if (hosted && (input === undefined || output === undefined)) {
    const table = hostedModelPrice({ ...hosted, contextWindow });
    input ??= table?.inputPerMillion;
    output ??= table?.outputPerMillion;
  }
  return {
    reference,
    tier: entry.tier ?? 'small',
    priceInputPerMillion: input ?? 0,
    priceOutputPerMillion: output ?? 0,
    contextWindow,
    reasoning: entry.reasoning ?? false,
    maxConcurrency: entry.maxConcurrency ?? 4,
    timeoutMs: entry.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    simulated: false,
    ...(input === undefined && output === undefined ? { unpriced: true } : {}),
  };
}
