/**
 * The shared ledger on Redis: one hard budget for many processes (workers, gateway replicas).
 *
 * Why it is safe: every operation is one Lua script, and Redis runs a script to completion with nothing
 * interleaved — the cross-process analogue of the in-process ledger's synchronous reserve. Expired holds are
 * purged inside the scripts against Redis's own `TIME`, so the processes' clocks never matter.
 *
 * Layout under the prefix P (single Redis node: the scripts reach keys they derive, which a cluster refuses):
 *   P s:<scope>   hash  s0..s4 spent, r0..r4 reserved (holds not yet purged) — integer vectors (shared-ledger.ts)
 *   P e:<scope>   zset  hold id → expiry (ms, Redis time)
 *   P h:<hold>    hash  a = amount vector, s = its scopes (newline-separated), x = expiry
 *   P c:<call>    string the call's recorded spend vector (settle is monotone per call id), with a TTL
 *
 * Fails closed: any Redis error or timeout surfaces as SharedLedgerUnreachableError, and a reservation that
 * did not answer "granted" is never treated as one.
 */
import { Redis } from 'ioredis';
import { InvalidInputError, SharedLedgerUnreachableError } from '../core/index.ts';
import type { Amount } from './ledger.ts';
import {
  SHARED_LEDGER_SPEC_VERSION,
  amountOf,
  denialOf,
  fromSharedVector,
  limitVector,
  toSharedVector,
  type SharedLedger,
  type SharedReserveResult,
  type SharedScope,
  type SharedUsage,
} from './shared-ledger.ts';

// Each scope's ten counters are read once per script and written back once (`flush`): two calls per scope
// instead of one HINCRBY per counter, which is most of what a script costs Redis.
const PRELUDE = `
local P = ARGV[1]
local FIELDS = {'s0', 's1', 's2', 's3', 's4', 'r0', 'r1', 'r2', 'r3', 'r4'}
local rows, dirty = {}, {}
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function vec(csv)
  local v = {}
  for x in string.gmatch(csv, '[^,]+') do v[#v + 1] = tonumber(x) end
  return v
end
local function csv(v)
  local parts = {}
  for i = 1, #v do parts[i] = string.format('%d', v[i]) end
  return table.concat(parts, ',')
end
-- A scope's counters: spent 1..5, reserved 6..10 (holds not yet purged).
local function row(scope)
  local v = rows[scope]
  if not v then
    local raw = redis.call('HMGET', P .. 's:' .. scope, unpack(FIELDS))
    v = {}
    for i = 1, 10 do v[i] = tonumber(raw[i]) or 0 end
    rows[scope] = v
  end
  return v
end
local function change(scope, offset, amounts, sign)
  local v = row(scope)
  for i = 1, 5 do v[offset + i] = v[offset + i] + sign * amounts[i] end
  dirty[scope] = true
end
local function flush()
  for scope in pairs(dirty) do
    local v = rows[scope]
    local args = {}
    for i = 1, 10 do
      args[2 * i - 1] = FIELDS[i]
      args[2 * i] = string.format('%d', v[i])
    end
    redis.call('HSET', P .. 's:' .. scope, unpack(args))
  end
  dirty = {}
end
-- Removes a hold from every scope it was booked on; answers its expiry, or nil when there was none.
local function drop(holdId)
  local hk = P .. 'h:' .. holdId
  local data = redis.call('HMGET', hk, 'a', 's', 'x')
  if not data[1] then return nil end
  local a = vec(data[1])
  for scope in string.gmatch(data[2], '[^\\n]+') do
    change(scope, 5, a, -1)
    redis.call('ZREM', P .. 'e:' .. scope, holdId)
  end
  redis.call('DEL', hk)
  return tonumber(data[3])
end
local function purge(scope, t)
  local ek = P .. 'e:' .. scope
  local expired = redis.call('ZRANGEBYSCORE', ek, '-inf', t)
  for _, holdId in ipairs(expired) do
    if not drop(holdId) then redis.call('ZREM', ek, holdId) end
  end
end
-- One reservation; A = the op's arguments from index k: holdId, leaseMs, amount, scope count, then per scope
-- key and limits (-1 = unlimited). Answers {1}, or {0, scope position, dimension, limit, committed, requested}.
local function reserve(A, k, t)
  local holdId, lease, a, n = A[k], tonumber(A[k + 1]), vec(A[k + 2]), tonumber(A[k + 3])
  local x = redis.call('HGET', P .. 'h:' .. holdId, 'x')
  if x then
    if tonumber(x) > t then return {1} end
    drop(holdId)
  end
  local list, seen = {}, {}
  for j = 1, n do
    local scope = A[k + 2 + 2 * j]
    local limits = vec(A[k + 3 + 2 * j])
    purge(scope, t)
    local v = row(scope)
    for i = 1, 5 do
      if limits[i] >= 0 and a[i] > 0 then
        local committed = v[i] + v[i + 5]
        if committed + a[i] > limits[i] then return {0, j, i - 1, limits[i], committed, a[i]} end
      end
    end
    if not seen[scope] then
      seen[scope] = true
      list[#list + 1] = scope
    end
  end
  local expires = t + lease
  for _, scope in ipairs(list) do
    change(scope, 5, a, 1)
    redis.call('ZADD', P .. 'e:' .. scope, expires, holdId)
  end
  redis.call('HSET', P .. 'h:' .. holdId, 'a', A[k + 2], 's', table.concat(list, '\\n'), 'x', expires)
  return {1}
end
-- A call's spend: callId, holdId ('' = none), billed, call TTL (s), scope count, scope keys. Answers the increase.
local function settle(A, k)
  if A[k + 1] ~= '' then drop(A[k + 1]) end
  local ck = P .. 'c:' .. A[k]
  local billed = vec(A[k + 2])
  local previous = redis.call('GET', ck)
  local before = previous and vec(previous) or {0, 0, 0, 0, 0}
  local delta, recorded = {}, {}
  for i = 1, 5 do
    delta[i] = math.max(0, billed[i] - before[i])
    recorded[i] = math.max(billed[i], before[i])
  end
  redis.call('SET', ck, csv(recorded), 'EX', tonumber(A[k + 3]))
  local seen = {}
  for j = 1, tonumber(A[k + 4]) do
    local scope = A[k + 4 + j]
    if not seen[scope] then
      seen[scope] = true
      change(scope, 0, delta, 1)
    end
  end
  return delta
end
`;

