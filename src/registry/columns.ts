/**
 * The in-memory columnar store of everything a query filters or ranks on, one typed-array column per field,
 * indexed by slot (= the card's SQLite key = its HNSW key). Filtering a million candidates is then a loop over
 * typed arrays — no objects, no strings, no hash lookups — which is what makes policy a cheap hard filter.
 *
 * Labels are bitsets (`labelWords` 32-bit words per slot; the stride grows as new labels appear). Providers
 * and card ids are interned to small ints. Per label and per provider, a posting list of slots (append-only,
 * so sorted) lets a selective query enumerate its few candidates instead of scanning every slot, and counts
 * of active slots give the selectivity estimate the planner needs. The vectors live here too (float32), for
 * exact re-ranking and exact search of small filtered subsets: usearch cannot hand vectors back.
 */
import type { Binding, CardStatus } from './card.ts';

export const BINDING_KINDS: readonly Binding['kind'][] = ['model', 'operator', 'agent', 'a2a', 'mcp'];
const STATUS_CODES: Readonly<Record<CardStatus, number>> = { active: 1, deprecated: 2, yanked: 3 };
const ACTIVE = 1;

/** A growable list of slots. */
export class SlotList {
  data = new Int32Array(16);
  length = 0;
  push(slot: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = slot;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Interns strings to dense ints, with a posting list and an active count per value. */
class Dictionary {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly postings: SlotList[] = [];
  readonly active: number[] = [];
  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      this.postings.push(new SlotList());
      this.active.push(0);
    }
    return id;
  }
}

export interface ColumnRow {
  id: string;
  status: CardStatus;
  provider: string;
  kind: Binding['kind'];
  labels: readonly string[];
  cost: number | undefined;
  latency: number | undefined;
  quality: number;
  /** 32 bits of the content hash; feeds the index checksum. */
  tag: number;
}

export class ColumnStore {
  readonly dimension: number;
  capacity = 0;
  /** One past the highest slot in use. */
  size = 0;
  activeCount = 0;
  /** Bumped by every change; caches derived from the store (label partitions) compare it. */
  mutations = 0;
  /** Order-independent checksum of the active (= indexed) slots and their content; see `slotChecksum`. */
  checksum = 0;
  status = new Uint8Array(0);
  provider = new Int32Array(0);
  /** Index into BINDING_KINDS. */
  kind = new Uint8Array(0);
  cardId = new Int32Array(0);
  cost = new Float64Array(0);
  latency = new Float64Array(0);
  quality = new Float32Array(0);
  tag = new Uint32Array(0);
  labelWords = 1;
  labelBits = new Uint32Array(0);
  vectors = new Float32Array(0);
  readonly labels = new Dictionary();
  readonly providers = new Dictionary();
  /** Card id → small int, for one-result-per-id (no postings: a million ids would mean a million lists). */
  readonly ids = new Map<string, number>();
  /** Every slot present, in order (the "no filter" source). */
  readonly all = new SlotList();

  constructor(dimension: number) {
    this.dimension = dimension;
  }

  has(slot: number): boolean {
    return slot < this.size && this.status[slot] !== 0;
  }

  isActive(slot: number): boolean {
    return this.status[slot] === ACTIVE;
  }

  /** Adds a new slot (slots are never reused; a present slot is a programming error). */
  put(slot: number, row: ColumnRow, vector: Float32Array): void {
    if (this.has(slot)) throw new Error(`slot ${slot} is already present`);
    this.mutations++;
    this.ensureCapacity(slot + 1);
    const labelIds = row.labels.map((label) => this.labels.intern(label));
    const widest = labelIds.reduce((max, id) => Math.max(max, id), -1);
    if (widest >= this.labelWords * 32) this.growLabelWords(Math.ceil((widest + 1) / 32));
    for (const id of labelIds) {
      this.labelBits[slot * this.labelWords + (id >>> 5)]! |= 1 << (id & 31);
      this.labels.postings[id]!.push(slot);
    }
    const providerId = this.providers.intern(row.provider);
    this.providers.postings[providerId]!.push(slot);
    this.provider[slot] = providerId;
    this.kind[slot] = BINDING_KINDS.indexOf(row.kind);
    let idOrdinal = this.ids.get(row.id);
    if (idOrdinal === undefined) this.ids.set(row.id, (idOrdinal = this.ids.size));
    this.cardId[slot] = idOrdinal;
    this.cost[slot] = row.cost ?? Number.NaN;
    this.latency[slot] = row.latency ?? Number.NaN;
    this.quality[slot] = row.quality;
    this.tag[slot] = row.tag >>> 0;
    this.vectors.set(vector, slot * this.dimension);
    this.all.push(slot);
    this.size = Math.max(this.size, slot + 1);
    this.status[slot] = 0;
    this.setStatus(slot, row.status);
  }

