/**
 * Label partitions: for a selective required label, the vectors of its cards gathered into one contiguous
 * int8 matrix, scanned by usearch's native (SIMD) exact inner product. Post-filtering HNSW at 10% selectivity
 * needs ~20× oversampling and, on dense clusters, several doubling rounds (the filtered p99 at a million cards
 * was 5–10× the p50); a JS float32 scan manages ~1 GMAC/s (~13 ms for 100,000 × 128), a native float32 scan
 * ~2.5 ms, and the native int8 scan ~1 ms — a quarter of the memory traffic.
 *
 * Int8 codes only order the candidates; every candidate is re-ranked with its exact float32 vector
 * (discovery.ts), and the stop rule uses a rigorous bound on the quantisation error, so the partition plan is
 * exact, not approximate. With codes v̂ = round(v·s) (one scale s per partition) and q̂ = round(q·t) (per
 * query), write q̂/t = q + δ and v̂/s = v + ε with |ε_i| ≤ 0.5/s. Then for a unit vector v:
 *
 *     |q̂·v̂/(s·t) − q·v| = |Σ q_i ε_i + δ_i v_i + δ_i ε_i| ≤ (0.5/s)(‖q‖₁ + ‖δ‖₁) + ‖δ‖₂
 *
 * (Hölder, Cauchy–Schwarz), which `prepare` computes per query and partition (typically ~0.02 for 128-d).
 * usearch's int8 inner product is an exact integer sum (≤ 127² × dimension, exact in float32 for dimension ≤
 * 1,040), so the only error is the quantisation above.
 *
 * Maintenance is incremental: a partition remembers how much of its label's posting list it has consumed and
 * appends new slots on the next use (registration only appends to posting lists). Every slot carrying the
 * label is kept, whatever its status: inactive ones (~6% in the synthetic registries) are dropped by the
 * filter, which always checks status, so no status change can make a partition wrong. A partition is rebuilt only when a new vector does not fit its scale (a new store gets new partitions).
 * Partitions are built on first use, or up front by `warm` (the registry warms the labels selective enough
 * to use one when it opens), so a gather never lands inside a timed query after open.
 */
import usearch from 'usearch';
import type { ColumnStore } from './columns.ts';

/** int8 codes use ±127 (−128 is left out so that the code range is symmetric). */
const CODE_MAX = 127;

export interface Partition {
  /** Posting-list entries consumed so far (every one of them, active or not, has been looked at). */
  consumed: number;
  /** Rows in the matrix. */
  rows: number;
  /** Slot of each row (capacity may exceed `rows`). */
  slots: Int32Array;
  /** Row-major int8 codes (capacity may exceed `rows × dimension`). Always at byte offset 0: see `search`. */
  codes: Int8Array;
  /** Codes are round(component × scale); scale = 127 / the largest |component| seen when built. */
  scale: number;
}

/** A query quantised once for every partition it scans. */
export interface PreparedQuery {
  codes: Int8Array;
  /** The query's scale t. */
  scale: number;
  /** ‖q‖₁ + ‖δ‖₁ and ‖δ‖₂ of the error bound (see the module comment). */
  l1: number;
  l2: number;
}

export class LabelPartitions {
  private readonly cache = new Map<number, Partition>();

  constructor(private readonly store: ColumnStore) {}

  /** Slots carrying `labelId` with their int8 codes, brought up to date first. */
  get(labelId: number): Partition {
    const cached = this.cache.get(labelId);
    if (cached !== undefined) {
      if (cached.consumed === this.store.labels.postings[labelId]!.length) return cached;
      if (this.append(cached, labelId)) return cached;
    }
    const built = this.build(labelId);
    this.cache.set(labelId, built);
    return built;
  }

  /** Builds (or brings up to date) the partitions of these labels, e.g. at open. */
  warm(labelIds: Iterable<number>): void {
    for (const id of labelIds) this.get(id);
  }

  /** Bytes held by the partitions (codes and slots, at capacity). */
  get bytes(): number {
    let total = 0;
    for (const partition of this.cache.values()) total += partition.codes.byteLength + partition.slots.byteLength;
    return total;
  }

  clear(): void {
    this.cache.clear();
  }

