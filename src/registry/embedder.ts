/**
 * Embedders turn card texts and needs into vectors. The registry needs only `Embedder` (id, dimension,
 * embed); the real embedding models (node-llama-cpp, OpenAI-compatible /embeddings) in src/models/embeddings
 * have the same shape, so any of them plugs in without an adapter.
 *
 * The default is `HashingEmbedder`: weight-free, offline and deterministic. Features are word unigrams, word
 * bigrams and character 3–5-grams of each word (with `<` `>` boundary marks, fastText-style, so "summarize"
 * and "summary" share "<sum", "summ", …). Each feature is hashed (FNV-1a + murmur finaliser) to a bucket and a
 * sign (signed feature hashing: collisions cancel in expectation instead of piling up), weighted by
 * (1 + ln tf) × a per-kind weight, and the vector is L2-normalised so a dot product is the cosine.
 *
 * Why the weights: a word's ~20 character grams would otherwise outweigh the word itself; at 0.2 each their
 * total energy is about that of the word (1.0), and bigrams (0.5) add word order without dominating. English
 * stop words are dropped because, with no IDF available to a stateless embedder, they would make every pair of
 * sentences look alike.
 */
import { InvalidInputError } from '../core/index.ts';

/** What the registry needs from an embedding model. Vectors must be L2-normalised (or close to it). */
export interface Embedder {
  /** Stable id of the model and its settings: vectors from different ids never share an index. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have i in into is it its of on or that the this to was were will with ' +
    'which who whom what when where how can do does you your we our they their them he she his her not no so than then there these those'
  ).split(' '),
);

const KIND_WORD = 0;
const KIND_BIGRAM = 1;
const KIND_CHAR = 2;
const KIND_WEIGHTS = [1.0, 0.5, 0.2, 0];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits over the whole word. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashWord(word: string): number {
  let h = FNV_OFFSET ^ 0x5bd1e995;
  for (let index = 0; index < word.length; index++) h = Math.imul(h ^ word.charCodeAt(index), FNV_PRIME);
  return mix32(h);
}

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 0 && !STOP_WORDS.has(token));
}

export interface HashingEmbedderOptions {
  /** Vector dimension (default 384). Smaller is faster and more collision-prone. */
  dimension?: number;
}

export class HashingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  /** Reused between texts: embedding is single-threaded and synchronous. */
  private features = new Uint32Array(4096);

  constructor(options: HashingEmbedderOptions = {}) {
    const dimension = options.dimension ?? 384;
    if (!Number.isInteger(dimension) || dimension < 8 || dimension > 16_384) {
      throw new InvalidInputError('Invalid hashing embedder', [{ path: 'dimension', message: 'must be an integer between 8 and 16384' }]);
    }
    this.dimension = dimension;
    this.id = `hash-v1-${dimension}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedOne(text));
  }

  /** Synchronous form, for bulk loads that cannot afford a promise per text. */
  embedOne(text: string, out: Float32Array = new Float32Array(this.dimension)): Float32Array {
    out.fill(0);
    let count = 0;
    const push = (hash: number, kind: number) => {
      if (count === this.features.length) {
        const grown = new Uint32Array(count * 2);
        grown.set(this.features);
        this.features = grown;
      }
      // The kind lives in the low two bits so equal features of different kinds never merge when counted.
      this.features[count++] = ((hash & ~3) | kind) >>> 0;
    };
    let previous = -1;
    for (const token of tokenize(text)) {
      const word = hashWord(token);
      push(word, KIND_WORD);
      if (previous >= 0) push(mix32(Math.imul(previous, 0x9e3779b1) ^ word), KIND_BIGRAM);
      previous = word;
      const padded = `<${token}>`;
      for (let start = 0; start + 3 <= padded.length; start++) {
        let h = FNV_OFFSET;
        for (let offset = 0; offset < 5 && start + offset < padded.length; offset++) {
          h = Math.imul(h ^ padded.charCodeAt(start + offset), FNV_PRIME);
          if (offset >= 2) push(mix32(h), KIND_CHAR);
        }
      }
    }
    // Sorting groups equal features, so term frequencies need no hash map.
    const sorted = this.features.subarray(0, count).sort();
    let index = 0;
    while (index < count) {
      const feature = sorted[index]!;
      let end = index + 1;
      while (end < count && sorted[end] === feature) end++;
      const weight = KIND_WEIGHTS[feature & 3]! * (1 + Math.log(end - index));
      const spread = Math.imul(feature, 0x9e3779b1) >>> 0;
      out[(feature >>> 2) % this.dimension]! += spread >>> 31 ? -weight : weight;
      index = end;
    }
    return normalize(out);
  }
}

/** Scales to unit length in place (a zero vector stays zero). */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += vector[index]! * vector[index]!;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index++) vector[index]! *= scale;
  return vector;
}

export function dot(left: Float32Array, right: Float32Array, rightOffset = 0): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[rightOffset + index]!;
  return sum;
}

/** Checks an embedder's output before anything is stored: right count, right dimension, finite numbers. */
export function checkVectors(embedder: Embedder, vectors: readonly Float32Array[], expected: number): void {
  const issues: { path: string; message: string }[] = [];
  if (vectors.length !== expected) issues.push({ path: '', message: `returned ${vectors.length} vectors for ${expected} texts` });
  vectors.forEach((vector, index) => {
    if (vector.length !== embedder.dimension)
      issues.push({ path: `[${index}]`, message: `has dimension ${vector.length}, expected ${embedder.dimension}` });
    else if (!vector.every(Number.isFinite)) issues.push({ path: `[${index}]`, message: 'contains a non-finite number' });
  });
  if (issues.length > 0) throw new InvalidInputError(`Embedder "${embedder.id}" returned unusable vectors`, issues);
}
