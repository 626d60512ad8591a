import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetExhaustedError, VirtualClock, countMessageTokens, countTokens, type UsageTotals } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Fleet, FleetResolver, parseFleetConfig } from '../models/index.ts';
import { clip } from './template.ts';
import {
  DEFAULT_SYSTEM_PROMPT,
  WorkflowOverBudgetError,
  defaultOperators,
  estimateWorkflow,
  fitWorkflow,
  runWorkflow,
  validateWorkflow,
  worstCall,
} from './index.ts';
import { fakeRegistry, simFleet } from './testing.ts';

const QUERY = 'What is 17*23?';
const DIMS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;

function assertWithin(actual: UsageTotals, bound: UsageTotals, what: string): void {
  for (const dimension of DIMS)
    assert.ok(actual[dimension] <= bound[dimension] + 1e-12, `${what}: ${dimension} ${actual[dimension]} > worst case ${bound[dimension]}`);
}

const WIDE = {
  version: 1,
  defaults: { model: 'sim:small' },
  nodes: [
    { id: 'a', op: 'generate', params: { prompt: '{{query}}', maxOutputTokens: 300 } },
    { id: 'b', op: 'sample', params: { samples: 16, aggregator: 'majority' } },
    {
      id: 'c',
      op: 'generate',
      inputs: { a: 'a', b: 'b.answer' },
      params: { prompt: 'Drafts: {{a}} and {{b}}. {{query}}', maxOutputTokens: 200 },
      model: 'sim:medium',
    },
    { id: 'd', op: 'aggregate', inputs: { a: 'a.answer', b: 'b.answer', c: 'c.answer' }, params: { method: 'majority' } },
  ],
  output: 'd',
};

