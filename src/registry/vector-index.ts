/**
 * The HNSW index (usearch) over the vectors of active cards, and its persistence beside the database.
 *
 * The index is a cache of SQLite, never a source of truth. Next to the index file lives a sidecar
 * (`<index>.json`) with the registry generation, the count and checksum of the indexed slots, and the embedder
 * it was built for. Every registry write bumps the generation in SQLite in the same transaction as the write;
 * the index and then the sidecar are written (each to a temporary file, then renamed) on flush. On open, any
 * disagreement — no file, a file usearch cannot load, another generation, count, checksum or embedder — means
 * the index is stale (a crash between commit and flush, or a write that bypassed the registry), and it is
 * rebuilt from the vectors loaded from SQLite.
 *
 * The sidecar also holds the index file's size and SHA-256, checked before usearch sees the file: usearch
 * aborts the whole process (std::bad_alloc) on some corrupt headers instead of throwing, so a damaged file must
 * never reach it.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Usearch from 'usearch';
import { isModuleNotFound, OptionalDependencyMissingError } from '../core/index.ts';

type UsearchModule = typeof Usearch;
let loadedUsearch: UsearchModule | undefined;

/**
 * usearch (an optional peer dependency), loaded on first use: only the registry's vector search needs it, and
 * a library user or CLI command that never opens a registry should neither pay for its native binding nor
 * need it installed. Synchronous (its CommonJS build through require) because indexes are built in
 * constructors; the package has no other importer here, so the CJS and ESM builds cannot both be loaded.
 */
export function usearch(): UsearchModule {
  if (loadedUsearch) return loadedUsearch;
  try {
    loadedUsearch = createRequire(import.meta.url)('usearch') as UsearchModule;
  } catch (error) {
    if (isModuleNotFound(error, 'usearch'))
      throw new OptionalDependencyMissingError('usearch', "The capability registry's vector index", { cause: error });
    throw error;
  }
  return loadedUsearch;
}

export type Quantization = 'f32' | 'f16' | 'i8';

export interface HnswOptions {
  /** Graph degree M (default 16). */
  connectivity?: number;
  /** Beam width while inserting (default 128): higher builds slower and searches better. */
  expansionAdd?: number;
  /** Beam width while searching (default 128); a search for more than this many candidates widens it. */
  expansionSearch?: number;
  /** How usearch stores vectors (default f16). Ranking always uses the exact float32 vectors. */
  quantization?: Quantization;
  /** Threads for bulk builds (default 2). */
  threads?: number;
}

export interface IndexSidecar {
  format: 1;
  generation: number;
  count: number;
  checksum: number;
  embedder: string;
  dimension: number;
  quantization: Quantization;
  fileBytes: number;
  fileSha256: string;
}

export type StaleReason = 'missing' | 'unreadable' | 'generation' | 'count' | 'checksum' | 'embedder' | 'settings';

export class VectorIndex {
  readonly dimension: number;
  readonly options: Required<HnswOptions>;
  private index: Usearch.Index;

  constructor(dimension: number, options: HnswOptions = {}) {
    this.dimension = dimension;
    // Defaults from bench/registry.ts at 100k: f16 + M 16 + ef 128/128 reach ~0.99 raw recall@10 on dense
    // embeddings, where i8 (coarse at ~0.09 per component of a unit 128-d vector) or ef_add 64 stay near 0.94.
    this.options = { connectivity: 16, expansionAdd: 128, expansionSearch: 128, quantization: 'f16', threads: 2, ...options };
    this.index = this.fresh();
  }

  private fresh(): Usearch.Index {
    const { Index, MetricKind } = usearch();
    return new Index({
      metric: MetricKind.Cos,
      dimensions: this.dimension,
      connectivity: this.options.connectivity,
      expansion_add: this.options.expansionAdd,
      expansion_search: this.options.expansionSearch,
      quantization: this.options.quantization as Usearch.ScalarKind,
      multi: false,
    });
  }

  get size(): number {
    return this.index.size();
  }

  /** Adds slots whose vectors sit contiguously in `vectors` (slot i at row i). */
  add(slots: ArrayLike<number>, vectors: Float32Array): void {
    if (slots.length === 0) return;
    const keys = new BigUint64Array(slots.length);
    for (let index = 0; index < slots.length; index++) keys[index] = BigInt(slots[index]!);
    this.index.add(keys, vectors, slots.length > 1 ? this.options.threads : 1);
  }

