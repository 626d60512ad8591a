/**
 * Seeded randomness. Simulations derive a fresh generator from (seed, identity of the thing being decided)
 * instead of drawing from one shared stream, so results do not depend on the order concurrent branches run in.
 */

/** 32-bit FNV-1a over a string, then avalanche-mixed: a cheap, well-spread hash for deriving seeds. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, bound). */
  int(bound: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Pick one element. */
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast, good enough statistical quality for simulation (not for cryptography). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (bound) => Math.floor(next() * bound),
    normal: () => {
      const u = Math.max(next(), 1e-12);
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/** A generator determined only by the seed and the given identity parts. */
export function rngFor(seed: number, ...identity: Array<string | number>): Rng {
  return createRng(hash32(`${seed}\u0000${identity.join('\u0000')}`));
}
