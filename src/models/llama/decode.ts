/**
 * One generation on one context sequence: evaluate the input tokens, then sample until end-of-generation,
 * a completed grammar (which leaves end-of-generation as the only legal token), a stop string, the token
 * cap or an abort. Shared by the provider and the KV-pruned thread.
 *
 * State contract (node-llama-cpp 3.x, checked in the tests): every token that ends the loop by
 * end-of-generation has been evaluated into the sequence, and the end-of-generation token itself is not
 * kept; when the loop is left early (cap, stop string, abort), the last sampled token was *not* evaluated.
 * `evaluated` says which, so callers that track token positions (kv-thread.ts) stay exact.
 */
import type { LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { nodeLlamaCpp } from './native.ts';
import { abortError, raceSignal } from '../abort.ts';

export interface GenerateTokensOptions {
  grammar?: LlamaGrammar;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: readonly string[];
  signal?: AbortSignal;
  /** Names the model in abort errors. */
  label: string;
}

export interface GeneratedTokens {
  tokens: Token[];
  text: string;
  finishReason: 'stop' | 'length';
  /** Whether all of `tokens` are in the sequence's KV cache (false when the loop stopped before evaluating the last one). */
  evaluated: boolean;
  /** Wall time from the call to the last token, milliseconds. */
  decodeMs: number;
  /** Wall time to the first token: evaluating the input (prefill) plus one sampling step. */
  firstTokenMs: number;
  /**
   * Process CPU time (all threads) from the first token to the last: the decode steps' work. Unlike wall
   * time it does not count the time the process waits for a core, so it stays meaningful on a loaded machine.
   */
  decodeCpuMs: number;
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export async function generateTokens(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  input: Token[],
  options: GenerateTokensOptions,
): Promise<GeneratedTokens> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal, options.label);
  const stops = (options.stop ?? []).filter((stop) => stop !== '');
  // A stop string of n characters spans at most 4n byte-level tokens (UTF-8); a tail that long always holds it.
  const window = stops.length > 0 ? Math.max(...stops.map((stop) => stop.length)) * 4 + 8 : 0;
  const tokens: Token[] = [];
  let finishReason: GeneratedTokens['finishReason'] = 'stop';
  let evaluated = true;
  let aborted = false;
  const started = performance.now();
  if (options.maxTokens <= 0) {
    // Nothing may be generated: evaluate the input only.
    await sequence.evaluateWithoutGeneratingNewTokens(input);
    const elapsed = performance.now() - started;
    return { tokens, text: '', finishReason: 'length', evaluated: true, decodeMs: elapsed, firstTokenMs: elapsed, decodeCpuMs: 0 };
  }
  const grammarEvaluationState = options.grammar
    ? new (nodeLlamaCpp().LlamaGrammarEvaluationState)({ model, grammar: options.grammar })
    : undefined;
  const iterator = sequence.evaluate(input, {
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(grammarEvaluationState ? { grammarEvaluationState } : {}),
  });
  let firstTokenMs = 0;
  let firstTokenCpuMs = 0;
  for await (const token of iterator) {
    if (tokens.length === 0) {
      firstTokenMs = performance.now() - started;
      firstTokenCpuMs = cpuMs();
    }
    tokens.push(token);
    if (signal?.aborted) {
      aborted = true;
      evaluated = false;
      break;
    }
    const tail = stops.length > 0 ? model.detokenize(tokens.slice(-window)) : '';
    if (stops.some((stop) => tail.includes(stop))) {
      evaluated = false;
      break;
    }
    if (tokens.length >= options.maxTokens) {
      finishReason = 'length';
      evaluated = false;
      break;
    }
  }
  const decodeMs = performance.now() - started;
  const decodeCpuMs = tokens.length > 0 ? cpuMs() - firstTokenCpuMs : 0;
  if (aborted) throw abortError(signal as AbortSignal, options.label);
  let text = model.detokenize(tokens);
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0) text = text.slice(0, at);
  }
  return { tokens, text, finishReason, evaluated, decodeMs, firstTokenMs, decodeCpuMs };
}

/** `work`, or a rejection the moment `signal` aborts (the work keeps running to its own end). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, label: string): Promise<T> {
  return raceSignal(work, signal, () => abortError(signal!, label));
}
