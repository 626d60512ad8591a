/**
 * The registry's option and result types, apart from the class so that callers (CLI, workflow wiring) can
 * name them without reading the implementation.
 */
import type Database from 'better-sqlite3';
import type { StoredCard } from './card.ts';
import type { PlanOptions } from './discovery.ts';
import type { Embedder } from './embedder.ts';
import type { DiscoveryConstraints } from './filter.ts';
import type { HnswOptions, StaleReason } from './vector-index.ts';

export interface RegistryOptions {
  /** SQLite file (created with its folder), or ':memory:'. Ignored when `database` is given. */
  path?: string;
  /** An open better-sqlite3 database to share (e.g. the journal's); the registry adds its own tables. */
  database?: Database.Database;
  /** Where the HNSW index is persisted (default `<path>.usearch`; none for in-memory databases). */
  indexPath?: string;
  /** Default: the embedder recorded in the registry when it can be rebuilt (hash-v1-*), else hash-v1-384. */
  embedder?: Embedder;
  hnsw?: HnswOptions;
  plan?: PlanOptions;
  now?: () => Date;
}

export interface DiscoveryQuery extends DiscoveryConstraints {
  /** What the capability should do (embedded), or a vector from the registry's embedder. */
  need: string | Float32Array;
  /** How many results (default 5). */
  k?: number;
  /**
   * Relevance floor: only results whose similarity to the need exceeds it. `'calibrated'` measures it for the
   * registry's embedder from a null corpus (see null-similarity.ts); a number sets it; unset: no floor.
   */
  minSimilarity?: number | 'calibrated';
}

export interface DiscoveryResult {
  card: StoredCard;
  ref: string;
  /** The card's storage key (also its HNSW key). */
  key: number;
  score: number;
  explanation: {
    similarity: number;
    prior: number;
    costPenalty: number;
    costPerCall: number | undefined;
    latencyMs: number | undefined;
    /** The hard constraints this capability passed (all of the query's). */
    passed: string[];
  };
}

export interface OpenReport {
  cards: number;
  indexed: number;
  /** Why the index was rebuilt on open, if it was. */
  rebuilt: StaleReason | 'not-persisted' | undefined;
  loadMs: number;
  indexMs: number;
}

export interface RegisterResult {
  added: string[];
  unchanged: string[];
}
