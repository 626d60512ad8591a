/**
 * The semantic side: node embeddings and the surprising-edge share α = |{(u,v) ∈ E : cos(e_u, e_v) < τ}| / |E|
 * with a fixed, absolute τ (criticality.md: a quantile of the current edges would fix α by construction).
 *
 * `Embedder` is declared here structurally (the same shape as the registry's and src/models/embeddings'), so
 * any of them plugs in. The default is the registry's weight-free `HashingEmbedder`, imported rather than
 * re-implemented so both layers embed identically.
 *
 * DEFAULT_TAU = 0.2 is calibrated for `hash-v1-384`: there, texts on unrelated topics score within about
 * ±0.18 (character-gram collisions), paraphrases and texts sharing key terms 0.25–0.7. τ means nothing across
 * embedders — a sentence-transformer puts unrelated texts near 0.1–0.3 — so set it per embedder; every
 * result carries the embedder id and τ it was computed with.
 */
import { InvalidInputError } from '../core/index.ts';
import { HashingEmbedder } from '../registry/index.ts';
import type { UndirectedGraph } from './graph.ts';

/** What the criticality metrics need from an embedding model. */
export interface Embedder {
  /** Stable id of the model and its settings. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export const DEFAULT_TAU = 0.2;

/** A fresh default embedder: feature hashing of words, bigrams and character grams, 384 dimensions. */
export function defaultEmbedder(): Embedder {
  return new HashingEmbedder({ dimension: 384 });
}

/** Texts per `embed` call: bounds request size for model-backed embedders. */
const EMBED_BATCH = 256;

/**
 * Embeds texts and returns L2-normalised copies (dot product = cosine; a zero vector stays zero and is then
 * similar to nothing). Rejects wrong counts, dimensions and non-finite numbers from the embedder.
 */
export async function embedTexts(embedder: Embedder, texts: readonly string[]): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += EMBED_BATCH) {
    const batch = texts.slice(start, start + EMBED_BATCH);
    const result = await embedder.embed(batch);
    const issues: { path: string; message: string }[] = [];
    if (result.length !== batch.length) issues.push({ path: '', message: `returned ${result.length} vectors for ${batch.length} texts` });
    result.forEach((vector, index) => {
      if (vector.length !== embedder.dimension)
        issues.push({ path: `[${start + index}]`, message: `has dimension ${vector.length}, expected ${embedder.dimension}` });
      else if (!vector.every(Number.isFinite)) issues.push({ path: `[${start + index}]`, message: 'contains a non-finite number' });
    });
    if (issues.length > 0) throw new InvalidInputError(`Embedder "${embedder.id}" returned unusable vectors`, issues);
    for (const vector of result) vectors.push(normalized(vector));
  }
  return vectors;
}

function normalized(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const copy = Float32Array.from(vector);
  if (sum === 0) return copy;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < copy.length; i++) copy[i]! *= scale;
  return copy;
}

export function cosine(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < left.length; i++) sum += left[i]! * right[i]!;
  return sum;
}

export interface SurprisingEdges {
  /** Edges whose endpoints' cosine is below τ. */
  count: number;
  /** count / edges; 0 for an edgeless graph (nothing to be surprised by). */
  share: number;
  /** Mean endpoint cosine over all edges (0 when edgeless): context for α when τ is being calibrated. */
  meanSimilarity: number;
}

/** α(t) for a snapshot; `vectors[i]` is node i's normalised embedding. */
export function surprisingEdges(graph: UndirectedGraph, vectors: readonly Float32Array[], tau: number): SurprisingEdges {
  const edges = graph.edgeFrom.length;
  let count = 0;
  let sum = 0;
  for (let k = 0; k < edges; k++) {
    const similarity = cosine(vectors[graph.edgeFrom[k]!]!, vectors[graph.edgeTo[k]!]!);
    sum += similarity;
    if (similarity < tau) count++;
  }
  return { count, share: edges > 0 ? count / edges : 0, meanSimilarity: edges > 0 ? sum / edges : 0 };
}
