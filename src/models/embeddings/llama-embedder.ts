/**
 * Embeddings from a local GGUF embedding model, through node-llama-cpp's embedding context on the shared
 * embedded engine (one `Llama` per process; see llama/engine.ts).
 *
 * The model should declare a pooling type (`<arch>.pooling_type`: mean, cls or last), as embedding models
 * (nomic-embed, bge, …) do; llama.cpp then pools the token states into one vector. Texts longer than the
 * context are cut to its first tokens (an index of capability cards wants a vector, not an error); an
 * empty text gets the zero vector.
 *
 * @example
 *   const embedder = await LlamaEmbedder.create({ modelPath: 'gguf:/models/nomic-embed-text-v1.5.Q8_0.gguf' });
 *   const [vector] = await embedder.embed(['a calculator tool']);
 */
import type { LlamaEmbeddingContext } from 'node-llama-cpp';
import { ProviderError } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { getEmbeddingContext, ggufPath, loadLlamaModel } from '../llama/index.ts';
import { normalizeVector, type EmbedOptions, type Embedder } from './embedder.ts';

export interface LlamaEmbedderOptions {
  /** `gguf:<path>` or a path to a .gguf embedding model. */
  modelPath: string;
  /** Tokens per text (default: the model's training context, at most 2048). */
  contextSize?: number;
  threads?: number;
}

/** Room for the BOS/EOS (or CLS/SEP) tokens the embedding context adds around a truncated text. */
const SPECIAL_TOKEN_ROOM = 4;

export class LlamaEmbedder implements Embedder {
  private constructor(
    readonly id: string,
    readonly dimension: number,
    private readonly context: LlamaEmbeddingContext,
    private readonly contextSize: number,
  ) {}

  /** Loads the model (once per process) and its embedding context. */
  static async create(options: LlamaEmbedderOptions): Promise<LlamaEmbedder> {
    const path = ggufPath(options.modelPath);
    const model = await loadLlamaModel(path);
    const context = await getEmbeddingContext(path, {
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    });
    return new LlamaEmbedder(
      `gguf:${path}`,
      model.embeddingVectorSize,
      context,
      options.contextSize ?? Math.min(model.trainContextSize || 2048, 2048),
    );
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    // One text at a time: the embedding context has one sequence, and node-llama-cpp serialises on it anyway.
    for (const text of texts) {
      if (options.signal?.aborted) throw abortError(options.signal, this.id);
      if (text === '') {
        vectors.push(new Float32Array(this.dimension));
        continue;
      }
      const input =
        this.context.calculateInputLength(text) >= this.contextSize
          ? this.context.model.tokenize(text).slice(0, this.contextSize - SPECIAL_TOKEN_ROOM)
          : text;
      let values: readonly number[];
      try {
        values = (await this.context.getEmbeddingFor(input)).vector;
      } catch (error) {
        throw new ProviderError(`Embedding with ${this.id} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
          isRetryable: false,
        });
      }
      if (values.length !== this.dimension)
        throw new ProviderError(`Embedding model ${this.id} returned ${values.length} values, expected ${this.dimension}.`, {
          isRetryable: false,
        });
      vectors.push(normalizeVector(Float32Array.from(values)));
    }
    return vectors;
  }
}
