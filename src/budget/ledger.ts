/**
 * The budget ledger: hierarchical hard budgets over input/output/total tokens, dollars, calls and wall-clock
 * seconds, with reserve → settle/release accounting.
 *
 * Why it is safe under any number of concurrent branches: `reserve` checks every budget on the path to the
 * root and books the reservation on all of them in one synchronous step. JavaScript runs it to completion
 * without interleaving, so two branches can never both see the same headroom. Spend only ever moves from
 * "reserved" to "spent" at settle time, so committed = spent + reserved never exceeds a limit — unless a
 * provider reports more than the worst case it was reserved for: that is booked as reported (it was billed),
 * flagged as an overrun, and leaves the budget with no headroom (see `Reservation.settle`).
 *
 * Seconds are a deadline, not an additive amount: parallel branches share the same wall clock, so a budget
 * of S seconds means "no call may start after S seconds, and none may run past it" (the fleet caps every
 * call's timeout at `remainingMs`).
 *
 * This module holds the three classes, which name one another (a Budget's ledger, a Reservation's budget) and so
 * share a module; their vocabulary is in ledger-types.ts (re-exported here) and the vector units in spend-vector.ts.
 */
import { BudgetExhaustedError, InvalidInputError, costOf, fromNanoUsd, toNanoUsd, type Clock, type UsageTotals } from '../core/index.ts';
import {
  DIMENSIONS,
  validateLimits,
  type Amount,
  type BudgetLimits,
  type ChildBudgetOptions,
  type LedgerEvent,
  type LedgerEventKind,
  type LedgerListener,
  type SharedSpendGate,
  type SpendReport,
  type SpendTags,
} from './ledger-types.ts';
import { DIMENSION_COUNT, USD, USD_EPSILON, addVector, emptyLine, fromVector, toVector } from './spend-vector.ts';

export * from './ledger-types.ts';

export class Budget {
  readonly name: string;
  readonly path: string;
  readonly parent: Budget | undefined;
  readonly ledger: Ledger;
  /** Limits per additive dimension; Infinity where unlimited. */
  readonly limitVector: Float64Array;
  /** Absolute clock time (ms) after which nothing may start; Infinity when there is no seconds limit. */
  readonly deadline: number;
  readonly spentVector = new Float64Array(DIMENSION_COUNT);
  readonly reservedVector = new Float64Array(DIMENSION_COUNT);
  /** This budget and every ancestor, nearest first — shared budgets of other ledgers (LedgerOptions.within) included. */
  private readonly ancestry: Budget[];
  /** The part of `ancestry` in this budget's own ledger: what replays and crash bookings are charged to. */
  private readonly ownAncestry: Budget[];
  private childCount = 0;

  constructor(ledger: Ledger, name: string, parent: Budget | undefined, limits: BudgetLimits) {
    validateLimits(limits, name);
    this.ledger = ledger;
    this.name = name;
    this.parent = parent;
    // A ledger's root drawn from another ledger's budget keeps its own name as its path: reports stay per ledger.
    this.path = parent && parent.ledger === ledger ? `${parent.path}/${name}` : name;
    this.limitVector = new Float64Array(DIMENSION_COUNT).fill(Infinity);
    DIMENSIONS.forEach((dimension, index) => {
      const value = limits[dimension];
      if (value !== undefined) this.limitVector[index] = index === USD ? toNanoUsd(value) : value;
    });
    const ownDeadline = limits.seconds === undefined ? Infinity : ledger.clock.now() + limits.seconds * 1000;
    // A shared budget of another ledger runs on its own clock (a simulated run's is virtual): its seconds, if
    // any, are not inherited — its additive limits are what it shares.
    this.deadline = Math.min(ownDeadline, parent && parent.ledger === ledger ? parent.deadline : Infinity);
    this.ancestry = [this];
    for (let node = parent; node; node = node.parent) this.ancestry.push(node);
    this.ownAncestry = this.ancestry.filter((node) => node.ledger === ledger);
  }

  get limits(): BudgetLimits {
    const limits: BudgetLimits = {};
    DIMENSIONS.forEach((dimension, index) => {
      const value = this.limitVector[index]!;
      if (Number.isFinite(value)) limits[dimension] = index === USD ? fromNanoUsd(value) : value;
    });
    if (Number.isFinite(this.deadline)) limits.seconds = (this.deadline - this.ledger.startedAt) / 1000;
    return limits;
  }

