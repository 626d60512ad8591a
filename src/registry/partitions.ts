/**
 * Label partitions: for a selective required label, the vectors of its active cards gathered into one
 * contiguous matrix, searched exactly by usearch's native (SIMD) scan. A JS loop manages ~1 GMAC/s; the
 * native scan is ~5× faster, which is what keeps a 1%-selective query on a million cards (10,000 vectors)
 * well under a millisecond — where post-filtering HNSW would need ~100× oversampling and a JS scan ~1.2 ms.
 *
 * Built lazily on first use and rebuilt when the store has changed since (`ColumnStore.mutations`): writes
 * are rare next to queries, and gathering 10,000 rows takes about a millisecond.
 */
import usearch from 'usearch';
import type { ColumnStore } from './columns.ts';

interface Partition {
  mutations: number;
  slots: Int32Array;
  matrix: Float32Array;
}

export class LabelPartitions {
  private readonly cache = new Map<number, Partition>();

  constructor(private readonly store: ColumnStore) {}

  /** Active slots carrying `labelId`, with their vectors in a row-major matrix. */
  get(labelId: number): Partition {
    const cached = this.cache.get(labelId);
    if (cached !== undefined && cached.mutations === this.store.mutations) return cached;
    const store = this.store;
    const postings = store.labels.postings[labelId]!;
    const slots = new Int32Array(postings.length);
    let count = 0;
    for (let index = 0; index < postings.length; index++) {
      const slot = postings.data[index]!;
      if (store.isActive(slot)) slots[count++] = slot;
    }
    const dimension = store.dimension;
    const matrix = new Float32Array(count * dimension);
    for (let row = 0; row < count; row++) matrix.set(store.vectors.subarray(slots[row]! * dimension, (slots[row]! + 1) * dimension), row * dimension);
    const partition = { mutations: store.mutations, slots: slots.slice(0, count), matrix };
    this.cache.set(labelId, partition);
    return partition;
  }

  /** The `count` most similar rows of a partition, most similar first (exact inner product = cosine). */
  static search(partition: Partition, query: Float32Array, count: number): { slots: Float64Array; similarities: Float32Array } {
    const rows = partition.slots.length;
    const take = Math.min(count, rows);
    if (take === 0) return { slots: new Float64Array(0), similarities: new Float32Array(0) };
    const matches = usearch.exactSearch(partition.matrix, query, query.length, take, usearch.MetricKind.IP, 1) as InstanceType<typeof usearch.Matches>;
    const slots = new Float64Array(matches.keys.length);
    const similarities = new Float32Array(matches.keys.length);
    for (let index = 0; index < slots.length; index++) {
      slots[index] = partition.slots[Number(matches.keys[index])]!;
      similarities[index] = 1 - matches.distances[index]!;
    }
    return { slots, similarities };
  }

  clear(): void {
    this.cache.clear();
  }
}
