/**
 * The surprising-edge share on a graph with known similarities, embedder checks, and the assembled metrics of
 * computeCriticality / criticalitySeries (values that must agree with the parts, edge cases without NaN).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/index.ts';
import { computeCriticality, criticalitySeries, evenSnapshotSteps } from './metrics.ts';
import type { CriticalityGraph } from './graph.ts';
import { DEFAULT_TAU, defaultEmbedder, embedTexts } from './semantic.ts';
import { assertClose } from './testing/graphs.ts';
import { angle, tableEmbedder } from './testing/embedder.ts';

/**
 * Six nodes on the unit circle at 0°, 10°, 20°, 90°, 100°, 180°; edges with cosines cos 10° (0.985),
 * cos 10°, cos 70° (0.342), cos 80° (0.174), cos 90° (0), cos 170° (−0.985), cos 80°, cos 160° (−0.940).
 */
const circle: CriticalityGraph = {
  nodes: [0, 10, 20, 90, 100, 180].map((degrees, index) => ({ id: `n${degrees}`, text: `t${degrees}`, step: index })),
  edges: [
    ['n0', 'n10'],
    ['n10', 'n20'],
    ['n20', 'n90'],
    ['n10', 'n90'],
    ['n0', 'n90'],
    ['n10', 'n180'],
    ['n100', 'n20'],
    ['n180', 'n20'],
  ].map(([from, to], index) => ({ from: from!, to: to!, step: 10 + index })),
};
const circleEmbedder = () => tableEmbedder(Object.fromEntries([0, 10, 20, 90, 100, 180].map((degrees) => [`t${degrees}`, angle(degrees)])));

describe('surprising-edge share α', () => {
  it('counts edges whose endpoint cosine is below the fixed τ', async () => {
    const expectations: Array<[number, number]> = [
      [0.9, 6], // all but the two cos 10° edges
      [0.3, 5], // cos 70° = 0.342 is no longer surprising
      [0.1, 3], // cos 80° = 0.174 neither: left are 0, −0.985, −0.940
      [-0.95, 1],
      [-1, 0],
    ];
    for (const [tau, count] of expectations) {
      const metrics = await computeCriticality(circle, { embedder: circleEmbedder(), tau });
      assert.equal(metrics.surprisingEdges, count, `τ = ${tau}`);
      assertClose(metrics.surprisingShare, count / 8, 1e-15);
      assert.equal(metrics.tau, tau);
    }
  });

  it('τ is absolute: adding ordinary edges lowers α instead of keeping it fixed', async () => {
    const base = await computeCriticality(circle, { embedder: circleEmbedder(), tau: 0.5 });
    const more: CriticalityGraph = {
      nodes: circle.nodes,
      edges: [...circle.edges, { from: 'n0', to: 'n20', step: 30 }, { from: 'n90', to: 'n100', step: 31 }],
    };
    const after = await computeCriticality(more, { embedder: circleEmbedder(), tau: 0.5 });
    assert.equal(after.surprisingEdges, base.surprisingEdges);
    assertClose(after.surprisingShare, base.surprisingEdges / 10, 1e-15);
  });

  it('mean edge similarity is the mean endpoint cosine', async () => {
    const cos = (degrees: number) => Math.cos((degrees * Math.PI) / 180);
    const expected = (2 * cos(10) + cos(70) + 2 * cos(80) + cos(90) + cos(170) + cos(160)) / 8;
    assertClose((await computeCriticality(circle, { embedder: circleEmbedder() })).meanEdgeSimilarity, expected, 1e-6);
  });
});

