/**
 * The thread operator on a provider with the `kvThread` capability (the embedded engine's KV-pruned thread),
 * here a fake one: the operator finds it through the fleet (no provider class is named), reserves the
 * provider's worst case or — in a smaller slice — that mix scaled down to what is left, priced at the model
 * profile's prices, hands the reservation to the thread as hard caps, settles what was metered, and when the
 * caps stop the thread part-way answers from its last conclusion (budget-exhausted), never spending more.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetExhaustedError, VirtualClock, costOf, type Usage } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import {
  Fleet,
  MODEL_SPEC_VERSION,
  type KvThreadCapability,
  type KvThreadRequest,
  type ModelProvider,
  type ModelResolver,
} from '../models/index.ts';
import { Trace, type OpContext } from '../ops/index.ts';
import { computeOperators } from './op-adapters.ts';
import type { NodeInputs } from './operator-types.ts';

const PRICES = { inputPerMillion: 2, outputPerMillion: 8 };
const WORST = { inputTokens: 40_000, outputTokens: 10_000 };

/** A fake engine: concludes `conclusions` tasks of 100 input + 200 output tokens each, stopping when a cap would be crossed. */
function fakeKv(conclusions: string[], answer = '391'): { kv: KvThreadCapability; requests: KvThreadRequest[] } {
  const requests: KvThreadRequest[] = [];
  const kv: KvThreadCapability = {
    contextSize: async () => 4096,
    worstCase: async () => WORST,
    run: async (request) => {
      requests.push(request);
      const usage: Usage = { inputTokens: 0, outputTokens: 0 };
      try {
        for (const conclusion of conclusions) {
          if (usage.inputTokens + 100 > request.limits.inputTokens || usage.outputTokens + 200 > request.limits.outputTokens)
            throw new BudgetExhaustedError({
              budget: 'kv',
              dimension: 'outputTokens',
              limit: request.limits.outputTokens,
              committed: 0,
              requested: 200,
            });
          usage.inputTokens += 100;
          usage.outputTokens += 200;
          request.onConclusion?.(conclusion, 1);
        }
        return { answer, text: `{"answer":"${answer}"}`, usage: { ...usage }, details: { engine: 'fake' } };
      } finally {
        request.onUsage?.({ ...usage });
      }
    },
  };
  return { kv, requests };
}

function setUp(kv: KvThreadCapability, limits: BudgetLimits, clock = new VirtualClock()) {
  const provider: ModelProvider = {
    specificationVersion: MODEL_SPEC_VERSION,
    providerId: 'fake-engine',
    modelId: 'fake',
    doGenerate: async () => {
      throw new Error('the kv thread must not go through doGenerate');
    },
    kvThread: kv,
  };
  const resolver: ModelResolver = {
    resolve: (reference) => ({
      provider,
      profile: {
        reference,
        tier: 'small',
        priceInputPerMillion: PRICES.inputPerMillion,
        priceOutputPerMillion: PRICES.outputPerMillion,
        contextWindow: 4096,
        reasoning: false,
        maxConcurrency: 1,
        timeoutMs: 60_000,
        simulated: false,
      },
      promptMargin: () => 0,
    }),
  };
  const fleet = new Fleet({ resolver, clock, seed: 7 });
  const ledger = new Ledger({ clock, limits });
  const context: OpContext = { fleet, budget: ledger.root, trace: new Trace(clock), stepId: 'thread', model: 'engine:fake' };
  const inputs: NodeInputs = { nodeId: 'thread', query: 'What is 17*23?', list: [], byName: {} };
  const threadOp = computeOperators().thread!;
  return { ledger, run: () => threadOp(context, { maxSteps: 8 }, inputs) };
}

