/**
 * The SQLite rows a registration writes: sorting a batch into new and already-stored versions (a stored
 * version with different content is a conflict, never an overwrite), a card's row, and a card's vector row.
 * Callers run these inside their own transaction; the generation, memory and index updates stay in registry.ts.
 */
import { cardRef, costPerCall, latencyBoundMs, type Card } from './card.ts';
import { RANKING } from './discovery.ts';
import type { Embedder } from './embedder.ts';
import { CapabilityConflictError } from './errors.ts';
import { vectorToBlob, type Statements } from './storage.ts';

/** Splits a batch into new id@versions and already-stored identical ones; a stored different one is a conflict. */
export function splitBatch(statements: Statements, cards: Card[], hashes: Map<Card, string>): { fresh: Card[]; unchanged: Card[] } {
  const fresh: Card[] = [];
  const unchanged: Card[] = [];
  const seen = new Set<string>();
  for (const card of cards) {
    const ref = cardRef(card);
    if (seen.has(ref)) continue; // parseCards already refused duplicates with different content
    seen.add(ref);
    const stored = statements.hashOf.get(card.id, card.version);
    const hash = hashes.get(card)!;
    if (stored === undefined) fresh.push(card);
    else if (stored.content_hash !== hash) throw new CapabilityConflictError(card.id, card.version, stored.content_hash, hash);
    else unchanged.push(card);
  }
  return { fresh, unchanged };
}

/** Inserts a card's row (its filter columns and its document without the status); returns its key. */
export function insertCard(statements: Statements, card: Card, hash: string, now: string): number {
  const { status, ...document } = card;
  const info = statements.insertCard.run(
    card.id,
    card.version,
    status,
    card.provider,
    card.binding.kind,
    card.labels.join(' '),
    costPerCall(card) ?? null,
    latencyBoundMs(card) ?? null,
    card.quality ?? RANKING.DEFAULT_QUALITY,
    hash,
    JSON.stringify(document),
    now,
    now,
  );
  return Number(info.lastInsertRowid);
}

/** Stores (or replaces) the vector of the card at `key`, recording the embedder that made it. */
export function storeVector(statements: Statements, key: number, embedder: Embedder, vector: Float32Array): void {
  statements.upsertVector.run(key, embedder.id, embedder.dimension, vectorToBlob(vector));
}