  /** Carves a child budget. It can never exceed this budget: its limits are capped, and every reservation is checked up the whole path. */
  child(name: string, options: ChildBudgetOptions = {}): Budget {
    if (options.share !== undefined && !(options.share > 0 && options.share <= 1)) {
      throw new InvalidInputError('Invalid child budget', [
        { path: `${this.path}/${name}.share`, message: `must be in (0, 1], got ${options.share}` },
      ]);
    }
    const limits: BudgetLimits = { ...(options.limits ?? {}) };
    const headroom = this.headroomVector();
    DIMENSIONS.forEach((dimension, index) => {
      const parentRoom = headroom[index]!;
      const given = limits[dimension];
      // In vector units (nano-dollars for usd): a share of dollars is floored to whole nano-dollars.
      let value = given === undefined ? Infinity : index === USD ? toNanoUsd(given) : given;
      if (options.share !== undefined && Number.isFinite(parentRoom)) value = Math.min(value, Math.floor(parentRoom * options.share));
      value = Math.min(value, parentRoom);
      if (Number.isFinite(value)) limits[dimension] = index === USD ? fromNanoUsd(value) : value;
      else delete limits[dimension];
    });
    if (options.share !== undefined && Number.isFinite(this.deadline) && limits.seconds === undefined) {
      limits.seconds = (Math.max(0, this.deadline - this.ledger.clock.now()) * options.share) / 1000;
    }
    // Sibling names may repeat (e.g. one child per retry); paths stay unique for the per-budget report.
    let unique = name;
    while (this.ledger.hasPath(`${this.path}/${unique}`)) unique = `${name}#${++this.childCount}`;
    const budget = new Budget(this.ledger, unique, this, limits);
    this.ledger.registerBudget(budget);
    return budget;
  }

  /** Per-dimension headroom on the whole path to the root (limit − spent − reserved, minimum over ancestors); dollars in dollars. */
  headroom(): Float64Array {
    const room = this.headroomVector();
    room[USD] = fromNanoUsd(room[USD]!);
    return room;
  }

  /** @internal `headroom()` in vector units (dollars as integer nano-dollars). */
  headroomVector(): Float64Array {
    const room = new Float64Array(DIMENSION_COUNT).fill(Infinity);
    for (const node of this.ancestry) {
      for (let index = 0; index < DIMENSION_COUNT; index++) {
        const free = node.limitVector[index]! - node.spentVector[index]! - node.reservedVector[index]!;
        if (free < room[index]!) room[index] = Math.max(0, free);
      }
    }
    return room;
  }

  remaining(): Amount & { totalTokens: number; seconds: number } {
    return { ...fromVector(this.headroomVector()), seconds: this.remainingMs() / 1000 };
  }

  /** Milliseconds left before the nearest deadline on the path (Infinity when none). */
  remainingMs(): number {
    return Math.max(0, this.deadline - this.ledger.clock.now());
  }

  spent(): Amount & { totalTokens: number } {
    return fromVector(this.spentVector);
  }

  reserved(): Amount & { totalTokens: number } {
    return fromVector(this.reservedVector);
  }

  /**
   * Books `amount` on every budget up to the root, or throws BudgetExhaustedError (booking nothing) when any
   * of them cannot cover it or the deadline has passed.
   */
  reserve(amount: Amount, tags: SpendTags = {}): Reservation {
    const vector = toVector(amount);
    this.assertCovers(vector, amount, tags);
    for (const node of this.ancestry) for (let index = 0; index < DIMENSION_COUNT; index++) node.reservedVector[index]! += vector[index]!;
    this.ledger.emit('reserve', this, amount, tags);
    return new Reservation(this, vector, tags);
  }

  /**
   * Books already-incurred spend directly (e.g. a call replayed from the journal, whose cost belongs to this
   * run but is not paid again). Refused like a reservation if it does not fit. A shared budget this ledger
   * draws from (LedgerOptions.within) is neither checked nor charged: it counted that spend when it was paid.
   */
  charge(amount: Amount, tags: SpendTags = {}): void {
    const vector = toVector(amount);
    this.assertCovers(vector, amount, tags, this.ownAncestry);
    for (const node of this.ownAncestry) for (let index = 0; index < DIMENSION_COUNT; index++) node.spentVector[index]! += vector[index]!;
    this.ledger.recordSpend(vector, tags);
    this.ledger.emit('charge', this, amount, tags);
  }

  /**
   * Books spend already incurred whether or not it fits: calls in flight when an earlier process of the run
   * died, counted at their reserved worst case (the provider may have billed them). Never refused — it was
   * spent — so the budget may end up over its limit, which leaves no headroom for anything else. Like
   * `charge`, it stays in this ledger: a shared budget it draws from accounted the earlier process's spend itself.
   */
  book(amount: Amount, tags: SpendTags = {}): void {
    const vector = toVector(amount);
    for (const node of this.ownAncestry) for (let index = 0; index < DIMENSION_COUNT; index++) node.spentVector[index]! += vector[index]!;
    this.ledger.recordSpend(vector, tags);
    this.ledger.emit('charge', this, amount, tags);
  }

