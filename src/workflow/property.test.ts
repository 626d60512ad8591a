import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ledger } from '../budget/index.ts';
import { WorkflowOverBudgetError, defaultOperators, runWorkflow, type BudgetPolicy } from './index.ts';
import { simFleet } from './testing.ts';

const QUERY = 'What is 48*12?';
/** Outcome counts across runs, to check the property is not vacuous. */
const STATS: Record<string, number> = {};

/** A node of a random DAG: an op, a few inputs from earlier nodes, an output cap, a model. */
const nodeArbitrary = fc.record({
  op: fc.constantFrom('generate', 'sample', 'aggregate', 'generate', 'sample', 'refine', 'thread', 'debate', 'solo', 'cascade'),
  inputs: fc.array(fc.record({ from: fc.nat(), answer: fc.boolean() }), { maxLength: 3 }),
  maxOutputTokens: fc.constantFrom(16, 64, 200, 512),
  samples: fc.integer({ min: 1, max: 6 }),
  aggregator: fc.constantFrom('majority', 'confidence-weighted'),
  adaptive: fc.boolean(),
  model: fc.constantFrom('sim-fast', 'sim:small', 'sim:medium'),
  // Mostly absent (the default share); sometimes an explicit share, small ones included.
  share: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0.05, max: 1, noNaN: true }) }),
});

const limitsArbitrary = fc.record(
  {
    // Unbiased: fast-check otherwise favours 0 and tiny limits, which starve every run.
    totalTokens: fc.noBias(fc.integer({ min: 0, max: 20_000 })),
    inputTokens: fc.noBias(fc.integer({ min: 0, max: 8_000 })),
    outputTokens: fc.noBias(fc.integer({ min: 0, max: 12_000 })),
    // Micro-dollars: doubles would be spread over magnitudes (mostly ~0).
    usd: fc.noBias(fc.integer({ min: 0, max: 5000 })).map((micro) => micro / 1e6),
    calls: fc.noBias(fc.integer({ min: 0, max: 40 })),
  },
  { requiredKeys: [] },
);

type NodeShape = typeof nodeArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** Random DAG: inputs only from earlier nodes; the last node (the output) also takes every otherwise unused node, so nothing is pruned. */
function specOf(nodes: NodeShape[]): Record<string, unknown> {
  const used = new Set<number>();
  return {
    version: 1,
    nodes: nodes.map((node, index) => {
      const inputs: Record<string, string> = {};
      if (index > 0) {
        for (const input of node.inputs) {
          inputs[`in${input.from % index}`] = `n${input.from % index}${input.answer ? '.answer' : ''}`;
          used.add(input.from % index);
        }
      }
      if (index === nodes.length - 1) for (let from = 0; from < index; from++) if (!used.has(from)) inputs[`in${from}`] = `n${from}.answer`;
      const op = node.op === 'aggregate' && Object.keys(inputs).length === 0 ? 'generate' : node.op;
      const base = { id: `n${index}`, op, inputs, ...(node.share !== null && op !== 'aggregate' ? { budgetShare: node.share } : {}) };
      if (op === 'aggregate') return { ...base, params: { method: 'majority' } };
      const model = { model: node.model };
      if (op === 'generate') return { ...base, ...model, params: { prompt: 'Solve: {{query}}', maxOutputTokens: node.maxOutputTokens } };
      const cap = { maxOutputTokens: node.maxOutputTokens };
      if (op === 'refine') return { ...base, ...model, params: { rounds: 1 + (node.samples % 3), ...cap } };
      if (op === 'thread')
        return { ...base, ...model, params: { maxSteps: 2 + node.samples, maxDepth: 2, buffer: 2, tools: ['calculator'], ...cap } };
      if (op === 'debate')
        return {
          ...base,
          ...model,
          params: {
            agents: 2 + (node.samples % 3),
            rounds: 1 + (node.samples % 2),
            topology: node.adaptive ? 'ring' : 'all-to-all',
            ...cap,
          },
        };
      if (op === 'solo') return { ...base, ...model, params: { ...cap } };
      if (op === 'cascade')
        return {
          ...base,
          params: {
            stages: [
              { model: node.model, samples: node.samples, threshold: 0.6, signal: 'agreement' },
              { model: 'sim:medium', threshold: 0, signal: 'confidence' },
            ],
            ...cap,
          },
        };
      return {
        ...base,
        ...model,
        params: { samples: node.samples, aggregator: node.aggregator, adaptive: node.adaptive, maxOutputTokens: node.maxOutputTokens },
      };
    }),
    output: `n${nodes.length - 1}`,
  };
}

describe('workflow executor property', () => {
  it('random DAGs of every model-calling operator under random budgets never exceed the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(nodeArbitrary, { minLength: 1, maxLength: 8 }),
        fc.option(limitsArbitrary, { freq: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<BudgetPolicy>('degrade', 'degrade', 'scale'),
        fc.integer({ min: 0, max: 1000 }),
        async (nodes, limits, concurrency, budgetPolicy, seed) => {
          const { fleet } = simFleet(seed);
          const ledger = new Ledger({ clock: fleet.clock, limits: limits ?? {} });
          let result;
          try {
            result = await runWorkflow({
              spec: specOf(nodes),
              query: QUERY,
              fleet,
              budget: ledger.root,
              operators: defaultOperators(),
              concurrency,
              budgetPolicy,
            });
          } catch (error) {
            // The only acceptable refusal: `scale` could not fit even the minimum — before spending anything.
            assert.ok(error instanceof WorkflowOverBudgetError && budgetPolicy === 'scale', String(error));
            assert.equal(ledger.root.spent().calls, 0);
            return;
          }
          const report = ledger.report();
          for (const [dimension, limit] of Object.entries(limits ?? {})) {
            const spent = report.total[dimension as keyof typeof report.total];
            assert.ok(spent <= limit + (dimension === 'usd' ? 1e-12 : 0), `${dimension}: spent ${spent} > limit ${limit}`);
          }
          assert.deepEqual(report.overrun, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
          assert.equal(result.usage.totalTokens, report.total.totalTokens);
          assert.equal(result.usage.calls, report.total.calls);
          assert.ok(['ok', 'budget_exhausted', 'error'].includes(result.status));
          if (result.status === 'ok') assert.notEqual(result.answer, undefined);
          STATS[result.status] = (STATS[result.status] ?? 0) + 1;
          STATS['calls'] = (STATS['calls'] ?? 0) + report.total.calls;
          // The static worst case bounds actual spend for the ops whose call plans are exact (plan.ts); the
          // newer ops' prompts (thread/debate/solo instructions) are only bounded by the ledger.
          const exactPlans = nodes.every((node) => ['generate', 'sample', 'aggregate'].includes(node.op));
          if (limits === null && exactPlans)
            for (const dimension of ['inputTokens', 'outputTokens', 'calls'] as const)
              assert.ok(report.total[dimension] <= result.estimate.total.worst[dimension]);
        },
      ),
      { numRuns: 300, seed: 20260214 },
    );
    // Not vacuous: the runs made real calls, and both full and budget-cut runs occurred.
    assert.ok(STATS['calls']! > 1000 && STATS['ok']! > 50 && STATS['budget_exhausted']! > 20, JSON.stringify(STATS));
  });
});