describe('thread operator on a provider with a kvThread capability', () => {
  it('reserves the worst case when it fits, runs with it as caps, and prices the usage at the profile prices', async () => {
    const { kv, requests } = fakeKv(['first', 'second']);
    const { ledger, run } = setUp(kv, {});
    const result = await run();
    assert.equal(result.answer, '391');
    assert.equal(result.budgetExhausted, false);
    assert.equal(result.calls, 1);
    assert.deepEqual(requests[0]!.limits, WORST);
    const spent = ledger.root.spent();
    assert.deepEqual([spent.inputTokens, spent.outputTokens, spent.calls], [200, 400, 1]);
    assert.ok(Math.abs(spent.usd - costOf({ inputTokens: 200, outputTokens: 400 }, PRICES)) < 1e-12);
    assert.ok(spent.usd > 0, 'not priced at zero');
  });

  it('in a smaller slice runs with what is left (same mix) instead of skipping, and answers from the last conclusion when stopped', async () => {
    const { kv, requests } = fakeKv(['first: 17*20 = 340', 'second: so 17*23 = 391', 'third', 'fourth']);
    // 2 500 tokens: a twentieth of the worst case → caps of 2 000 input / 500 output: two tasks fit, the third is stopped.
    const { ledger, run } = setUp(kv, { totalTokens: 2_500 });
    const result = await run();
    assert.deepEqual(requests[0]!.limits, { inputTokens: 2_000, outputTokens: 500 });
    assert.equal(result.budgetExhausted, true);
    assert.equal(result.calls, 1);
    assert.equal(result.answer, '391');
    assert.ok(
      result.degraded.some((note) => /stopped part-way.*last conclusion/.test(note)),
      result.degraded.join('; '),
    );
    const spent = ledger.root.spent();
    assert.deepEqual([spent.inputTokens, spent.outputTokens], [200, 400]);
    assert.ok(spent.totalTokens <= 2_500);
    assert.equal(ledger.root.reserved().totalTokens, 0);
    assert.equal(ledger.report().overrun.totalTokens, 0);
  });

  it('scales the caps to a dollar budget at the profile prices', async () => {
    const { kv, requests } = fakeKv(['only']);
    const worstUsd = costOf(WORST, PRICES);
    const { ledger, run } = setUp(kv, { usd: worstUsd / 10 });
    await run();
    const limits = requests[0]!.limits;
    assert.ok(costOf(limits, PRICES) <= worstUsd / 10 + 1e-12);
    assert.ok(limits.inputTokens >= 3_999 && limits.outputTokens >= 999, JSON.stringify(limits));
    assert.ok(ledger.root.spent().usd <= worstUsd / 10 + 1e-12);
  });

  it('skips without running when the slice cannot hold even one task', async () => {
    const { kv, requests } = fakeKv(['x']);
    const { ledger, run } = setUp(kv, { totalTokens: 200 });
    const result = await run();
    assert.equal(requests.length, 0);
    assert.equal(result.calls, 0);
    assert.equal(result.budgetExhausted, true);
    assert.equal(ledger.root.spent().totalTokens, 0);
  });

  it('stopped part-way by its time budget: the deadline aborts the engine mid-thread (virtual clock, no wall time)', async () => {
    // The engine concludes one task, then works on (a virtual second) and is aborted by the run's 0.5 s deadline.
    const clock = new VirtualClock();
    const requests: KvThreadRequest[] = [];
    const kv: KvThreadCapability = {
      contextSize: async () => 4096,
      worstCase: async () => WORST,
      run: async (request) => {
        requests.push(request);
        const usage: Usage = { inputTokens: 100, outputTokens: 200 };
        try {
          request.onConclusion?.('first: so 17*23 = 391', 1);
          await clock.sleep(1_000, request.abortSignal);
          usage.inputTokens += 100;
          usage.outputTokens += 200;
          return { answer: 'never', text: '', usage: { ...usage }, details: {} };
        } finally {
          request.onUsage?.({ ...usage });
        }
      },
    };
    const { ledger, run } = setUp(kv, { seconds: 0.5 }, clock);
    const result = await run();
    assert.equal(requests.length, 1);
    assert.equal(result.budgetExhausted, true);
    assert.equal(result.calls, 1);
    assert.equal(result.answer, '391');
    assert.ok(
      result.degraded.some((note) => /stopped part-way: its time budget ran out/.test(note)),
      result.degraded.join('; '),
    );
    assert.equal(clock.now(), 500, 'aborted at the deadline, not when the engine would have finished');
    assert.deepEqual([ledger.root.spent().inputTokens, ledger.root.spent().outputTokens], [100, 200]);
    assert.equal(ledger.root.reserved().totalTokens, 0);
  });
});
