/**
 * Discovery: the k best capabilities for a need vector under hard constraints.
 *
 * Ranking (documented, bounded, and the same in every plan):
 *
 *     score = similarity + PRIOR_WEIGHT × (quality − 0.5) − COST_WEIGHT × cost / (cost + COST_REFERENCE_USD)
 *
 * similarity is the exact float32 cosine; quality is the card's prior in [0, 1] (0.5 when unset); the cost
 * term is a saturating penalty in [0, 1) (unknown cost counts as 0.5). The adjustments are small on purpose:
 * similarity decides, prior and cost break near-ties. Because the boost is bounded by MAX_BOOST, the HNSW plan
 * can stop as soon as the k-th best score beats every unseen candidate's best possible score (the similarity
 * of the last candidate returned + MAX_BOOST): a threshold-algorithm stop, exact up to HNSW's own recall.
 * Results are one per card id: the best-scoring passing version.
 *
 * Plans. The filter's pass count is estimated first, from the smallest posting list among the required
 * labels and allowed providers (exactly when it is short, from a strided sample when it is long). Then:
 *   `exact`      few passing slots: enumerate and score them all in JS;
 *   `partition`  the smallest source is one required label with at most 150,000 cards: scan that label's
 *                int8 codes natively (partitions.ts) in approximate similarity order, filtering the other
 *                constraints; exact, because the stop rule adds the rigorous quantisation error bound;
 *   `hnsw`       a label partition of ≥ 50,000 rows has its own HNSW graph, searched first (source
 *                `label:… (label graph)`), with the exact scan as its fallback; otherwise (no selective
 *                label) the main HNSW index, post-filtered.
 * They share one loop: ask for k × 8 (or k × 2 / selectivity) candidates, filter, re-rank exactly, and widen
 * the request until the stop rule holds; at `maxCandidates` with fewer than k passing, fall back (label graph:
 * to the scan; main index: to exact over the smallest source). (A JS-side filter inside HNSW traversal
 * collapses at ~1% selectivity, and usearch's JS API has none anyway: selective filters never go through the
 * main graph.)
 */
import type { ColumnStore, SlotList } from './columns.ts';
import { passes, type CompiledFilter } from './filter.ts';
import { LabelPartitions } from './partitions.ts';
import type { VectorIndex } from './vector-index.ts';

export const RANKING = {
  PRIOR_WEIGHT: 0.04,
  COST_WEIGHT: 0.04,
  COST_REFERENCE_USD: 0.01,
  UNKNOWN_COST_PENALTY: 0.5,
  DEFAULT_QUALITY: 0.5,
} as const;
/** The largest amount the prior and cost terms can add to a similarity. */
export const MAX_BOOST = RANKING.PRIOR_WEIGHT * 0.5;

export interface PlanOptions {
  /** A JS exact scan is chosen when at most this many multiply-adds are needed (default 300k ≈ 0.3 ms). */
  exactBudget?: number;
  /**
   * A label partition is scanned natively (int8) when it holds at most this many vector components (default
   * 19.2M: 150,000 × 128, ~1.2 ms). Above that, the label is common enough (≥ 15% of a million) for HNSW with
   * ≤ 13× oversampling.
   */
  partitionBudget?: number;
  /** Initial HNSW oversampling factor (default 8). */
  oversample?: number;
  /** Most HNSW candidates requested before falling back to exact search (default 4096). */
  maxCandidates?: number;
  /** A label partition of at least this many rows also gets its own HNSW graph (default 50,000; see partitions.ts). */
  labelGraphRows?: number;
  /** Force a plan (tests, benchmarks); `partition` is the int8 scan, never a label's graph. */
  force?: 'exact' | 'hnsw' | 'partition';
}

/** Rows below which a filtered subset is scored in JS, and above which a label partition is not used. */
function limits(dimension: number, options: PlanOptions): { exactLimit: number; partitionLimit: number } {
  return {
    exactLimit: Math.max(256, Math.floor((options.exactBudget ?? 300_000) / dimension)),
    partitionLimit: Math.max(1_000, Math.floor((options.partitionBudget ?? 19_200_000) / dimension)),
  };
}

/**
 * Labels whose partition the planner would scan when they are required, smallest first, up to `bytes` of
 * int8 codes: what the registry builds when it opens, so that no first query pays for gathering one.
 */
