/**
 * Thicket's own tiny models (`tiny:<name>`): llama-architecture models of ~1–3M parameters that the project
 * trains itself on its generated tasks (training/, issue 18) and ships as GGUF files in `models/tiny/`, each
 * with a model card (`<file>.card.json`: parameters, data, recipe, wall time, sha256, held-out accuracy by
 * difficulty). They are real — real weights, real llama.cpp inference, real sampling noise, real token
 * counts — but tiny, trained on synthetic tasks: every result on them is labelled so.
 *
 * They are task-trained, not instruction-tuned: their provider renders prompts with `renderTinyPrompt` (the
 * plain template, system messages dropped), exactly as their training data was tokenized.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnknownModelError } from '../../core/index.ts';
import type { ResolvedModel } from '../fleet.ts';
import type { ChatMessage, ModelProfile } from '../spec.ts';
import { LlamaProvider } from './llama-provider.ts';

export const TINY_PREFIX = 'tiny:';
export const TINY_LABEL = 'real — tiny models trained on synthetic tasks';

export interface TinyModelInfo {
  /** `reasoning-small` for `tiny:reasoning-small`. */
  name: string;
  /**
   * What the model writes: `Answer: v` at once (direct), one line per operation first (reasoning), or Thicket's
   * thread format — a tree of subtasks decoded by the KV thread, trained on what its pruned cache holds (thread).
   */
  format: 'direct' | 'reasoning' | 'thread';
  tier: ModelProfile['tier'];
  description: string;
}

/** The shipped tiny models, cheapest first. */
export const TINY_MODELS: readonly TinyModelInfo[] = [
  { name: 'direct-small', format: 'direct', tier: 'small', description: 'answers at once (no steps); ~0.9M parameters' },
  { name: 'reasoning-small', format: 'reasoning', tier: 'small', description: 'writes each operation, then the answer; ~0.9M parameters' },
  { name: 'reasoning-large', format: 'reasoning', tier: 'large', description: 'the reasoning format at ~2.8M parameters' },
  {
    name: 'thread-small',
    format: 'thread',
    tier: 'small',
    description: 'reasons in subtask trees with a KV-pruned cache (thread strategy), or step by step when asked; ~0.9M parameters',
  },
];

/**
 * The KV thread's bounds on a thread model: its strings are short (a sub-expression, a number) and its context
 * small, so each piece must fit in what the context has left; greedy unless a request samples.
 */
export const TINY_THREAD_BOUNDS = { maxThoughtChars: 32, maxConclusionChars: 16, maxAnswerChars: 16, maxSubtasks: 4, temperature: 0 };

export interface TinyModelCard {
  name: string;
  reference: string;
  file: string;
  sha256: string;
  bytes: number;
  parameters: number;
  format: TinyModelInfo['format'];
  tier: ModelProfile['tier'];
  reasoning: boolean;
  contextSize: number;
  architecture: { dim: number; blocks: number; heads: number; ff: number; context: number };
  data: Record<string, unknown>;
  training: Record<string, unknown>;
  heldOut: {
    items: number;
    seed: number;
    maxOutputTokens: number;
    accuracy: number;
    byOperations: Record<string, { items: number; correct: number; accuracy: number }>;
  };
  label: string;
  /** Thread models: the TIM experiment on held-out problems (src/lab/tiny-thread-eval.ts). */
  tim?: Record<string, unknown>;
}

/** `models/tiny` of the package (the same from src/ under tsx and from dist/ once built). */
export function tinyModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'tiny');
}

export const tinyModelFile = (name: string, dir = tinyModelsDir()): string => join(dir, `tiny-${name}.gguf`);

export function tinyModelInfo(reference: string): TinyModelInfo | undefined {
  const name = reference.startsWith(TINY_PREFIX) ? reference.slice(TINY_PREFIX.length) : reference;
  return TINY_MODELS.find((model) => model.name === name);
}

