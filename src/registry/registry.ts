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
 * The class holds the state and the order of those steps; the steps live beside it: opening the database and
 * reading the columns back (registry-open.ts), the embedder's choice and vectors (registry-embedding.ts), the
 * rows a registration writes (registry-writes.ts), and row and result conversions (registry-rows.ts).
 *
 * @example
 * const registry = await CapabilityRegistry.open({ path: 'registry.db' });
 * await registry.register(cards);
 * const { results } = await registry.discover({ need: 'summarize legal contracts', forbid: ['may-use-network'], k: 3 });
 * registry.close();
 */
import type Database from 'better-sqlite3';
import { InvalidInputError } from '../core/index.ts';
import { cardRef, cardText, contentHash, parseCards, type Card, type CardStatus, type StoredCard } from './card.ts';
import type { ColumnStore } from './columns.ts';
import { LabelPartitions } from './partitions.ts';
import { discover, partitionCandidates, type Plan, type PlanOptions } from './discovery.ts';
import { normalize, type Embedder } from './embedder.ts';
import { InvalidTransitionError } from './errors.ts';
import { compileFilter, type DiscoveryConstraints } from './filter.ts';
import { migrateRegistry, prepareStatements, type CardRow, type Statements } from './storage.ts';
import { cachedRelevanceFloor, checkStoredEmbedders, chooseEmbedder, embedNormalized, requireEmbedder } from './registry-embedding.ts';
import { defaultIndexPath, loadColumns, openOwnDatabase } from './registry-open.ts';
import { checkConstraints, explainHits, rowOf, toStoredCard } from './registry-rows.ts';
import { insertCard, splitBatch, storeVector } from './registry-writes.ts';
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
    const db = options.database === undefined ? openOwnDatabase(options.path ?? ':memory:') : options.database;
    const indexPath = defaultIndexPath(db, options.indexPath);
    try {
      const registry = new CapabilityRegistry(db, options.database === undefined, indexPath, options);
      registry.embedderInUse = chooseEmbedder(registry.statements, options.embedder);
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
    const fresh = splitBatch(this.statements, cards, hashes).fresh;
    const vectors = fresh.length === 0 ? [] : await embedNormalized(embedder, fresh.map(cardText));
    const vectorOf = new Map(fresh.map((card, position) => [card, vectors[position]!]));
    const now = this.now().toISOString();
    const insert = this.db.transaction(() => {
      const { fresh: stillFresh, unchanged } = splitBatch(this.statements, cards, hashes); // re-checked under the write lock
      const slots: number[] = [];
      for (const card of stillFresh) {
        const slot = insertCard(this.statements, card, hashes.get(card)!, now);
        storeVector(this.statements, slot, embedder, vectorOf.get(card)!);
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
    const vector = typeof query.need === 'string' ? (await embedNormalized(this.requireEmbedder(), [query.need]))[0]! : query.need;
    const found = this.discoverVector(vector, query, query.k ?? 5);
    if (query.minSimilarity === undefined) return found;
    const floor =
      typeof query.minSimilarity === 'number' ? query.minSimilarity : await cachedRelevanceFloor(this.statements, this.requireEmbedder());
    const results = found.results.filter((result) => result.explanation.similarity > floor);
    return { results, plan: found.plan, floor, belowFloor: found.results.length - results.length };
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
    return { results: explainHits(this.store, this.statements, found.hits, filter, embedding), plan: found.plan };
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
      vectors.push(...(await embedNormalized(embedder, texts)));
    }
    const from = this.embedderId();
    this.db
      .transaction(() => {
        rows.forEach((row, position) => storeVector(this.statements, row.key, embedder, vectors[position]!));
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
    return requireEmbedder(this.statements, this.embedderInUse);
  }

  private async load(): Promise<void> {
    const started = performance.now();
    this.generation = Number(this.statements.getMeta.get('generation')?.value ?? 0);
    checkStoredEmbedders(this.statements, this.embedderInUse);
    const dimension = this.embedderInUse?.dimension ?? Number(this.statements.getMeta.get('dimension')?.value ?? 0);
    const { store, missingKeys } = loadColumns(this.statements, dimension);
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
    const vectors = await embedNormalized(embedder, cards.map(cardText));
    this.db
      .transaction(() => {
        rows.forEach((row, position) => storeVector(this.statements, row.key, embedder, vectors[position]!));
        this.bumpGeneration(embedder);
      })
      .immediate();
    rows.forEach((row, position) =>
      this.store.put(row.key, rowOf({ ...cards[position]!, status: row.status }, vectors[position]!, row.content_hash), vectors[position]!),
    );
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
