/**
 * Conversions between SQLite rows, cards, columnar rows and discovery results, and the checks on a discovery
 * query, for registry.ts.
 */
import { InvalidInputError } from '../core/index.ts';
import { cardRef, contentHash, costPerCall, latencyBoundMs, type Card, type StoredCard } from './card.ts';
import type { ColumnRow, ColumnStore } from './columns.ts';
import { RANKING, type Hit } from './discovery.ts';
import type { CompiledFilter, DiscoveryConstraints } from './filter.ts';
import type { CardRow, ResultRow, Statements } from './storage.ts';
import type { DiscoveryResult } from './types.ts';

export function checkConstraints(constraints: DiscoveryConstraints, k: number): void {
  const issues: { path: string; message: string }[] = [];
  if (!Number.isInteger(k) || k < 1 || k > 1_000) issues.push({ path: 'k', message: 'must be an integer from 1 to 1000' });
  for (const key of ['maxCostPerCall', 'maxLatencyMs'] as const) {
    const value = constraints[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) issues.push({ path: key, message: 'must be a finite number ≥ 0' });
  }
  if (issues.length > 0) throw new InvalidInputError('Invalid discovery query', issues);
}

export function toStoredCard(row: CardRow): StoredCard {
  const document = JSON.parse(row.card_json) as Omit<Card, 'status'>;
  return {
    ...document,
    status: row.status,
    embedding: { embedder: row.embedder ?? 'none', dimension: row.dimension ?? 0 },
    registeredAt: row.registered_at,
  };
}

/** A discovery result's card from its raw row; `embedding` is the registry's (every indexed card has its vector). */
export function resultCard([status, json, registeredAt]: ResultRow, embedding: StoredCard['embedding']): StoredCard {
  const document = JSON.parse(json) as Omit<Card, 'status'>;
  return { ...document, status, embedding, registeredAt };
}

/** Discovery hits as results: each card read by key, with the ranking terms and the checks it passed. */
export function explainHits(
  store: ColumnStore,
  statements: Statements,
  hits: Hit[],
  filter: CompiledFilter,
  embedding: StoredCard['embedding'],
): DiscoveryResult[] {
  return hits.map((hit): DiscoveryResult => {
    const card = resultCard(statements.resultByKey.get(hit.slot)!, embedding);
    const cost = store.cost[hit.slot]!;
    const latency = store.latency[hit.slot]!;
    return {
      card,
      ref: cardRef(card),
      key: hit.slot,
      score: hit.score,
      explanation: {
        similarity: hit.similarity,
        prior: hit.prior,
        costPenalty: hit.costPenalty,
        costPerCall: Number.isNaN(cost) ? undefined : cost,
        latencyMs: Number.isNaN(latency) ? undefined : latency,
        passed: filter.checks,
      },
    };
  });
}

export function rowOf(card: Card, vector: Float32Array, hash = contentHash(card)): ColumnRow {
  return {
    id: card.id,
    status: card.status,
    provider: card.provider,
    kind: card.binding.kind,
    labels: card.labels,
    cost: costPerCall(card),
    latency: latencyBoundMs(card),
    quality: card.quality ?? RANKING.DEFAULT_QUALITY,
    tag: tagOf(hash, vector),
  };
}

/** 32 bits of the content hash mixed with the vector's first components: the checksum sees both. */
export function tagOf(hash: string, vector: Float32Array): number {
  const bits = new Uint32Array(vector.buffer, vector.byteOffset, Math.min(4, vector.length));
  let tag = Number.parseInt(hash.slice(0, 8), 16);
  for (const word of bits) tag = Math.imul(tag ^ word, 0x01000193) >>> 0;
  return tag >>> 0;
}
