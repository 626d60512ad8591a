/**
 * `gguf:` references and `provider: "llama"` fleet entries → a resolved model (provider + profile), for the
 * FleetResolver. `gguf:<path>` runs that file; `gguf:default` (or `path: "default"` in the config) runs the
 * pulled default model and, when nothing is pulled, fails with ModelNotPulledError saying how to get one.
 *
 * Profile defaults for a local model: price 0, tier small, concurrency = sequences (the fleet's per-model
 * limit then matches the sequences the context has), a generous timeout (CPU inference is slow), and the
 * context window = the context size each sequence gets.
 */
import type { ResolvedModel } from '../fleet.ts';
import type { ModelProfile } from '../spec.ts';
import { existsSync, statSync } from 'node:fs';
import { UnknownModelError } from '../../core/index.ts';
import { DEFAULT_LLAMA_CONTEXT_SIZE, PULL_HINT, ggufHeaderProblem, ggufPath } from './engine.ts';
import { LlamaProvider } from './llama-provider.ts';
import { DEFAULT_PULL_MODEL, modelsCacheDir, requirePulledModel } from './pull.ts';

export interface LlamaModelSettings {
  /** Path to a .gguf file, or `default` for the pulled default model. */
  path: string;
  contextSize?: number | undefined;
  sequences?: number | undefined;
  threads?: number | undefined;
  tier?: ModelProfile['tier'] | undefined;
  priceInputPerMillion?: number | undefined;
  priceOutputPerMillion?: number | undefined;
  reasoning?: boolean | undefined;
  maxConcurrency?: number | undefined;
  timeoutMs?: number | undefined;
}

const DEFAULT_LLAMA_TIMEOUT_MS = 300_000;

/**
 * Our o200k count of a prompt can be well below the model's own (another tokenizer, the chat template's
 * markers), so reservations add 25% + 64 tokens. The provider checks the real count and refuses overflow.
 */
export const llamaPromptMargin = (counted: number): number => Math.ceil(counted * 0.25) + 64;

export function resolveGgufModel(
  reference: string,
  settings: LlamaModelSettings,
  options: { environment?: NodeJS.ProcessEnv; seed?: number } = {},
): ResolvedModel {
  const path =
    settings.path === 'default'
      ? requirePulledModel(DEFAULT_PULL_MODEL, { cacheDir: modelsCacheDir(options.environment) }).path
      : settings.path;
  // A stat and 24 bytes now, so a mistyped path is bad input when the reference resolves (a CLI rejects it
  // before it journals a run), not an error in the middle of a run; llama.cpp's own load errors come later.
  const file = ggufPath(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new UnknownModelError(reference, `No model file at ${file}. ${PULL_HINT}`);
  const headerProblem = ggufHeaderProblem(file);
  if (headerProblem)
    throw new UnknownModelError(
      reference,
      `${file} is ${headerProblem.startsWith('not') ? '' : 'a GGUF file llama.cpp cannot read: '}${headerProblem}. ${PULL_HINT}`,
    );
  const contextSize = settings.contextSize ?? DEFAULT_LLAMA_CONTEXT_SIZE;
  const sequences = settings.sequences ?? 1;
  const provider = new LlamaProvider({
    modelPath: path,
    contextSize,
    sequences,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  return {
    provider,
    profile: {
      reference,
      tier: settings.tier ?? 'small',
      priceInputPerMillion: settings.priceInputPerMillion ?? 0,
      priceOutputPerMillion: settings.priceOutputPerMillion ?? 0,
      contextWindow: contextSize,
      reasoning: settings.reasoning ?? false,
      maxConcurrency: settings.maxConcurrency ?? sequences,
      timeoutMs: settings.timeoutMs ?? DEFAULT_LLAMA_TIMEOUT_MS,
      simulated: false,
    },
    promptMargin: llamaPromptMargin,
  };
}
