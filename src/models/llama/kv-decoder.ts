/**
 * The token-level machinery of the KV-pruned thread: one context sequence, decoded piece by piece, with
 * exact knowledge of where every token sits in the KV cache.
 *
 * A "piece" is either syntax the runtime writes itself (`{"thought":`, `,"subtasks":`, tool results …) or
 * a short generation under a small grammar (one JSON string, or a choice such as `null`/`[`). Syntax is
 * tokenized and held as *pending* — not yet evaluated — and is evaluated together with the next
 * generation's input, so no evaluation is spent on it separately. Hence the logical position of the next
 * token is `sequence.nextTokenIndex + pending.length`.
 *
 * Erasing a range [start, end): the part already in the KV cache goes through
 * `sequence.eraseContextTokenRanges` (llama.cpp shifts later cells left — no re-evaluation); the part still
 * pending is simply dropped, never evaluated. Every tracked position after the range moves left by its
 * length. Erasure only ever happens between generations, never while an `evaluate` iterator is open.
 *
 * Cells versus tokens. llama.cpp frees the erased cells and new tokens fill those holes first, so the
 * sequence's cell count follows its token count; but the shifted tokens stay in the cells they were
 * written to, and attention runs over every cell below the highest one in use (`used_max_p1`, padded to
 * 256) — holes included. Without help, the attended range is the high-water mark of the working set, not
 * the working set. So, after an erasure:
 *   1. re-sync: all pending tokens but one are evaluated at once, which makes llama.cpp apply the K-shift
 *      (re-rotating the shifted keys; it is lazy and would otherwise be paid inside the next piece's
 *      prefill) — timed as `resyncMs`;
 *   2. compaction: when the attended range is at least one 256-cell block larger than the live tokens need,
 *      the sequence state is saved and loaded back (llama.cpp writes the live cells and reloads them into
 *      one contiguous slot from cell 0) — timed as `compactMs`. It must come after the K-shift: the saved
 *      state holds positions, not pending shifts.
 * `cellSpan` is the attended range as llama.cpp computes it for a sequence with a KV stream of its own
 * (node-llama-cpp contexts are not `kv_unified`): new cells go into the lowest hole at or after the head,
 * and every erasure moves the head down to its first freed cell, so the highest used cell only grows when
 * there are no holes left — it is the high-water mark of live tokens since the last clear or compaction.
 * kv-cells.test.ts checks it against llama.cpp's own `LLAMA_KV_CACHE_DEBUG` report.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { BudgetExhaustedError, ContextOverflowError, MalformedOutputError, type Usage } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { generateTokens } from './decode.ts';
import { choiceGrammar, grammarForJsonSchema, jsonStringGrammar } from './grammars.ts';
import type { JsonSchema } from '../spec.ts';

export interface TokenRange {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export interface EraseInfo {
  range: TokenRange;
  /** KV-cache tokens before and after the erasure (only collected when an `onErase` listener is set). */
  kvTokensBefore: Token[];
  kvTokensAfter: Token[];
}

export interface DecoderOptions {
  label: string;
  temperature: number;
  seed: number;
  signal?: AbortSignal;
  onErase?: (info: EraseInfo) => void;
  /** Compact the KV cells after an erasure when that shrinks the attended range (default true). */
  compact?: boolean;
  /**
   * Caps on what the sequence's token meter may count for this decoder (input: evaluated prompt, syntax and
   * tool results, plus KV cells shifted by erasures; output: generated tokens). Every evaluation is checked
   * against its worst case first; one that could cross a cap is not started: BudgetExhaustedError.
   */
  limits?: TokenLimits;
}

export interface TokenLimits {
  inputTokens?: number;
  outputTokens?: number;
}

/** llama.cpp pads the attended cell range to a multiple of this (llama_kv_cache::get_n_kv), at least one block. */
export const KV_CELL_PAD = 256;
export const attendedCells = (span: number): number => Math.max(KV_CELL_PAD, Math.ceil(span / KV_CELL_PAD) * KV_CELL_PAD);

/** A position the decoder keeps current across erasures. */
export interface TrackedPosition {
  value: number;
}

