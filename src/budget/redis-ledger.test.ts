import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ThicketError } from '../core/index.ts';
import { RedisSharedLedger } from './redis-ledger.ts';
import { InMemorySharedLedger, type SharedLedger, type SharedScope } from './shared-ledger.ts';

const call = (inputTokens: number, outputTokens: number, usd = 0, calls = 1) => ({ inputTokens, outputTokens, usd, calls });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The same hand-checked values against both implementations: the in-memory baseline and Redis. */
function semantics(name: string, open: () => Promise<{ ledger: SharedLedger; expire: (ms: number) => Promise<void> }>): void {
  describe(`${name}: hand-checked semantics`, () => {
    it('reserves on every scope or none, and names the refusing scope, dimension and amounts', async () => {
      const { ledger } = await open();
      const study: SharedScope = { key: 'study', limits: { totalTokens: 100 } };
      const key: SharedScope = { key: 'key', limits: { usd: 0.01, calls: 5 } };
      assert.deepEqual(await ledger.reserve('a', [study, key], call(30, 30, 0.004), 60_000), { granted: true });
      // 60 + 60 > 100 on the study: refused, and nothing booked on the key either.
      assert.deepEqual(await ledger.reserve('b', [key, study], call(30, 30, 0.001), 60_000), {
        granted: false,
        denial: { scope: 'study', dimension: 'totalTokens', limit: 100, committed: 60, requested: 60 },
      });
      assert.equal((await ledger.usage('key')).reserved.usd, 0.004);
      assert.equal((await ledger.usage('key')).holds, 1);
      // Dollars are exact (nano-dollars): 0.004 + 0.006 = 0.01 fits, one more nano-dollar does not.
      assert.deepEqual(await ledger.reserve('c', [key], call(0, 0, 0.006, 0), 60_000), { granted: true });
      const refused = await ledger.reserve('d', [key], call(0, 0, 0.000000001, 0), 60_000);
      assert.equal(refused.granted, false);
      if (!refused.granted)
        assert.deepEqual(refused.denial, { scope: 'key', dimension: 'usd', limit: 0.01, committed: 0.01, requested: 1e-9 });
      // Idempotent per hold id: granted again, booked once.
      assert.deepEqual(await ledger.reserve('a', [study, key], call(30, 30, 0.004), 60_000), { granted: true });
      assert.equal((await ledger.usage('study')).reserved.totalTokens, 60);
      await ledger.close();
    });

    it('settle moves a hold to spent, idempotent and monotone per call id', async () => {
      const { ledger } = await open();
      const scope: SharedScope = { key: 's', limits: { totalTokens: 1000 } };
      await ledger.reserve('h1', [scope], call(100, 200), 60_000);
      assert.deepEqual(await ledger.settle('call-1', 'h1', [scope], call(100, 50, 0.002)), call(100, 50, 0.002));
      let usage = await ledger.usage('s');
      assert.deepEqual(usage.spent, { inputTokens: 100, outputTokens: 50, totalTokens: 150, usd: 0.002, calls: 1 });
      assert.equal(usage.reserved.totalTokens, 0);
      assert.equal(usage.holds, 0);
      // The same call settled again (a replay): nothing more.
      assert.deepEqual(await ledger.settle('call-1', undefined, [scope], call(100, 50, 0.002)), call(0, 0, 0, 0));
      // A retry attempt billed more (cumulative 2 calls, 180 output): only the increase is booked.
      assert.deepEqual(await ledger.settle('call-1', undefined, [scope], call(100, 180, 0.003, 2)), call(0, 130, 0.001, 1));
      // A smaller figure never lowers it.
      assert.deepEqual(await ledger.settle('call-1', undefined, [scope], call(10, 10, 0, 1)), call(0, 0, 0, 0));
      usage = await ledger.usage('s');
      assert.deepEqual(usage.spent, { inputTokens: 100, outputTokens: 180, totalTokens: 280, usd: 0.003, calls: 2 });
      // Settle is not refused by the limit (it was billed): the scope may end over it, leaving no headroom.
      await ledger.settle('call-2', undefined, [scope], call(700, 100));
      assert.equal((await ledger.usage('s')).spent.totalTokens, 1080);
      assert.equal((await ledger.reserve('h2', [scope], call(0, 0, 0, 1), 60_000)).granted, true);
      assert.equal((await ledger.reserve('h3', [scope], call(1, 0, 0, 1), 60_000)).granted, false);
      await ledger.close();
    });

    it('expired holds stop counting; renew keeps live ones; release frees', async () => {
      const { ledger, expire } = await open();
      const scope: SharedScope = { key: 'lease', limits: { calls: 2 } };
      assert.equal((await ledger.reserve('short', [scope], call(0, 0), 40)).granted, true);
      assert.equal((await ledger.reserve('long', [scope], call(0, 0), 60_000)).granted, true);
      assert.equal((await ledger.reserve('third', [scope], call(0, 0), 60_000)).granted, false);
      await expire(80);
      assert.deepEqual(await ledger.renew(['short', 'long'], 60_000), ['short']);
      let usage = await ledger.usage('lease');
      assert.equal(usage.reserved.calls, 1);
      assert.equal(usage.holds, 1);
      assert.equal((await ledger.reserve('third', [scope], call(0, 0), 60_000)).granted, true);
      assert.equal(await ledger.release('long'), true);
      assert.equal(await ledger.release('long'), false);
      // Settling an expired (purged) hold still records the spend.
      await ledger.settle('c-short', 'short', [scope], call(5, 5));
      usage = await ledger.usage('lease');
      assert.deepEqual([usage.spent.calls, usage.reserved.calls, usage.holds], [1, 1, 1]);
      await ledger.close();
    });

    it('seed opens a scope with prior spend only when it does not exist yet', async () => {
      const { ledger } = await open();
      assert.equal(await ledger.seed('key:x:2026', call(10, 20, 0.5, 3)), true);
      assert.equal(await ledger.seed('key:x:2026', call(99, 99, 9, 9)), false);
      assert.deepEqual((await ledger.usage('key:x:2026')).spent, {
        inputTokens: 10,
        outputTokens: 20,
        totalTokens: 30,
        usd: 0.5,
        calls: 3,
      });
      await ledger.close();
    });
  });
}

