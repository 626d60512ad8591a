/**
 * A ledger shared by many processes: the seam between Thicket's in-process budgets and a store that several
 * workers or gateway processes spend from (Redis: redis-ledger.ts). Small and versioned like the model spec.
 *
 * Scopes are string keys with limits (`study:abc`, `key:<id>:<periodStart>`). Amounts are integer vectors
 * (tokens, calls, dollars as nano-dollars: see core/usage.ts) so no store accumulates float drift.
 *
 * Semantics every implementation keeps:
 * - `reserve` books a hold on all scopes or none, atomically; committed = spent + live holds, and a hold is
 *   granted only if committed + amount ≤ limit on every limited dimension of every scope. Idempotent per
 *   hold id (a live hold is granted again without booking twice).
 * - A hold has a lease. An expired hold no longer counts: a crashed holder's reservation returns to the budget
 *   within its lease. `renew` extends live holds (never revives an expired one).
 * - `settle` removes the hold (live or expired, if any) and records the call's spend, idempotent per call id
 *   and monotone: the call's recorded spend becomes max(previous, billed) per dimension and only the increase
 *   is added to the scopes' spent. A retried job that replays a journaled call settles it again for nothing
 *   more; a worker that died after journaling but before settling has its spend counted by the replay.
 */
import { toNanoUsd, fromNanoUsd, type UsageTotals } from '../core/index.ts';
import { DIMENSIONS, validateLimits, type Amount, type BudgetLimits, type Dimension } from './ledger.ts';

export const SHARED_LEDGER_SPEC_VERSION = 'v1';

/** One shared budget: a store-wide key and its additive limits (`seconds` is per run, never shared). */
export interface SharedScope {
  key: string;
  limits: BudgetLimits;
}

/** Why a reservation was refused: the first scope and dimension that could not cover it (dollars in dollars). */
export interface SharedDenial {
  scope: string;
  dimension: Dimension;
  limit: number;
  committed: number;
  requested: number;
}

export type SharedReserveResult = { granted: true } | { granted: false; denial: SharedDenial };

export interface SharedUsage {
  spent: UsageTotals;
  /** Live (unexpired) holds only. */
  reserved: UsageTotals;
  holds: number;
}

export interface SharedLedger {
  readonly specificationVersion: typeof SHARED_LEDGER_SPEC_VERSION;
  /** Books `amount` on every scope for `leaseMs`, or nothing and the denial. */
  reserve(holdId: string, scopes: readonly SharedScope[], amount: Amount, leaseMs: number): Promise<SharedReserveResult>;
  /** Extends the live holds among `holdIds` to `leaseMs` from now; answers the ids that were no longer live. */
  renew(holdIds: readonly string[], leaseMs: number): Promise<string[]>;
  /** Records the call's spend (idempotent and monotone per call id) and removes the hold, if any. Answers the increase booked. */
  settle(callId: string, holdId: string | undefined, scopes: readonly SharedScope[], billed: Amount): Promise<Amount>;
  /** Frees a hold (nothing spent). Answers whether it was live. */
  release(holdId: string): Promise<boolean>;
  /** Opens a scope with spend already incurred elsewhere (e.g. read from a journal) — only if the scope does not exist yet. */
  seed(scopeKey: string, spent: Amount): Promise<boolean>;
  usage(scopeKey: string): Promise<SharedUsage>;
  close(): Promise<void>;
}

/** The vector layout shared by every implementation: inputTokens, outputTokens, totalTokens, nano-dollars, calls. */
export const SHARED_DIMENSIONS = DIMENSIONS;
const USD = 3;

/** An amount as the integer vector stores keep. */
export function toSharedVector(amount: Amount): number[] {
  const input = Math.round(amount.inputTokens);
  const output = Math.round(amount.outputTokens);
  return [input, output, input + output, toNanoUsd(amount.usd), Math.round(amount.calls)];
}

export function fromSharedVector(vector: readonly number[]): UsageTotals {
  return {
    inputTokens: vector[0] ?? 0,
    outputTokens: vector[1] ?? 0,
    totalTokens: vector[2] ?? 0,
    usd: fromNanoUsd(vector[USD] ?? 0),
    calls: vector[4] ?? 0,
  };
}

export function amountOf(totals: UsageTotals): Amount {
  return { inputTokens: totals.inputTokens, outputTokens: totals.outputTokens, usd: totals.usd, calls: totals.calls };
}

/** A scope's limits as a vector (-1 where unlimited), validated. */
export function limitVector(scope: SharedScope): number[] {
  validateLimits(scope.limits, scope.key);
  return SHARED_DIMENSIONS.map((dimension, index) => {
    const value = scope.limits[dimension];
    if (value === undefined) return -1;
    return index === USD ? toNanoUsd(value) : Math.floor(value);
  });
}

/** A denial in the interface's units, from the vector units a store computed it in. */
export function denialOf(scope: string, dimensionIndex: number, limit: number, committed: number, requested: number): SharedDenial {
  const inUnits = (value: number): number => (dimensionIndex === USD ? fromNanoUsd(value) : value);
  return {
    scope,
    dimension: SHARED_DIMENSIONS[dimensionIndex] ?? 'calls',
    limit: inUnits(limit),
    committed: inUnits(committed),
    requested: inUnits(requested),
  };
}

