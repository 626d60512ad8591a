import { createHash, type Hash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise (and hash) identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) {
      const field = (inner as Record<string, unknown>)[key];
      if (field !== undefined) sorted[key] = field;
    }
    return sorted;
  });
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function hashValue(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * A value computed over every prefix of a growing list, cached per item object: node i holds
 * `extend(node i-1, item i)`. A chat re-sends its whole history on every call (at 1,000 agents with persistent
 * histories, hundreds of megabytes per run), so computing only what is new since the previous call turns
 * O(R²) work per agent into O(R).
 *
 * A cached node is trusted only when it was computed after the same parent node (or, for the first item, the
 * same root) and the item's `fields` are still `===` to the ones it was computed with; anything else is
 * recomputed from the last trusted node, overwriting the cache. `fields` must therefore cover everything
 * `extend` reads, and should be cheap (strings compare by pointer when unchanged). Each user keeps its own
 * instance: nodes depend on the root and on `extend`.
 */
export interface PrefixNode<V> {
  readonly parent: PrefixNode<V> | undefined;
  readonly root: string;
  readonly fields: readonly unknown[];
  readonly value: V;
}

export class PrefixCache<T extends object, V> {
  private readonly nodes = new WeakMap<T, PrefixNode<V>>();

  constructor(
    private readonly fields: (item: T) => readonly unknown[],
    /** The value after `item`, given the node before it (undefined for the first item, which follows `root`). */
    private readonly extend: (parent: PrefixNode<V> | undefined, item: T, root: string) => V,
    /** Whether `item` still has the `fields` it had when cached; defaults to comparing `fields(item)` element-wise.
     *  Worth giving on hot paths: it runs for every item of every list, and need not allocate. */
    private readonly unchanged: (item: T, fields: readonly unknown[]) => boolean = (item, cachedFields) =>
      sameFields(cachedFields, fields(item)),
  ) {}

  /** True when `item` has a cached node (possibly stale). */
  has(item: T): boolean {
    return this.nodes.has(item);
  }

  /** The node of every item, in order (each reused, or computed and cached). */
  chain(root: string, items: readonly T[]): PrefixNode<V>[] {
    const out: PrefixNode<V>[] = [];
    let node: PrefixNode<V> | undefined;
    let index = 0;
    for (; index < items.length; index++) {
      const item = items[index]!;
      const cached = this.nodes.get(item);
      if (
        cached === undefined ||
        cached.parent !== node ||
        (node === undefined && cached.root !== root) ||
        !this.unchanged(item, cached.fields)
      )
        break;
      out.push(cached);
      node = cached;
    }
    for (; index < items.length; index++) {
      const item = items[index]!;
      const created: PrefixNode<V> = { parent: node, root, fields: this.fields(item), value: this.extend(node, item, root) };
      this.nodes.set(item, created);
      out.push(created);
      node = created;
    }
    return out;
  }
}

/**
 * Incremental sha256 over a growing list: the hash state after `root + encode(item0) + separator + … +
 * encode(itemN)`, byte for byte what hashing that whole text gives, with each prefix's state cached per item
 * (`PrefixCache`). Costs one hash state (~0.8 kB) per cached item.
 */
/** Lists up to this long are hashed whole unless already cached (see `stateAfter`). */
const SHORT_LIST = 3;

export class PrefixHasher<T extends object> {
  private readonly cache: PrefixCache<T, Hash>;
  private readonly roots = new Map<string, Hash>();

  constructor(
    private readonly encode: (item: T) => string,
    fields: (item: T) => readonly unknown[],
    private readonly separator: string,
    unchanged?: (item: T, fields: readonly unknown[]) => boolean,
  ) {
    this.cache = new PrefixCache<T, Hash>(
      fields,
      (parent, item, root) =>
        parent === undefined ? this.rootState(root).copy().update(encode(item)) : parent.value.copy().update(`${separator}${encode(item)}`),
      unchanged,
    );
  }

  /** The cached nodes of `items` (node.value: the state after that item, never to be updated in place). */
  chain(root: string, items: readonly T[]): PrefixNode<Hash>[] {
    return this.cache.chain(root, items);
  }

  /** A fresh copy of the hash state after all of `items` (ready to update with what follows them). */
  stateAfter(root: string, items: readonly T[]): Hash {
    // A short list seen for the first time (one-off prompts, fresh objects per call) is hashed in one go:
    // caching a state per item costs more than it could save. It is cached once it comes back longer.
    const first = items[0];
    if (items.length <= SHORT_LIST && (first === undefined || !this.cache.has(first))) {
      return createHash('sha256').update(root + items.map(this.encode).join(this.separator));
    }
    const chain = this.cache.chain(root, items);
    const last = chain[chain.length - 1];
    return (last ? last.value : this.rootState(root)).copy();
  }

  /** The (shared, never updated) state after `root` alone; copy before use. */
  private rootState(root: string): Hash {
    let state = this.roots.get(root);
    if (state === undefined) {
      state = createHash('sha256').update(root);
      // Roots are few (one per model reference or encoding); bounded anyway so a caller cannot grow it forever.
      if (this.roots.size >= 1024) this.roots.clear();
      this.roots.set(root, state);
    }
    return state;
  }
}

function sameFields(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** `fields`/`unchanged` for chat messages ({ role, content }) in a PrefixCache/PrefixHasher: no allocation per check. */
export function messageFields(message: { role: string; content: string }): readonly unknown[] {
  return [message.role, message.content];
}

export function sameMessage(message: { role: string; content: string }, fields: readonly unknown[]): boolean {
  // `===` on the same string object is a pointer compare: O(1) for an unchanged message.
  return fields[1] === message.content && fields[0] === message.role;
}
