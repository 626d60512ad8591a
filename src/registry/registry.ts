/**
 * `CapabilityRegistry`: versioned capability cards in SQLite, their vectors in a columnar store and a usearch
 * HNSW index, and discovery under policy and budget.
 *
 * Truth lives in SQLite; memory and the index file are derived. Every write validates everything first,
 * embeds outside the transaction (embedders are async), then writes cards, vectors and a bumped generation in
 * one SQLite transaction — nothing is half-stored — and only then updates memory. Opening loads the filter
 * columns and vectors, then loads the index if its sidecar agrees with SQLite or rebuilds it (see
 * vector-index.ts). One process writes at a time; a registry written by another process is reconciled the
 * next time it is opened.
 *
 * @example
 * const registry = await CapabilityRegistry.open({ path: 'registry.db' });
 * await registry.register(cards);
 * const { results } = await registry.discover({ need: 'summarize legal contracts', forbid: ['may-use-network'], k: 3 });
 * registry.close();
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidInputError } from '../core/index.ts';
import {
  cardRef,
  cardText,
  contentHash,
  costPerCall,
  latencyBoundMs,
  parseCards,
  type Binding,
  type Card,
  type CardStatus,
  type StoredCard,
} from './card.ts';
import { ColumnStore } from './columns.ts';
import { LabelPartitions } from './partitions.ts';
import { discover, partitionCandidates, RANKING, type Plan, type PlanOptions } from './discovery.ts';
import { checkVectors, HashingEmbedder, normalize, type Embedder } from './embedder.ts';
import { relevanceFloor } from './null-similarity.ts';
import { CapabilityConflictError, EmbedderMismatchError, InvalidTransitionError } from './errors.ts';
import { compileFilter, type DiscoveryConstraints } from './filter.ts';
import { blobToVector, migrateRegistry, prepareStatements, vectorToBlob, type CardRow, type Statements } from './storage.ts';
import { checkConstraints, resultCard, rowOf, tagOf, toStoredCard } from './registry-rows.ts';
import type { DiscoveryQuery, DiscoveryResult, OpenReport, RegisterResult, RegistryOptions } from './types.ts';
import { VectorIndex } from './vector-index.ts';
import { parseReference, pickVersion } from './versions.ts';

export type { DiscoveryQuery, DiscoveryResult, OpenReport, RegisterResult, RegistryOptions } from './types.ts';

export class CapabilityRegistry {
  readonly indexPath: string | undefined;
  openReport!: OpenReport;
  private readonly statements: Statements;
  private store!: ColumnStore;
  private index!: VectorIndex;
  private partitions!: LabelPartitions;
  private embedderInUse: Embedder | undefined;
  private generation = 0;
  private dirty = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly ownsDatabase: boolean,
    indexPath: string | undefined,
    private readonly options: RegistryOptions,
  ) {
    this.indexPath = indexPath;
    migrateRegistry(db, () => this.now().toISOString());
    this.statements = prepareStatements(db);
  }

  static async open(options: RegistryOptions = {}): Promise<CapabilityRegistry> {
    let db = options.database;
    const path = options.path ?? ':memory:';
    const memory = db === undefined && path === ':memory:';
    if (db === undefined) {
      if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
      db = new Database(memory ? path : resolve(path));
      if (!memory) db.pragma('journal_mode = WAL');
      // Discovery reads each result's card by key; at a million cards (1.5 GB) most of those pages miss
      // SQLite's page cache, and a pread per page made a 10-card read ~0.8 ms (vs ~0.15 ms at 10,000 cards).
      // Memory-mapped reads serve them from the OS page cache without system calls (~5× faster at 1M).
      // SQLite clamps the request to its compile-time maximum (2 GB in better-sqlite3's build). Only for a
      // database the registry opens itself: a shared one keeps its owner's settings.
      if (!memory) db.pragma('mmap_size = 8589934592');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    }
    // A shared database is persisted beside its own file; an in-memory one keeps its index in memory only.
    const file = db.memory || db.name === '' ? undefined : db.name;
    const indexPath = options.indexPath ?? (file === undefined ? undefined : `${resolve(file)}.usearch`);
    try {
      const registry = new CapabilityRegistry(db, options.database === undefined, indexPath, options);
      registry.embedderInUse = registry.chooseEmbedder(options.embedder);
      await registry.load();
      return registry;
    } catch (error) {
      if (options.database === undefined) db.close();
      throw error;
    }
  }

  get embedder(): Embedder | undefined {
    return this.embedderInUse;
  }

  /** Validates, embeds and stores cards (one, or an array) in one transaction. Same content again is a no-op. */
  async register(value: unknown, what = 'capability card'): Promise<RegisterResult> {
    const cards = parseCards(value, what);
    const hashes = new Map(cards.map((card) => [card, contentHash(card)]));
    const embedder = this.requireEmbedder();
    const fresh = this.partition(cards, hashes).fresh;
    const vectors = fresh.length === 0 ? [] : await this.embedAll(embedder, fresh.map(cardText));
    const vectorOf = new Map(fresh.map((card, position) => [card, vectors[position]!]));
    const now = this.now().toISOString();
    const insert = this.db.transaction(() => {
      const { fresh: stillFresh, unchanged } = this.partition(cards, hashes); // re-checked under the write lock
      const slots: number[] = [];
      for (const card of stillFresh) {
        const { status, ...document } = card;
        const info = this.statements.insertCard.run(
          card.id,
          card.version,
          status,
          card.provider,
          card.binding.kind,
          card.labels.join(' '),
          costPerCall(card) ?? null,
          latencyBoundMs(card) ?? null,
          card.quality ?? RANKING.DEFAULT_QUALITY,
          hashes.get(card)!,
          JSON.stringify(document),
          now,
          now,
        );
        const slot = Number(info.lastInsertRowid);
        this.statements.upsertVector.run(slot, embedder.id, embedder.dimension, vectorToBlob(vectorOf.get(card)!));
        slots.push(slot);
      }
      if (stillFresh.length > 0) this.bumpGeneration(embedder);
      return { slots, stillFresh, unchanged };
    });
    const { slots, stillFresh, unchanged } = insert.immediate();
    const activeSlots: number[] = [];
    stillFresh.forEach((card, position) => {
      const slot = slots[position]!;
      const vector = vectorOf.get(card)!;
      this.store.put(slot, rowOf(card, vector, hashes.get(card)), vector);
      if (card.status === 'active') activeSlots.push(slot);
    });
    this.addToIndex(activeSlots);
    return { added: stillFresh.map(cardRef), unchanged: unchanged.map(cardRef) };
  }

  /** The card a reference resolves to (`id`, `id@1.4.2`, `id@^1.4`); see versions.ts for the rules. */
  resolve(reference: string): StoredCard {
    const { id } = parseReference(reference);
    const picked = pickVersion(reference, this.statements.versionsOf.all(id));
    return toStoredCard(this.statements.byKey.get(picked.key)!);
  }

  /** Stored versions (yanked included), sorted by id then registration; optionally one id or one status. */
  list(filter: { id?: string; status?: CardStatus; limit?: number; offset?: number } = {}): StoredCard[] {
    return this.statements.list
      .all({ id: filter.id ?? null, status: filter.status ?? null, limit: filter.limit ?? -1, offset: filter.offset ?? 0 })
      .map(toStoredCard);
  }

  /** Number of stored versions, yanked included. */
  count(): number {
    return this.statements.count.get()!.cards;
  }

  /** Deprecates or yanks one exact version. active → deprecated → yanked; yanked is final. */
  setStatus(id: string, version: string, status: 'deprecated' | 'yanked'): StoredCard {
    const change = this.db.transaction(() => {
      const row = this.statements.byIdVersion.get(id, version);
      if (row === undefined)
        throw new InvalidInputError('Cannot change status', [{ path: `${id}@${version}`, message: 'no such capability version' }]);
      if (row.status === 'yanked' && status !== 'yanked') throw new InvalidTransitionError(id, version, row.status, status);
      if (row.status !== status) {
        this.statements.setStatus.run(status, this.now().toISOString(), row.key);
        this.bumpGeneration(undefined);
      }
      return { ...row, status };
    });
    const row = change.immediate();
    if (this.store.isActive(row.key)) {
      this.index.remove(row.key);
      this.dirty = true;
    }
    this.store.setStatus(row.key, status);
    return toStoredCard(row);
  }

  /** The k best active capabilities for a need that pass every constraint, each with its explanation. */
  async discover(query: DiscoveryQuery): Promise<{ results: DiscoveryResult[]; plan: Plan; floor?: number; belowFloor?: number }> {
    const vector = typeof query.need === 'string' ? (await this.embedAll(this.requireEmbedder(), [query.need]))[0]! : query.need;
    const found = this.discoverVector(vector, query, query.k ?? 5);
    if (query.minSimilarity === undefined) return found;
    const floor = typeof query.minSimilarity === 'number' ? query.minSimilarity : await this.relevanceFloor(this.requireEmbedder());
    const results = found.results.filter((result) => result.explanation.similarity > floor);
    return { results, plan: found.plan, floor, belowFloor: found.results.length - results.length };
  }

  /**
   * The embedder's calibrated relevance floor, kept in the registry's meta table once measured: a model-backed
   * embedder then pays the calibration's one `embed` call once per registry, not once per search.
   */
  private async relevanceFloor(embedder: Embedder): Promise<number> {
    const name = `relevance-floor:${embedder.id}`;
    const stored = Number(this.statements.getMeta.get(name)?.value);
    if (Number.isFinite(stored)) return stored;
    const floor = await relevanceFloor(embedder);
    try {
      this.statements.setMeta.run(name, String(floor));
    } catch (error) {
      // A registry on read-only storage still searches; it measures again next time.
      if ((error as { code?: string }).code !== 'SQLITE_READONLY') throw error;
    }
    return floor;
  }

  /** Discovery for a vector; `plan` overrides the registry's plan options for this query (e.g. force exact). */
  discoverVector(
    need: Float32Array,
    constraints: DiscoveryConstraints,
    k = 5,
    plan: PlanOptions | undefined = this.options.plan,
  ): { results: DiscoveryResult[]; plan: Plan } {
    if (need.length !== this.store.dimension) {
      throw new InvalidInputError('Invalid discovery query', [
        { path: 'need', message: `vector has dimension ${need.length}; the registry's embedder uses ${this.store.dimension}` },
      ]);
    }
    const vector = normalize(Float32Array.from(need));
    checkConstraints(constraints, k);
    const filter = compileFilter(this.store, constraints);
    const found = discover(this.store, this.index, this.partitions, filter, vector, k, plan);
    const embedding = { embedder: this.embedderId() ?? 'none', dimension: this.store.dimension };
    const results = found.hits.map((hit): DiscoveryResult => {
      const card = resultCard(this.statements.resultByKey.get(hit.slot)!, embedding);
      const cost = this.store.cost[hit.slot]!;
      const latency = this.store.latency[hit.slot]!;
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
    return { results, plan: found.plan };
  }

  /** Rebuilds the HNSW index from the vectors in memory and persists it. */
  reindex(): { indexed: number; ms: number } {
    const started = performance.now();
    this.index.rebuild(this.activeSlots(), this.store.vectors);
    this.dirty = true;
    this.flush();
    return { indexed: this.index.size, ms: performance.now() - started };
  }

  /** Re-embeds every card with `embedder` (one transaction), then rebuilds memory and the index. */
  async reembed(embedder: Embedder, batchSize = 256): Promise<{ cards: number; from: string | undefined; to: string }> {
    const rows = this.statements.listTexts.all();
    const vectors: Float32Array[] = [];
    for (let start = 0; start < rows.length; start += batchSize) {
      const texts = rows.slice(start, start + batchSize).map((row) => cardText(JSON.parse(row.card_json) as Card));
      vectors.push(...(await this.embedAll(embedder, texts)));
    }
    const from = this.embedderId();
    this.db
      .transaction(() => {
        rows.forEach((row, position) =>
          this.statements.upsertVector.run(row.key, embedder.id, embedder.dimension, vectorToBlob(vectors[position]!)),
        );
        this.bumpGeneration(embedder, true);
      })
      .immediate();
    this.embedderInUse = embedder;
    await this.load();
    return { cards: rows.length, from, to: embedder.id };
  }

  /** Persists the index and its sidecar if anything changed since the last flush. */
  flush(): void {
    this.partitions.save();
    if (!this.dirty || this.indexPath === undefined) return;
    this.index.save(this.indexPath, this.indexState());
    this.dirty = false;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      if (this.ownsDatabase && this.db.open) this.db.close();
    }
  }

  stats(): {
    cards: number;
    active: number;
    indexed: number;
    embedder: string | undefined;
    dimension: number;
    generation: number;
    labels: number;
    providers: number;
  } {
    return {
      cards: this.store.all.length,
      active: this.store.activeCount,
      indexed: this.index.size,
      embedder: this.embedderId(),
      dimension: this.store.dimension,
      generation: this.generation,
      labels: this.store.labels.names.length,
      providers: this.store.providers.names.length,
    };
  }

  /** Read-only access for benchmarks and tests (exact reference search). */
  get columns(): ColumnStore {
    return this.store;
  }

  private chooseEmbedder(given: Embedder | undefined): Embedder | undefined {
    const stored = this.statements.getMeta.get('embedder')?.value;
    if (given !== undefined) {
      if (stored !== undefined && stored !== given.id && this.statements.embedders.all().some((row) => row.count > 0))
        throw new EmbedderMismatchError(stored, given.id);
      return given;
    }
    if (stored === undefined) return new HashingEmbedder();
    const match = /^hash-v1-(\d+)$/.exec(stored);
    // A real model cannot be rebuilt from its id: the caller must pass it (or reembed to another).
    return match ? new HashingEmbedder({ dimension: Number(match[1]) }) : undefined;
  }

  private embedderId(): string | undefined {
    return this.embedderInUse?.id ?? this.statements.getMeta.get('embedder')?.value;
  }

  /** What the index sidecar must agree with for the index file to be trusted. */
  private indexState() {
    return {
      generation: this.generation,
      count: this.store.activeCount,
      checksum: this.store.checksum,
      embedder: this.embedderId() ?? 'none',
      dimension: this.store.dimension,
      quantization: this.index.options.quantization,
    };
  }

  private requireEmbedder(): Embedder {
    if (this.embedderInUse !== undefined) return this.embedderInUse;
    const stored = this.statements.getMeta.get('embedder')?.value ?? 'unknown';
    throw new EmbedderMismatchError(stored, '(none given)');
  }

  private async load(): Promise<void> {
    const started = performance.now();
    this.generation = Number(this.statements.getMeta.get('generation')?.value ?? 0);
    const mixed = this.statements.embedders
      .all()
      .filter((row) => row.embedder !== this.embedderInUse?.id || row.dimension !== this.embedderInUse?.dimension);
    if (mixed.length > 0 && this.embedderInUse !== undefined) throw new EmbedderMismatchError(mixed[0]!.embedder, this.embedderInUse.id);
    const dimension = this.embedderInUse?.dimension ?? Number(this.statements.getMeta.get('dimension')?.value ?? 0);
    const store = new ColumnStore(dimension);
    const missingKeys: number[] = [];
    const vector = new Float32Array(dimension);
    // Raw (array) rows: at a million cards, building a million row objects is a visible share of open time.
    for (const [
      key,
      id,
      status,
      provider,
      kind,
      labels,
      cost,
      latency,
      quality,
      hash,
      ,
      vectorDimension,
      blob,
    ] of this.statements.load.iterate()) {
      if (blob === null || vectorDimension !== dimension) {
        missingKeys.push(key);
        continue;
      }
      blobToVector(blob, vector);
      store.put(
        key,
        {
          id,
          status,
          provider,
          kind: kind as Binding['kind'],
          labels: labels === '' ? [] : labels.split(' '),
          cost: cost ?? undefined,
          latency: latency ?? undefined,
          quality,
          tag: tagOf(hash, vector),
        },
        vector,
      );
    }
    this.store = store;
    this.partitions = new LabelPartitions(store, {
      hnsw: this.options.hnsw ?? {},
      embedder: () => this.embedderId() ?? 'none',
      ...(this.indexPath === undefined ? {} : { persistAt: this.indexPath }),
      ...(this.options.plan?.labelGraphRows === undefined ? {} : { graphRows: this.options.plan.labelGraphRows }),
    });
    this.partitions.warm(partitionCandidates(store, this.options.plan));
    this.partitions.save();
    this.index = new VectorIndex(dimension, this.options.hnsw);
    const loadMs = performance.now() - started;
    // Iteration holds the connection, so rows without a vector are fetched once it is done.
    if (missingKeys.length > 0) await this.embedMissing(missingKeys.map((key) => this.statements.byKey.get(key)!));
    const indexStarted = performance.now();
    const rebuilt: OpenReport['rebuilt'] =
      this.indexPath === undefined ? 'not-persisted' : this.index.load(this.indexPath, this.indexState());
    if (rebuilt !== undefined) {
      this.index.rebuild(this.activeSlots(), store.vectors);
      this.dirty = true;
      this.flush();
    }
    this.openReport = { cards: store.all.length, indexed: this.index.size, rebuilt, loadMs, indexMs: performance.now() - indexStarted };
  }

  /** Cards whose vector row is missing (written around the registry): embed and store them now. */
  private async embedMissing(rows: CardRow[]): Promise<void> {
    const embedder = this.requireEmbedder();
    const cards = rows.map(toStoredCard);
    const vectors = await this.embedAll(embedder, cards.map(cardText));
    this.db
      .transaction(() => {
        rows.forEach((row, position) =>
          this.statements.upsertVector.run(row.key, embedder.id, embedder.dimension, vectorToBlob(vectors[position]!)),
        );
        this.bumpGeneration(embedder);
      })
      .immediate();
    rows.forEach((row, position) =>
      this.store.put(row.key, rowOf({ ...cards[position]!, status: row.status }, vectors[position]!, row.content_hash), vectors[position]!),
    );
  }

  /**
   * Embeds, checks and L2-normalises (copies: the embedder's arrays are not ours). Normalised vectors make
   * every dot product a cosine, which the native inner-product scans of label partitions rely on.
   */
  private async embedAll(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
    const vectors = await embedder.embed(texts);
    checkVectors(embedder, vectors, texts.length);
    return vectors.map((vector) => normalize(Float32Array.from(vector)));
  }

  /** Splits a batch into new id@versions and already-stored identical ones; a stored different one is a conflict. */
  private partition(cards: Card[], hashes: Map<Card, string>): { fresh: Card[]; unchanged: Card[] } {
    const fresh: Card[] = [];
    const unchanged: Card[] = [];
    const seen = new Set<string>();
    for (const card of cards) {
      const ref = cardRef(card);
      if (seen.has(ref)) continue; // parseCards already refused duplicates with different content
      seen.add(ref);
      const stored = this.statements.hashOf.get(card.id, card.version);
      const hash = hashes.get(card)!;
      if (stored === undefined) fresh.push(card);
      else if (stored.content_hash !== hash) throw new CapabilityConflictError(card.id, card.version, stored.content_hash, hash);
      else unchanged.push(card);
    }
    return { fresh, unchanged };
  }

  private bumpGeneration(embedder: Embedder | undefined, replace = false): void {
    this.generation = Number(this.statements.getMeta.get('generation')?.value ?? 0) + 1;
    this.statements.setMeta.run('generation', String(this.generation));
    if (embedder !== undefined && (replace || this.statements.getMeta.get('embedder') === undefined)) {
      this.statements.setMeta.run('embedder', embedder.id);
      this.statements.setMeta.run('dimension', String(embedder.dimension));
    }
  }

  private addToIndex(slots: number[]): void {
    if (slots.length === 0) return;
    const dimension = this.store.dimension;
    const rows = new Float32Array(slots.length * dimension);
    slots.forEach((slot, position) => rows.set(this.store.vector(slot), position * dimension));
    this.index.add(slots, rows);
    this.dirty = true;
  }

  private activeSlots(): Int32Array {
    const all = this.store.all.view();
    return all.filter((slot) => this.store.isActive(slot));
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