// ARGV: P, then operations, each a tag and its arguments: R (reserve), S (settle), L (release: holdId).
// Concurrent operations of one process travel as one batch: one script run, each scope's counters read and
// written once for all of them. The batch runs in order and atomically, so each operation is atomic too.
const BATCH = `${PRELUDE}
local t = now()
local out = {}
local k = 2
while k <= #ARGV do
  local tag = ARGV[k]
  if tag == 'R' then
    out[#out + 1] = reserve(ARGV, k + 1, t)
    k = k + 5 + 2 * tonumber(ARGV[k + 4])
  elseif tag == 'S' then
    out[#out + 1] = settle(ARGV, k + 1)
    k = k + 6 + tonumber(ARGV[k + 5])
  else
    local x = drop(ARGV[k + 1])
    out[#out + 1] = (x and x > t) and 1 or 0
    k = k + 2
  end
end
flush()
return out
`;

// ARGV: P, leaseMs, hold ids… → the ids no longer live.
const RENEW = `${PRELUDE}
local t = now()
local lease = tonumber(ARGV[2])
local lost = {}
for k = 3, #ARGV do
  local holdId = ARGV[k]
  local hk = P .. 'h:' .. holdId
  local data = redis.call('HMGET', hk, 'x', 's')
  if data[1] and tonumber(data[1]) > t then
    local expires = t + lease
    redis.call('HSET', hk, 'x', expires)
    for scope in string.gmatch(data[2], '[^\\n]+') do redis.call('ZADD', P .. 'e:' .. scope, 'XX', expires, holdId) end
  else
    if data[1] then drop(holdId) end
    lost[#lost + 1] = holdId
  end
end
flush()
return lost
`;