  setStatus(slot: number, status: CardStatus): void {
    const next = STATUS_CODES[status];
    const previous = this.status[slot]!;
    if (previous === next) return;
    this.mutations++;
    if (previous === ACTIVE) this.countActive(slot, -1);
    this.status[slot] = next;
    if (next === ACTIVE) this.countActive(slot, +1);
  }

  setVector(slot: number, vector: Float32Array): void {
    this.mutations++;
    this.vectors.set(vector, slot * this.dimension);
  }

  vector(slot: number): Float32Array {
    return this.vectors.subarray(slot * this.dimension, (slot + 1) * this.dimension);
  }

  labelsOf(slot: number): string[] {
    const names: string[] = [];
    for (let id = 0; id < this.labels.names.length; id++) {
      if (this.labelBits[slot * this.labelWords + (id >>> 5)]! & (1 << (id & 31))) names.push(this.labels.names[id]!);
    }
    return names;
  }

  private countActive(slot: number, delta: 1 | -1): void {
    this.activeCount += delta;
    this.checksum = (this.checksum + delta * slotChecksum(slot, this.tag[slot]!)) >>> 0;
    this.providers.active[this.provider[slot]!]! += delta;
    const base = slot * this.labelWords;
    for (let word = 0; word < this.labelWords; word++) {
      let bits = this.labelBits[base + word]!;
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits & -bits);
        this.labels.active[word * 32 + bit]! += delta;
        bits &= bits - 1;
      }
    }
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const capacity = Math.max(needed, this.capacity * 2, 1024);
    const grow = <T extends Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array>(
      old: T,
      make: (length: number) => T,
      width = 1,
    ): T => {
      const next = make(capacity * width);
      next.set(old);
      return next;
    };
    this.status = grow(this.status, (length) => new Uint8Array(length));
    this.provider = grow(this.provider, (length) => new Int32Array(length));
    this.kind = grow(this.kind, (length) => new Uint8Array(length));
    this.cardId = grow(this.cardId, (length) => new Int32Array(length));
    this.cost = grow(this.cost, (length) => new Float64Array(length));
    this.latency = grow(this.latency, (length) => new Float64Array(length));
    this.quality = grow(this.quality, (length) => new Float32Array(length));
    this.tag = grow(this.tag, (length) => new Uint32Array(length));
    this.labelBits = grow(this.labelBits, (length) => new Uint32Array(length), this.labelWords);
    this.vectors = grow(this.vectors, (length) => new Float32Array(length), this.dimension);
    this.capacity = capacity;
  }

  private growLabelWords(words: number): void {
    const wider = Math.max(words, this.labelWords * 2);
    const bits = new Uint32Array(this.capacity * wider);
    for (let slot = 0; slot < this.size; slot++) {
      for (let word = 0; word < this.labelWords; word++) bits[slot * wider + word] = this.labelBits[slot * this.labelWords + word]!;
    }
    this.labelBits = bits;
    this.labelWords = wider;
  }
}

/** One slot's share of the checksum; summed mod 2^32 so adding and removing slots in any order agree. */
export function slotChecksum(slot: number, tag: number): number {
  let h = Math.imul(slot ^ 0x9e3779b9, 0x85ebca6b) ^ tag;
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h >>> 0;
}