  remove(slot: number): void {
    if (this.index.contains(BigInt(slot))) this.index.remove(BigInt(slot));
  }

  /** Approximate nearest slots, closest first, with cosine similarities (1 − usearch's cosine distance). */
  search(query: Float32Array, count: number): { slots: Float64Array; similarities: Float32Array } {
    const size = this.index.size();
    if (size === 0) return { slots: new Float64Array(0), similarities: new Float32Array(0) };
    const matches = this.index.search(query, Math.min(count, size), 1);
    const slots = new Float64Array(matches.keys.length);
    const similarities = new Float32Array(matches.keys.length);
    for (let index = 0; index < slots.length; index++) {
      slots[index] = Number(matches.keys[index]);
      similarities[index] = 1 - matches.distances[index]!;
    }
    return { slots, similarities };
  }

  /** Replaces the whole index with `slots` (vectors read from a columnar float32 matrix by slot). */
  rebuild(slots: Int32Array, matrix: Float32Array): void {
    this.index = this.fresh();
    const batch = 65_536;
    const rows = new Float32Array(Math.min(batch, slots.length) * this.dimension);
    for (let start = 0; start < slots.length; start += batch) {
      const part = slots.subarray(start, Math.min(start + batch, slots.length));
      for (let row = 0; row < part.length; row++)
        rows.set(matrix.subarray(part[row]! * this.dimension, (part[row]! + 1) * this.dimension), row * this.dimension);
      this.add(part, rows.subarray(0, part.length * this.dimension));
    }
  }

  /** Writes index then sidecar, each atomically; a crash in between leaves a sidecar that no longer matches. */
  save(path: string, state: Omit<IndexSidecar, 'format' | 'fileBytes' | 'fileSha256'>): void {
    const temporary = `${path}.tmp-${process.pid}`;
    this.index.save(temporary);
    const sidecar: IndexSidecar = { format: 1, ...state, fileBytes: statSync(temporary).size, fileSha256: hashFile(temporary) };
    renameSync(temporary, path);
    writeFileSync(`${sidecarPath(path)}.tmp-${process.pid}`, JSON.stringify(sidecar));
    renameSync(`${sidecarPath(path)}.tmp-${process.pid}`, sidecarPath(path));
  }

  /** Loads the index if its sidecar matches `expected`; otherwise says why it is stale and loads nothing. */
  load(path: string, expected: Omit<IndexSidecar, 'format' | 'fileBytes' | 'fileSha256'>): StaleReason | undefined {
    if (!existsSync(path) || !existsSync(sidecarPath(path))) return 'missing';
    let sidecar: IndexSidecar;
    try {
      sidecar = JSON.parse(readFileSync(sidecarPath(path), 'utf8')) as IndexSidecar;
    } catch {
      return 'unreadable';
    }
    if (sidecar.embedder !== expected.embedder || sidecar.dimension !== expected.dimension) return 'embedder';
    if (sidecar.quantization !== expected.quantization) return 'settings';
    if (sidecar.generation !== expected.generation) return 'generation';
    if (sidecar.count !== expected.count) return 'count';
    if (sidecar.checksum !== expected.checksum) return 'checksum';
    if (statSync(path).size !== sidecar.fileBytes || hashFile(path) !== sidecar.fileSha256) return 'unreadable';
    const loaded = this.fresh();
    try {
      loaded.load(path);
    } catch {
      return 'unreadable';
    }
    if (loaded.size() !== expected.count || (expected.count > 0 && loaded.dimensions() !== this.dimension)) return 'unreadable';
    this.index = loaded;
    return undefined;
  }

  static removeFiles(path: string): void {
    rmSync(path, { force: true });
    rmSync(sidecarPath(path), { force: true });
  }

  static fileSize(path: string): number {
    return existsSync(path) ? statSync(path).size : 0;
  }
}

function hashFile(path: string): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  const descriptor = openSync(path, 'r');
  try {
    for (let read = readSync(descriptor, chunk); read > 0; read = readSync(descriptor, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(descriptor);
  }
  return hash.digest('hex');
}

export function sidecarPath(indexPath: string): string {
  return `${indexPath}.json`;
}