  /** Largest output-token count a call with this prompt may reserve right now (0 if none). */
  maxAffordableOutputTokens(inputTokens: number, pricing: { inputPerMillion: number; outputPerMillion: number }): number {
    const room = this.headroomVector();
    if (room[4]! < 1 || room[0]! < inputTokens) return 0;
    let output = Math.min(room[1]!, room[2]! - inputTokens);
    const nanoUsdLeft = room[USD]!;
    const fits = (outputTokens: number): boolean => toNanoUsd(costOf({ inputTokens, outputTokens }, pricing)) <= nanoUsdLeft;
    if (!Number.isFinite(nanoUsdLeft)) return Math.max(0, Math.floor(output));
    if (!fits(0)) return 0;
    if (pricing.outputPerMillion > 0) {
      const inputNanoUsd = toNanoUsd(costOf({ inputTokens, outputTokens: 0 }, pricing));
      // nano-dollars per output token = price per million × 1e9 / 1e6.
      output = Math.min(output, Math.floor((nanoUsdLeft - inputNanoUsd) / (pricing.outputPerMillion * 1000)));
      // The cost is rounded as a whole (costOf), so the estimate above can be one token too generous.
      while (output > 0 && !fits(output)) output--;
    }
    return Math.max(0, Math.floor(output));
  }

  private assertCovers(vector: Float64Array, amount: Amount, tags: SpendTags, path: readonly Budget[] = this.ancestry): void {
    if (this.ledger.clock.now() >= this.deadline) {
      this.ledger.emit('refuse', this, amount, tags);
      const limitSeconds = (this.deadline - this.ledger.startedAt) / 1000;
      throw new BudgetExhaustedError({
        budget: this.path,
        dimension: 'seconds',
        limit: limitSeconds,
        committed: (this.ledger.clock.now() - this.ledger.startedAt) / 1000,
        requested: 0,
      });
    }
    for (const node of path) {
      for (let index = 0; index < DIMENSION_COUNT; index++) {
        const requested = vector[index]!;
        if (requested === 0) continue;
        const committed = node.spentVector[index]! + node.reservedVector[index]!;
        const limit = node.limitVector[index]!;
        if (committed + requested > limit + (index === USD ? USD_EPSILON : 0)) {
          this.ledger.emit('refuse', this, amount, tags);
          const inDollars = (value: number): number => (index === USD ? fromNanoUsd(value) : value);
          throw new BudgetExhaustedError({
            budget: node.path,
            dimension: DIMENSIONS[index]!,
            limit: inDollars(limit),
            committed: inDollars(committed),
            requested: inDollars(requested),
          });
        }
      }
    }
  }

  /** @internal Moves a reservation's booked amount to spent (up to `actual`) and frees the rest. */
  finish(reserved: Float64Array, actual: Float64Array | undefined): void {
    for (const node of this.ancestry) {
      for (let index = 0; index < DIMENSION_COUNT; index++) {
        node.reservedVector[index]! -= reserved[index]!;
        if (actual) node.spentVector[index]! += actual[index]!;
      }
    }
  }
}

export class Reservation {
  private open = true;
  /** Set when the provider reported more usage than was reserved (clamped; see `settle`). */
  overrun: Amount | undefined;

  constructor(
    readonly budget: Budget,
    private readonly reservedVector: Float64Array,
    readonly tags: SpendTags,
  ) {}