export class KvDecoder {
  private pending: Token[] = [];
  private readonly tracked = new Set<TrackedPosition>();
  private pieceIndex = 0;
  /** The whole document as generated, nothing pruned. */
  text = '';
  /** Tokens evaluated into the sequence (prompt, syntax, generated, tool results). */
  tokensProcessed = 0;
  tokensGenerated = 0;
  /** Syntax and tool-result tokens written by the runtime. */
  tokensInjected = 0;
  tokensErased = 0;
  /** KV cells moved left by erasures (llama.cpp re-rotates their keys; node-llama-cpp meters them as input). */
  tokensShifted = 0;
  erasures = 0;
  /** Length the sequence would have with nothing erased. */
  unprunedTokens = 0;
  peakKvTokens = 0;
  /** Decode steps after each piece's first token, and their wall time: the per-token decode rate. */
  decodeSteps = 0;
  decodeMs = 0;
  /** Process CPU time of those steps (see GeneratedTokens.decodeCpuMs). */
  decodeCpuMs = 0;
  /** Highest KV cell in use + 1 (llama.cpp's used_max_p1) for this sequence's stream; see the header. */
  cellSpan = 0;
  peakCellSpan = 0;
  /** Wall time of the erase calls (cell bookkeeping), the re-sync evaluations (K-shift) and the compactions. */
  eraseMs = 0;
  resyncMs = 0;
  compactMs = 0;
  compactions = 0;
  /** Cells the compactions took out of the attended range (padded, summed). */
  compactedCells = 0;
  /** An erasure whose K-shift could not be applied at once: compact after the next piece has been evaluated. */
  private compactionDue = false;
  private readonly meterStart: { usedInputTokens: number; usedOutputTokens: number };

  constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly sequence: LlamaContextSequence,
    private readonly options: DecoderOptions,
  ) {
    this.meterStart = sequence.tokenMeter.getState();
  }

  /** What the sequence's token meter has counted since this decoder was created. */
  get usage(): Usage {
    const now = this.sequence.tokenMeter.getState();
    return {
      inputTokens: now.usedInputTokens - this.meterStart.usedInputTokens,
      outputTokens: now.usedOutputTokens - this.meterStart.usedOutputTokens,
    };
  }

  /** Output tokens the limits still allow (Infinity without a cap). */
  private outputRoom(): number {
    const cap = this.options.limits?.outputTokens;
    return cap === undefined ? Infinity : Math.max(0, cap - this.usage.outputTokens);
  }

  /** Refuses an evaluation whose worst case (`input` more input tokens, `output` more output) could cross a cap. */
  private ensureRoom(input: number, output: number): void {
    const limits = this.options.limits;
    if (!limits) return;
    const spent = this.usage;
    const check = (dimension: 'inputTokens' | 'outputTokens', requested: number): void => {
      const limit = limits[dimension];
      const committed = spent[dimension];
      if (limit !== undefined && requested > 0 && committed + requested > limit)
        throw new BudgetExhaustedError({ budget: this.options.label, dimension, limit, committed, requested });
    };
    check('inputTokens', input);
    check('outputTokens', output);
  }

  /** Logical index of the next token. */
  get position(): number {
    return this.sequence.nextTokenIndex + this.pending.length;
  }

  get kvTokens(): number {
    return this.sequence.nextTokenIndex;
  }

  track(value: number): TrackedPosition {
    const position = { value };
    this.tracked.add(position);
    return position;
  }

  untrack(position: TrackedPosition): void {
    this.tracked.delete(position);
  }

  /** Prompt tokens (already tokenized, BOS included): pending like any syntax, but not part of the document. */
  appendPromptTokens(tokens: readonly Token[]): void {
    this.pending.push(...tokens);
    this.unprunedTokens += tokens.length;
  }

  /** Runtime-written text (JSON syntax, tool results). */
  append(text: string): void {
    const tokens = this.model.tokenize(text);
    this.pending.push(...tokens);
    this.text += text;
    this.tokensInjected += tokens.length;
    this.unprunedTokens += tokens.length;
  }

  /** A JSON string of at most `maxChars` characters, decoded by the model; returns its value. */
  async generateString(maxChars: number): Promise<string> {
    const text = await this.generate(await jsonStringGrammar(this.llama, maxChars), maxChars * 6 + 8);
    return JSON.parse(text) as string;
  }

  /** One of `options`, chosen by the model under a grammar; returns the chosen text. */
  async choose(options: readonly string[]): Promise<string> {
    if (options.length === 1) {
      this.append(options[0]!);
      return options[0]!;
    }
    const text = await this.generate(await choiceGrammar(this.llama, options), Math.max(...options.map((option) => option.length)) * 4 + 4);
    if (!options.includes(text))
      throw new MalformedOutputError(`Thread choice decoded as ${JSON.stringify(text)}, expected one of ${options.join(' ')}`, text);
    return text;
  }

  /** A JSON value under `schema`, decoded by the model; returns it parsed. */
  async generateJson(schema: JsonSchema, maxTokens: number): Promise<unknown> {
    const { grammar } = await grammarForJsonSchema(this.llama, schema);
    const text = await this.generate(grammar, maxTokens);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new MalformedOutputError(`Thread JSON piece did not parse: ${text.slice(0, 200)}`, text, { cause: error });
    }
  }

  private async generate(grammar: LlamaGrammar, maxTokens: number): Promise<string> {
    const { signal } = this.options;
    if (signal?.aborted) throw abortError(signal, this.options.label);
    if (this.pending.length === 0) throw new Error('KvDecoder: a generation needs at least one pending token to evaluate');
    // The piece may use what the context has left, less a little closing syntax: llama.cpp must never shift the
    // context under us. A piece's grammar bound (6 tokens a character, for \u escapes) is far above what a
    // model writes, so a nearly full context still decodes short pieces; one that runs out of room is an
    // overflow (below), not a malformed piece.
    const contextRoom = this.sequence.contextSize - this.position - 16;
    if (contextRoom < 1) throw new ContextOverflowError(this.options.label, this.position, this.sequence.contextSize);
    const contextCap = Math.min(maxTokens, contextRoom);
    // Under an output cap the piece may stop short of its grammar: that is the budget running out, not a
    // malformed piece. The first token is needed to generate at all.
    const outputRoom = this.outputRoom();
    const cap = Math.min(contextCap, outputRoom);
    this.ensureRoom(this.pending.length, Math.max(1, cap));
    const input = this.pending;
    this.pending = [];
    const generated = await generateTokens(this.model, this.sequence, input, {
      grammar,
      maxTokens: cap,
      temperature: this.options.temperature,
      // A seed per piece: the same seed for every piece would replay one random stream over and over.
      seed: (this.options.seed + Math.imul(++this.pieceIndex, 0x9e3779b1)) >>> 0,
      ...(signal ? { signal } : {}),
      label: this.options.label,
    });
    this.tokensProcessed += input.length + generated.tokens.length - (generated.evaluated ? 0 : 1);
    if (!generated.evaluated) this.pending.push(generated.tokens.at(-1)!);
    if (generated.finishReason === 'length') {
      if (contextCap < maxTokens && contextCap <= outputRoom)
        throw new ContextOverflowError(this.options.label, this.position, this.sequence.contextSize);
      if (cap < maxTokens)
        throw new BudgetExhaustedError({
          budget: this.options.label,
          dimension: 'outputTokens',
          limit: this.options.limits!.outputTokens!,
          committed: this.usage.outputTokens,
          requested: 1,
        });
      throw new MalformedOutputError(`A thread piece hit its ${maxTokens}-token cap before its grammar completed`, generated.text);
    }
    this.tokensGenerated += generated.tokens.length;
    this.unprunedTokens += generated.tokens.length;
    if (generated.tokens.length > 1) {
      this.decodeSteps += generated.tokens.length - 1;
      this.decodeMs += generated.decodeMs - generated.firstTokenMs;
      this.decodeCpuMs += generated.decodeCpuMs;
    }
    this.noteEvaluated();
    this.text += generated.text;
    if (this.compactionDue) {
      this.compactionDue = false;
      await this.compact();
    }
    return generated.text;
  }

  /** After any evaluation: occupancy peaks and the cell span (live tokens only ever fill holes first). */
  private noteEvaluated(): void {
    const live = this.sequence.nextTokenIndex;
    this.peakKvTokens = Math.max(this.peakKvTokens, live);
    this.cellSpan = Math.max(this.cellSpan, live);
    this.peakCellSpan = Math.max(this.peakCellSpan, this.cellSpan);
  }

  /** Rewrites the live cells contiguously from cell 0 when that shrinks the attended range by a block or more. */
  private async compact(): Promise<void> {
    const live = this.sequence.nextTokenIndex;
    if (this.options.compact === false || attendedCells(this.cellSpan) - attendedCells(live) < KV_CELL_PAD) return;
    const started = performance.now();
    // A file is node-llama-cpp's only public way to move a sequence's state (llama_state_seq_save/load_file).
    const file = join(tmpdir(), `thicket-kv-${process.pid}-${randomUUID()}.state`);
    try {
      await this.sequence.saveStateToFile(file);
      await this.sequence.loadStateFromFile(file, { acceptRisk: true });
    } finally {
      rmSync(file, { force: true });
    }
    if (this.sequence.nextTokenIndex !== live)
      throw new Error(`KvDecoder: compaction reloaded ${this.sequence.nextTokenIndex} tokens, expected ${live}`);
    this.compactedCells += attendedCells(this.cellSpan) - attendedCells(live);
    this.cellSpan = live;
    this.compactions++;
    this.compactMs += performance.now() - started;
  }

  /** Removes [start, end) from the working memory (KV cache and/or pending tokens). */
  async erase(range: TokenRange): Promise<void> {
    const { start, end } = range;
    if (end <= start) return;
    const started = performance.now();
    const evaluatedEnd = this.sequence.nextTokenIndex;
    // The cells after the range move left; the meter counts them as input (llama.cpp re-rotates their keys).
    this.ensureRoom(start < evaluatedEnd ? Math.max(0, evaluatedEnd - end) : 0, 0);
    const listening = this.options.onErase !== undefined;
    const kvTokensBefore = listening ? [...this.sequence.contextTokens] : [];
    if (start < evaluatedEnd) {
      await this.sequence.eraseContextTokenRanges([{ start, end: Math.min(end, evaluatedEnd) }]);
      this.tokensShifted += Math.max(0, evaluatedEnd - end);
    }
    if (end > evaluatedEnd) {
      const from = Math.max(0, start - evaluatedEnd);
      this.pending.splice(from, end - evaluatedEnd - from);
    }
    const length = end - start;
    for (const position of this.tracked) {
      if (position.value >= end) position.value -= length;
      else if (position.value > start) position.value = start;
    }
    this.tokensErased += length;
    this.erasures++;
    this.eraseMs += performance.now() - started;
    if (listening) this.options.onErase!({ range: { start, end }, kvTokensBefore, kvTokensAfter: [...this.sequence.contextTokens] });
    if (start < evaluatedEnd) await this.resync();
  }

  /**
   * Applies the K-shift now by evaluating all pending tokens but one (a generation needs one to start from),
   * then compacts. With a single pending token the shift waits for the next piece, and so does compaction.
   */
  private async resync(): Promise<void> {
    if (this.pending.length < 2) {
      this.compactionDue = true;
      return;
    }
    const input = this.pending.slice(0, -1);
    // Not worth a refusal: the K-shift then simply waits for the next piece (which checks its own room).
    const limit = this.options.limits?.inputTokens;
    if (limit !== undefined && this.usage.inputTokens + input.length > limit) {
      this.compactionDue = true;
      return;
    }
    this.pending = this.pending.slice(-1);
    const started = performance.now();
    await this.sequence.evaluateWithoutGeneratingNewTokens(input);
    this.resyncMs += performance.now() - started;
    this.tokensProcessed += input.length;
    this.noteEvaluated();
    await this.compact();
  }
}
