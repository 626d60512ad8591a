/**
 * Shared checks for the operators' budget property tests: random (often tight) budget slices, and the
 * assertions every operator must satisfy under them — spend within the slice and within the root, nothing
 * left reserved, no overrun, and every degradation both reported and traced.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BudgetLimits } from '../../budget/index.ts';
import type { OpResult } from '../context.ts';
import type { FreshContext } from './harness.ts';

const DIMENSIONS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;

/**
 * Budget limits with each dimension present or absent at random; values spread evenly (no bias towards 0)
 * from "cannot afford one call" to "a dozen calls", so most runs have to plan, shrink or stop part-way.
 * Seconds are virtual (sim latency is 0.2–7 s per call), so short deadlines cut calls mid-flight. `scale`
 * widens every range, for operators whose plans are larger (several calls per round or stage).
 */
export function tightLimits(scale = 1): fc.Arbitrary<BudgetLimits> {
  const upTo = (max: number): fc.Arbitrary<number> => fc.noBias(fc.integer({ min: 0, max: Math.round(max * scale) }));
  return fc.record(
    {
      inputTokens: upTo(4000),
      outputTokens: upTo(5000),
      totalTokens: upTo(8000),
      // Doubles are drawn uniformly over representations (mostly tiny); integers of micro-dollars spread evenly.
      usd: upTo(30_000).map((micros) => micros / 1_000_000),
      calls: upTo(25),
      seconds: upTo(900).map((tenths) => Math.max(0.5, tenths / 10)),
    },
    { requiredKeys: [] },
  );
}

/** Root limits: usually none (the slice is what binds), sometimes tighter than the slice. */
export function rootLimits(scale = 1): fc.Arbitrary<BudgetLimits> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: tightLimits(scale) });
}

/** Asserts the operator stayed inside its slice and the root, with nothing left reserved and no overrun. */
export function assertWithinBudget(run: FreshContext, slice: BudgetLimits, root: BudgetLimits = {}): void {
  const spent = run.budget.spent();
  const report = run.ledger.report();
  const line = report.byBudget[run.budget.path];
  assert.ok(line, `no report line for ${run.budget.path}`);
  for (const dimension of DIMENSIONS) {
    const tolerance = dimension === 'usd' ? 1e-12 : 0;
    const sliceLimit = slice[dimension];
    if (sliceLimit !== undefined) {
      assert.ok(spent[dimension] <= sliceLimit + tolerance, `slice ${dimension}: spent ${spent[dimension]} > limit ${sliceLimit}`);
      assert.ok(line[dimension] <= sliceLimit + tolerance, `report ${dimension}: ${line[dimension]} > limit ${sliceLimit}`);
    }
    const rootLimit = root[dimension];
    if (rootLimit !== undefined)
      assert.ok(report.total[dimension] <= rootLimit + tolerance, `root ${dimension}: ${report.total[dimension]} > ${rootLimit}`);
    // Reservations are added and removed in floating point: dollars may leave a ~1e-19 residue.
    assert.ok(Math.abs(run.budget.reserved()[dimension]) <= tolerance, `${dimension} still reserved: ${run.budget.reserved()[dimension]}`);
    assert.ok(report.overrun[dimension] <= tolerance, `${dimension} overrun: ${report.overrun[dimension]}`);
  }
}

/** Every degradation in the result is also a trace 'degrade' event; budgetExhausted comes with a reason. */
export function assertDegradationsTraced(result: Pick<OpResult, 'degraded' | 'budgetExhausted'>, run: FreshContext): void {
  const traced = new Set(run.trace.events.filter((event) => event.type === 'degrade').map((event) => String(event.data['reason'])));
  for (const reason of result.degraded) assert.ok(traced.has(reason), `degradation "${reason}" not traced`);
  if (result.budgetExhausted) assert.ok(result.degraded.length > 0, 'budgetExhausted without a degradation note');
}
