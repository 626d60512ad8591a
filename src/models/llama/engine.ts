/**
 * The embedded llama.cpp engine (node-llama-cpp): one `Llama` per process, each GGUF file loaded once and
 * cached by absolute path, and a pool of context sequences per (model, context size, sequences, threads).
 * Everything is lazy — importing this module loads no native code — and `disposeLlamaEngine()` frees it
 * all, so a test file or a CLI command can end its process cleanly.
 *
 * Always `build: 'never'` (use the prebuilt binaries, never compile or download llama.cpp) and CPU only.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaLogLevel, LlamaModel } from 'node-llama-cpp';
import { loadNodeLlamaCpp } from './native.ts';
import { ProviderError, ThicketError, UnknownModelError } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { PromptSharer } from './prompt-share.ts';

export interface EngineContextOptions {
  /** Tokens per sequence (default: the model's training context, at most 8192). */
  contextSize?: number;
  /** Parallel sequences, i.e. concurrent calls (default 1). */
  sequences?: number;
  /** CPU threads for evaluation (default: see `defaultThreads`). */
  threads?: number;
}

export interface EngineContext {
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool;
  /** Prompt prefixes evaluated by one sequence, for the others to copy (prompt-share.ts); removed on dispose. */
  prompts: PromptSharer;
}

/** Models below this size evaluate fastest on one thread. */
const TINY_MODEL_BYTES = 64 * 1024 * 1024;
/** The context size `gguf:` models get from the resolver and the KV thread (so both share one context). */
export const DEFAULT_LLAMA_CONTEXT_SIZE = 8192;
export const PULL_HINT =
  'Get a model with `thicket models pull` (a small pinned instruct model), or point gguf:<path> at an existing .gguf file.';

let llamaPromise: Promise<Llama> | undefined;
/**
 * The last llama.cpp warnings/errors. They are kept rather than printed (a library must not write to the
 * CLI's output) and quoted in load errors, where they say what node-llama-cpp's "Failed to load model"
 * does not. THICKET_LLAMA_LOG=1 prints them to stderr as they come.
 */
const recentLogs: string[] = [];
const MAX_RECENT_LOGS = 8;
const LOG_FLUSH_WAIT_MS = 200;

/**
 * THICKET_LLAMA_KV_DEBUG=1 (read when the engine starts): llama.cpp's own KV-cache report — its
 * LLAMA_KV_CACHE_DEBUG line before every batch is placed (`find_slot: stream[s], n = used_max_p1, used = …`)
 * — is parsed and kept per stream, to check what the KV-pruned thread's cells really are. Diagnostics
 * only: it turns on llama.cpp's debug logging, which costs time.
 */
export interface KvCellReport {
  /** Highest used cell + 1: attention runs over this many cells (padded to 256), holes included. */
  span: number;
  /** Cells in use. */
  used: number;
  head: number;
  size: number;
}
const kvCellReports = new Map<number, KvCellReport>();
const FIND_SLOT_LINE = /find_slot: stream\[(\d+)\], n =\s*(\d+), used =\s*(\d+), head =\s*(\d+), size =\s*(\d+)/;
// LlamaLogLevel's values are these strings; the enum itself lives in the lazily loaded package.
const KEPT_LEVELS = new Set<string>(['fatal', 'error', 'warn']);

/** The last KV report for a stream (a sequence's index in its context), when THICKET_LLAMA_KV_DEBUG=1. */
export function lastKvCellReport(stream = 0): KvCellReport | undefined {
  return kvCellReports.get(stream);
}

function keepLog(level: LlamaLogLevel, message: string): void {
  const line = message.trim();
  if (line === '') return;
  const report = FIND_SLOT_LINE.exec(line);
  if (report) {
    kvCellReports.set(Number(report[1]), {
      span: Number(report[2]),
      used: Number(report[3]),
      head: Number(report[4]),
      size: Number(report[5]),
    });
    return;
  }
  if (!KEPT_LEVELS.has(level)) return;
  recentLogs.push(line);
  if (recentLogs.length > MAX_RECENT_LOGS) recentLogs.shift();
  if (process.env['THICKET_LLAMA_LOG'] === '1') process.stderr.write(`[llama.cpp ${level}] ${line}\n`);
}
const models = new Map<string, Promise<LlamaModel>>();
const contexts = new Map<string, Promise<EngineContext>>();
const embeddingContexts = new Map<string, Promise<LlamaEmbeddingContext>>();