describe('computeCriticality', () => {
  it('agrees with the closed forms on a complete graph of identical texts (S_struct = ln(n−1), S_sem = 0: one meaning, D = 1)', async () => {
    const n = 6;
    const graph: CriticalityGraph = { nodes: Array.from({ length: n }, (_, i) => ({ id: `v${i}`, text: 'same', step: 0 })), edges: [] };
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) graph.edges.push({ from: `v${i}`, to: `v${j}`, step: 0 });
    const metrics = await computeCriticality(graph, { embedder: tableEmbedder({ same: [3, 4] }) });
    assertClose(metrics.structuralEntropy, Math.log(n - 1), 1e-12);
    assertClose(metrics.semanticEntropy, 0, 1e-6);
    assert.equal(metrics.semanticThreshold, 0);
    assertClose(metrics.discovery, 1, 1e-6);
    assert.equal(metrics.surprisingShare, 0);
    assert.equal(metrics.edges, 15);
    assert.equal(metrics.meanDegree, 5);
    assert.equal(metrics.density, 1);
    assert.equal(metrics.clustering.average, 1);
    assert.deepEqual(metrics.degreeDistribution, [{ degree: 5, count: 6 }]);
    assert.deepEqual(metrics.methods, { structuralEntropy: 'dense', semanticEntropy: 'dense', betweenness: 'exact' });
  });

  it('empty graph and single node: every number defined (no NaN)', async () => {
    for (const graph of [
      { nodes: [], edges: [] },
      { nodes: [{ id: 'only', text: '', step: 0 }], edges: [] },
    ] as CriticalityGraph[]) {
      const metrics = await computeCriticality(graph);
      const numbers = JSON.stringify(metrics).match(/-?\d[\d.e+-]*|null|NaN|Infinity/g) ?? [];
      assert.ok(!numbers.some((token) => token === 'NaN' || token === 'Infinity'), JSON.stringify(metrics));
      for (const key of [
        'structuralEntropy',
        'semanticEntropy',
        'discovery',
        'surprisingShare',
        'meanDegree',
        'density',
        'modularity',
      ] as const)
        assert.equal(metrics[key], 0, key);
      assert.equal(metrics.nodes, graph.nodes.length);
      assert.equal(metrics.embedder, 'hash-v1-384');
      assert.equal(metrics.tau, DEFAULT_TAU);
    }
  });

  it('hubs by degree and bridges by betweenness', async () => {
    // Two triangles joined through a middle node m: m bridges them.
    const ids = ['a1', 'a2', 'a3', 'm', 'b1', 'b2', 'b3'];
    const pairs = [
      ['a1', 'a2'],
      ['a2', 'a3'],
      ['a1', 'a3'],
      ['a3', 'm'],
      ['m', 'b1'],
      ['b1', 'b2'],
      ['b2', 'b3'],
      ['b1', 'b3'],
    ];
    const graph: CriticalityGraph = {
      nodes: ids.map((id) => ({ id, text: id, step: 0 })),
      edges: pairs.map(([from, to]) => ({ from: from!, to: to!, step: 0 })),
    };
    const metrics = await computeCriticality(graph, { top: 3 });
    assert.deepEqual(
      metrics.hubs.map((hub) => hub.id),
      ['a3', 'b1', 'a1'],
    );
    assert.deepEqual(
      metrics.bridges.map((bridge) => bridge.id),
      ['m', 'a3', 'b1'],
    );
    // m lies on the shortest paths of the pairs {a1,a2,a3}×{b1,b2,b3}: 9 of the 15 pairs not involving m.
    assertClose(metrics.bridges[0]!.betweenness, 9 / 15, 1e-12);
    assert.equal(metrics.communities, 2);
  });
});

describe('criticalitySeries', () => {
  it('one entry per requested step, in order; embeds each node once', async () => {
    const embedder = circleEmbedder();
    const series = await criticalitySeries(circle, [17, 5, 12, 17], { embedder, tau: 0.5 });
    assert.deepEqual(
      series.map((m) => m.step),
      [5, 12, 17],
    );
    assert.deepEqual(
      series.map((m) => m.edges),
      [0, 3, 8],
    );
    assert.equal(embedder.calls.length, 1);
    assert.equal(embedder.calls[0]!.length, 6);
  });
  it('evenSnapshotSteps spreads counts over the step range and ends at the last step', () => {
    assert.deepEqual(evenSnapshotSteps(circle, 1), [17]);
    assert.deepEqual(
      evenSnapshotSteps(circle, 17),
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
    assert.deepEqual(evenSnapshotSteps(circle, 2), [9, 17]);
    assert.deepEqual(evenSnapshotSteps({ nodes: [], edges: [] }, 3), []);
  });
  it('merges near-duplicates before measuring when asked', async () => {
    const table = tableEmbedder({ x: [1, 0], 'x again': [0.99, 0.141], y: [0, 1] });
    const graph: CriticalityGraph = {
      nodes: [
        { id: 'x', text: 'x', step: 0 },
        { id: 'x2', text: 'x again', step: 1 },
        { id: 'y', text: 'y', step: 2 },
      ],
      edges: [
        { from: 'x', to: 'y', step: 3 },
        { from: 'x2', to: 'y', step: 4 },
      ],
    };
    const [merged] = await criticalitySeries(graph, [null], { embedder: table, mergeThreshold: 0.85 });
    assert.equal(merged!.nodes, 2);
    assert.equal(merged!.edges, 1);
    assert.equal(merged!.merged, 1);
  });
});

describe('embedTexts', () => {
  it('L2-normalises and rejects unusable vectors with their index', async () => {
    const [unit] = await embedTexts(tableEmbedder({ a: [3, 4] }), ['a']);
    assertClose(unit![0]!, 0.6, 1e-7);
    await assert.rejects(
      embedTexts(tableEmbedder({ a: [Number.NaN, 1] }), ['a']),
      (error: unknown) => error instanceof InvalidInputError && error.issues[0]!.path === '[0]',
    );
    await assert.rejects(embedTexts(tableEmbedder({ a: [1, 0, 0] }), ['a']), /dimension 3, expected 2/);
  });
  it('the default embedder separates related from unrelated texts around τ', async () => {
    const [a, b, c] = await embedTexts(defaultEmbedder(), [
      'spider silk protein fibre toughness',
      'toughness of spider silk fibres',
      'the capital of France is Paris',
    ]);
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((sum, value, i) => sum + value * y[i]!, 0);
    assert.ok(dot(a!, b!) > DEFAULT_TAU, `related ${dot(a!, b!)}`);
    assert.ok(dot(a!, c!) < DEFAULT_TAU, `unrelated ${dot(a!, c!)}`);
  });
});
