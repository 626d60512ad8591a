/**
 * Money is exact (issue 16 §2): costs sit on the nano-dollar grid, the ledger keeps integer nano-dollars, and
 * a total is the same in any order and prints without float noise (was 0.000013049999999999999).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock, addUsd, costOf, roundUsd, sumUsd } from '../core/index.ts';
import { Ledger } from './index.ts';

describe('exact money', () => {
  it('costOf lands on the nano-dollar grid and prints short', () => {
    // 87 tokens at $0.15/M: 0.00001305 exactly (a float product gives 0.000013049999999999999).
    assert.equal((87 * 0.15) / 1_000_000, 0.000013049999999999999);
    assert.equal(costOf({ inputTokens: 87, outputTokens: 0 }, { inputPerMillion: 0.15, outputPerMillion: 0 }), 0.00001305);
    assert.equal(String(costOf({ inputTokens: 87, outputTokens: 0 }, { inputPerMillion: 0.15, outputPerMillion: 0 })), '0.00001305');
    assert.equal(roundUsd(0.1 + 0.2), 0.3);
    assert.equal(addUsd(0.1, 0.2), 0.3);
  });

  it('a ledger total equals the exact sum of what was settled, in any order', () => {
    const prices = { inputPerMillion: 0.15, outputPerMillion: 0.6 };
    fc.assert(
      fc.property(
        fc.array(fc.record({ inputTokens: fc.integer({ min: 0, max: 5000 }), outputTokens: fc.integer({ min: 0, max: 2000 }) }), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.double({ min: 0.001, max: 10, noNaN: true }),
        (calls, limit) => {
          const forward = new Ledger({ clock: new VirtualClock(), limits: { usd: limit } });
          const backward = new Ledger({ clock: new VirtualClock(), limits: { usd: limit } });
          const settle = (ledger: Ledger, usage: (typeof calls)[number]): void => {
            const amount = { ...usage, usd: costOf(usage, prices), calls: 1 };
            try {
              ledger.root.reserve(amount).settle(amount);
            } catch {
              // refused by the dollar limit: nothing booked
            }
          };
          for (const call of calls) settle(forward, call);
          for (const call of [...calls].reverse()) settle(backward, call);
          const spent = forward.report().total.usd;
          assert.ok(spent <= limit, `${spent} > ${limit}`);
          // Exact: the same as summing the settled costs through integers, and never past the limit.
          const everything = sumUsd(calls.map((call) => costOf(call, prices)));
          if (everything <= limit) {
            assert.equal(spent, everything);
            assert.equal(backward.report().total.usd, everything);
          }
          assert.equal(spent, roundUsd(spent), 'on the grid');
          assert.equal(forward.root.remaining().usd, roundUsd(Math.max(0, limit - spent)));
        },
      ),
      { numRuns: 200, seed: 16 },
    );
  });

  it('a budget refusal names the dollar figures in dollars', () => {
    const ledger = new Ledger({ clock: new VirtualClock(), limits: { usd: 0.00002 } });
    ledger.root.reserve({ inputTokens: 0, outputTokens: 0, usd: 0.000015, calls: 1 });
    assert.throws(
      () => ledger.root.reserve({ inputTokens: 0, outputTokens: 0, usd: 0.00001, calls: 1 }),
      (error: Error & { details?: unknown }) => /\$0\.000015/.test(error.message) && /\$0\.000020/.test(error.message),
    );
  });
});