// ARGV: P, scope → spent (5), reserved (5), live holds.
const USAGE = `${PRELUDE}
purge(ARGV[2], now())
flush()
local out = {}
local v = row(ARGV[2])
for i = 1, 10 do out[i] = v[i] end
out[11] = redis.call('ZCARD', P .. 'e:' .. ARGV[2])
return out
`;

// ARGV: P, scope, spent → 1 when the scope was created (SET NX semantics: an existing scope is left alone).
const SEED = `${PRELUDE}
if redis.call('EXISTS', P .. 's:' .. ARGV[2]) == 1 then return 0 end
change(ARGV[2], 0, vec(ARGV[3]), 1)
flush()
return 1
`;

type Reply = (string | number)[];
interface LedgerCommands {
  thicketLedgerBatch(...args: (string | number)[]): Promise<Array<Reply | number>>;
  thicketLedgerRenew(...args: (string | number)[]): Promise<string[]>;
  thicketLedgerUsage(...args: (string | number)[]): Promise<number[]>;
  thicketLedgerSeed(...args: (string | number)[]): Promise<number>;
}

export interface RedisSharedLedgerOptions {
  /** `redis://host:port/db` (default THICKET_REDIS_URL, else redis://127.0.0.1:6379). */
  url?: string;
  /** Prepended to every key (default `thicket:ledger:`); tests use a random one. */
  prefix?: string;
  /** How long a call's recorded spend is kept for idempotent re-settles (default 30 days). */
  callTtlSeconds?: number;
  /** Connect and per-command timeout (default 3,000 ms): an unreachable Redis is an error, never a hang. */
  timeoutMs?: number;
}

interface QueuedOperation {
  args: (string | number)[];
  resolve: (reply: Reply | number) => void;
  reject: (error: unknown) => void;
}

/** Operations per script run: large enough to amortise it, small enough not to stall Redis for others. */
const MAX_BATCH = 256;

const vectorCsv = (amount: Amount): string => toSharedVector(amount).join(',');

function checkKey(kind: string, key: string): void {
  if (key === '' || key.includes('\n'))
    throw new InvalidInputError('Invalid shared ledger key', [
      { path: kind, message: `must be non-empty without newlines, got ${JSON.stringify(key)}` },
    ]);
}

export class RedisSharedLedger implements SharedLedger {
  readonly specificationVersion = SHARED_LEDGER_SPEC_VERSION;
  readonly prefix: string;
  private readonly callTtlSeconds: number;
  private readonly commands: LedgerCommands;
  /** Operations waiting for the next batch (sent once the current turn of the event loop is over). */
  private queue: QueuedOperation[] = [];

  private constructor(
    readonly redis: Redis,
    private readonly where: string,
    options: RedisSharedLedgerOptions,
  ) {
    this.prefix = options.prefix ?? 'thicket:ledger:';
    this.callTtlSeconds = options.callTtlSeconds ?? 30 * 24 * 3600;
    for (const [name, lua] of [
      ['thicketLedgerBatch', BATCH],
      ['thicketLedgerRenew', RENEW],
      ['thicketLedgerUsage', USAGE],
      ['thicketLedgerSeed', SEED],
    ] as const)
      redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.commands = redis as unknown as LedgerCommands;
  }

