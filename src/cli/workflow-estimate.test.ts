/**
 * `workflow estimate --budget-*` says which figure it fitted and fits the one the ledger enforces (issue 16 §5):
 * it used to print "scaled to fit the budget" above a worst case of 18,843 tokens for a 6,000-token budget,
 * having fitted the expected cost. The worst case is what the ledger reserves call by call, so it is the default.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, parseSingleJson, runCli } from './testing/run-cli.ts';

interface Line {
  totalTokens: number;
}
interface EstimateJson {
  basis?: string;
  scaled: Array<{ node: string; param: string; from: number; to: number }>;
  estimate: { total: { worst: Line; expected: Line } };
  unscaled?: { worst: Line; expected: Line };
}

const SPEC = 'examples/fan-out-fan-in.json';
const QUERY = 'What is (17*23)+(12*4)?';

describe('workflow estimate with a budget', () => {
  it('fits the worst case by default, and the expected cost with --fit-basis expected; says which', { timeout: 60_000 }, async () => {
    const worst = await runCli(['workflow', 'estimate', SPEC, '--query', QUERY, '--budget-tokens', '6000', '--json']);
    expectExit(worst, 0);
    const fitted = parseSingleJson<EstimateJson>(worst);
    assert.equal(fitted.basis, 'worst');
    assert.ok(fitted.scaled.length > 0);
    assert.ok(fitted.estimate.total.worst.totalTokens <= 6000, `worst ${fitted.estimate.total.worst.totalTokens}`);
    assert.ok((fitted.unscaled?.worst.totalTokens ?? 0) > 6000, 'the unscaled plan did not fit');

    const expected = await runCli([
      'workflow',
      'estimate',
      SPEC,
      '--query',
      QUERY,
      '--budget-tokens',
      '6000',
      '--fit-basis',
      'expected',
      '--json',
    ]);
    expectExit(expected, 0);
    const typical = parseSingleJson<EstimateJson>(expected);
    assert.equal(typical.basis, 'expected');
    assert.ok(typical.estimate.total.expected.totalTokens <= 6000);
    assert.ok(typical.estimate.total.worst.totalTokens > 6000, 'fitting the expected cost leaves a worst case over the budget');

    const text = await runCli(['workflow', 'estimate', SPEC, '--query', QUERY, '--budget-tokens', '6000']);
    expectExit(text, 0);
    assert.match(
      text.stdout,
      /scaled so that the worst case \(what the ledger reserves[^)]*\) fits the budget: [\d,]+ → [\d,]+ tokens ≤ 6,000/,
    );
    assert.doesNotMatch(text.stdout, /scaled to fit the budget/);

    const bad = await runCli(['workflow', 'estimate', SPEC, '--budget-tokens', '6000', '--fit-basis', 'median', '--json']);
    expectExit(bad, 2);
  });
});
