/**
 * Which embedder a registry uses and how its vectors are made: the choice on open (the one given, one rebuilt
 * from the recorded hash-v1 id, or none), the refusal of vectors from another embedder, the normalisation
 * every stored and query vector gets, and the embedder's relevance floor cached in the meta table.
 */
import { checkVectors, HashingEmbedder, normalize, type Embedder } from './embedder.ts';
import { EmbedderMismatchError } from './errors.ts';
import { relevanceFloor } from './null-similarity.ts';
import type { Statements } from './storage.ts';

/** The embedder to open with; a given one must match the recorded one unless no vector is stored yet. */
export function chooseEmbedder(statements: Statements, given: Embedder | undefined): Embedder | undefined {
  const stored = statements.getMeta.get('embedder')?.value;
  if (given !== undefined) {
    if (stored !== undefined && stored !== given.id && statements.embedders.all().some((row) => row.count > 0))
      throw new EmbedderMismatchError(stored, given.id);
    return given;
  }
  if (stored === undefined) return new HashingEmbedder();
  const match = /^hash-v1-(\d+)$/.exec(stored);
  // A real model cannot be rebuilt from its id: the caller must pass it (or reembed to another).
  return match ? new HashingEmbedder({ dimension: Number(match[1]) }) : undefined;
}

export function requireEmbedder(statements: Statements, inUse: Embedder | undefined): Embedder {
  if (inUse !== undefined) return inUse;
  const stored = statements.getMeta.get('embedder')?.value ?? 'unknown';
  throw new EmbedderMismatchError(stored, '(none given)');
}

/** Refuses to open with `inUse` when any stored vector came from another embedder or dimension. */
export function checkStoredEmbedders(statements: Statements, inUse: Embedder | undefined): void {
  const mixed = statements.embedders.all().filter((row) => row.embedder !== inUse?.id || row.dimension !== inUse?.dimension);
  if (mixed.length > 0 && inUse !== undefined) throw new EmbedderMismatchError(mixed[0]!.embedder, inUse.id);
}

/**
 * Embeds, checks and L2-normalises (copies: the embedder's arrays are not ours). Normalised vectors make
 * every dot product a cosine, which the native inner-product scans of label partitions rely on.
 */
export async function embedNormalized(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
  const vectors = await embedder.embed(texts);
  checkVectors(embedder, vectors, texts.length);
  return vectors.map((vector) => normalize(Float32Array.from(vector)));
}

/**
 * The embedder's calibrated relevance floor, kept in the registry's meta table once measured: a model-backed
 * embedder then pays the calibration's one `embed` call once per registry, not once per search.
 */
export async function cachedRelevanceFloor(statements: Statements, embedder: Embedder): Promise<number> {
  const name = `relevance-floor:${embedder.id}`;
  const stored = Number(statements.getMeta.get(name)?.value);
  if (Number.isFinite(stored)) return stored;
  const floor = await relevanceFloor(embedder);
  try {
    statements.setMeta.run(name, String(floor));
  } catch (error) {
    // A registry on read-only storage still searches; it measures again next time.
    if ((error as { code?: string }).code !== 'SQLITE_READONLY') throw error;
  }
  return floor;
}
