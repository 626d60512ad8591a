/**
 * budget — the ledger: hierarchical hard budgets (tokens, dollars, calls, seconds), reserve → settle/release,
 * spend reports by model, operator, axis, agent and budget. Knows nothing about models. A ledger may also
 * draw from a budget shared by many processes (SharedLedger; on Redis through `connectRedisSharedLedger`).
 */
import type { RedisSharedLedger, RedisSharedLedgerOptions } from './redis-ledger.ts';

export * from './ledger.ts';
export * from './shared-ledger.ts';
export * from './shared-gate.ts';
export type { RedisSharedLedger, RedisSharedLedgerOptions } from './redis-ledger.ts';

/** Connects the Redis shared ledger, loading ioredis only now (it costs ~0.3 s of start-up that most runs never need). */
export async function connectRedisSharedLedger(options: RedisSharedLedgerOptions = {}): Promise<RedisSharedLedger> {
  const { RedisSharedLedger: Implementation } = await import('./redis-ledger.ts');
  return Implementation.connect(options);
}
