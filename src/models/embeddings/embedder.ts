/**
 * The embedder interface: texts → vectors, for the capability registry's index (and anything else that
 * needs semantic similarity). Implementations: a local GGUF embedding model (llama-embedder.ts), an
 * OpenAI-compatible `/embeddings` endpoint (openai-embedder.ts); the registry adds a weight-free hashing
 * embedder of its own.
 *
 * Vectors are L2-normalised by every implementation here, so cosine similarity is a dot product and
 * vectors from different calls of one embedder are comparable.
 */

export interface EmbedOptions {
  /** Aborts the call (rejects with CancelledError / TimeoutError, like model calls). */
  signal?: AbortSignal;
}

export interface Embedder {
  /** Stable identity of the embedding space (`gguf:<path>`, `openai-compatible:<model>@<url>`): vectors from different ids are not comparable. */
  readonly id: string;
  /** Length of every vector. */
  readonly dimension: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/** Scales `vector` to unit length in place (a zero vector stays zero); returns it. */
export function normalizeVector(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let index = 0; index < vector.length; index++) vector[index]! /= norm;
  return vector;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    dot += a[index]! * b[index]!;
    normA += a[index]! * a[index]!;
    normB += b[index]! * b[index]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
