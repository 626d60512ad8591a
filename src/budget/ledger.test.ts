import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BudgetExhaustedError, InvalidInputError, VirtualClock, systemClock } from '../core/index.ts';
import { Ledger, type Budget, type BudgetLimits } from './index.ts';

const amount = (inputTokens: number, outputTokens: number, usd = 0, calls = 1) => ({ inputTokens, outputTokens, usd, calls });

describe('Ledger basics', () => {
  it('reserves, settles the actual amount and releases the rest', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 100 } });
    const reservation = ledger.root.reserve(amount(20, 50));
    assert.equal(ledger.root.reserved().totalTokens, 70);
    assert.equal(ledger.root.remaining().totalTokens, 30);
    reservation.settle(amount(20, 10));
    assert.equal(ledger.root.spent().totalTokens, 30);
    assert.equal(ledger.root.reserved().totalTokens, 0);
    assert.equal(ledger.root.remaining().totalTokens, 70);
  });

  it('refuses a reservation that does not fit, booking nothing, and names the limit', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 50, usd: 1 } });
    ledger.root.reserve(amount(10, 30));
    assert.throws(
      () => ledger.root.reserve(amount(5, 10)),
      (error: unknown) =>
        error instanceof BudgetExhaustedError &&
        error.shortfall.dimension === 'totalTokens' &&
        error.shortfall.committed === 40 &&
        error.code === 'BUDGET_EXHAUSTED',
    );
    assert.equal(ledger.root.reserved().totalTokens, 40);
  });

  it('checks every ancestor: a child cannot spend what its parent no longer has', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 100 } });
    const left = ledger.root.child('left', { limits: { totalTokens: 80 } });
    const right = ledger.root.child('right', { limits: { totalTokens: 80 } });
    left.reserve(amount(0, 70)).settle(amount(0, 70));
    assert.throws(
      () => right.reserve(amount(0, 40)),
      (error: unknown) => error instanceof BudgetExhaustedError && error.shortfall.budget === 'run',
    );
    assert.equal(right.remaining().totalTokens, 30);
  });

  it('carves children by share of the parent headroom and caps absolute limits at the parent', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 1000, usd: 2 } });
    ledger.root.reserve(amount(0, 200)).settle(amount(0, 200));
    const half = ledger.root.child('half', { share: 0.5 });
    assert.equal(half.limits.totalTokens, 400);
    assert.equal(half.limits.usd, 1);
    const big = ledger.root.child('big', { limits: { totalTokens: 5000 } });
    assert.equal(big.limits.totalTokens, 800);
    assert.equal(ledger.root.child('half').path, 'run/half#1');
  });

  it('treats seconds as a deadline on the clock', async () => {
    const clock = new VirtualClock();
    const ledger = new Ledger({ clock, limits: { seconds: 2 } });
    ledger.root.reserve(amount(1, 1)).settle(amount(1, 1));
    clock.advance(2500);
    assert.throws(
      () => ledger.root.reserve(amount(1, 1)),
      (error: unknown) => error instanceof BudgetExhaustedError && error.shortfall.dimension === 'seconds',
    );
    assert.equal(ledger.root.remainingMs(), 0);
  });

  it('computes the largest affordable output under token and dollar limits', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 1000, usd: 0.001 } });
    // $0.001 with $1/M input and $10/M output: 100 input tokens cost $0.0001, leaving 90 output tokens.
    assert.equal(ledger.root.maxAffordableOutputTokens(100, { inputPerMillion: 1, outputPerMillion: 10 }), 90);
    assert.equal(ledger.root.maxAffordableOutputTokens(2000, { inputPerMillion: 0, outputPerMillion: 0 }), 0);
  });

  it('books what the provider reports beyond the reservation and reports the overrun', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 100 } });
    const reservation = ledger.root.reserve(amount(10, 20));
    reservation.settle(amount(15, 20));
    assert.equal(ledger.root.spent().totalTokens, 35);
    assert.deepEqual(reservation.overrun, { inputTokens: 5, outputTokens: 0, usd: 0, calls: 0 });
    assert.equal(ledger.report().overrun.inputTokens, 5);
  });

  it('a settle past the limit leaves no headroom: totals add up and the next reservation is refused', () => {
    const ledger = new Ledger({ clock: systemClock, limits: { usd: 0.5 } });
    const child = ledger.root.child('vote');
    const reservation = child.reserve(amount(20, 64, 0.01));
    // The provider ignored max_tokens: 4,200 output tokens billed.
    const settled = reservation.settle(amount(20, 4200, 0.7));
    assert.deepEqual(settled, { inputTokens: 20, outputTokens: 4200, totalTokens: 4220, usd: 0.7, calls: 1 });
    const spent = ledger.root.spent();
    assert.equal(spent.totalTokens, spent.inputTokens + spent.outputTokens);
    assert.equal(spent.usd, 0.7);
    assert.equal(ledger.root.remaining().usd, 0);
    assert.ok(Math.abs(ledger.report().overrun.usd - 0.69) < 1e-9);
    assert.equal(ledger.report().overrun.outputTokens, 4136);
    assert.throws(() => ledger.root.reserve(amount(1, 1, 0.000001)), BudgetExhaustedError);
  });

  it('attributes spend by model, operator, axis, agent and budget', () => {
    const ledger = new Ledger({ clock: systemClock });
    const branch = ledger.root.child('debate');
    branch
      .reserve(amount(10, 10, 0.5), { model: 'sim:small', operator: 'debate', axis: 'agents', agent: 'a1' })
      .settle(amount(10, 5, 0.25));
    ledger.root.reserve(amount(4, 4, 0.1), { model: 'sim:large', operator: 'generate' }).settle(amount(4, 4, 0.1));
    const report = ledger.report();
    assert.equal(report.byModel['sim:small']!.totalTokens, 15);
    assert.equal(report.byModel['sim:large']!.usd, 0.1);
    assert.equal(report.byAxis['agents']!.calls, 1);
    assert.equal(report.byAgent['a1']!.outputTokens, 5);
    assert.equal(report.byBudget['run/debate']!.totalTokens, 15);
    assert.equal(report.total.totalTokens, 23);
  });

  it('rejects invalid limits with every problem listed', () => {
    assert.throws(
      () => new Ledger({ clock: systemClock, limits: { totalTokens: -1, usd: Number.NaN } }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 2 && error.issues[0]!.path === 'run.totalTokens',
    );
  });
});

