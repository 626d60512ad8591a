/**
 * Thread on the embedded engine with real KV-cache pruning (TIM/TIMRUN, thread-solo.md; arXiv 2507.16784).
 *
 * The TIM document — `{"reasoning":[task…],"answer":…}`, a task being `{"thought", "tooluse"?,
 * "subtasks"?, "conclusion"}` with recursion unrolled to `maxDepth` levels — is decoded in ONE context
 * sequence. Decoding is piecewise (kv-decoder.ts): the runtime writes the JSON syntax and the model
 * generates each string under a bounded JSON-string grammar and each structural decision under a choice
 * grammar (`null` or `[` to open subtasks, `,` or `]` after a task, a tool or `null`), so the document is
 * grammar-valid by construction and the runtime always knows the token range of every subtask list.
 *
 * Pruning rule (applied by the tree walk, kv-thread-tree.ts): when a subtask list closes, its token range —
 * the whole `,"subtasks":[…]` member — is pushed on a FIFO buffer (2 lists by default); when the buffer
 * overflows, the oldest list's tokens are erased from the KV cache — the working memory then reads
 * `{"thought":…,"conclusion":…}` for that task, exactly the part TIM keeps (an empty `"subtasks":[]` would
 * hold 14 more cells per pruned list on a byte-level vocabulary and tell later tasks nothing) — and
 * decoding continues. The parent's thought and conclusion
 * always stay, as do the top-level list and everything on the open path. Inner lists finish (and so leave
 * the FIFO) before the lists that contain them, so an erased range never holds a live one.
 *
 * Tools: a task may call one (`{"tool_name", "parameters"}` decoded under the tool's parameter schema);
 * the runtime runs it and injects `"tool_result": …` as tokens before decoding goes on.
 *
 * `shape` fixes the tree's structure (tests, benchmarks: a model with random weights would decide
 * randomly); without it the model decides, within `maxDepth`, `maxSubtasks` per list and `maxTasks`.
 *
 * @example
 *   const { document, metrics } = await runKvThread({ model: 'gguf:/models/m.gguf', question: 'What is 17*23?' });
 */
import type { LlamaContextSequence } from 'node-llama-cpp';
import type { Usage } from '../../core/index.ts';
import type { ChatMessage } from '../spec.ts';
import { abortError } from '../abort.ts';
import { renderChatPrompt, renderTinyPrompt } from './chat-template.ts';
import { DEFAULT_LLAMA_CONTEXT_SIZE, getEngineContext, getLlamaEngine, ggufPath } from './engine.ts';
import { KvDecoder, type EraseInfo, type TokenLimits } from './kv-decoder.ts';
import { ThreadRun, type KvTask, type KvThreadSample, type KvThreadTool, type ThreadSettings, type TreeShape } from './kv-thread-tree.ts';

export { balancedTree, type KvTask, type KvThreadSample, type KvThreadTool, type KvToolUse, type TreeShape } from './kv-thread-tree.ts';

