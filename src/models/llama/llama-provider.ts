/**
 * The embedded-engine provider: a local GGUF model run in-process by node-llama-cpp (`gguf:<path>`).
 *
 * What it does per call: render the messages with the model's chat template (chat-template.ts), refuse
 * with ContextOverflowError when prompt + `maxOutputTokens` cannot fit one sequence, wait for a free
 * context sequence (one per in-flight call; the context has `sequences` of them, later callers queue),
 * reuse whatever prompt prefix that sequence still holds or another sequence has evaluated (prompt-share.ts:
 * k concurrent samples of one prompt evaluate it once), and sample — under a JSON-schema grammar when
 * `responseSchema` is given, seeded by `seed`. Usage is what an API would bill — the whole rendered prompt in
 * the model's tokens and the tokens generated — exact, not an estimate; `raw` says how much of the prompt was
 * evaluated (`evaluatedPromptTokens`), kept from the sequence's last call (`reusedPrefixTokens`) or copied
 * from another sequence (`sharedPromptTokens`).
 *
 * What it does not do (the fleet does): retries, budgets, timeouts (they arrive as an aborted signal),
 * journaling, parsing the JSON. Like every provider it rejects an aborted call at once with the signal's
 * ThicketError reason (CancelledError / TimeoutError); the sequence is returned to the pool as soon as
 * the interrupted decode step ends.
 *
 * @example
 *   const provider = new LlamaProvider({ modelPath: 'gguf:/models/qwen2.5-0.5b-instruct-q4_k_m.gguf', sequences: 2 });
 *   const response = await provider.doGenerate({ messages: [{ role: 'user', content: 'Hi' }], maxOutputTokens: 64 });
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { ContextOverflowError, InvalidInputError, hash32 } from '../../core/index.ts';
import {
  MODEL_SPEC_VERSION,
  type ChatMessage,
  type GenerateRequest,
  type GenerateResponse,
  type KvThreadCapability,
  type KvThreadRequest,
  type KvThreadResponse,
  type ModelProvider,
} from '../spec.ts';
import { renderChatPrompt, renderTinyPrompt, type RenderedPrompt } from './chat-template.ts';
import { generateTokens, raceAbort } from './decode.ts';
import { getEngineContext, getLlamaEngine, ggufPath, type EngineContext, type EngineContextOptions } from './engine.ts';
import { grammarForJsonSchema } from './grammars.ts';
import { KV_THREAD_DEFAULTS, runKvThread, type KvThreadOptions } from './kv-thread.ts';
import type { PreparedPrompt, PromptSharer } from './prompt-share.ts';
import { abortError } from '../abort.ts';

export const LLAMA_PROVIDER_ID = 'llama' as const;

/** llama.cpp's own default temperature, used when a request sets none. */
const DEFAULT_TEMPERATURE = 0.8;

export interface LlamaProviderOptions extends EngineContextOptions {
  /** `gguf:<path>` or a path to a .gguf file. */
  modelPath: string;
  /** The model's name in responses and errors (default `gguf:<absolute path>`). */
  modelId?: string;
  /** Keep a released sequence's KV cache and re-evaluate only the part of the next prompt that differs (default true). */
  reusePrefix?: boolean;
  /**
   * Evaluate a prompt prefix once for all the calls that share it — k samples of one prompt, personas after one
   * system message — and copy it into the other sequences (prompt-share.ts; default true). Only with `sequences` > 1.
   */
  sharePrompts?: boolean;
  /**
   * The run's seed (the resolver passes --seed): a request without a seed is sampled with one derived from it
   * and the fleet's call key (`metadata.callKey`) and attempt. Without either, llama.cpp picks a random seed.
   */
  seed?: number;
  /**
   * How messages become the prompt: `chat` (default) — the model's chat template, or the plain one; `tiny` —
   * the plain template without system messages, as Thicket's tiny trained models were trained (renderTinyPrompt).
   */
  promptStyle?: 'chat' | 'tiny';
  /**
   * Decode greedy calls (temperature 0) on a context of their own with one sequence, so that what they answer
   * does not depend on what else is decoding. llama.cpp batches the sequences of a context into one decode, and
   * its CPU kernels sum in a batch-dependent order: logits move by ~1e-4, enough to flip a near tie — on a tiny
   * model that is a wrong digit in a few percent of greedy answers under concurrent sampling. Costs a second
   * context (worth it for tiny models; default false) and runs greedy calls one at a time.
   */
  isolateGreedy?: boolean;
  /**
   * The KV thread's bounds on this model (kv-thread.ts defaults otherwise): string lengths, tasks per list, and
   * the temperature it samples at unless the request names one. A model with a small context needs small
   * string bounds: each piece must fit in what the context has left.
   */
  thread?: Pick<KvThreadOptions, 'maxThoughtChars' | 'maxConclusionChars' | 'maxAnswerChars' | 'maxSubtasks' | 'temperature'>;
}