  /** Connects (within the timeout) or throws SharedLedgerUnreachableError. */
  static async connect(options: RedisSharedLedgerOptions = {}): Promise<RedisSharedLedger> {
    const url = options.url ?? process.env['THICKET_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    const timeoutMs = options.timeoutMs ?? 3000;
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      // Without a queue a command issued while Redis is down fails at once instead of waiting for a reconnect.
      enableOfflineQueue: false,
      // Concurrent calls of one process share round trips (what makes 20k ops/s reachable).
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    // ioredis reports connection errors as events too; unhandled, they would crash the process. The first one
    // (ECONNREFUSED, ENOTFOUND, …) ends the connect at once: its retry strategy would otherwise keep trying.
    let failed: (error: Error) => void = () => {};
    redis.on('error', (error: Error) => failed(error));
    const where = url.replace(/\/\/[^@/]*@/, '//');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.connect(),
        new Promise<never>((_, reject) => {
          failed = reject;
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      failed = () => {};
    } catch (error) {
      failed = () => {};
      redis.disconnect();
      throw unreachable(where, error);
    } finally {
      clearTimeout(timer);
    }
    return new RedisSharedLedger(redis, where, options);
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw unreachable(this.where, error);
    }
  }

  /** Queues one operation for the next batch: everything issued in the same turn of the event loop goes as one script run. */
  private enqueue(args: (string | number)[]): Promise<Reply | number> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.sendBatch());
      this.queue.push({ args, resolve, reject });
    });
  }

  private sendBatch(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) setImmediate(() => this.sendBatch());
    if (batch.length === 0) return;
    this.commands.thicketLedgerBatch(this.prefix, ...batch.flatMap((operation) => operation.args)).then(
      (replies) => batch.forEach((operation, index) => operation.resolve(replies[index]!)),
      // Fails closed: no operation of a failed batch is taken as granted.
      (error: unknown) => batch.forEach((operation) => operation.reject(unreachable(this.where, error))),
    );
  }

  async reserve(holdId: string, scopes: readonly SharedScope[], amount: Amount, leaseMs: number): Promise<SharedReserveResult> {
    checkKey('holdId', holdId);
    const args: (string | number)[] = ['R', holdId, Math.max(1, Math.ceil(leaseMs)), vectorCsv(amount), scopes.length];
    for (const scope of scopes) {
      checkKey('scope', scope.key);
      args.push(scope.key, limitVector(scope).join(','));
    }
    const reply = (await this.enqueue(args)) as Reply;
    if (Number(reply[0]) === 1) return { granted: true };
    const [, position, dimension, limit, committed, requested] = reply.map(Number) as [number, number, number, number, number, number];
    const scope = scopes[position - 1]?.key ?? '?';
    return { granted: false, denial: denialOf(scope, dimension, limit, committed, requested) };
  }

  async renew(holdIds: readonly string[], leaseMs: number): Promise<string[]> {
    if (holdIds.length === 0) return [];
    return this.run(() => this.commands.thicketLedgerRenew(this.prefix, Math.max(1, Math.ceil(leaseMs)), ...holdIds));
  }

  async settle(callId: string, holdId: string | undefined, scopes: readonly SharedScope[], billed: Amount): Promise<Amount> {
    checkKey('callId', callId);
    const keys = scopes.map((scope) => scope.key);
    const delta = (await this.enqueue(['S', callId, holdId ?? '', vectorCsv(billed), this.callTtlSeconds, keys.length, ...keys])) as Reply;
    return amountOf(fromSharedVector(delta.map(Number)));
  }

  async release(holdId: string): Promise<boolean> {
    return (await this.enqueue(['L', holdId])) === 1;
  }

  async seed(scopeKey: string, spent: Amount): Promise<boolean> {
    checkKey('scope', scopeKey);
    return (await this.run(() => this.commands.thicketLedgerSeed(this.prefix, scopeKey, vectorCsv(spent)))) === 1;
  }

  async usage(scopeKey: string): Promise<SharedUsage> {
    const row = (await this.run(() => this.commands.thicketLedgerUsage(this.prefix, scopeKey))).map(Number);
    return { spent: fromSharedVector(row.slice(0, 5)), reserved: fromSharedVector(row.slice(5, 10)), holds: row[10] ?? 0 };
  }

  /** Deletes every key under the prefix (tests and benchmarks clean up after themselves). */
  async deleteAll(): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function unreachable(where: string, error: unknown): SharedLedgerUnreachableError {
  if (error instanceof SharedLedgerUnreachableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SharedLedgerUnreachableError(
    `The shared ledger at ${where} did not answer (${reason}); nothing was reserved. Start Redis or fix THICKET_REDIS_URL.`,
    { cause: error },
  );
}
