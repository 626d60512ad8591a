/**
 * The shared gate: what lets one run's Ledger also spend from budgets held outside the process (a study's cap,
 * a gateway key's period budget on Redis). The fleet asks it after the ledger's own synchronous reserve
 * succeeded: a hold per attempt, kept alive by one renewal timer while calls are in flight, settled with the
 * call's cumulative billed spend (idempotent per call id, so replays and retried jobs never count twice).
 *
 * A ledger without a gate never touches this: the in-process path stays synchronous and as fast as before.
 */
import { BudgetExhaustedError } from '../core/index.ts';
import type { Amount, SharedSpendGate } from './ledger.ts';
import type { SharedLedger, SharedScope } from './shared-ledger.ts';

export interface SharedGateOptions {
  ledger: SharedLedger;
  scopes: readonly SharedScope[];
  /** Makes call ids store-wide unique: `${runId}|${callKey}`. A resumed run must keep its id. */
  runId: string;
  /** A hold's lease (default 30 s): a crashed holder's reservation returns to the budget within it. */
  leaseMs?: number;
  /** Runs once before the first reservation (e.g. opening a gateway key's period scope from the journal). */
  prepare?: () => Promise<void>;
}

export class SharedGate implements SharedSpendGate {
  readonly ledger: SharedLedger;
  readonly scopes: readonly SharedScope[];
  readonly runId: string;
  readonly leaseMs: number;
  /** Holds whose renewal found them already expired (the process stalled longer than a lease): should stay 0. */
  lostHolds = 0;
  private readonly live = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private prepared: Promise<void> | undefined;
  private readonly prepare: (() => Promise<void>) | undefined;

  constructor(options: SharedGateOptions) {
    this.ledger = options.ledger;
    this.scopes = options.scopes;
    this.runId = options.runId;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.prepare = options.prepare;
  }

  callId(callKey: string): string {
    return `${this.runId}|${callKey}`;
  }

  holdId(callKey: string, attempt: number): string {
    return `${this.runId}|${callKey}|${attempt}`;
  }

  /**
   * Holds `amount` on every shared scope, or throws: BudgetExhaustedError naming the scope that refused, or
   * SharedLedgerUnreachableError (fail closed — no hold, no call).
   */
  async reserve(holdId: string, amount: Amount): Promise<void> {
    if (this.prepare) {
      this.prepared ??= this.prepare();
      // A failed preparation is tried again by the next reservation rather than remembered.
      await this.prepared.catch((error: unknown) => {
        this.prepared = undefined;
        throw error;
      });
    }
    const result = await this.ledger.reserve(holdId, this.scopes, amount, this.leaseMs);
    if (!result.granted) {
      const { scope, dimension, limit, committed, requested } = result.denial;
      throw new BudgetExhaustedError({ budget: `shared:${scope}`, dimension, limit, committed, requested });
    }
    this.live.add(holdId);
    this.timer ??= setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3))).unref();
  }

  /** Books the call's cumulative billed spend and drops the attempt's hold (if any). */
  async settle(callKey: string, holdId: string | undefined, billed: Amount): Promise<void> {
    try {
      await this.ledger.settle(this.callId(callKey), holdId, this.scopes, billed);
    } finally {
      if (holdId !== undefined) this.forget(holdId);
    }
  }

  async release(holdId: string): Promise<void> {
    try {
      await this.ledger.release(holdId);
    } finally {
      this.forget(holdId);
    }
  }

  /** Holds in flight (renewed by the timer). */
  get inFlight(): number {
    return this.live.size;
  }

  private forget(holdId: string): void {
    this.live.delete(holdId);
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async renew(): Promise<void> {
    if (this.live.size === 0) return;
    try {
      const lost = await this.ledger.renew([...this.live], this.leaseMs);
      this.lostHolds += lost.length;
    } catch {
      // The store did not answer; the next tick tries again. Only a store down for a whole lease lets a hold
      // lapse, and then others may reserve its room while the call runs: its settle still books what was
      // billed (past the limit, like a provider overrun — counted, never lost), and `lostHolds` says so.
    }
  }
}