/** The model's card, or undefined when the model is not shipped in `dir`. */
export function readTinyModelCard(name: string, dir = tinyModelsDir()): TinyModelCard | undefined {
  const path = `${tinyModelFile(name, dir)}.card.json`;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as TinyModelCard) : undefined;
}

/** The tiny models shipped (file and card present), in catalogue order. */
export function shippedTinyModels(dir = tinyModelsDir()): Array<TinyModelInfo & { reference: string; card: TinyModelCard }> {
  return TINY_MODELS.flatMap((model) => {
    const card = readTinyModelCard(model.name, dir);
    return card && existsSync(tinyModelFile(model.name, dir)) ? [{ ...model, reference: `${TINY_PREFIX}${model.name}`, card }] : [];
  });
}

/**
 * A tiny model's cascade: itself, then the shipped reasoning model of each higher tier (a direct small model
 * escalates to the large reasoning one). Only shipped models are on it.
 */
export function tinyCascadeLadder(reference: string, dir = tinyModelsDir()): string[] {
  const info = tinyModelInfo(reference);
  if (!info) return [reference];
  const order = ['small', 'medium', 'large'];
  const higher = shippedTinyModels(dir).filter(
    (model) => model.format === 'reasoning' && order.indexOf(model.tier) > order.indexOf(info.tier),
  );
  const byTier = new Map<string, string>();
  for (const model of higher) if (!byTier.has(model.tier)) byTier.set(model.tier, model.reference);
  return [reference, ...byTier.values()];
}

/** The length of `renderTinyPrompt`'s tokens on the byte vocabulary: <s>, then one token per UTF-8 byte. */
export function tinyPromptTokens(messages: readonly ChatMessage[]): number {
  const text = `${messages
    .filter((message) => message.role !== 'system')
    .map((message) => `${message.role}: ${message.content}\n`)
    .join('')}assistant: `;
  return 1 + Buffer.byteLength(text, 'utf8');
}

/** Concurrent calls per tiny model: sequences of one shared context (a vote's samples decode as one batch). */
export const TINY_SEQUENCES = 8;

export function resolveTinyModel(reference: string, options: { seed?: number; dir?: string } = {}): ResolvedModel {
  const info = tinyModelInfo(reference);
  const names = TINY_MODELS.map((model) => `${TINY_PREFIX}${model.name}`).join(', ');
  if (!info) throw new UnknownModelError(reference, `Tiny models: ${names}.`);
  const dir = options.dir ?? tinyModelsDir();
  const path = tinyModelFile(info.name, dir);
  const card = readTinyModelCard(info.name, dir);
  if (!card || !existsSync(path)) {
    const shipped = shippedTinyModels(dir).map((model) => model.reference);
    throw new UnknownModelError(
      reference,
      `${reference} is not shipped in ${dir} (train it: training/README.md). Shipped: ${shipped.join(', ') || 'none'}.`,
    );
  }
  const provider = new LlamaProvider({
    modelPath: path,
    modelId: reference,
    contextSize: card.contextSize,
    sequences: TINY_SEQUENCES,
    promptStyle: 'tiny',
    isolateGreedy: true,
    ...(info.format === 'thread' ? { thread: TINY_THREAD_BOUNDS } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  return {
    provider,
    profile: {
      reference,
      tier: info.tier,
      priceInputPerMillion: 0,
      priceOutputPerMillion: 0,
      contextWindow: card.contextSize,
      reasoning: info.format === 'reasoning',
      maxConcurrency: TINY_SEQUENCES,
      timeoutMs: 120_000,
      simulated: false,
      tinyTrained: true,
    },
    // One token per UTF-8 byte (a space is `▁`, also one): the tiny template's length is known exactly, so
    // planning never needs o200k's count or a margin; the provider re-counts with the engine before sending.
    promptMargin: (counted: number): number => counted * 4 + 16,
    countPrompt: tinyPromptTokens,
  };
}
