/**
 * API keys and what they may spend. A key is `thk_<id>_<secret>`; the journal keeps only the SHA-256 of the
 * whole token (api_keys), so a leaked journal leaks no key. Each key's budget for the current period is one
 * ledger Budget that every run of the key draws from (SolveOptions.sharedBudget): a reservation is checked
 * against the run, the key and the period in one synchronous step, so no interleaving of concurrent requests
 * can overspend it. At start (and at each period roll-over) the budget is opened with what the key's runs of
 * that period already spent according to the journal, so a restart forgets nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError, systemClock, type Clock, type UsageTotals } from '../core/index.ts';
import { Ledger, type Budget, type BudgetLimits, type SharedLedger, type SharedScope } from '../budget/index.ts';
import type { ApiKeyRow, Journal } from '../journal/index.ts';

export const KEY_PERIODS = ['day', 'month', 'total'] as const;
export type KeyPeriod = (typeof KEY_PERIODS)[number];

const positive = z.number().finite().positive();
const whole = z.number().int().positive();

/** What a key may do, as stored in `api_keys.settings_json`. */
export const keySettingsSchema = z
  .object({
    budget: z
      .object({
        usd: positive.optional(),
        totalTokens: whole.optional(),
        inputTokens: whole.optional(),
        outputTokens: whole.optional(),
        calls: whole.optional(),
      })
      .strict()
      .default({}),
    period: z.enum(KEY_PERIODS).default('total'),
    /** Model references the key may run (`*` at the end matches a prefix, e.g. `sim:*`); absent: all. */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** Requests per minute (chat completions and run starts). */
    rpm: whole.optional(),
    /** Requests in flight at once (a request's n choices and a background run each take one). */
    concurrency: whole.optional(),
  })
  .strict();
export type KeySettings = z.infer<typeof keySettingsSchema>;

export interface ApiKey {
  id: string;
  name: string;
  role: 'admin' | 'client';
  settings: KeySettings;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedKey {
  key: ApiKey;
  /** The token to present as `Authorization: Bearer …`. Shown once: only its hash is stored. */
  token: string;
}

const TOKEN_PATTERN = /^thk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The key's budget as ledger limits (only the dimensions it limits). */
export function keyLimits(settings: KeySettings): BudgetLimits {
  return Object.fromEntries(Object.entries(settings.budget).filter(([, value]) => value !== undefined));
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    settings: keySettingsSchema.parse(row.settings),
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}

/** Checks settings from a flag parser or a request, listing every problem (path + reason). */
export function parseKeySettings(input: unknown, where = 'key'): KeySettings {
  const parsed = keySettingsSchema.safeParse(input);
  if (!parsed.success)
    throw new InvalidInputError(
      `Invalid ${where} settings`,
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message })),
    );
  return parsed.data;
}

/** Creates, finds and revokes keys in the journal. */
export class KeyStore {
  constructor(private readonly journal: () => Journal) {}

  create(options: { name: string; role?: 'admin' | 'client'; settings?: unknown }): CreatedKey {
    const name = options.name.trim();
    if (name === '' || name.length > 100)
      throw new InvalidInputError('Invalid key', [{ path: 'name', message: 'must be 1–100 characters' }]);
    const settings = parseKeySettings(options.settings ?? {});
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const token = `thk_${id}_${randomBytes(32).toString('base64url')}`;
    const row = this.journal().createApiKey({ id, name, secretSha256: hashToken(token), role: options.role ?? 'client', settings });
    return { key: toApiKey(row), token };
  }

  list(): ApiKey[] {
    return this.journal().listApiKeys().map(toApiKey);
  }

  get(id: string): ApiKey | undefined {
    const row = this.journal().getApiKey(id);
    return row && toApiKey(row);
  }

  /** The live key a bearer token names, or undefined (unknown, malformed or revoked). */
  verify(token: string): ApiKey | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const row = this.journal().findApiKey(hashToken(token));
    if (!row || row.revokedAt !== null) return undefined;
    return toApiKey(row);
  }

  revoke(id: string): boolean {
    return this.journal().revokeApiKey(id);
  }

  hasKeys(): boolean {
    return this.journal()
      .listApiKeys()
      .some((row) => row.revokedAt === null);
  }
}

/** Where the key's current period started (UTC), as an ISO time; `total` counts from the beginning. */
export function periodStart(period: KeyPeriod, now: Date): string {
  if (period === 'total') return new Date(0).toISOString();
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  return new Date(period === 'day' ? Date.UTC(year, month, now.getUTCDate()) : Date.UTC(year, month, 1)).toISOString();
}

/** When the key's current period ends (UTC), or undefined for `total`. */
export function periodEnd(period: KeyPeriod, now: Date): string | undefined {
  if (period === 'total') return undefined;
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  return new Date(period === 'day' ? Date.UTC(year, month, now.getUTCDate() + 1) : Date.UTC(year, month + 1, 1)).toISOString();
}

export interface KeySpend {
  period: KeyPeriod;
  periodStart: string;
  periodEnd: string | null;
  limits: BudgetLimits;
  spent: UsageTotals;
  reserved: UsageTotals;
  remaining: Partial<UsageTotals>;
}