export function partitionCandidates(store: ColumnStore, options: PlanOptions = {}, bytes = 64 * 1024 * 1024): number[] {
  const { exactLimit, partitionLimit } = limits(store.dimension, options);
  const labels = store.labels.postings
    .map((list, id) => ({ id, rows: list.length }))
    .filter(({ rows }) => rows > exactLimit && rows <= partitionLimit)
    .sort((left, right) => left.rows - right.rows || left.id - right.id);
  const chosen: number[] = [];
  let used = 0;
  for (const { id, rows } of labels) {
    if (used + rows * store.dimension > bytes) break;
    used += rows * store.dimension;
    chosen.push(id);
  }
  return chosen;
}

export interface Hit {
  slot: number;
  similarity: number;
  prior: number;
  costPenalty: number;
  score: number;
}

export interface Plan {
  method: 'exact' | 'partition' | 'hnsw' | 'empty';
  /** Where candidates were enumerated from (exact) or how selectivity was estimated. */
  source: string;
  /** Estimated fraction of indexed (active) capabilities that pass the filter. */
  selectivity: number;
  /** Candidates scored (exact) or requested from HNSW in the last round (hnsw). */
  candidates: number;
  rounds: number;
  /** False when the HNSW plan stopped at maxCandidates before its stop rule held. */
  complete: boolean;
}

function costPenalty(cost: number): number {
  return Number.isNaN(cost) ? RANKING.UNKNOWN_COST_PENALTY : cost / (cost + RANKING.COST_REFERENCE_USD);
}

/** Dot product of `query` with row `slot` of a row-major matrix; unrolled because it is the inner loop of exact search. */
function dotRow(query: Float32Array, matrix: Float32Array, slot: number): number {
  const dimension = query.length;
  const base = slot * dimension;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let index = 0;
  for (; index + 4 <= dimension; index += 4) {
    a += query[index]! * matrix[base + index]!;
    b += query[index + 1]! * matrix[base + index + 1]!;
    c += query[index + 2]! * matrix[base + index + 2]!;
    d += query[index + 3]! * matrix[base + index + 3]!;
  }
  for (; index < dimension; index++) a += query[index]! * matrix[base + index]!;
  return a + b + c + d;
}

/** Keeps the k best hits, at most one per card id. */
class TopK {
  readonly hits: Hit[] = [];
  private readonly ids: number[] = [];
  constructor(
    private readonly k: number,
    private readonly store: ColumnStore,
  ) {}

  get full(): boolean {
    return this.hits.length >= this.k;
  }
  get kthScore(): number {
    return this.hits.length < this.k ? Number.NEGATIVE_INFINITY : this.hits[this.k - 1]!.score;
  }

  consider(query: Float32Array, slot: number): void {
    const store = this.store;
    const similarity = dotRow(query, store.vectors, slot);
    const prior = store.quality[slot]!;
    const penalty = costPenalty(store.cost[slot]!);
    const score = similarity + RANKING.PRIOR_WEIGHT * (prior - 0.5) - RANKING.COST_WEIGHT * penalty;
    if (this.full && score <= this.kthScore) return;
    const id = store.cardId[slot]!;
    const existing = this.ids.indexOf(id);
    if (existing >= 0) {
      if (this.hits[existing]!.score >= score) return;
      this.hits.splice(existing, 1);
      this.ids.splice(existing, 1);
    }
    let at = this.hits.length;
    while (at > 0 && this.hits[at - 1]!.score < score) at--;
    this.hits.splice(at, 0, { slot, similarity, prior, costPenalty: penalty, score });
    this.ids.splice(at, 0, id);
    if (this.hits.length > this.k) {
      this.hits.pop();
      this.ids.pop();
    }
  }
}

/** Exact filtered search over `slots` (or every slot): the reference that the HNSW plan is measured against. */
export function exactSearch(
  store: ColumnStore,
  filter: CompiledFilter,
  query: Float32Array,
  k: number,
  slots: Int32Array = store.all.view(),
): Hit[] {
  const top = new TopK(k, store);
  if (filter.impossible) return top.hits;
  for (let index = 0; index < slots.length; index++) {
    const slot = slots[index]!;
    if (passes(store, filter, slot)) top.consider(query, slot);
  }
  return top.hits;
}

interface Source {
  name: string;
  lists: SlotList[];
  size: number;
  /** Set when the source is one required label's posting list. */
  label?: number;
}