describe('workflow cost estimate', () => {
  it('prices a call exactly as Fleet.worstCase does (including a real model’s prompt margin)', () => {
    const clock = new VirtualClock();
    const config = parseFleetConfig({
      version: 1,
      models: {
        local: {
          provider: 'openai-compatible',
          baseURL: 'http://localhost:1/v1',
          model: 'x',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 3,
          contextWindow: 4096,
        },
      },
    });
    const fleet = new Fleet({ resolver: new FleetResolver({ config, clock, seed: 1 }), clock });
    const messages = [
      { role: 'system' as const, content: DEFAULT_SYSTEM_PROMPT },
      { role: 'user' as const, content: QUERY },
    ];
    for (const model of ['sim:small', 'sim:large', 'local']) {
      for (const max of [16, 512, 5000]) {
        const mine = worstCall(fleet, model, countMessageTokens(messages), max);
        const theirs = fleet.worstCase(model, messages, max);
        assert.deepEqual({ ...mine, totalTokens: mine.inputTokens + mine.outputTokens }, theirs);
      }
    }
  });

  it('clips upstream text to its token bound (so prompts stay within the estimate)', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
    for (const bound of [0, 1, 7, 64, 1000]) assert.ok(countTokens(clip(text, bound)) <= bound);
    assert.equal(clip(text, 1000), text);
    assert.equal(clip('short', 15), 'short');
  });

  it('worst case ≥ actual spend, per node and in total (sim, including tiny output caps and chained inputs)', async () => {
    const tiny = {
      version: 1,
      defaults: { model: 'sim:small', maxOutputTokens: 16 },
      nodes: [
        { id: 'a', op: 'generate', params: { prompt: '{{query}}' } },
        { id: 'b', op: 'generate', inputs: { a: 'a' }, params: { prompt: 'Improve: {{a}}' } },
        { id: 'c', op: 'sample', inputs: { b: 'b', a: 'a.answer' }, params: { samples: 4, aggregator: 'confidence-weighted' } },
      ],
      output: 'c',
    };
    for (const spec of [WIDE, tiny]) {
      for (const seed of [1, 2, 3]) {
        const { fleet } = simFleet(seed);
        const ledger = new Ledger({ clock: fleet.clock });
        const result = await runWorkflow({ spec, query: QUERY, fleet, budget: ledger.root, operators: defaultOperators() });
        for (const [id, record] of Object.entries(result.nodes)) assertWithin(record.usage, result.estimate.nodes[id]!.worst, `node ${id}`);
        assertWithin(result.usage, result.estimate.total.worst, 'total');
        assert.equal(ledger.root.spent().totalTokens, result.usage.totalTokens);
        // Expected is a planning figure between nothing and the worst case.
        assert.ok(result.estimate.total.expected.totalTokens < result.estimate.total.worst.totalTokens);
      }
    }
  });

  it('counts the calls each operator plans, with growing prompts where the op shows earlier outputs', () => {
    const { fleet } = simFleet();
    const spec = {
      version: 1,
      defaults: { model: 'sim:small', maxOutputTokens: 100 },
      nodes: [
        { id: 'debate', op: 'debate', params: { agents: 4, rounds: 3, topology: 'all-to-all' } },
        { id: 'ring', op: 'debate', params: { agents: 4, rounds: 3, topology: 'ring' } },
        { id: 'refine', op: 'refine', params: { rounds: 3 } },
        {
          id: 'cascade',
          op: 'cascade',
          params: {
            stages: [
              { model: 'sim:small', samples: 3, threshold: 0.8, signal: 'agreement' },
              { model: 'sim:large', threshold: 0.5, signal: 'verifier' },
            ],
          },
        },
        { id: 'thread', op: 'thread', params: { maxSteps: 5 } },
        { id: 'search', op: 'search', params: { maxSteps: 4, k: 3 } },
        { id: 'adaptive', op: 'sample', params: { samples: 10, aggregator: 'majority', adaptive: true } },
        {
          id: 'out',
          op: 'aggregate',
          inputs: { a: 'debate', b: 'ring', c: 'refine', d: 'cascade', e: 'thread', f: 'search', g: 'adaptive' },
          params: { method: 'first' },
        },
      ],
      output: 'out',
    };
    const estimate = estimateWorkflow(validateWorkflow(spec, { requireModels: true }), fleet, { query: QUERY });
    const calls = Object.fromEntries(Object.entries(estimate.nodes).map(([id, node]) => [id, [node.worst.calls, node.expected.calls]]));
    assert.deepEqual(calls, {
      debate: [12, 12],
      ring: [12, 12],
      refine: [10, 7],
      cascade: [5, 4],
      thread: [5, 3],
      search: [4, 3],
      adaptive: [10, 6],
      out: [0, 0],
    });
    // all-to-all shows each agent 3 neighbours' answers per earlier round, a ring 2: more prompt tokens.
    assert.ok(estimate.nodes['debate']!.worst.inputTokens > estimate.nodes['ring']!.worst.inputTokens);
    // Output bound: 100 per call. The cascade's large stage (2 of its 5 calls) costs more than refine's 10 small calls.
    assert.equal(estimate.nodes['debate']!.worst.outputTokens, 1200);
    assert.ok(estimate.nodes['cascade']!.worst.usd > estimate.nodes['refine']!.worst.usd);
  });

  it('reject: names the budget dimensions the estimate exceeds', () => {
    const { fleet } = simFleet();
    const workflow = validateWorkflow(WIDE, { requireModels: true });
    assert.throws(
      () => fitWorkflow(workflow, fleet, { query: QUERY, budget: { totalTokens: 2000, calls: 100, usd: 0.0001 }, mode: 'reject' }),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowOverBudgetError);
        assert.ok(error instanceof BudgetExhaustedError);
        assert.equal(error.code, 'BUDGET_EXHAUSTED');
        assert.deepEqual(
          error.exceeded.map((line) => line.dimension),
          ['totalTokens', 'usd'],
        );
        assert.match(
          error.message,
          /expected cost exceeds the budget: totalTokens \d+ > 2000, usd \$[\d.]+ > \$0\.000100.*Most expensive nodes: b \(sample/,
        );
        return true;
      },
    );
  });

  it('scale: shrinks samples until the expected cost fits, reports it, and the run stays within budget', async () => {
    const { fleet } = simFleet(4);
    const workflow = validateWorkflow(WIDE, { requireModels: true });
    const before = estimateWorkflow(workflow, fleet, { query: QUERY });
    const limit = Math.round(before.total.expected.totalTokens * 0.5);
    const fit = fitWorkflow(workflow, fleet, { query: QUERY, budget: { totalTokens: limit }, mode: 'scale' });
    assert.equal(fit.scaled.length, 1);
    const change = fit.scaled[0]!;
    assert.equal(change.node, 'b');
    assert.equal(change.param, 'samples');
    assert.equal(change.from, 16);
    assert.ok(change.to < 16 && change.to >= 1);
    assert.ok(fit.estimate.total.expected.totalTokens <= limit);
    // One more sample would not have fitted: the bisection found the largest count.
    const bigger = validateWorkflow(
      {
        ...WIDE,
        nodes: WIDE.nodes.map((node) => (node.id === 'b' ? { ...node, params: { samples: change.to + 1, aggregator: 'majority' } } : node)),
      },
      { requireModels: true },
    );
    assert.ok(estimateWorkflow(bigger, fleet, { query: QUERY }).total.expected.totalTokens > limit);

    const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: limit } });
    const result = await runWorkflow({
      spec: WIDE,
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: defaultOperators(),
      budgetPolicy: 'scale',
      estimateBasis: 'expected',
    });
    assert.deepEqual(result.scaled, fit.scaled);
    assert.ok(result.degraded.includes(`b.samples 16 → ${change.to} (scaled to fit the budget)`));
    assert.equal((result.nodes['b']!.result!.details as { requested: number }).requested, change.to);
    assert.ok(ledger.root.spent().totalTokens <= limit);
  });

  it('scale with the worst-case basis leaves nothing for the budget to cut', async () => {
    const { fleet } = simFleet(2);
    const workflow = validateWorkflow(WIDE, { requireModels: true });
    const limit = Math.round(estimateWorkflow(workflow, fleet, { query: QUERY }).total.worst.totalTokens * 0.6);
    const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: limit } });
    const result = await runWorkflow({
      spec: WIDE,
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: defaultOperators(),
      budgetPolicy: 'scale',
      estimateBasis: 'worst',
    });
    assert.ok(result.estimate.total.worst.totalTokens <= limit);
    assert.equal(result.status, 'ok');
    assert.ok(Object.values(result.nodes).every((record) => record.status === 'ok' && record.result!.degraded.length === 0));
  });

  it('rejects before running when even the minimum cannot fit', async () => {
    const { fleet } = simFleet();
    const log = { called: false };
    const operators = fakeRegistry({ hook: () => void (log.called = true) });
    await assert.rejects(
      runWorkflow({
        spec: WIDE,
        query: QUERY,
        fleet,
        budget: new Ledger({ clock: fleet.clock, limits: { totalTokens: 100 } }).root,
        operators,
        budgetPolicy: 'scale',
      }),
      /even with every sample\/round\/agent\/step count at its minimum/,
    );
    assert.equal(log.called, false);
  });
});