export interface KvThreadOptions {
  /** `gguf:<path>` (or a path): the engine's shared context for it is used, one sequence from its pool. */
  model?: string;
  /** Or a sequence of your own (cleared first, used exclusively until the promise settles). */
  sequence?: LlamaContextSequence;
  /**
   * With `model`: the engine context to take the sequence from — per-sequence size (default 8192, as for
   * `gguf:` references in the fleet, so the thread and the provider share one context), sequences, threads.
   */
  contextSize?: number;
  sequences?: number;
  threads?: number;
  question: string;
  /** Replaces the default instructions. */
  system?: string;
  /**
   * How the question is rendered: the chat template (default) or the tiny models' plain one without a system
   * message (`tiny:` models are task-trained: Thicket's thread model learnt the format, not instructions).
   */
  promptStyle?: 'chat' | 'tiny';
  /** Task levels (default 3); the deepest level has no `subtasks`. */
  maxDepth?: number;
  /** Finished subtask lists kept before the oldest is erased (default 2, min 1). */
  bufferSize?: number;
  /** Erase popped lists (default true); false is the unpruned baseline. */
  prune?: boolean;
  /**
   * After an erasure, rewrite the live KV cells contiguously when that shrinks the range attention runs
   * over by at least 256 cells (default true; kv-decoder.ts explains why erasing alone does not).
   */
  compact?: boolean;
  /** Tasks per list, top level included (default 4). */
  maxSubtasks?: number;
  /** Tasks in the whole tree (default 48). */
  maxTasks?: number;
  /** maxLength of thoughts / conclusions / the answer (defaults 160 / 160 / 80 characters). */
  maxThoughtChars?: number;
  maxConclusionChars?: number;
  maxAnswerChars?: number;
  tools?: Record<string, KvThreadTool>;
  /** Fixes the structure (the top-level list); overrides maxSubtasks and maxTasks. */
  shape?: TreeShape[];
  temperature?: number;
  seed?: number;
  signal?: AbortSignal;
  /**
   * Caps on the run's metered tokens (input includes KV cells shifted by erasures). The thread never
   * starts an evaluation that could cross one: it stops with BudgetExhaustedError instead, having spent at
   * most the caps — what a caller reserved from a budget is then never exceeded.
   */
  limits?: TokenLimits;
  /** Called once when the run ends — finished, failed, stopped by a cap or aborted — with the token meter's count. */
  onUsage?: (usage: Usage) => void;
  onErase?: (info: EraseInfo) => void;
  /** Called with each sample as it is taken (a task concluded). */
  onSample?: (sample: KvThreadSample) => void;
  /** Called with each task's conclusion as it is decoded (depth 1 = top level); a run stopped part-way can answer from these. */
  onConclusion?: (conclusion: string, depth: number) => void;
}

export interface KvThreadDocument {
  reasoning: KvTask[];
  answer: string;
}

export interface KvThreadMetrics {
  promptTokens: number;
  tokensProcessed: number;
  tokensGenerated: number;
  tokensInjected: number;
  tokensErased: number;
  /** KV cells shifted left by erasures (no re-evaluation; the token meter counts them as input). */
  tokensShifted: number;
  erasures: number;
  /** Highest KV-cache occupancy (sequence cells in use) seen during the run. */
  peakKvTokens: number;
  finalKvTokens: number;
  /** Highest / final range of cells attention spans (holes included; see kv-decoder.ts). */
  peakCellSpan: number;
  finalCellSpan: number;
  /** Wall time outside decoding spent on pruning: erase calls, re-sync (K-shift) evaluations, compactions. */
  eraseMs: number;
  resyncMs: number;
  compactMs: number;
  compactions: number;
  compactedCells: number;
  /** What the sequence would hold with nothing erased (prompt + whole document). */
  unprunedTokens: number;
  finishedTasks: number;
  finishedLists: number;
  decodeTokensPerSecond: number;
  samples: KvThreadSample[];
  elapsedMs: number;
}

export interface KvThreadResult {
  document: KvThreadDocument;
  /** The whole document as decoded (nothing pruned), compact JSON. */
  text: string;
  metrics: KvThreadMetrics;
  /** From the sequence's token meter. */
  usage: Usage;
}

export const KV_THREAD_DEFAULTS = {
  maxDepth: 3,
  bufferSize: 2,
  maxSubtasks: 4,
  maxTasks: 48,
  maxThoughtChars: 160,
  maxConclusionChars: 160,
  maxAnswerChars: 80,
  contextSize: DEFAULT_LLAMA_CONTEXT_SIZE,
  temperature: 0.8,
  seed: 1,
} as const;

/**
 * The runtime writes the JSON syntax and the grammar bounds every string, so the instructions only say what
 * the fields are for — and why a conclusion must carry what later tasks need: the subtasks are erased. They are
 * prefilled on every run and stay in the KV cache throughout: the earlier 390-character version, which also
 * spelled out the JSON shape the runtime writes anyway, made the prompt 401 cells on the byte-level fixture
 * (now 218) — a twelfth of the unpruned document, a fifth of the pruned peak.
 */
export const KV_THREAD_SYSTEM =
  `Reason in a tree of tasks. A task thinks, may call a tool or split into subtasks, then concludes with all that ` +
  `later tasks need: finished subtasks are erased from memory.`;