/** The smallest candidate source that contains every passing slot. */
function smallestSource(store: ColumnStore, filter: CompiledFilter): Source {
  let best: Source = { name: 'all', lists: [store.all], size: store.all.length };
  for (const id of filter.requiredLabelIds) {
    const list = store.labels.postings[id]!;
    if (list.length < best.size) best = { name: `label:${store.labels.names[id]}`, lists: [list], size: list.length, label: id };
  }
  if (filter.providers !== undefined) {
    const lists = filter.providerIds.map((id) => store.providers.postings[id]!);
    const size = lists.reduce((sum, list) => sum + list.length, 0);
    if (size < best.size) best = { name: 'providers', lists, size };
  }
  return best;
}

function enumerate(store: ColumnStore, filter: CompiledFilter, source: Source): Int32Array {
  const out = new Int32Array(source.size);
  let count = 0;
  for (const list of source.lists) {
    const data = list.data;
    for (let index = 0; index < list.length; index++) if (passes(store, filter, data[index]!)) out[count++] = data[index]!;
  }
  return out.subarray(0, count);
}

/** Pass rate over an evenly strided sample of the source (deterministic, ~1k checks). */
function sampledPassRate(store: ColumnStore, filter: CompiledFilter, source: Source, samples = 1024): number {
  let seen = 0;
  let passed = 0;
  for (const list of source.lists) {
    const step = Math.max(1, list.length / Math.max(1, Math.round((samples * list.length) / Math.max(1, source.size))));
    for (let position = 0; position < list.length; position += step) {
      seen++;
      if (passes(store, filter, list.data[Math.floor(position)]!)) passed++;
    }
  }
  return seen === 0 ? 0 : passed / seen;
}

/** A source of candidates in decreasing similarity: HNSW (approximate) or a label partition (exact). */
type CandidateSource = (count: number) => { slots: Float64Array; similarities: Float32Array };

export function discover(
  store: ColumnStore,
  index: VectorIndex,
  partitions: LabelPartitions,
  filter: CompiledFilter,
  query: Float32Array,
  k: number,
  options: PlanOptions = {},
): { hits: Hit[]; plan: Plan } {
  const active = store.activeCount;
  if (filter.impossible || active === 0 || k <= 0)
    return { hits: [], plan: { method: 'empty', source: 'none', selectivity: 0, candidates: 0, rounds: 0, complete: true } };
  const dimension = store.dimension;
  const { exactLimit, partitionLimit } = limits(dimension, options);
  const source = smallestSource(store, filter);
  const exact = (slots: Int32Array, name: string): { hits: Hit[]; plan: Plan } => {
    const top = new TopK(k, store);
    for (let position = 0; position < slots.length; position++) top.consider(query, slots[position]!);
    return {
      hits: top.hits,
      plan: { method: 'exact', source: name, selectivity: slots.length / active, candidates: slots.length, rounds: 1, complete: true },
    };
  };
  if (options.force === 'exact') return exact(enumerate(store, filter, source), source.name);

  // Estimate how many slots pass: exactly when the source is small, from a strided sample otherwise.
  let passing: Int32Array | undefined;
  let estimate: number;
  if (filter.trivial) estimate = active;
  else if (source.size <= exactLimit * 4) {
    passing = enumerate(store, filter, source);
    estimate = passing.length;
  } else estimate = sampledPassRate(store, filter, source) * source.size;
  const selectivity = Math.max(estimate, 1) / active;

  if (options.force === undefined && estimate <= exactLimit) {
    passing ??= enumerate(store, filter, source);
    if (passing.length <= exactLimit * 2) return exact(passing, source.name);
  }
  const label = source.label;
  if (
    options.force !== 'hnsw' &&
    label !== undefined &&
    store.labels.postings[label]!.length <= partitionLimit &&
    (options.force === 'partition' || options.force === undefined)
  ) {
    const partition = partitions.get(label);
    // Every partition member carries the label, so oversample by the pass rate within the partition, not overall.
    const withinPartition = Math.min(1, Math.max(estimate, 1) / Math.max(partition.rows, 1));
    const scan = (): { hits: Hit[]; plan: Plan } => {
      const prepared = LabelPartitions.prepare(query);
      const candidates: CandidateSource = (count) => LabelPartitions.search(partition, prepared, count);
      return candidateLoop(
        store,
        filter,
        query,
        k,
        withinPartition,
        candidates,
        partition.rows,
        LabelPartitions.errorBound(partition, prepared),
        { method: 'partition', source: source.name, selectivity },
        source,
        options,
      );
    };
    const graph = partition.graph;
    if (graph === undefined || options.force === 'partition') return scan();
    // The label's own graph first; past a few widenings, the exact scan (~1 ms per 100,000 rows) is cheaper
    // than a wider graph search, so it is the fallback rather than brute force in JS.
    const graphOptions = { ...options, maxCandidates: Math.min(options.maxCandidates ?? 4_096, 1_024) };
    return candidateLoop(
      store,
      filter,
      query,
      k,
      withinPartition,
      (count) => graph.search(query, count),
      graph.size,
      hnswMargin(graph),
      { method: 'hnsw', source: `${source.name} (label graph)`, selectivity },
      source,
      graphOptions,
      scan,
    );
  }
  return candidateLoop(
    store,
    filter,
    query,
    k,
    selectivity,
    (count) => index.search(query, count),
    index.size,
    hnswMargin(index),
    { method: 'hnsw', source: filter.trivial ? 'all' : `estimate from ${source.name}`, selectivity },
    source,
    options,
  );
}