/** The process-wide `Llama` instance. */
export function getLlamaEngine(): Promise<Llama> {
  const kvDebug = process.env['THICKET_LLAMA_KV_DEBUG'] === '1';
  // llama.cpp reads LLAMA_KV_CACHE_DEBUG when a context's KV cache is created.
  if (kvDebug) process.env['LLAMA_KV_CACHE_DEBUG'] ??= '1';
  llamaPromise ??= loadNodeLlamaCpp()
    .then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        build: 'never',
        gpu: false,
        logLevel: kvDebug ? LlamaLogLevel.debug : LlamaLogLevel.warn,
        logger: keepLog,
        progressLogs: false,
      }),
    )
    .catch((error: unknown) => {
      llamaPromise = undefined;
      // node-llama-cpp not installed (an optional peer dependency): its own typed error, with the install command.
      if (ThicketError.isInstance(error) && error.code === 'OPTIONAL_DEPENDENCY_MISSING') throw error;
      throw new ProviderError(`Could not start the embedded llama.cpp engine (node-llama-cpp prebuilt binaries): ${messageOf(error)}`, {
        cause: error,
        isRetryable: false,
      });
    });
  return llamaPromise;
}

/** `gguf:/abs/model.gguf` or a plain path → absolute path. */
export function ggufPath(reference: string): string {
  return resolve(reference.startsWith('gguf:') ? reference.slice(5) : reference);
}

/** Loads (once) the model at `path`. A missing file → UnknownModelError naming the path; a bad file → ProviderError. */
export function loadLlamaModel(path: string): Promise<LlamaModel> {
  const absolute = ggufPath(path);
  let loading = models.get(absolute);
  if (!loading) {
    loading = loadModelFile(absolute);
    models.set(absolute, loading);
    loading.catch(() => models.delete(absolute));
  }
  return loading;
}

async function loadModelFile(path: string): Promise<LlamaModel> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UnknownModelError(`gguf:${path}`, `No model file at ${path}. ${PULL_HINT}`);
  const headerProblem = ggufHeaderProblem(path);
  if (headerProblem)
    throw new ProviderError(`Could not load the GGUF model ${path}: ${headerProblem}. ${PULL_HINT}`, { isRetryable: false });
  const llama = await getLlamaEngine();
  recentLogs.length = 0;
  try {
    return await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  } catch (error) {
    // llama.cpp's log lines reach us through the event loop and may trail the rejection: give them a moment.
    const isDetail = (line: string): boolean => /error|fail|corrupt|invalid|unknown/i.test(line);
    for (let waited = 0; waited < LOG_FLUSH_WAIT_MS && !recentLogs.some(isDetail); waited += 5)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const detail = recentLogs.filter(isDetail).join(' | ');
    throw new ProviderError(
      `Could not load the GGUF model ${path}: ${messageOf(error)}${detail ? ` (llama.cpp: ${detail})` : ''}. Is it a complete, llama.cpp-compatible ` +
        `.gguf file? ${PULL_HINT}`,
      {
        cause: error,
        isRetryable: false,
      },
    );
  }
}

/**
 * Checked before node-llama-cpp sees the file: its GGUF reader waits forever on a file whose version field
 * is garbage (observed with 3.21.1), so anything that is not GGUF v2/v3 is refused here.
 */
export function ggufHeaderProblem(path: string): string | undefined {
  const header = Buffer.alloc(24);
  const descriptor = openSync(path, 'r');
  let read: number;
  try {
    read = readSync(descriptor, header, 0, header.length, 0);
  } finally {
    closeSync(descriptor);
  }
  if (read < header.length) return `not a GGUF file (only ${read} bytes)`;
  if (header.toString('latin1', 0, 4) !== 'GGUF') return 'not a GGUF file (no "GGUF" magic at the start)';
  const version = header.readUInt32LE(4);
  if (version !== 2 && version !== 3) return `unsupported GGUF version ${version} (llama.cpp reads versions 2 and 3)`;
  return undefined;
}

/**
 * Threads for a context. Tiny models get one: the thread synchronisation costs more than their matrix
 * products (the fixture model measured 0.4 ms/token on 1 thread, 13 ms on 2 and 250 ms on 4 on a 2-core
 * host). Others get the machine's math cores. THICKET_LLAMA_THREADS overrides both.
 */
export function defaultThreads(llama: Llama, model: LlamaModel, environment: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(environment['THICKET_LLAMA_THREADS']);
  if (Number.isInteger(configured) && configured > 0) return configured;
  if (model.size < TINY_MODEL_BYTES) return 1;
  return Math.max(1, llama.cpuMathCores);
}