const created: RedisSharedLedger[] = [];
async function openRedis(): Promise<{ ledger: SharedLedger; expire: (ms: number) => Promise<void> }> {
  const ledger = await RedisSharedLedger.connect({ prefix: `test:ledger:${randomBytes(6).toString('hex')}:` });
  created.push(ledger);
  // Redis expires by its own clock: waiting is the only way (short leases keep it quick).
  const closeOnce = ledger.close.bind(ledger);
  ledger.close = async () => {
    await ledger.deleteAll();
    await closeOnce();
  };
  return { ledger, expire: sleep };
}

semantics('InMemorySharedLedger', () => {
  let now = 1_000;
  return Promise.resolve({
    ledger: new InMemorySharedLedger(() => now),
    expire: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  });
});
semantics('RedisSharedLedger', openRedis);

describe('RedisSharedLedger: property — no interleaving of reserve/settle/release/expire exceeds a limit', () => {
  let ledger: RedisSharedLedger;
  before(async () => {
    ledger = await RedisSharedLedger.connect({ prefix: `test:ledger-prop:${randomBytes(6).toString('hex')}:` });
  });
  after(async () => {
    await ledger.deleteAll();
    await ledger.close();
  });

  it('committed (spent + live holds) stays within every limit; spent equals the sum of settled calls', async () => {
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('reserve' as const),
        scopes: fc.subarray([0, 1, 2], { minLength: 1 }),
        tokens: fc.integer({ min: 0, max: 60 }),
        lease: fc.constantFrom(5, 60_000),
      }),
      fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const) }),
    );
    let runIndex = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(operation, { minLength: 1, maxLength: 4 }), { minLength: 5, maxLength: 25 }), async (rounds) => {
        const run = `r${runIndex++}`;
        const scopes: SharedScope[] = [
          { key: `${run}:a`, limits: { totalTokens: 150, calls: 6 } },
          { key: `${run}:b`, limits: { totalTokens: 100 } },
          { key: `${run}:c`, limits: { calls: 4, usd: 0.00001 } },
        ];
        // Holds with a 5 ms lease stand for crashed holders: never settled or released, they must lapse on their
        // own. The others are settled or released by their (live) holder.
        const open: Array<{ holdId: string; scopes: SharedScope[]; tokens: number }> = [];
        const settled = scopes.map(() => 0);
        let counter = 0;
        for (const round of rounds) {
          // Each round's operations run concurrently: the interleaving is Redis's.
          await Promise.all(
            round.map(async (step): Promise<void> => {
              if (step.kind === 'wait') return sleep(8);
              if (step.kind === 'reserve') {
                const holdId = `${run}:h${counter++}`;
                const chosen = step.scopes.map((index) => scopes[index]!);
                const result = await ledger.reserve(holdId, chosen, call(step.tokens, 0, step.tokens * 1e-7), step.lease);
                if (result.granted && step.lease > 5) open.push({ holdId, scopes: chosen, tokens: step.tokens });
                return;
              }
              const hold = open.splice(step.pick % Math.max(1, open.length), 1)[0];
              if (!hold) return;
              if (step.kind === 'release') return void (await ledger.release(hold.holdId));
              const spent = Math.floor(hold.tokens * step.fraction);
              await ledger.settle(`call:${hold.holdId}`, hold.holdId, hold.scopes, call(spent, 0, spent * 1e-7));
              for (const scope of hold.scopes) settled[scopes.indexOf(scope)]! += spent;
            }),
          );
          for (const [index, scope] of scopes.entries()) {
            const usage = await ledger.usage(scope.key);
            for (const dimension of ['totalTokens', 'calls', 'usd'] as const) {
              const limit = scope.limits[dimension];
              if (limit !== undefined)
                assert.ok(usage.spent[dimension] + usage.reserved[dimension] <= limit + 1e-12, `${scope.key} ${dimension}`);
            }
            assert.equal(usage.spent.totalTokens, settled[index]);
          }
        }
      }),
      { seed: 21, numRuns: 40 },
    );
  });
});