/**
 * The core promise: whatever mix of concurrent branches, nested children, faults and retries, spend never
 * exceeds any budget on any dimension. Each generated program is a tree of budgets; every leaf runs a
 * number of concurrent "calls" that reserve a worst case, wait a random (virtual) time, and then settle an
 * actual usage ≤ the worst case, fail (release or bill partially) and retry, or are refused.
 */
describe('Ledger property: spend never exceeds any limit', () => {
  interface CallPlan {
    input: number;
    maxOutput: number;
    outputShare: number;
    delay: number;
    failures: number;
    billFailure: boolean;
  }
  interface Node {
    limits: BudgetLimits;
    share: number | undefined;
    calls: CallPlan[];
    children: Node[];
  }
  const limitsArb = fc.record(
    {
      totalTokens: fc.integer({ min: 0, max: 3000 }),
      inputTokens: fc.integer({ min: 0, max: 2000 }),
      outputTokens: fc.integer({ min: 0, max: 2000 }),
      usd: fc.double({ min: 0, max: 0.05, noNaN: true }),
      calls: fc.integer({ min: 0, max: 40 }),
    },
    { requiredKeys: [] },
  );
  const callArb = fc.record({
    input: fc.integer({ min: 1, max: 300 }),
    maxOutput: fc.integer({ min: 1, max: 300 }),
    outputShare: fc.double({ min: 0, max: 1, noNaN: true }),
    delay: fc.integer({ min: 0, max: 50 }),
    failures: fc.integer({ min: 0, max: 3 }),
    billFailure: fc.boolean(),
  });
  const nodeAt = (depth: number): fc.Arbitrary<Node> =>
    fc.record({
      limits: limitsArb,
      share: fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
      calls: fc.array(callArb, { maxLength: 6 }),
      children: depth > 0 ? fc.array(nodeAt(depth - 1), { maxLength: 3 }) : fc.constant([]),
    });
  const nodeArb = nodeAt(3);

  const PRICE_IN = 2; // $/M tokens
  const PRICE_OUT = 8;
  const usdOf = (input: number, output: number): number => (input * PRICE_IN + output * PRICE_OUT) / 1_000_000;

  function assertWithinLimits(budgets: Budget[]): void {
    for (const budget of budgets) {
      const spent = budget.spentVector;
      const reserved = budget.reservedVector;
      for (let index = 0; index < spent.length; index++) {
        const committed = spent[index]! + reserved[index]!;
        assert.ok(
          committed <= budget.limitVector[index]! + 1e-9,
          `${budget.path} dimension ${index}: ${committed} > ${budget.limitVector[index]}`,
        );
        assert.ok(reserved[index]! >= -1e-9, `${budget.path} has negative reservation`);
      }
    }
  }

  it('holds over thousands of randomized concurrent call trees with faults and retries', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, nodeArb, async (rootLimits, tree) => {
        const clock = new VirtualClock();
        const ledger = new Ledger({ clock, limits: rootLimits });
        const budgets: Budget[] = [ledger.root];
        const tasks: Array<Promise<void>> = [];
        const runCall = async (budget: Budget, plan: CallPlan): Promise<void> => {
          for (let attempt = 0; attempt <= plan.failures; attempt++) {
            let reservation;
            try {
              reservation = budget.reserve({
                inputTokens: plan.input,
                outputTokens: plan.maxOutput,
                usd: usdOf(plan.input, plan.maxOutput),
                calls: 1,
              });
            } catch (error) {
              assert.ok(error instanceof BudgetExhaustedError);
              return;
            }
            assertWithinLimits(budgets);
            await clock.sleep(plan.delay);
            const output = Math.floor(plan.maxOutput * plan.outputShare);
            if (attempt < plan.failures) {
              // A failed attempt: either billed for its prompt (like a truncated/malformed response) or only counted as a call.
              if (plan.billFailure)
                reservation.settle({ inputTokens: plan.input, outputTokens: output, usd: usdOf(plan.input, output), calls: 1 });
              else reservation.settle({ inputTokens: 0, outputTokens: 0, usd: 0, calls: 1 });
              continue;
            }
            reservation.settle({ inputTokens: plan.input, outputTokens: output, usd: usdOf(plan.input, output), calls: 1 });
            return;
          }
        };
        const visit = (node: Node, budget: Budget): void => {
          for (const plan of node.calls) tasks.push(runCall(budget, plan));
          for (const child of node.children) {
            const childBudget = budget.child('branch', {
              limits: child.limits,
              ...(child.share !== undefined ? { share: child.share } : {}),
            });
            budgets.push(childBudget);
            visit(child, childBudget);
          }
        };
        visit(tree, ledger.root);
        await Promise.all(tasks);
        assertWithinLimits(budgets);
        for (const budget of budgets)
          assert.ok(
            budget.reservedVector.every((value) => Math.abs(value) < 1e-9),
            `${budget.path} still has open reservations`,
          );
        const report = ledger.report();
        assert.ok(report.total.totalTokens <= (rootLimits.totalTokens ?? Infinity));
        assert.ok(report.total.usd <= (rootLimits.usd ?? Infinity) + 1e-9);
        assert.equal(report.overrun.totalTokens, 0);
      }),
      { numRuns: 2000, seed: 20261125 },
    );
  });
});