/** A context with `sequences` sequences for the model at `path`, created once per option set and shared. */
export function getEngineContext(path: string, options: EngineContextOptions = {}): Promise<EngineContext> {
  const absolute = ggufPath(path);
  const key = JSON.stringify([absolute, options.contextSize ?? null, options.sequences ?? 1, options.threads ?? null]);
  let creating = contexts.get(key);
  if (!creating) {
    creating = createEngineContext(absolute, options);
    contexts.set(key, creating);
    creating.catch(() => contexts.delete(key));
  }
  return creating;
}

async function createEngineContext(path: string, options: EngineContextOptions): Promise<EngineContext> {
  const model = await loadLlamaModel(path);
  const llama = await getLlamaEngine();
  const sequences = Math.max(1, Math.floor(options.sequences ?? 1));
  const contextSize = options.contextSize ?? Math.min(model.trainContextSize || DEFAULT_LLAMA_CONTEXT_SIZE, DEFAULT_LLAMA_CONTEXT_SIZE);
  try {
    const context = await model.createContext({
      contextSize,
      sequences,
      threads: options.threads ?? defaultThreads(llama, model),
      failedCreationRemedy: false,
    });
    return { model, context, pool: new SequencePool(context), prompts: new PromptSharer(sequences) };
  } catch (error) {
    throw new ProviderError(
      `Could not create a ${contextSize}-token context with ${sequences} sequence(s) for ${path}: ${messageOf(error)}`,
      { cause: error, isRetryable: false },
    );
  }
}

/** An embedding context for the model at `path` (created once per context size and shared). */
export function getEmbeddingContext(
  path: string,
  options: { contextSize?: number; threads?: number } = {},
): Promise<LlamaEmbeddingContext> {
  const absolute = ggufPath(path);
  const key = JSON.stringify([absolute, options.contextSize ?? null, options.threads ?? null]);
  let creating = embeddingContexts.get(key);
  if (!creating) {
    creating = (async () => {
      const model = await loadLlamaModel(absolute);
      const llama = await getLlamaEngine();
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize || 2048, 2048);
      try {
        return await model.createEmbeddingContext({ contextSize, threads: options.threads ?? defaultThreads(llama, model) });
      } catch (error) {
        throw new ProviderError(`Could not create an embedding context for ${absolute}: ${messageOf(error)}`, {
          cause: error,
          isRetryable: false,
        });
      }
    })();
    embeddingContexts.set(key, creating);
    creating.catch(() => embeddingContexts.delete(key));
  }
  return creating;
}

/**
 * Hands out the context's sequences, one per in-flight call, and queues callers (FIFO) when all are busy.
 * Released sequences keep their KV cache, so the next call on one can reuse a common prompt prefix.
 */
export class SequencePool {
  private readonly idle: LlamaContextSequence[] = [];
  private readonly waiting: Array<{
    resolve: (sequence: LlamaContextSequence) => void;
    reject: (error: ThicketError) => void;
    signal: AbortSignal | undefined;
    onAbort: () => void;
  }> = [];
  private created = 0;

  constructor(readonly context: LlamaContext) {}

  get busy(): number {
    return this.created - this.idle.length;
  }
  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal, label = 'model'): Promise<LlamaContextSequence> {
    if (signal?.aborted) return Promise.reject(abortError(signal, label));
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.created < this.context.totalSequences) {
      this.created++;
      return Promise.resolve(this.context.getSequence());
    }
    return new Promise((resolvePromise, reject) => {
      const entry = {
        resolve: resolvePromise,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(abortError(signal as AbortSignal, label));
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(sequence);
      return;
    }
    this.idle.push(sequence);
  }
}

/** Frees every context, model and the `Llama` instance (lets the process exit). Safe to call repeatedly. */
export async function disposeLlamaEngine(): Promise<void> {
  const pending = llamaPromise;
  llamaPromise = undefined;
  models.clear();
  kvCellReports.clear();
  const created = [...contexts.values()];
  contexts.clear();
  // The prompt snapshots' scratch folder goes with its context.
  for (const outcome of await Promise.allSettled(created)) if (outcome.status === 'fulfilled') outcome.value.prompts.dispose();
  embeddingContexts.clear();
  if (!pending) return;
  try {
    await (await pending).dispose();
  } catch {
    // Nothing was started, or it is already gone.
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
