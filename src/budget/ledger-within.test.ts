/**
 * Ledgers drawing from a shared budget (LedgerOptions.within), as the gateway's runs draw from their key's:
 * under any interleaving of concurrent reserve / settle / release / charge across several run ledgers (and
 * child budgets inside them), the shared budget is never committed past a limit, it holds exactly what the
 * runs reserved and settled, and what replays charge stays in the run's own ledger.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BudgetExhaustedError, VirtualClock } from '../core/index.ts';
import { Ledger, type Amount, type Budget, type BudgetLimits } from './index.ts';

const DIMENSIONS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;
type Dimension = (typeof DIMENSIONS)[number];
type Totals = Record<Dimension, number>;

const zero = (): Totals => ({ inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
// Dollars in whole micro-dollars, so sums compare exactly once rounded to nano-dollars.
const nano = (usd: number): number => Math.round(usd * 1e9);
const add = (into: Totals, amount: Amount, sign = 1): void => {
  into.inputTokens += sign * amount.inputTokens;
  into.outputTokens += sign * amount.outputTokens;
  into.totalTokens += sign * (amount.inputTokens + amount.outputTokens);
  into.usd = (nano(into.usd) + sign * nano(amount.usd)) / 1e9;
  into.calls += sign * amount.calls;
};
const committed = (budget: Budget, dimension: Dimension): number => budget.spent()[dimension] + budget.reserved()[dimension];

const limitsArbitrary: fc.Arbitrary<BudgetLimits> = fc.record(
  {
    inputTokens: fc.integer({ min: 0, max: 600 }),
    outputTokens: fc.integer({ min: 0, max: 900 }),
    totalTokens: fc.integer({ min: 0, max: 1_200 }),
    usd: fc.integer({ min: 0, max: 400 }).map((micro) => micro / 1e6),
    calls: fc.integer({ min: 0, max: 20 }),
  },
  { requiredKeys: [] },
);

const operationArbitrary = fc.record({
  run: fc.nat({ max: 3 }),
  /** Reserve on the run's root, or on a child budget carved from it. */
  onChild: fc.boolean(),
  kind: fc.constantFrom('settle', 'settle', 'release', 'charge'),
  amount: fc.record({
    inputTokens: fc.integer({ min: 0, max: 80 }),
    outputTokens: fc.integer({ min: 0, max: 160 }),
    usd: fc.integer({ min: 0, max: 60 }).map((micro) => micro / 1e6),
    calls: fc.constantFrom(0, 1, 1, 1, 2),
  }),
  /** The share of the reservation the provider reports used (never more: a reported overrun is another test's subject). */
  used: fc.double({ min: 0, max: 1, noNaN: true }),
});

const scale = (amount: Amount, used: number): Amount => ({
  inputTokens: Math.floor(amount.inputTokens * used),
  outputTokens: Math.floor(amount.outputTokens * used),
  usd: Math.floor(nano(amount.usd) * used) / 1e9,
  calls: amount.calls,
});

