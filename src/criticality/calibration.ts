/**
 * The null similarity of an embedder: how similar texts that have nothing to do with each other look to it.
 * The semantic graph keeps only pairs above that level (entropy.ts), so it must be measured per embedder —
 * the hashing embedder scores unrelated texts near 0 ± 0.1 (character-gram collisions), sentence
 * transformers put them at 0.1–0.3, some API models higher still.
 *
 * The null corpus is fixed: NULL_TOPICS word banks on unrelated subjects, and a seeded generator (seed
 * NULL_SEED) that writes NULL_TEXTS_PER_TOPIC short texts per topic from its own bank. Only pairs from
 * different topics are null pairs. τ₀ = the NULL_QUANTILE quantile of their cosines (linear interpolation).
 * Calibrating an embedder embeds the corpus once (NULL_TOPICS.length × NULL_TEXTS_PER_TOPIC texts, in one
 * `embed` call) and caches τ₀ by the embedder's id for the life of the process; `setNullThreshold` stores a
 * value measured elsewhere (e.g. from a config file) under an id.
 *
 * DEFAULT_NULL_THRESHOLD is τ₀ of the default embedder (`hash-v1-384`), precomputed; a test recomputes it.
 */
import { NULL_SEED, NULL_TEXTS_PER_TOPIC, NULL_TEXT_WORDS, NULL_TOPICS, nullCorpus, quantile } from '../registry/index.ts';
import { embedTexts, type Embedder } from './semantic.ts';

// The null corpus moved to the registry (a lower layer), whose relevance floor is calibrated on it too.
export { NULL_SEED, NULL_TEXTS_PER_TOPIC, NULL_TEXT_WORDS, NULL_TOPICS, nullCorpus, quantile };

/** The quantile of null cosines taken as τ₀: 1% of unrelated pairs still get a (weak) edge. */
export const NULL_QUANTILE = 0.99;

/** τ₀ of the default embedder (`hash-v1-384`) from the fixed null corpus (calibration.test.ts recomputes it). */
export const DEFAULT_NULL_THRESHOLD = 0.12685;

/** The cosines of every cross-topic pair of the null corpus under `embedder`, ascending. */
export async function nullSimilarities(embedder: Embedder): Promise<Float64Array> {
  const { texts, topics } = nullCorpus();
  const vectors = await embedTexts(embedder, texts);
  const values: number[] = [];
  for (let i = 0; i < texts.length; i++)
    for (let j = 0; j < i; j++) {
      if (topics[i] === topics[j]) continue;
      let dot = 0;
      for (let k = 0; k < vectors[i]!.length; k++) dot += vectors[i]![k]! * vectors[j]![k]!;
      values.push(dot);
    }
  return Float64Array.from(values).sort();
}

export interface NullCalibration {
  embedder: string;
  /** τ₀: the NULL_QUANTILE quantile of null cosines, clamped to [0, 0.95]. */
  threshold: number;
  /** Null pairs measured. */
  pairs: number;
  /** Their mean and maximum cosine, for context. */
  mean: number;
  max: number;
}

const cache = new Map<string, number>([['hash-v1-384', DEFAULT_NULL_THRESHOLD]]);

/** Measures τ₀ for `embedder` from the null corpus (always embeds; see `nullThreshold` for the cached value). */
export async function calibrateNullThreshold(embedder: Embedder): Promise<NullCalibration> {
  const similarities = await nullSimilarities(embedder);
  const threshold = Math.min(0.95, Math.max(0, quantile(similarities, NULL_QUANTILE)));
  cache.set(embedder.id, threshold);
  let sum = 0;
  for (const value of similarities) sum += value;
  return {
    embedder: embedder.id,
    threshold,
    pairs: similarities.length,
    mean: similarities.length > 0 ? sum / similarities.length : 0,
    max: similarities.at(-1) ?? 0,
  };
}

/** τ₀ for `embedder`: the cached value for its id, else calibrated now (one `embed` call) and cached. */
export async function nullThreshold(embedder: Embedder): Promise<number> {
  const cached = cache.get(embedder.id);
  if (cached !== undefined) return cached;
  return (await calibrateNullThreshold(embedder)).threshold;
}

/** Records τ₀ for an embedder id (a value measured earlier, or chosen); it must lie in [0, 1). */
export function setNullThreshold(embedderId: string, threshold: number): void {
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`null threshold must be in [0, 1), got ${threshold}`);
  cache.set(embedderId, threshold);
}

/** The cached τ₀ for an embedder id, if any. */
export function cachedNullThreshold(embedderId: string): number | undefined {
  return cache.get(embedderId);
}
