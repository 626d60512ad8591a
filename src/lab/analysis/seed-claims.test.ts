/** The seed-claims comparisons on synthetic cells with answers worked out by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult, ModelFacts } from '../types.ts';
import { bootstrapMean, seedClaims } from './seed-claims.ts';

const cell = (overrides: Partial<CellResult>): CellResult => ({
  suite: 'arith',
  taskId: 't',
  architecture: 'single',
  base: 'single',
  family: 'single-agent',
  budget: 500,
  budgetUnit: 'tokens',
  model: 'small',
  seed: 1,
  score: 0,
  answer: null,
  status: 'ok',
  difficulty: 0,
  usage: { inputTokens: 0, outputTokens: 0, totalTokens: 100, usd: 0, calls: 1 },
  axes: {},
  searchSteps: 0,
  toolCalls: 0,
  latencyMs: 0,
  degraded: 0,
  simulated: false,
  graph: { nodes: 0, edges: 0 },
  meta: {},
  ...overrides,
});

/** Four items; `scores[i]` is item i's score. */
const config = (architecture: string, model: string, scores: number[], tokens = 100, extra: Partial<CellResult> = {}): CellResult[] =>
  scores.map((score, index) =>
    cell({
      architecture,
      model,
      taskId: `i${index}`,
      score,
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: tokens, usd: 0, calls: 1 },
      ...extra,
    }),
  );

const MODELS: Record<string, ModelFacts> = {
  direct: { tier: 'small', reasoning: false, simulated: false, tinyTrained: true, parameters: 1_000_000 },
  small: { tier: 'small', reasoning: true, simulated: false, tinyTrained: true, parameters: 1_000_000 },
  large: { tier: 'large', reasoning: true, simulated: false, tinyTrained: true, parameters: 3_000_000 },
};

describe('bootstrapMean', () => {
  it('is seeded, brackets the mean, and collapses on constant data', () => {
    const values = [1, 0, 1, 1, 0, 1, 0, 1];
    const first = bootstrapMean(values);
    assert.deepEqual(bootstrapMean(values), first);
    assert.ok(first.low < 0.625 && first.high > 0.625 && first.low >= 0 && first.high <= 1);
    assert.deepEqual(bootstrapMean([1, 1, 1]), { low: 1, high: 1 });
    assert.deepEqual(bootstrapMean([]), { low: 0, high: 0 });
  });
});

describe('seedClaims', () => {
  const cells = [
    ...config('single', 'small', [1, 0, 0, 0], 80),
    ...config('vote@4', 'small', [1, 1, 0, 0], 320),
    ...config('single', 'direct', [0, 0, 0, 0], 20),
    ...config('vote@4', 'direct', [1, 0, 0, 0], 80),
    ...config('single', 'large', [1, 1, 1, 0], 90),
    // The cascade spent 60 tokens on the small model and 30 on the large one per item.
    ...config('cascade', 'small', [1, 1, 1, 0], 90, { byModel: { small: 60, large: 30 } }),
    ...config('auto', 'small', [1, 0, 1, 0], 150),
  ];
  const claims = seedClaims(cells, MODELS);

  it('lists width configurations in order of width, with accuracy and tokens', () => {
    const small = claims.width.find((row) => row.model === 'small')!;
    assert.deepEqual(
      small.configs.map((c) => [c.architecture, c.accuracy, c.meanTokens]),
      [
        ['single', 0.25, 80],
        ['vote@4', 0.5, 320],
      ],
    );
  });

  it('compares the direct and the reasoning model of a tier at their best width configuration, paired', () => {
    assert.equal(claims.regime.length, 1);
    const [row] = claims.regime;
    assert.equal(row!.direct.architecture, 'vote@4');
    assert.equal(row!.reasoning.architecture, 'vote@4');
    // Items: reasoning [1,1,0,0] − direct [1,0,0,0] = [0,1,0,0] → +0.25.
    assert.equal(row!.difference, 0.25);
  });

  it('prices a cascade in tokens × parameters against always-large', () => {
    const [row] = claims.cascade;
    assert.equal(row!.alwaysLarge.model, 'large');
    assert.equal(row!.accuracyRatio, 1);
    // Cascade: 60 × 1M + 30 × 3M = 150M; always-large: 90 × 3M = 270M → saved 1 − 150/270.
    assert.ok(Math.abs(row!.computeSaved - (1 - 150 / 270)) < 1e-12);
    assert.equal(row!.computeUnit, 'token-parameters');
    assert.ok(Math.abs(row!.smallShare - 60 / 90) < 1e-12);
  });

  it('measures auto against the best fixed architecture of its model and budget', () => {
    const [row] = claims.governor;
    // small's fixed: single 25%, vote@4 50%, cascade 75% → best is cascade; auto [1,0,1,0] − cascade [1,1,1,0] = −0.25.
    assert.equal(row!.bestFixed.architecture, 'cascade');
    assert.equal(row!.gap, -0.25);
    assert.ok(row!.gapCi.low <= -0.25 && row!.gapCi.high >= -0.25);
  });
});