  private build(labelId: number): Partition {
    const store = this.store;
    const postings = store.labels.postings[labelId]!;
    const dimension = store.dimension;
    let largest = 0;
    let rows = 0;
    for (let index = 0; index < postings.length; index++) {
      const slot = postings.data[index]!;
      rows++;
      const base = slot * dimension;
      for (let component = 0; component < dimension; component++) largest = Math.max(largest, Math.abs(store.vectors[base + component]!));
    }
    const partition: Partition = { consumed: 0, rows: 0, slots: new Int32Array(Math.max(16, rows)), codes: new Int8Array(Math.max(16, rows) * dimension), scale: largest === 0 ? 1 : CODE_MAX / largest };
    const appended = this.append(partition, labelId);
    if (!appended) throw new Error('a fresh partition must fit its own scale');
    return partition;
  }

  /** Appends the label's new slots; false when one does not fit the partition's scale (rebuild). */
  private append(partition: Partition, labelId: number): boolean {
    const store = this.store;
    const postings = store.labels.postings[labelId]!;
    const dimension = store.dimension;
    const scale = partition.scale;
    const limit = CODE_MAX / scale + 1e-9;
    for (let index = partition.consumed; index < postings.length; index++) {
      const slot = postings.data[index]!;
      const base = slot * dimension;
      for (let component = 0; component < dimension; component++) if (Math.abs(store.vectors[base + component]!) > limit) return false;
      if (partition.rows === partition.slots.length) grow(partition, dimension);
      const row = partition.rows * dimension;
      for (let component = 0; component < dimension; component++) partition.codes[row + component] = Math.round(store.vectors[base + component]! * scale);
      partition.slots[partition.rows++] = slot;
    }
    partition.consumed = postings.length;
    return true;
  }

  /** Quantises a unit query and measures its share of the error bound. */
  static prepare(query: Float32Array): PreparedQuery {
    let largest = 0;
    for (let index = 0; index < query.length; index++) largest = Math.max(largest, Math.abs(query[index]!));
    const scale = largest === 0 ? 1 : CODE_MAX / largest;
    // A fresh array: usearch's native binding reads from the start of the ArrayBuffer, ignoring byteOffset.
    const codes = new Int8Array(query.length);
    let l1 = 0;
    let squares = 0;
    for (let index = 0; index < query.length; index++) {
      const code = Math.round(query[index]! * scale);
      codes[index] = code;
      const delta = code / scale - query[index]!;
      l1 += Math.abs(query[index]!) + Math.abs(delta);
      squares += delta * delta;
    }
    return { codes, scale, l1, l2: Math.sqrt(squares) };
  }

  /** Largest possible |approximate − exact| similarity for any row of `partition` (plus float slack). */
  static errorBound(partition: Partition, query: PreparedQuery): number {
    return (0.5 / partition.scale) * query.l1 + query.l2 + 1e-5;
  }

  /**
   * The `count` rows of a partition with the highest approximate similarity, highest first: slots and
   * approximate similarities (within `errorBound` of the exact ones).
   */
  static search(partition: Partition, query: PreparedQuery, count: number): { slots: Float64Array; similarities: Float32Array } {
    const take = Math.min(count, partition.rows);
    if (take === 0) return { slots: new Float64Array(0), similarities: new Float32Array(0) };
    const dimension = query.codes.length;
    // subarray(0, …) keeps byte offset 0, which the native binding requires (it reads the ArrayBuffer from its start).
    const matches = usearch.exactSearch(partition.codes.subarray(0, partition.rows * dimension), query.codes, dimension, take, usearch.MetricKind.IP, 1) as InstanceType<typeof usearch.Matches>;
    const slots = new Float64Array(matches.keys.length);
    const similarities = new Float32Array(matches.keys.length);
    // usearch's int8 inner-product distance is 1 − Σ q̂_i v̂_i.
    const unscale = 1 / (partition.scale * query.scale);
    for (let index = 0; index < slots.length; index++) {
      slots[index] = partition.slots[Number(matches.keys[index])]!;
      similarities[index] = (1 - matches.distances[index]!) * unscale;
    }
    return { slots, similarities };
  }
}

function grow(partition: Partition, dimension: number): void {
  const capacity = partition.slots.length * 2;
  const slots = new Int32Array(capacity);
  slots.set(partition.slots);
  const codes = new Int8Array(capacity * dimension);
  codes.set(partition.codes);
  partition.slots = slots;
  partition.codes = codes;
}