/** How far usearch's quantised similarities may be from the exact float32 ones (for the stop rule). */
function hnswMargin(index: VectorIndex): number {
  return index.options.quantization === 'i8' ? 0.01 : index.options.quantization === 'f16' ? 0.002 : 1e-6;
}

/**
 * Asks the source for candidates, filters and re-ranks them exactly, and doubles the request until the
 * threshold stop rule holds (see the module comment), the source is exhausted, or maxCandidates is reached.
 */
function candidateLoop(
  store: ColumnStore,
  filter: CompiledFilter,
  query: Float32Array,
  k: number,
  /** Expected fraction of the candidates that pass the filter (sets the oversampling). */
  passRate: number,
  next: CandidateSource,
  size: number,
  margin: number,
  describe: { method: 'hnsw' | 'partition'; source: string; selectivity: number },
  source: Source,
  options: PlanOptions,
  /** What to run at maxCandidates instead of brute force in JS (a label graph falls back to its exact scan). */
  fallback?: () => { hits: Hit[]; plan: Plan },
): { hits: Hit[]; plan: Plan } {
  // A partition scan is exact and costs the same whatever it returns, so it widens 4× a round up to the whole
  // partition and never falls back; HNSW widens 2× (its cost grows with the request) up to maxCandidates.
  const exactSource = describe.method === 'partition';
  const maxCandidates = exactSource ? size : Math.max(options.maxCandidates ?? 4_096, k);
  const growth = exactSource ? 4 : 2;
  let want = Math.min(size, maxCandidates, Math.max(k * (options.oversample ?? 8), Math.ceil((k * 2) / Math.max(passRate, 1e-6))));
  for (let round = 1; ; round++) {
    const { slots, similarities } = next(want);
    const top = new TopK(k, store);
    for (let position = 0; position < slots.length; position++) {
      if (passes(store, filter, slots[position]!)) top.consider(query, slots[position]!);
    }
    const plan: Plan = { ...describe, candidates: slots.length, rounds: round, complete: true };
    const exhausted = slots.length < want || want >= size;
    // Quantised distances are approximate; the margin keeps the stop rule on the safe side.
    const bound = slots.length === 0 ? Number.NEGATIVE_INFINITY : similarities[slots.length - 1]! + margin + MAX_BOOST;
    if (exhausted || (top.full && top.kthScore >= bound)) return { hits: top.hits, plan };
    if (want >= maxCandidates) {
      if (fallback !== undefined) {
        const done = fallback();
        return {
          hits: done.hits,
          plan: {
            ...done.plan,
            source: `${done.plan.source} (fallback after ${slots.length} graph candidates)`,
            rounds: round + done.plan.rounds,
          },
        };
      }
      if (top.full) return { hits: top.hits, plan: { ...plan, complete: false } };
      const bruteForce = exactSearch(store, filter, query, k, enumerate(store, filter, source));
      return {
        hits: bruteForce,
        plan: { ...plan, method: 'exact', source: `${source.name} (fallback after ${slots.length} candidates)`, rounds: round + 1 },
      };
    }
    want = Math.min(size, maxCandidates, want * growth);
  }
}
