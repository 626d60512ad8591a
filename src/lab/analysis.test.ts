/** Analysis functions on synthetic data with known answers: OLS, curve fits, variance shares, frontiers, summaries. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import {
  choleskySolve,
  coordinationBySize,
  decomposeVariance,
  evaluateCurve,
  fitCurve,
  fitScalingCurve,
  levenbergMarquardt,
  ols,
  pairedComparison,
  paretoFrontier,
  upperHull,
  type FeatureGroup,
} from './analysis/index.ts';
import type { CellResult } from './types.ts';

const close = (actual: number, expected: number, tolerance: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} expected ${expected} ± ${tolerance}, got ${actual}`);

describe('least squares', () => {
  it('solves SPD systems by Cholesky and refuses indefinite ones', () => {
    const x = choleskySolve(
      [
        [4, 2],
        [2, 3],
      ],
      [10, 8],
    );
    assert.ok(x);
    close(x[0]!, 1.75, 1e-12);
    close(x[1]!, 1.5, 1e-12);
    assert.equal(
      choleskySolve(
        [
          [1, 2],
          [2, 1],
        ],
        [1, 1],
      ),
      undefined,
    );
  });

  it('recovers exact coefficients, weights rows, and survives a duplicated column', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [1, i, (i * 7) % 5]);
    const y = rows.map(([, a, b]) => 2 + 0.5 * a! - 3 * b!);
    const fit = ols(rows, y);
    fit.coefficients.forEach((value, index) => close(value, [2, 0.5, -3][index]!, 1e-8));
    close(fit.r2, 1, 1e-12);
    // Weighted: the heavy rows decide the mean of a constant-only model.
    const weighted = ols([[1], [1]], [0, 10], [3, 1]);
    close(weighted.coefficients[0]!, 2.5, 1e-9);
    const collinear = ols(
      rows.map((row) => [...row, row[1]!]),
      y,
    );
    close(collinear.r2, 1, 1e-6);
  });
});

describe('scaling-curve fits (Levenberg–Marquardt)', () => {
  it('minimises a Rosenbrock-like least-squares problem', () => {
    const result = levenbergMarquardt((p) => [10 * (p[1]! - p[0]! ** 2), 1 - p[0]!], [-1.2, 1]);
    close(result.parameters[0]!, 1, 1e-4);
    close(result.parameters[1]!, 1, 1e-4);
  });

  it('recovers the parameters of a saturating curve acc = a − b·(t/t0)^−c from noisy points', () => {
    const truth = { a: 0.82, b: 0.5, c: 0.7 };
    const rng = createRng(5);
    const points = [];
    for (let i = 0; i < 400; i++) {
      const tokens = 200 * Math.exp(rng.next() * Math.log(100));
      const mean = truth.a - truth.b * (tokens / 200) ** -truth.c;
      points.push({ tokens, score: mean + 0.03 * rng.normal() });
    }
    const fit = fitCurve(points, 'saturating', { referenceTokens: 200 });
    assert.ok(fit);
    close(fit.parameters['a']!, truth.a, 0.02, 'a');
    close(fit.parameters['b']!, truth.b, 0.03, 'b');
    close(fit.parameters['c']!, truth.c, 0.08, 'c');
    close(evaluateCurve(fit, 2000), truth.a - truth.b * 10 ** -truth.c, 0.01, 'acc(2000)');
  });

  it('recovers a logistic in log-tokens and picks it over the other models by AICc', () => {
    const truth = { h: 0.9, k: 2.2, m: Math.log(1500) };
    const points = Array.from({ length: 60 }, (_, i) => {
      const tokens = 100 * 1.08 ** i;
      return { tokens, score: truth.h / (1 + Math.exp(-truth.k * (Math.log(tokens) - truth.m))) + (i % 2 === 0 ? 0.004 : -0.004) };
    });
    const fit = fitScalingCurve(points);
    assert.ok(fit);
    assert.equal(fit.model, 'logistic');
    close(fit.parameters['h']!, truth.h, 0.01, 'h');
    close(fit.parameters['k']!, truth.k, 0.1, 'k');
    close(fit.parameters['m']!, truth.m, 0.05, 'm');
    assert.ok(fit.r2 > 0.99);
  });

  it('declines to fit too few token levels, and uses the two-parameter log-linear curve for four budgets', () => {
    assert.equal(
      fitScalingCurve([
        { tokens: 100, score: 0.5 },
        { tokens: 100, score: 0.6 },
        { tokens: 400, score: 0.7 },
      ]),
      undefined,
    );
    // Four configuration means — a step between the 2nd and 3rd budget: no 3-parameter curve may chase it.
    const fit = fitScalingCurve([
      { tokens: 500, score: 0.4 },
      { tokens: 1000, score: 0.41 },
      { tokens: 2000, score: 0.6 },
      { tokens: 4000, score: 0.61 },
    ]);
    assert.ok(fit);
    assert.equal(fit.model, 'loglinear');
    close(fit.parameters['beta']! * Math.log(2), (0.61 - 0.4) / 3 + 0.0, 0.03, 'accuracy per doubling');
    // Bounded: even forced, the saturating fit keeps its rate within [0.05, 4].
    const forced = fitCurve(
      [
        { tokens: 500, score: 0.4 },
        { tokens: 1000, score: 0.4 },
        { tokens: 2000, score: 0.6 },
        { tokens: 4000, score: 0.6 },
      ],
      'saturating',
    );
    assert.ok(forced && forced.parameters['c']! <= 4 && forced.parameters['c']! >= 0.05);
  });
});

describe('variance decomposition', () => {
  // A balanced factorial design: factors are exactly orthogonal, so each group's share is its planted variance.
  function plantedData(): { y: number[]; groups: FeatureGroup[]; absorb: string[]; planted: Record<string, number>; noise: number } {
    const tokenLevels = [500, 1000, 2000, 4000, 8000];
    const tools = [0, 1, 3];
    const architectures = ['single', 'vote', 'refine', 'debate'];
    const models = ['small', 'large'];
    const archEffect: Record<string, number> = { single: -1, vote: 1, refine: -1, debate: 1 };
    const modelEffect: Record<string, number> = { small: -1, large: 1 };
    const logT = tokenLevels.map((t) => Math.log(t));
    const meanLogT = logT.reduce((a, b) => a + b) / logT.length;
    const sdLogT = Math.sqrt(logT.reduce((a, b) => a + (b - meanLogT) ** 2, 0) / logT.length);
    const logTools = tools.map((t) => Math.log1p(t));
    const meanTools = logTools.reduce((a, b) => a + b) / logTools.length;
    const sdTools = Math.sqrt(logTools.reduce((a, b) => a + (b - meanTools) ** 2, 0) / logTools.length);
    // Variances of the planted effects (each standardised effect has variance 1, scaled by √share).
    const planted = { tokens: 0.8, tools: 0.05, architecture: 0.1, model: 0.05 };
    const rows: Array<{ t: number; tool: number; arch: string; model: string; suite: string }> = [];
    for (const suite of ['a', 'b'])
      for (const t of tokenLevels)
        for (const tool of tools) for (const arch of architectures) for (const model of models) rows.push({ t, tool, arch, model, suite });
    const rng = createRng(17);
    const noise = 0.1;
    const y = rows.map((row) => {
      const tokensEffect = ((Math.log(row.t) - meanLogT) / sdLogT) * Math.sqrt(planted.tokens);
      const toolsEffect = ((Math.log1p(row.tool) - meanTools) / sdTools) * Math.sqrt(planted.tools);
      return (
        (row.suite === 'b' ? 5 : 0) +
        tokensEffect +
        toolsEffect +
        archEffect[row.arch]! * Math.sqrt(planted.architecture) +
        modelEffect[row.model]! * Math.sqrt(planted.model) +
        Math.sqrt(noise) * rng.normal()
      );
    });
    const logTokens = rows.map((row) => Math.log(row.t));
    const groups: FeatureGroup[] = [
      { name: 'tokens', kind: 'numeric', columns: [logTokens, logTokens.map((x) => x * x)] },
      { name: 'tools', kind: 'numeric', columns: [rows.map((row) => Math.log1p(row.tool))] },
      { name: 'architecture', kind: 'categorical', values: rows.map((row) => row.arch) },
      { name: 'model', kind: 'categorical', values: rows.map((row) => row.model) },
    ];
    return { y, groups, absorb: rows.map((row) => row.suite), planted, noise };
  }

  it('recovers planted shares (80% tokens) and Shapley values sum to the total R²', () => {
    const { y, groups, absorb, planted, noise } = plantedData();
    const result = decomposeVariance(y, groups, { absorb });
    const sum = result.groups.reduce((total, group) => total + group.shapley, 0);
    close(sum, result.total, 1e-12, 'Σ shapley');
    close(result.total, 1 / (1 + noise), 0.03, 'total R²');
    for (const group of result.groups) close(group.shareOfExplained, planted[group.name]!, 0.03, group.name);
    // The suite offset is absorbed, not attributed to any factor.
    assert.ok(result.absorbed > 0.8);
  });

  it('splits the variance two collinear groups share evenly, while nested shares give it all to the first', () => {
    const n = 200;
    const rng = createRng(3);
    const x = Array.from({ length: n }, () => rng.normal());
    const y = x.map((value) => value + 0.1 * rng.normal());
    const result = decomposeVariance(y, [
      { name: 'first', kind: 'numeric', columns: [x] },
      { name: 'copy', kind: 'numeric', columns: [x.map((value) => value * 2)] },
    ]);
    close(result.groups[0]!.shapley, result.groups[1]!.shapley, 1e-9);
    close(result.groups[0]!.nested, result.total, 1e-9);
    close(result.groups[1]!.nested, 0, 1e-9);
  });
});

describe('frontier', () => {
  const points = [
    { tokens: 100, accuracy: 0.3, label: 'a' },
    { tokens: 200, accuracy: 0.25, label: 'dominated' },
    { tokens: 400, accuracy: 0.5, label: 'b' },
    { tokens: 800, accuracy: 0.52, label: 'c-below-hull' },
    { tokens: 1600, accuracy: 0.7, label: 'd' },
    { tokens: 3200, accuracy: 0.7, label: 'no-gain' },
  ];
  it('keeps non-dominated points and the concave upper hull in log-tokens', () => {
    assert.deepEqual(
      paretoFrontier(points).map((point) => point.label),
      ['a', 'b', 'c-below-hull', 'd'],
    );
    assert.deepEqual(
      upperHull(points).map((point) => point.label),
      ['a', 'b', 'd'],
    );
  });
});

describe('summaries', () => {
  const cell = (overrides: Partial<CellResult>): CellResult => ({
    suite: 's',
    taskId: 't',
    architecture: 'single',
    base: 'single',
    family: 'single-agent',
    budget: 1000,
    budgetUnit: 'tokens',
    model: 'm',
    seed: 1,
    score: 0,
    answer: null,
    status: 'ok',
    difficulty: 0,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 },
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

  it('pairs solo and debate by item', () => {
    const cells = [
      cell({ taskId: '1', architecture: 'solo', score: 1 }),
      cell({ taskId: '1', architecture: 'debate', score: 0 }),
      cell({ taskId: '2', architecture: 'solo', score: 1 }),
      cell({ taskId: '2', architecture: 'debate', score: 1 }),
      cell({ taskId: '3', architecture: 'solo', score: 0 }),
    ];
    const [row] = pairedComparison(cells, 'solo', 'debate');
    assert.equal(row!.n, 2);
    close(row!.difference, 0.5, 1e-12);
    close(row!.a, 1, 1e-12);
  });

  it('measures coordination degradation per doubling of network size', () => {
    const cells = [4, 8, 16, 32].flatMap((size) =>
      [0, 1, 2].map((i) =>
        cell({ taskId: `${size}-${i}`, architecture: 'agentsnet', score: 0.9 - 0.2 * Math.log2(size / 4), meta: { networkSize: size } }),
      ),
    );
    const { rows, slopes } = coordinationBySize(cells);
    assert.equal(rows.length, 4);
    close(rows[0]!.score, 0.9, 1e-12);
    close(slopes[0]!.perDoubling, -0.2, 1e-9);
  });
});