export class LlamaProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = LLAMA_PROVIDER_ID;
  readonly modelId: string;
  readonly modelPath: string;
  private readonly engineOptions: EngineContextOptions;
  private readonly reusePrefix: boolean;
  private readonly sharePrompts: boolean;
  private readonly isolateGreedy: boolean;
  private readonly seed: number | undefined;
  private readonly render: (model: LlamaModel, messages: readonly ChatMessage[]) => RenderedPrompt;
  private readonly promptStyle: 'chat' | 'tiny';
  private readonly threadOptions: NonNullable<LlamaProviderOptions['thread']>;

  constructor(options: LlamaProviderOptions) {
    if (typeof options.modelPath !== 'string' || options.modelPath.replace(/^gguf:/, '').trim() === '') {
      throw new InvalidInputError(
        'Invalid llama provider options',
        [{ path: 'modelPath', message: 'must be a path to a .gguf file (gguf:<path>)' }],
        'INVALID_CONFIG',
      );
    }
    this.modelPath = ggufPath(options.modelPath);
    this.modelId = options.modelId ?? `gguf:${this.modelPath}`;
    this.reusePrefix = options.reusePrefix ?? true;
    this.sharePrompts = options.sharePrompts ?? true;
    this.isolateGreedy = options.isolateGreedy ?? false;
    this.seed = options.seed;
    this.render = options.promptStyle === 'tiny' ? renderTinyPrompt : renderChatPrompt;
    this.promptStyle = options.promptStyle ?? 'chat';
    this.threadOptions = options.thread ?? {};
    this.engineOptions = {
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
      ...(options.sequences !== undefined ? { sequences: options.sequences } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    };
  }

  /**
   * The KV-pruned thread (kv-thread.ts) on this provider's own engine context — the same context size,
   * sequence pool and threads as its calls, so a thread queues for a sequence like any call.
   */
  readonly kvThread: KvThreadCapability = {
    contextSize: () => this.contextWindow(),
    worstCase: async (maxTasks) => {
      // Output: every string at its character bound in the costliest encoding (a JSON \u escape, six byte tokens
      // per character) plus a few decision tokens per task. Input: a context of prompt and syntax plus, per
      // erasure (at most one per task), at most a context of shifted KV cells, which the meter counts as input.
      const stringTokens = (chars: number): number => chars * 6 + 8;
      const tasks = Math.max(1, Math.floor(maxTasks));
      return {
        inputTokens: (await this.contextWindow()) * (tasks + 1),
        outputTokens:
          tasks * (stringTokens(this.threadBound('maxThoughtChars')) + stringTokens(this.threadBound('maxConclusionChars')) + 16) +
          stringTokens(this.threadBound('maxAnswerChars')),
      };
    },
    run: (request) => this.runKvThread(request),
  };

  private threadBound(key: 'maxThoughtChars' | 'maxConclusionChars' | 'maxAnswerChars'): number {
    return this.threadOptions[key] ?? KV_THREAD_DEFAULTS[key];
  }

  private async runKvThread(request: KvThreadRequest): Promise<KvThreadResponse> {
    const signal = request.abortSignal;
    const { pool } = await raceAbort(this.engine(), signal, this.modelId);
    const sequence = await pool.acquire(signal, this.modelId);
    let result;
    try {
      result = await runKvThread({
        sequence,
        question: request.question,
        maxTasks: request.maxTasks,
        limits: request.limits,
        seed: request.seed,
        ...(this.promptStyle === 'tiny' ? { promptStyle: 'tiny' as const } : {}),
        ...this.threadOptions,
        ...(request.maxDepth !== undefined ? { maxDepth: request.maxDepth } : {}),
        ...(request.bufferSize !== undefined ? { bufferSize: request.bufferSize } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(signal ? { signal } : {}),
        ...(request.onUsage ? { onUsage: request.onUsage } : {}),
        ...(request.onConclusion ? { onConclusion: request.onConclusion } : {}),
      });
    } finally {
      pool.release(sequence);
    }
    return {
      answer: result.document.answer,
      text: result.text,
      usage: result.usage,
      details: { engine: 'llama.cpp', kvPruning: true, metrics: result.metrics },
    };
  }

  /** Loads the model and creates its context now rather than on the first call. */
  engine(): Promise<EngineContext> {
    return getEngineContext(this.modelPath, this.engineOptions);
  }

  /** Tokens one call can hold (prompt + output). */
  async contextWindow(): Promise<number> {
    return (await this.engine()).context.contextSize;
  }

  /** The rendered prompt's length in the model's own tokens (the fleet reserves exactly this). */
  async countPromptTokens(request: GenerateRequest): Promise<number> {
    const { model } = await raceAbort(this.engine(), request.abortSignal, this.modelId);
    return this.render(model, request.messages).tokens.length;
  }

  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    const signal = request.abortSignal;
    const label = this.modelId;
    const started = performance.now();
    const greedy = this.isolateGreedy && request.temperature === 0;
    const { model, context, pool, prompts } = await raceAbort(
      greedy ? getEngineContext(this.modelPath, { ...this.engineOptions, sequences: 1 }) : this.engine(),
      signal,
      label,
    );
    const llama = await getLlamaEngine();
    const schemaGrammar = request.responseSchema
      ? await raceAbort(grammarForJsonSchema(llama, request.responseSchema.schema), signal, label)
      : undefined;

    const callKey = request.metadata?.callKey;
    const seed =
      request.seed ??
      (this.seed !== undefined && callKey !== undefined ? hash32(`${this.seed}:${callKey}:${request.metadata?.attempt ?? 0}`) : undefined);
    const prompt = this.render(model, request.messages);
    if (prompt.tokens.length + request.maxOutputTokens > context.contextSize) {
      throw new ContextOverflowError(this.modelId, prompt.tokens.length, context.contextSize);
    }
    const sequence = await pool.acquire(signal, label);
    const work = (async () => {
      try {
        const preparing = performance.now();
        const prepared = await this.preparePrompt(sequence, prompts, prompt.tokens, signal);
        const prepareMs = performance.now() - preparing;
        const generated = await generateTokens(model, sequence, prompt.tokens.slice(prepared.start), {
          ...(schemaGrammar ? { grammar: schemaGrammar.grammar } : {}),
          maxTokens: request.maxOutputTokens,
          temperature: request.temperature ?? DEFAULT_TEMPERATURE,
          ...(request.topP !== undefined ? { topP: request.topP } : {}),
          ...(seed !== undefined ? { seed } : {}),
          stop: [...prompt.stop, ...(request.stop ?? []), ...(schemaGrammar?.stop ?? [])],
          ...(signal ? { signal } : {}),
          label,
        });
        return { generated, prepared, prepareMs };
      } finally {
        pool.release(sequence);
      }
    })();
    const { generated, prepared, prepareMs } = await raceAbort(work, signal, label);
    return {
      text: schemaGrammar ? generated.text.trim() : generated.text,
      // Billed as an API bills: the whole prompt and every generated token, however much of the prompt was
      // evaluated (raw.evaluatedPromptTokens says that). A state load does not move the token meter.
      usage: { inputTokens: prompt.tokens.length, outputTokens: generated.tokens.length },
      usageEstimated: false,
      finishReason: generated.finishReason,
      latencyMs: performance.now() - started,
      simulated: false,
      raw: {
        promptTokens: prompt.tokens.length,
        reusedPrefixTokens: prepared.reused,
        sharedPromptTokens: prepared.shared,
        evaluatedPromptTokens: prompt.tokens.length - prepared.reused - prepared.shared,
        generatedTokens: generated.tokens.length,
        template: prompt.template,
        // Bringing the sequence to hold the prompt but its last token (waiting for, loading or evaluating it), then the rest.
        prepareMs,
        decodeMs: generated.decodeMs,
      },
    };
  }

  /**
   * Brings the sequence to hold all of the prompt but its last token — what it still holds from its last call,
   * another sequence's evaluation of a common prefix (prompt-share.ts), and the rest evaluated here — so that
   * generation starts by evaluating the last token alone, for its logits.
   *
   * Why always that split: llama.cpp's logits for a token differ in the last float bits with the size of the
   * batch it is evaluated in (probabilities moved by ~6e-5 on the fixture between a prompt evaluated at once and
   * as prefix + last token), enough to flip a sampled near-tie. Splitting every prompt the same way makes a seed
   * sample the same tokens whether the prefix was evaluated fresh, kept, or copied from another sequence (a
   * copied state itself is bit-identical to the one saved); it costs one more small llama_decode per call.
   */
  private async preparePrompt(
    sequence: LlamaContextSequence,
    prompts: PromptSharer,
    tokens: Token[],
    signal: AbortSignal | undefined,
  ): Promise<PreparedPrompt> {
    const last = tokens.length - 1;
    let prepared: PreparedPrompt;
    // One sequence has nobody to share with; SWA and recurrent models cannot erase past a shared prefix.
    if (this.sharePrompts && sequence.context.totalSequences > 1 && !sequence.needsCheckpoints) {
      prepared = await prompts.prepare(sequence, tokens, {
        reuse: this.reusePrefix,
        signal,
        abortError: () => abortError(signal!, this.modelId),
      });
    } else {
      const held = this.reusePrefix ? Math.min(sequence.compareContextTokens(tokens).firstDifferentIndex, Math.max(0, last)) : 0;
      if (sequence.nextTokenIndex > held) await sequence.eraseContextTokenRanges([{ start: held, end: sequence.nextTokenIndex }]);
      prepared = { reused: held, shared: 0, evaluated: 0, start: held };
    }
    if (prepared.start >= last) return prepared;
    await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(prepared.start, last));
    return { ...prepared, evaluated: prepared.evaluated + last - prepared.start, start: last };
  }
}