describe('RedisSharedLedger: unreachable', () => {
  it('a port with nothing listening is a typed, retryable error, not a hang', async () => {
    await assert.rejects(RedisSharedLedger.connect({ url: 'redis://127.0.0.1:6398', timeoutMs: 3000 }), (error: unknown) => {
      assert.ok(ThicketError.isInstance(error));
      assert.equal(error.code, 'SHARED_LEDGER_UNREACHABLE');
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /127\.0\.0\.1:6398/);
      return true;
    });
  });

  it('a Redis that goes away fails reservations closed with the typed error', async () => {
    const ledger = await RedisSharedLedger.connect({ prefix: `test:ledger-down:${randomBytes(6).toString('hex')}:` });
    ledger.redis.disconnect();
    await assert.rejects(
      ledger.reserve('h', [{ key: 's', limits: { calls: 1 } }], call(1, 1), 1000),
      /SHARED_LEDGER_UNREACHABLE|did not answer/,
    );
    await assert.rejects(
      ledger.reserve('h', [{ key: 's', limits: { calls: 1 } }], call(1, 1), 1000),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'SHARED_LEDGER_UNREACHABLE',
    );
  });
});

after(async () => {
  for (const ledger of created) if (ledger.redis.status === 'ready') await ledger.close().catch(() => {});
});