describe('Ledger within a shared budget', () => {
  it('never commits the shared budget past a limit, under any interleaving of runs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        limitsArbitrary,
        fc.array(limitsArbitrary, { minLength: 4, maxLength: 4 }),
        fc.array(operationArbitrary, { minLength: 1, maxLength: 40 }),
        async (scheduler, keyLimits, runLimits, operations) => {
          const clock = new VirtualClock();
          const key = new Ledger({ clock, limits: keyLimits, rootName: 'key:test' });
          const runs = runLimits.map((limits, index) => new Ledger({ clock, limits, rootName: `run-${index}`, within: key.root }));
          // What the runs settled and hold reserved, by our own count: the shared budget must match it exactly.
          const settled = zero();
          const reserved = zero();
          const charged = runs.map(() => zero());

          const checkShared = (): void => {
            for (const dimension of DIMENSIONS) {
              const limit = keyLimits[dimension];
              if (limit === undefined) continue;
              const now = committed(key.root, dimension);
              assert.ok(dimension === 'usd' ? nano(now) <= nano(limit) : now <= limit, `key ${dimension} committed ${now} > ${limit}`);
            }
            assert.deepEqual(key.root.spent(), settled);
            assert.deepEqual(key.root.reserved(), reserved);
          };

          const tasks = operations.map(async (operation) => {
            await scheduler.schedule(Promise.resolve(), 'start');
            const run = runs[operation.run]!;
            const budget = operation.onChild ? run.root.child('branch', { share: 0.5 }) : run.root;
            if (operation.kind === 'charge') {
              // A replayed call: booked on the run (if it fits there), never on the shared budget.
              const before = key.root.spent();
              try {
                budget.charge(operation.amount);
                add(charged[operation.run]!, operation.amount);
              } catch (error) {
                assert.ok(error instanceof BudgetExhaustedError);
              }
              assert.deepEqual(key.root.spent(), before);
              checkShared();
              return;
            }
            const committedBefore = Object.fromEntries(DIMENSIONS.map((dimension) => [dimension, committed(key.root, dimension)]));
            let reservation;
            try {
              reservation = budget.reserve(operation.amount);
            } catch (error) {
              assert.ok(error instanceof BudgetExhaustedError);
              // Refused only for a reason: the named budget cannot cover it; and nothing was booked.
              const { dimension, limit, committed: was, requested } = error.shortfall;
              assert.ok(
                dimension === 'seconds' || (dimension === 'usd' ? nano(was) + nano(requested) > nano(limit) : was + requested > limit),
              );
              for (const each of DIMENSIONS) assert.equal(committed(key.root, each), committedBefore[each]);
              checkShared();
              return;
            }
            add(reserved, operation.amount);
            checkShared();
            // Other runs go on while this call is "in flight".
            await scheduler.schedule(Promise.resolve(), 'in flight');
            add(reserved, operation.amount, -1);
            if (operation.kind === 'settle') {
              const actual = scale(operation.amount, operation.used);
              reservation.settle(actual);
              add(settled, actual);
              assert.equal(reservation.overrun, undefined);
            } else reservation.release();
            checkShared();
          });
          await scheduler.waitAll();
          await Promise.all(tasks);

          // Everything closed: nothing reserved anywhere; each run's own spend is its settles plus its charges.
          assert.deepEqual(key.root.reserved(), zero());
          const runSpend = zero();
          runs.forEach((run, index) => {
            assert.deepEqual(run.root.reserved(), zero());
            const own = { ...run.root.spent() };
            add(own, charged[index]!, -1);
            add(runSpend, own);
          });
          assert.deepEqual(runSpend, settled);
          assert.deepEqual(key.root.spent(), settled);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a run whose own limit is wider than what the shared budget has left', () => {
    const clock = new VirtualClock();
    const key = new Ledger({ clock, limits: { totalTokens: 100, calls: 3 }, rootName: 'key:test' });
    const first = new Ledger({ clock, limits: { totalTokens: 1_000 }, within: key.root });
    const second = new Ledger({ clock, limits: { totalTokens: 1_000 }, within: key.root });
    const held = first.root.reserve({ inputTokens: 10, outputTokens: 60, usd: 0, calls: 1 });
    assert.throws(
      () => second.root.reserve({ inputTokens: 10, outputTokens: 30, usd: 0, calls: 1 }),
      (error: unknown) =>
        error instanceof BudgetExhaustedError && error.shortfall.budget === 'key:test' && error.shortfall.dimension === 'totalTokens',
    );
    // The refusal booked nothing; releasing the first run's reservation makes room for the second.
    assert.equal(key.root.reserved().totalTokens, 70);
    held.release();
    second.root
      .reserve({ inputTokens: 10, outputTokens: 30, usd: 0, calls: 1 })
      .settle({ inputTokens: 10, outputTokens: 20, usd: 0, calls: 1 });
    assert.deepEqual(key.root.spent(), { inputTokens: 10, outputTokens: 20, totalTokens: 30, usd: 0, calls: 1 });
    // Each ledger's report covers only its own spend, and the shared budget's path stays its own.
    assert.equal(first.report().total.totalTokens, 0);
    assert.equal(second.report().total.totalTokens, 30);
    assert.equal(second.root.path, 'run');
  });
});
