/** The governor's frontier verdicts on hand-made cells, every expected figure worked out by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult, ModelFacts } from '../types.ts';
import {
  autoEfficiency,
  cascadesFromSmall,
  cascadeVerdict,
  governorVerdict,
  isWidthArchitecture,
  medianOf,
  summarizeEfficiency,
  DOLLAR_EFFICIENCY_TARGET,
  TOKEN_EFFICIENCY_TARGET,
} from './governor-frontier.ts';
import { seedClaims } from './seed-claims.ts';
import { configurations } from './summaries.ts';

const cell = (overrides: Partial<CellResult>): CellResult => ({
  suite: 'arith',
  taskId: 't',
  architecture: 'single',
  base: 'single',
  family: 'single-agent',
  budget: 500,
  budgetUnit: 'tokens',
  model: 'm',
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
  simulated: true,
  graph: { nodes: 0, edges: 0 },
  meta: {},
  ...overrides,
});

/** One configuration on items i0…; `scores[i]` is item i's score; every cell spends `tokens` and `usd`. */
const config = (
  architecture: string,
  model: string,
  budget: number,
  scores: number[],
  tokens: number,
  usd = 0,
  extra: Partial<CellResult> = {},
): CellResult[] =>
  scores.map((score, index) =>
    cell({
      architecture,
      model,
      budget,
      taskId: `i${index}`,
      score,
      usage: { inputTokens: 0, outputTokens: tokens, totalTokens: tokens, usd, calls: 1 },
      ...extra,
    }),
  );

describe('governorVerdict', () => {
  it('meets within 2 points, or when a larger loss has an interval reaching 0; else it lost', () => {
    assert.deepEqual(governorVerdict({ gap: -0.01, gapCi: { low: -0.05, high: 0.03 } }), { met: true, by: 'tolerance' });
    assert.deepEqual(governorVerdict({ gap: -0.02, gapCi: { low: -0.06, high: -0.01 } }), { met: true, by: 'tolerance' });
    assert.deepEqual(governorVerdict({ gap: 0.05, gapCi: { low: 0.01, high: 0.09 } }), { met: true, by: 'tolerance' });
    assert.deepEqual(governorVerdict({ gap: -0.05, gapCi: { low: -0.12, high: 0 } }), { met: true, by: 'interval' });
    assert.deepEqual(governorVerdict({ gap: -0.05, gapCi: { low: -0.1, high: -0.01 } }), { met: false, by: 'lost' });
    // A tighter tolerance turns the 1-point loss with an interval below 0 into a loss.
    assert.deepEqual(governorVerdict({ gap: -0.01, gapCi: { low: -0.02, high: -0.005 } }, 0.005), { met: false, by: 'lost' });
  });
});