/** Decodes one TIM thread on the embedded engine, pruning the KV cache as it goes. */
export async function runKvThread(options: KvThreadOptions): Promise<KvThreadResult> {
  const { signal } = options;
  const label = options.model !== undefined ? `gguf:${ggufPath(options.model)}` : 'kv-thread';
  if (signal?.aborted) throw abortError(signal, label);
  if (!options.sequence && options.model === undefined) throw new TypeError('runKvThread needs a model (gguf:<path>) or a sequence');
  const pooled = options.sequence
    ? undefined
    : await getEngineContext(options.model!, {
        contextSize: options.contextSize ?? KV_THREAD_DEFAULTS.contextSize,
        ...(options.sequences !== undefined ? { sequences: options.sequences } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
      });
  const sequence = options.sequence ?? (await pooled!.pool.acquire(signal, label));
  let decoder: KvDecoder | undefined;
  try {
    await sequence.clearHistory();
    const settings: ThreadSettings = {
      maxDepth: Math.max(1, Math.floor(options.maxDepth ?? KV_THREAD_DEFAULTS.maxDepth)),
      bufferSize: Math.max(1, Math.floor(options.bufferSize ?? KV_THREAD_DEFAULTS.bufferSize)),
      maxSubtasks: Math.max(1, Math.floor(options.maxSubtasks ?? KV_THREAD_DEFAULTS.maxSubtasks)),
      maxTasks: Math.max(1, Math.floor(options.maxTasks ?? KV_THREAD_DEFAULTS.maxTasks)),
      maxThoughtChars: options.maxThoughtChars ?? KV_THREAD_DEFAULTS.maxThoughtChars,
      maxConclusionChars: options.maxConclusionChars ?? KV_THREAD_DEFAULTS.maxConclusionChars,
      maxAnswerChars: options.maxAnswerChars ?? KV_THREAD_DEFAULTS.maxAnswerChars,
      prune: options.prune ?? true,
    };
    decoder = new KvDecoder(await getLlamaEngine(), sequence.model, sequence, {
      label,
      ...(options.limits ? { limits: options.limits } : {}),
      temperature: options.temperature ?? KV_THREAD_DEFAULTS.temperature,
      seed: options.seed ?? KV_THREAD_DEFAULTS.seed,
      ...(signal ? { signal } : {}),
      ...(options.onErase ? { onErase: options.onErase } : {}),
      ...(options.compact !== undefined ? { compact: options.compact } : {}),
    });
    const messages: ChatMessage[] = [
      { role: 'system', content: options.system ?? KV_THREAD_SYSTEM },
      { role: 'user', content: options.question },
    ];
    const prompt = (options.promptStyle === 'tiny' ? renderTinyPrompt : renderChatPrompt)(sequence.model, messages);
    decoder.appendPromptTokens(prompt.tokens);

    const run = new ThreadRun(decoder, settings, options.tools ?? {}, options.onSample, options.onConclusion);
    decoder.append('{"reasoning":[');
    const reasoning = await run.list(1, options.shape);
    decoder.append(',"answer":');
    const answer = await decoder.generateString(settings.maxAnswerChars);
    decoder.append('}');

    return {
      document: { reasoning, answer },
      text: decoder.text,
      usage: decoder.usage,
      metrics: {
        promptTokens: prompt.tokens.length,
        tokensProcessed: decoder.tokensProcessed,
        tokensGenerated: decoder.tokensGenerated,
        tokensInjected: decoder.tokensInjected,
        tokensErased: decoder.tokensErased,
        tokensShifted: decoder.tokensShifted,
        erasures: decoder.erasures,
        peakKvTokens: decoder.peakKvTokens,
        finalKvTokens: decoder.kvTokens,
        peakCellSpan: decoder.peakCellSpan,
        finalCellSpan: decoder.cellSpan,
        eraseMs: decoder.eraseMs,
        resyncMs: decoder.resyncMs,
        compactMs: decoder.compactMs,
        compactions: decoder.compactions,
        compactedCells: decoder.compactedCells,
        unprunedTokens: decoder.unprunedTokens,
        finishedTasks: run.finishedTasks,
        finishedLists: run.finishedLists,
        decodeTokensPerSecond: decoder.decodeMs > 0 ? (decoder.decodeSteps * 1000) / decoder.decodeMs : 0,
        samples: run.samples,
        elapsedMs: run.elapsedMs,
      },
    };
  } finally {
    if (decoder) options.onUsage?.(decoder.usage);
    if (pooled) pooled.pool.release(sequence);
  }
}
