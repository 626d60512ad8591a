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
 * Incremental sha256 over a growing list: the hash state after `root + encode(item0) + separator + … +
 * encode(itemN)`, cached per item object. A chat re-sends its whole history on every turn (at 1,000 agents
 * with persistent histories, hundreds of megabytes per run), so hashing only what is new since the previous
 * call turns O(R²) bytes hashed per agent into O(R).
 *
 * A cached node is trusted only when it was hashed after the same parent node (or, for the first item, the
 * same root) and the item's `fields` are still `===` to the ones it was hashed with; anything else re-hashes
 * from the last trusted node and overwrites the cache. `fields` must therefore cover everything `encode`
 * reads, and should be cheap (string fields compare by pointer when unchanged). Each user keeps its own
 * instance: nodes depend on the root and the encoding.
 */
export interface PrefixHashNode<Extra = undefined> {
  readonly parent: PrefixHashNode<Extra> | undefined;
  readonly root: string;
  readonly fields: readonly unknown[];
  /** The hash state after this item; copy it before updating or digesting. */
  readonly state: Hash;
  /** Whatever the user attaches to a node (e.g. the node's digest, or whether it was stored). */
  extra: Extra;
}

export class PrefixHasher<T extends object, Extra = undefined> {
  private readonly nodes = new WeakMap<T, PrefixHashNode<Extra>>();
  private readonly roots = new Map<string, Hash>();

  constructor(
    private readonly encode: (item: T) => string,
    private readonly fields: (item: T) => readonly unknown[],
    private readonly separator: string,
    private readonly newExtra: (node: Omit<PrefixHashNode<Extra>, 'extra'>, item: T, encoded: string) => Extra,
  ) {}

  /**
   * The node of every item, in order (each created or refreshed as needed). `nodes[i].state` is the state
   * after item i; for an empty list, use `rootState`.
   */
  chain(root: string, items: readonly T[]): PrefixHashNode<Extra>[] {
    const out: PrefixHashNode<Extra>[] = [];
    let node: PrefixHashNode<Extra> | undefined;
    let index = 0;
    for (; index < items.length; index++) {
      const item = items[index]!;
      const cached = this.nodes.get(item);
      if (cached === undefined || cached.parent !== node || (node === undefined && cached.root !== root) || !sameFields(cached.fields, this.fields(item))) break;
      out.push(cached);
      node = cached;
    }
    let state = node ? node.state : this.rootState(root);
    for (; index < items.length; index++) {
      const item = items[index]!;
      const encoded = this.encode(item);
      const next = state.copy().update(index === 0 ? encoded : `${this.separator}${encoded}`);
      const base = { parent: node, root, fields: this.fields(item), state: next };
      const created: PrefixHashNode<Extra> = { ...base, extra: this.newExtra(base, item, encoded) };
      this.nodes.set(item, created);
      out.push(created);
      node = created;
      state = next;
    }
    return out;
  }

  /** A fresh copy of the hash state after all of `items` (ready to update with what follows them). */
  stateAfter(root: string, items: readonly T[]): Hash {
    const chain = this.chain(root, items);
    const last = chain[chain.length - 1];
    return (last ? last.state : this.rootState(root)).copy();
  }

  /** The (shared, never updated) state after `root` alone; copy before use. */
  rootState(root: string): Hash {
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
