import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult } from '../types.ts';
import { configStats, mcnemarExact, pairedBootstrap, pairedComparisons } from './paired.ts';

function cell(architecture: string, item: number, score: number, tokens = 100, model = 'sim:small'): CellResult {
  return {
    suite: 'data',
    taskId: `data/s1/i${item}`,
    architecture,
    base: architecture,
    family: 'single-agent',
    budget: 2000,
    budgetUnit: 'tokens',
    model,
    seed: 1,
    score,
    answer: null,
    status: 'ok',
    difficulty: 1,
    usage: { inputTokens: tokens / 2, outputTokens: tokens / 2, totalTokens: tokens, usd: tokens / 1e6, calls: 1 },
    axes: {},
    searchSteps: 0,
    toolCalls: 0,
    latencyMs: 0,
    degraded: 0,
    simulated: true,
    graph: { nodes: 0, edges: 0 },
    meta: {},
  };
}

describe('McNemar exact test (hand-checked binomial tails)', () => {
  it('two-sided p = 2·P(X ≤ min) for X ~ Bin(n, ½), capped at 1', () => {
    assert.equal(mcnemarExact(1, 6), 0.125); // n 7: (1 + 7)/128 × 2
    assert.equal(mcnemarExact(0, 5), 0.0625); // 2/32
    assert.equal(mcnemarExact(0, 10), 2 / 1024);
    assert.equal(mcnemarExact(3, 3), 1);
    assert.equal(mcnemarExact(0, 0), 1);
    const large = mcnemarExact(400, 600);
    assert.ok(large > 0 && large < 1e-9, `large n stays finite: ${large}`);
  });
});

describe('paired bootstrap', () => {
  it('is seeded, and degenerate differences give exact answers', () => {
    assert.deepEqual(pairedBootstrap([0, 0, 0]), { ci: { low: 0, high: 0 }, p: 1 });
    assert.deepEqual(pairedBootstrap([1, 1]), { ci: { low: 1, high: 1 }, p: 0 });
    const differences = [1, 0, 1, 0, 1, 1, 0, 1, -1, 1];
    assert.deepEqual(pairedBootstrap(differences), pairedBootstrap(differences));
    const { ci } = pairedBootstrap(differences);
    assert.ok(ci.low <= 0.5 && ci.high >= 0.5 && ci.low >= -1 && ci.high <= 1);
  });
});

describe('configStats and pairedComparisons', () => {
  const single = Array.from({ length: 10 }, (_, item) => cell('single', item, item < 4 ? 1 : 0, 100));
  const vote = Array.from({ length: 10 }, (_, item) => cell('vote', item, item < 9 ? 1 : 0, 500));

  it('accuracy, tokens and dollars with bootstrap intervals per configuration', () => {
    const stats = configStats([...single, ...vote]);
    const singleStats = stats.find((row) => row.architecture === 'single')!;
    assert.equal(singleStats.n, 10);
    assert.equal(singleStats.accuracy, 0.4);
    assert.equal(singleStats.meanTokens, 100);
    assert.deepEqual(singleStats.tokensCi, { low: 100, high: 100 });
    assert.ok(Math.abs(singleStats.meanUsd - 0.0001) < 1e-15);
    assert.ok(singleStats.accuracyCi.low < 0.4 && singleStats.accuracyCi.high > 0.4);
  });

  it('vote vs single on the same items: +0.5, discordant 0/5, McNemar p 0.0625 → within noise at α 0.05', () => {
    const [comparison] = pairedComparisons([...single, ...vote]);
    assert.ok(comparison);
    assert.equal(comparison.factor, 'architecture');
    assert.equal(comparison.a.architecture, 'single');
    assert.equal(comparison.pairs, 10);
    assert.equal(comparison.difference, 0.5);
    assert.deepEqual(comparison.mcnemar, { aOnly: 0, bOnly: 5, p: 0.0625 });
    assert.equal(comparison.withinNoise, true);
  });

  it('twice the items, ten discordant pairs all one way: p 2/1024, a real difference', () => {
    const a = Array.from({ length: 20 }, (_, item) => cell('single', item, item < 8 ? 1 : 0));
    const b = Array.from({ length: 20 }, (_, item) => cell('vote', item, item < 18 ? 1 : 0));
    const [comparison] = pairedComparisons([...a, ...b]);
    assert.deepEqual(comparison?.mcnemar, { aOnly: 0, bOnly: 10, p: 2 / 1024 });
    assert.equal(comparison?.withinNoise, false);
    assert.ok(comparison.ci.low > 0);
  });

  it('models are compared at the same strategy; different strategy and model are not paired; fractional scores get no McNemar', () => {
    const other = Array.from({ length: 10 }, (_, item) => cell('single', item, 0.5, 100, 'sim:large'));
    const comparisons = pairedComparisons([...single, ...vote, ...other]);
    assert.deepEqual(
      comparisons.map((row) => [row.factor, row.a.architecture, row.a.model, row.b.architecture, row.b.model]),
      [
        ['architecture', 'single', 'sim:small', 'vote', 'sim:small'],
        ['model', 'single', 'sim:small', 'single', 'sim:large'],
      ],
    );
    assert.equal(comparisons[1]!.mcnemar, undefined);
    assert.equal(comparisons[1]!.difference, 0.1);
  });
});