interface MemoryHold {
  scopes: string[];
  vector: number[];
  expiresAt: number;
}

interface MemoryScope {
  spent: number[];
  holds: Set<string>;
}

const zero = (): number[] => [0, 0, 0, 0, 0];

/**
 * The in-process baseline with the same semantics (tests, benchmarks, single-process use). `now` is injectable
 * so lease expiry can be tested without waiting.
 */
export class InMemorySharedLedger implements SharedLedger {
  readonly specificationVersion = SHARED_LEDGER_SPEC_VERSION;
  private readonly scopes = new Map<string, MemoryScope>();
  private readonly holds = new Map<string, MemoryHold>();
  private readonly calls = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  private scope(key: string): MemoryScope {
    let scope = this.scopes.get(key);
    if (!scope) this.scopes.set(key, (scope = { spent: zero(), holds: new Set() }));
    return scope;
  }

  /** Drops expired holds of a scope (from every scope they were booked on: a hold lives or dies whole). */
  private purge(scope: MemoryScope, now: number): void {
    for (const holdId of scope.holds) {
      const hold = this.holds.get(holdId);
      if (hold && hold.expiresAt <= now) this.drop(holdId);
    }
  }

  private drop(holdId: string): MemoryHold | undefined {
    const hold = this.holds.get(holdId);
    if (!hold) return undefined;
    this.holds.delete(holdId);
    for (const key of hold.scopes) this.scopes.get(key)?.holds.delete(holdId);
    return hold;
  }

  private reservedOf(scope: MemoryScope): number[] {
    const reserved = zero();
    for (const holdId of scope.holds) {
      const hold = this.holds.get(holdId);
      if (hold) for (let index = 0; index < 5; index++) reserved[index]! += hold.vector[index]!;
    }
    return reserved;
  }

  reserve(holdId: string, scopes: readonly SharedScope[], amount: Amount, leaseMs: number): Promise<SharedReserveResult> {
    const now = this.now();
    const vector = toSharedVector(amount);
    const limits = scopes.map(limitVector);
    const existing = this.holds.get(holdId);
    if (existing && existing.expiresAt > now) return Promise.resolve({ granted: true });
    if (existing) this.drop(holdId);
    for (const [position, shared] of scopes.entries()) {
      const scope = this.scope(shared.key);
      this.purge(scope, now);
      const reserved = this.reservedOf(scope);
      for (let index = 0; index < 5; index++) {
        const limit = limits[position]![index]!;
        const requested = vector[index]!;
        if (limit < 0 || requested === 0) continue;
        const committed = scope.spent[index]! + reserved[index]!;
        if (committed + requested > limit)
          return Promise.resolve({ granted: false, denial: denialOf(shared.key, index, limit, committed, requested) });
      }
    }
    const keys = [...new Set(scopes.map((scope) => scope.key))];
    this.holds.set(holdId, { scopes: keys, vector, expiresAt: now + leaseMs });
    for (const key of keys) this.scope(key).holds.add(holdId);
    return Promise.resolve({ granted: true });
  }

  renew(holdIds: readonly string[], leaseMs: number): Promise<string[]> {
    const now = this.now();
    const lost: string[] = [];
    for (const holdId of holdIds) {
      const hold = this.holds.get(holdId);
      if (hold && hold.expiresAt > now) hold.expiresAt = now + leaseMs;
      else {
        this.drop(holdId);
        lost.push(holdId);
      }
    }
    return Promise.resolve(lost);
  }

  settle(callId: string, holdId: string | undefined, scopes: readonly SharedScope[], billed: Amount): Promise<Amount> {
    if (holdId !== undefined) this.drop(holdId);
    const vector = toSharedVector(billed);
    const previous = this.calls.get(callId) ?? zero();
    const delta = vector.map((value, index) => Math.max(0, value - previous[index]!));
    this.calls.set(
      callId,
      vector.map((value, index) => Math.max(value, previous[index]!)),
    );
    for (const key of new Set(scopes.map((scope) => scope.key))) {
      const scope = this.scope(key);
      for (let index = 0; index < 5; index++) scope.spent[index]! += delta[index]!;
    }
    return Promise.resolve(amountOf(fromSharedVector(delta)));
  }

  release(holdId: string): Promise<boolean> {
    const hold = this.drop(holdId);
    return Promise.resolve(hold !== undefined && hold.expiresAt > this.now());
  }

  seed(scopeKey: string, spent: Amount): Promise<boolean> {
    if (this.scopes.has(scopeKey)) return Promise.resolve(false);
    this.scope(scopeKey).spent = toSharedVector(spent);
    return Promise.resolve(true);
  }

  usage(scopeKey: string): Promise<SharedUsage> {
    const scope = this.scopes.get(scopeKey);
    if (!scope) return Promise.resolve({ spent: fromSharedVector(zero()), reserved: fromSharedVector(zero()), holds: 0 });
    this.purge(scope, this.now());
    return Promise.resolve({
      spent: fromSharedVector(scope.spent),
      reserved: fromSharedVector(this.reservedOf(scope)),
      holds: scope.holds.size,
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