describe('isWidthArchitecture', () => {
  it('is single, vote and vote@k only', () => {
    assert.deepEqual(['single', 'vote', 'vote@5', 'refine', 'search@2', 'auto', 'voter'].map(isWidthArchitecture), [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('autoEfficiency', () => {
  const cells = [
    // Model m: the best width strategy is vote@4 at 2000 (75%, 1600 tokens); vote@8 ties at 75% but costs more;
    // refine is better still but is not a width strategy. auto reaches 75% at 500 (300 tokens) and at 2000.
    ...config('single', 'm', 500, [1, 0, 0, 0], 100),
    ...config('vote@4', 'm', 500, [1, 1, 0, 0], 400),
    ...config('vote@4', 'm', 2000, [1, 1, 1, 0], 1600),
    ...config('vote@8', 'm', 2000, [1, 1, 1, 0], 2000),
    ...config('refine', 'm', 2000, [1, 1, 1, 1], 1000),
    ...config('auto', 'm', 150, [1, 0, 0, 0], 100),
    ...config('auto', 'm', 500, [1, 1, 1, 0], 300),
    ...config('auto', 'm', 2000, [1, 1, 1, 1], 500),
    // Model n: vote reaches 50%; auto's only budget scores 25%: never reaches it.
    ...config('vote', 'n', 500, [1, 1, 0, 0], 200),
    ...config('auto', 'n', 500, [1, 0, 0, 0], 150),
    // Model p: vote reaches 50% at 200 tokens; auto too, at 100 tokens: half, not a quarter.
    ...config('vote', 'p', 500, [1, 0, 1, 0], 200),
    ...config('auto', 'p', 500, [0, 1, 0, 1], 100),
  ];

  it('finds the best width baseline and auto’s cheapest budget that matches it', () => {
    const rows = autoEfficiency(configurations(cells), 'tokens', TOKEN_EFFICIENCY_TARGET);
    const m = rows.find((row) => row.model === 'm')!;
    assert.deepEqual(m.baseline, { architecture: 'vote@4', budget: 2000, accuracy: 0.75, cost: 1600 });
    assert.deepEqual(m.auto, { budget: 500, accuracy: 0.75, cost: 300 });
    assert.equal(m.reaching, 2);
    assert.equal(m.autoBudgets, 3);
    assert.equal(m.ratio, 300 / 1600);
    assert.equal(m.met, true);

    const n = rows.find((row) => row.model === 'n')!;
    assert.equal(n.auto, undefined);
    assert.equal(n.ratio, undefined);
    assert.equal(n.reaching, 0);
    assert.equal(n.met, false);

    const p = rows.find((row) => row.model === 'p')!;
    assert.equal(p.ratio, 0.5);
    assert.equal(p.met, false);

    assert.deepEqual(summarizeEfficiency(rows), { evaluated: 3, met: 1, unreached: 1, skipped: 0, medianRatio: (0.1875 + 0.5) / 2 });
  });

  it('judges dollars on priced models and skips models that cost $0 on both sides', () => {
    const priced = [
      // vote@4 at 2000: 75% for $0.004 a query; auto at 500: 75% for $0.002 — exactly half.
      ...config('vote@4', 'q', 2000, [1, 1, 1, 0], 1600, 0.004),
      ...config('auto', 'q', 500, [1, 1, 0, 1], 900, 0.002),
    ];
    const rows = autoEfficiency(configurations([...cells, ...priced]), 'usd', DOLLAR_EFFICIENCY_TARGET);
    const q = rows.find((row) => row.model === 'q')!;
    assert.equal(q.ratio, 0.5);
    assert.equal(q.met, true);
    assert.equal(q.skipped, undefined);
    for (const model of ['m', 'n', 'p']) assert.equal(rows.find((row) => row.model === model)!.skipped, 'unpriced');
    assert.deepEqual(summarizeEfficiency(rows), { evaluated: 1, met: 1, unreached: 0, skipped: 3, medianRatio: 0.5 });
  });

  it('says when a side was not run', () => {
    const rows = autoEfficiency(
      configurations([...config('single', 'a', 500, [1], 100), ...config('auto', 'b', 500, [1], 100)]),
      'tokens',
      TOKEN_EFFICIENCY_TARGET,
    );
    assert.equal(rows.find((row) => row.model === 'a')!.skipped, 'no-auto');
    assert.equal(rows.find((row) => row.model === 'b')!.skipped, 'no-width');
    assert.deepEqual(summarizeEfficiency(rows), { evaluated: 0, met: 0, unreached: 0, skipped: 2 });
  });

  it('skips a baseline that scored 0: any auto run would match it', () => {
    const rows = autoEfficiency(
      configurations([...config('single', 'z', 500, [0, 0], 300), ...config('auto', 'z', 500, [0, 1], 900)]),
      'tokens',
      TOKEN_EFFICIENCY_TARGET,
    );
    assert.equal(rows[0]!.skipped, 'zero-baseline');
    assert.equal(rows[0]!.met, false);
    assert.deepEqual(rows[0]!.auto, { budget: 500, accuracy: 0.5, cost: 900 });
  });

  it('skips a baseline that is one call: width does not pay there, and the comparison has no N', () => {
    const rows = autoEfficiency(
      configurations([
        ...config('single', 's', 500, [1, 1, 0], 300),
        ...config('vote', 's', 500, [1, 0, 0], 900),
        ...config('auto', 's', 500, [1, 1, 1], 400),
      ]),
      'tokens',
      TOKEN_EFFICIENCY_TARGET,
    );
    assert.equal(rows[0]!.baseline.architecture, 'single');
    assert.equal(rows[0]!.skipped, 'single-baseline');
    assert.equal(rows[0]!.met, false);
    assert.deepEqual(summarizeEfficiency(rows), { evaluated: 0, met: 0, unreached: 0, skipped: 1 });
  });
});

describe('medianOf', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    assert.equal(medianOf([3, 1, 2]), 2);
    assert.equal(medianOf([4, 1, 3, 2]), 2.5);
    assert.equal(medianOf([]), undefined);
  });
});

describe('cascadeVerdict', () => {
  const MODELS: Record<string, ModelFacts> = {
    small: { tier: 'small', reasoning: false, simulated: false, tinyTrained: true, parameters: 1_000_000 },
    medium: { tier: 'medium', reasoning: false, simulated: false, tinyTrained: true, parameters: 2_000_000 },
    large: { tier: 'large', reasoning: false, simulated: false, tinyTrained: true, parameters: 3_000_000 },
  };
  // Every cascade query spends 100 tokens on its first model and 50 on the large one; always-large spends 200.
  const cascadeCells = (model: string, usd: number): CellResult[] =>
    config('cascade', model, 500, [1, 1, 1, 1], 150, usd, { byModel: { [model]: 100, large: 50 } });

  it('counts dollars where always-large was paid for: $0.0002 against $0.001 saves 80%', () => {
    const cells = [...cascadeCells('small', 0.0002), ...config('single', 'large', 500, [1, 1, 1, 1], 200, 0.001)];
    const [row] = cascadesFromSmall(seedClaims(cells, MODELS).cascade, MODELS);
    const verdict = cascadeVerdict(row!, configurations(cells));
    assert.equal(verdict.unit, 'usd');
    assert.ok(Math.abs(verdict.saved - 0.8) < 1e-12);
    assert.equal(verdict.accuracyRatio, 1);
    assert.equal(verdict.vacuous, false);
    assert.equal(verdict.met, true);
  });

  it('gives no verdict when both scored 0 (the ratio of two zeros is 1, and says nothing)', () => {
    const cells = [
      ...config('cascade', 'small', 500, [0, 0, 0, 0], 150, 0.0002, { byModel: { small: 100, large: 50 } }),
      ...config('single', 'large', 500, [0, 0, 0, 0], 200, 0.001),
    ];
    const verdict = cascadeVerdict(cascadesFromSmall(seedClaims(cells, MODELS).cascade, MODELS)[0]!, configurations(cells));
    assert.equal(verdict.accuracyRatio, 1);
    assert.equal(verdict.vacuous, true);
    assert.equal(verdict.met, false);
  });

  it('counts tokens × parameters where both cost $0: (100·1M + 50·3M) against 200·3M saves 58%, short of 60%', () => {
    const cells = [...cascadeCells('small', 0), ...config('single', 'large', 500, [1, 1, 1, 1], 200, 0)];
    const [row] = cascadesFromSmall(seedClaims(cells, MODELS).cascade, MODELS);
    const verdict = cascadeVerdict(row!, configurations(cells));
    assert.equal(verdict.unit, 'token-parameters');
    assert.ok(Math.abs(verdict.saved - (1 - 250 / 600)) < 1e-12);
    assert.equal(verdict.met, false);
  });

  it('fails a cheap cascade that keeps less than 98% of always-large’s accuracy', () => {
    const cells = [
      ...config('cascade', 'small', 500, [1, 1, 1, 0], 150, 0.0002, { byModel: { small: 100, large: 50 } }),
      ...config('single', 'large', 500, [1, 1, 1, 1], 200, 0.001),
    ];
    const verdict = cascadeVerdict(cascadesFromSmall(seedClaims(cells, MODELS).cascade, MODELS)[0]!, configurations(cells));
    assert.equal(verdict.accuracyRatio, 0.75);
    assert.equal(verdict.met, false);
  });

  it('keeps only cascades that start from a small-tier model', () => {
    const cells = [...cascadeCells('small', 0), ...cascadeCells('medium', 0), ...config('single', 'large', 500, [1, 1, 1, 1], 200)];
    const all = seedClaims(cells, MODELS).cascade;
    assert.deepEqual(all.map((row) => row.cascade.model).sort(), ['medium', 'small']);
    assert.deepEqual(
      cascadesFromSmall(all, MODELS).map((row) => row.cascade.model),
      ['small'],
    );
  });
});