  get amount(): Amount {
    return fromVector(this.reservedVector);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * Converts the reservation into spend of `actual` and releases the rest. The reservation is the worst case by
   * construction (prompt counted with a margin, output capped by max tokens), but a provider may still report
   * more (a chat template much longer than the margin, or one that ignores `max_tokens`). What the provider
   * reports is what it bills, so that is what is booked — never clamped to the reservation. The excess is kept
   * in `overrun` (and in the ledger's report): the budget may then be over its limit, which leaves no headroom,
   * so every later reservation is refused and the run ends `budget_exhausted` with the overrun named.
   */
  settle(actual: Amount): Amount {
    if (!this.open) throw new Error('Reservation already closed');
    this.open = false;
    const actualVector = toVector(actual);
    let over: Amount | undefined;
    for (let index = 0; index < DIMENSION_COUNT; index++) {
      const excess = actualVector[index]! - this.reservedVector[index]!;
      if (excess > (index === USD ? USD_EPSILON : 0)) {
        over ??= { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 };
        if (index === 0) over.inputTokens = excess;
        if (index === 1) over.outputTokens = excess;
        if (index === USD) over.usd = fromNanoUsd(excess);
        if (index === 4) over.calls = excess;
      }
    }
    this.overrun = over;
    this.budget.finish(this.reservedVector, actualVector);
    this.budget.ledger.recordSpend(actualVector, this.tags, over);
    const settled = fromVector(actualVector);
    this.budget.ledger.emit('settle', this.budget, settled, this.tags);
    return settled;
  }

  /** Frees the whole reservation (the call was never sent, or failed without being billed). */
  release(): void {
    if (!this.open) return;
    this.open = false;
    this.budget.finish(this.reservedVector, undefined);
    this.budget.ledger.emit('release', this.budget, fromVector(this.reservedVector), this.tags);
  }
}

export interface LedgerOptions {
  clock: Clock;
  limits?: BudgetLimits;
  rootName?: string;
  /**
   * A budget of another ledger this one also draws from — e.g. a gateway key's budget for the period, shared
   * by every run of the key. Each reservation is checked and booked on it too, in the same synchronous step,
   * so concurrent runs can never together exceed it; this ledger's report still covers only its own spend.
   */
  within?: Budget;
  /**
   * Budgets held outside the process (Redis) that every model call of this ledger also reserves on, after the
   * synchronous in-process reserve (the fleet does it; see shared-gate.ts). Absent: nothing async is added.
   */
  shared?: SharedSpendGate;
}

export class Ledger {
  readonly clock: Clock;
  readonly root: Budget;
  readonly startedAt: number;
  readonly shared: SharedSpendGate | undefined;
  private readonly listeners: LedgerListener[] = [];
  private readonly budgets = new Map<string, Budget>();
  private readonly spendByTag = {
    model: new Map<string, Float64Array>(),
    operator: new Map<string, Float64Array>(),
    axis: new Map<string, Float64Array>(),
    agent: new Map<string, Float64Array>(),
  };
  private readonly overrunVector = new Float64Array(DIMENSION_COUNT);

  constructor(options: LedgerOptions) {
    this.clock = options.clock;
    this.startedAt = options.clock.now();
    this.shared = options.shared;
    this.root = new Budget(this, options.rootName ?? 'run', options.within, options.limits ?? {});
    this.budgets.set(this.root.path, this.root);
  }

  onEvent(listener: LedgerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** @internal */
  emit(kind: LedgerEventKind, budget: Budget, amount: Amount, tags: SpendTags): void {
    if (this.listeners.length === 0) return;
    const event: LedgerEvent = { kind, budget: budget.path, amount, tags };
    for (const listener of this.listeners) listener(event);
  }

  /** @internal */
  hasPath(path: string): boolean {
    return this.budgets.has(path);
  }

  /** @internal */
  registerBudget(budget: Budget): void {
    this.budgets.set(budget.path, budget);
  }

  /** @internal Attributes settled spend to its tags. */
  recordSpend(vector: Float64Array, tags: SpendTags, overrun?: Amount): void {
    for (const key of ['model', 'operator', 'axis', 'agent'] as const) {
      const value = tags[key];
      if (value === undefined) continue;
      const map = this.spendByTag[key];
      let line = map.get(value);
      if (!line) map.set(value, (line = new Float64Array(DIMENSION_COUNT)));
      for (let index = 0; index < DIMENSION_COUNT; index++) line[index]! += vector[index]!;
    }
    if (overrun) {
      const over = toVector(overrun);
      for (let index = 0; index < DIMENSION_COUNT; index++) this.overrunVector[index]! += over[index]!;
    }
  }

  report(): SpendReport {
    const toLines = (map: Map<string, Float64Array>): Record<string, UsageTotals> => {
      const out: Record<string, UsageTotals> = {};
      for (const [key, vector] of [...map.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const line = emptyLine();
        addVector(line, vector);
        out[key] = line;
      }
      return out;
    };
    const total = emptyLine();
    addVector(total, this.root.spentVector);
    const byBudget: SpendReport['byBudget'] = {};
    for (const [path, budget] of this.budgets) {
      const line = emptyLine();
      addVector(line, budget.spentVector);
      byBudget[path] = { ...line, limits: budget.limits };
    }
    const overrun = emptyLine();
    addVector(overrun, this.overrunVector);
    return {
      total,
      byModel: toLines(this.spendByTag.model),
      byOperator: toLines(this.spendByTag.operator),
      byAxis: toLines(this.spendByTag.axis),
      byAgent: toLines(this.spendByTag.agent),
      byBudget,
      overrun,
    };
  }
}