/**
 * The per-key period budgets. A run binds to the budget of the period it starts in and books everything it
 * reserves there, even if it settles after midnight: a period's spend is that of the runs it started, which is
 * also how the journal is read back (runs.created_at), so restarts and roll-overs agree exactly.
 */
export class KeyBudgets {
  private readonly open = new Map<string, { start: string; ledger: Ledger }>();

  private readonly seeded = new Map<string, Promise<void>>();

  constructor(
    private readonly journal: () => Journal,
    private readonly now: () => Date = () => new Date(),
    private readonly clock: Clock = systemClock,
    /** When set (Redis), each key's period budget is also a shared scope, so several gateways cannot overspend a key. */
    readonly shared?: SharedLedger,
  ) {}

  /**
   * The key's period budget as a shared scope (`key:<id>:<periodStart>`), for SolveOptions.sharedLedger; undefined
   * without a shared ledger. Its `prepare` opens the scope with the journal's spend for the period — only if no
   * gateway opened it before (seed: SET NX semantics), so a scope other processes already spend from is kept.
   */
  sharedFor(key: ApiKey): { ledger: SharedLedger; scopes: SharedScope[]; prepare: () => Promise<void> } | undefined {
    const ledger = this.shared;
    if (!ledger) return undefined;
    const start = periodStart(key.settings.period, this.now());
    const scope: SharedScope = { key: `key:${key.id}:${start}`, limits: keyLimits(key.settings) };
    const prepare = (): Promise<void> => {
      let seeding = this.seeded.get(scope.key);
      if (!seeding) {
        const spent = this.journal().ownerSpend(key.id, start);
        seeding = ledger
          .seed(scope.key, { inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, usd: spent.usd, calls: spent.calls })
          .then(() => {});
        // Not remembered when it failed: the next run tries again.
        seeding.catch(() => this.seeded.delete(scope.key));
        this.seeded.set(scope.key, seeding);
      }
      return seeding;
    };
    return { ledger, scopes: [scope], prepare };
  }

  /** The key's budget for the current period (opened from the journal on first use in the period). */
  budgetFor(key: ApiKey): Budget {
    const start = periodStart(key.settings.period, this.now());
    const current = this.open.get(key.id);
    if (current && current.start === start) return current.ledger.root;
    const ledger = new Ledger({ clock: this.clock, limits: keyLimits(key.settings), rootName: `key:${key.name}` });
    const spent = this.journal().ownerSpend(key.id, start);
    if (spent.calls > 0 || spent.totalTokens > 0 || spent.usd > 0)
      ledger.root.book({ inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, usd: spent.usd, calls: spent.calls });
    this.open.set(key.id, { start, ledger });
    return ledger.root;
  }

  spend(key: ApiKey): KeySpend {
    const budget = this.budgetFor(key);
    const now = this.now();
    const spent = budget.spent();
    const reserved = budget.reserved();
    const room = budget.remaining();
    const limits = keyLimits(key.settings);
    const remaining: Partial<UsageTotals> = {};
    for (const dimension of ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const)
      if (limits[dimension] !== undefined) remaining[dimension] = room[dimension];
    return {
      period: key.settings.period,
      periodStart: periodStart(key.settings.period, now),
      periodEnd: periodEnd(key.settings.period, now) ?? null,
      limits,
      spent: { ...spent },
      reserved: { ...reserved },
      remaining,
    };
  }

  /** Forgets a key's open budget (revoked keys). */
  forget(id: string): void {
    this.open.delete(id);
  }
}

/**
 * Per-key request rate (fixed one-minute windows) and runs in flight. Hand-written rather than
 * hono-rate-limiter: limits differ per key and come from the key's row, the concurrency gate must be released
 * when the run ends (not when the response is sent — a stream outlives its handler), and both must answer
 * with the same OpenAI-style 429 as the budget does.
 */
export class KeyLimiter {
  private readonly windows = new Map<string, { minute: number; count: number }>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts a request; returns the seconds to wait when the key is over its rate, else undefined. */
  admit(key: ApiKey): number | undefined {
    const rpm = key.settings.rpm;
    if (rpm === undefined) return undefined;
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    const window = this.windows.get(key.id);
    if (!window || window.minute !== minute) {
      this.windows.set(key.id, { minute, count: 1 });
      return undefined;
    }
    if (window.count >= rpm) return Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
    window.count++;
    return undefined;
  }

  /** Takes a run slot; returns a release function, or undefined when the key already has its limit in flight. */
  acquire(key: ApiKey): (() => void) | undefined {
    const limit = key.settings.concurrency;
    const current = this.inFlight.get(key.id) ?? 0;
    if (limit !== undefined && current >= limit) return undefined;
    this.inFlight.set(key.id, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key.id) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key.id);
      else this.inFlight.set(key.id, left);
    };
  }

  running(id: string): number {
    return this.inFlight.get(id) ?? 0;
  }
}

/** Whether the key may run this model reference (`models` entries ending in `*` match a prefix). */
export function keyAllowsModel(key: ApiKey, reference: string): boolean {
  const allowed = key.settings.models;
  if (allowed === undefined) return true;
  return allowed.some((pattern) => (pattern.endsWith('*') ? reference.startsWith(pattern.slice(0, -1)) : reference === pattern));
}
