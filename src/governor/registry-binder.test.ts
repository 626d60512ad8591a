import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CapabilityRegistry, HashingEmbedder, type CardInput } from '../registry/index.ts';
import { DEFAULT_POLICY, TIERS, governedSolve, mixedArithmeticSuite, registryBinder, type QueryPolicy } from './index.ts';
import { governorHarness } from './testing.ts';

const LABELS = ['local', 'simulated', 'may-use-network', 'residency:eu', 'pii-ok'] as const;
const REFS = ['sim:small', 'sim:medium', 'sim:large'] as const;
const TIER_OF: Record<string, string> = { 'sim:small': 'small', 'sim:medium': 'medium', 'sim:large': 'large' };

function modelCard(id: string, ref: string, labels: readonly string[], perCallUsd: number, provider = 'sim'): CardInput {
  return {
    id,
    version: '1.0.0',
    name: id,
    description: `language model ${ref}: answers questions`,
    binding: { kind: 'model', ref },
    provider,
    labels: [...new Set([...labels, `tier:${TIER_OF[ref]}`])].sort(),
    cost: { perCallUsd },
  };
}

async function registryWith(cards: readonly CardInput[]): Promise<CapabilityRegistry> {
  const registry = await CapabilityRegistry.open({ embedder: new HashingEmbedder({ dimension: 64 }) });
  if (cards.length > 0) await registry.register(cards);
  return registry;
}

describe('registryBinder', () => {
  it('property: a forbidden, unrequired-label, wrong-provider or over-cost card is never bound, for any need and tier', async () => {
    const cardArb = fc.record({
      ref: fc.constantFrom(...REFS),
      labels: fc.subarray([...LABELS]),
      cost: fc.double({ min: 0, max: 0.01, noNaN: true }),
      provider: fc.constantFrom('sim', 'cloud'),
    });
    const policyArb = fc.record({
      forbid: fc.subarray([...LABELS], { maxLength: 2 }),
      require: fc.subarray([...LABELS], { maxLength: 1 }),
      maxCostPerCall: fc.option(fc.double({ min: 0, max: 0.01, noNaN: true }), { nil: undefined }),
      providers: fc.option(fc.constant(['sim']), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(cardArb, { minLength: 1, maxLength: 8 }), policyArb, async (specs, drawn) => {
        const cards = specs.map((spec, index) => modelCard(`model:c${index}`, spec.ref, spec.labels, spec.cost, spec.provider));
        const byId = new Map(cards.map((card) => [`${card.id}@${card.version}`, card]));
        const policy: QueryPolicy = {
          forbid: drawn.forbid,
          require: drawn.require,
          ...(drawn.maxCostPerCall !== undefined ? { maxCostPerCall: drawn.maxCostPerCall } : {}),
          ...(drawn.providers ? { providers: drawn.providers } : {}),
        };
        const registry = await registryWith(cards);
        try {
          const harness = governorHarness();
          const binder = await registryBinder({ registry, fleet: harness.fleet, start: 'sim:small', policy });
          assert.equal(binder.source, 'registry');
          for (const need of ['answer', 'plan', 'verify']) {
            for (const tier of [undefined, ...TIERS]) {
              const bound = binder.bind(need, tier ? { tier } : {});
              if (bound === undefined) continue;
              const card = byId.get(bound.card!);
              assert.ok(card, `bound a card that exists: ${bound.card}`);
              const labels = card.labels ?? [];
              for (const label of policy.forbid ?? []) assert.ok(!labels.includes(label), `forbidden ${label} on ${bound.card}`);
              for (const label of policy.require ?? []) assert.ok(labels.includes(label), `required ${label} missing on ${bound.card}`);
              if (policy.maxCostPerCall !== undefined)
                assert.ok(card.cost!.perCallUsd! <= policy.maxCostPerCall, `over-cost ${bound.card}`);
              if (policy.providers) assert.ok(policy.providers.includes(card.provider));
              assert.equal(bound.model, card.binding.kind === 'model' ? card.binding.ref : undefined);
              if (tier) assert.equal(TIER_OF[bound.model], tier);
            }
          }
          // Whatever qualifies is bound: if some card passes the policy for a tier, that tier is not left empty.
          for (const tier of TIERS) {
            const passing = cards.filter(
              (card) =>
                TIER_OF[(card.binding as { ref: string }).ref] === tier &&
                !(policy.forbid ?? []).some((label) => card.labels!.includes(label)) &&
                (policy.require ?? []).every((label) => card.labels!.includes(label)) &&
                (policy.maxCostPerCall === undefined || card.cost!.perCallUsd! <= policy.maxCostPerCall) &&
                (policy.providers === undefined || policy.providers.includes(card.provider)),
            );
            assert.equal(binder.bind('answer', { tier }) !== undefined, passing.length > 0, `tier ${tier}`);
          }
        } finally {
          registry.close();
        }
      }),
      { numRuns: 40, seed: 6 },
    );
  });

  it('an over-budget card is never bound: over the cost cap, or its smallest call does not fit the dollars left', async () => {
    const registry = await registryWith([
      modelCard('model:small', 'sim:small', ['local'], 0.0001),
      modelCard('model:large', 'sim:large', ['local'], 0.02),
    ]);
    try {
      const harness = governorHarness();
      const capped = await registryBinder({ registry, fleet: harness.fleet, policy: { maxCostPerCall: 0.01 } });
      assert.equal(capped.bind('answer', { tier: 'large' }), undefined);
      // The judge prefers the most capable tier: under the cap that is the small card.
      assert.equal(capped.bind('verify')?.card, 'model:small@1.0.0');
      const open = await registryBinder({ registry, fleet: harness.fleet });
      assert.equal(open.bind('answer', { tier: 'large' })?.card, 'model:large@1.0.0');
      // A budget whose dollars cannot pay one minimal sim:large call: the large card is not offered.
      const largeCall = harness.fleet.worstCase('sim:large', [{ role: 'user', content: '' }], 64).usd;
      assert.equal(open.bind('answer', { tier: 'large', budget: { usd: largeCall / 2 } }), undefined);
      assert.equal(open.bind('answer', { minTier: 'small', budget: { usd: largeCall / 2 } })?.card, 'model:small@1.0.0');
    } finally {
      registry.close();
    }
  });

  it('falls back to the fleet tiers only when the registry holds no model card, under the same policy', async () => {
    const empty = await registryWith([]);
    const agentsOnly = await registryWith([
      { id: 'agent:x', version: '1.0.0', name: 'x', binding: { kind: 'agent', name: 'x' }, provider: 'local' },
    ]);
    try {
      const harness = governorHarness();
      for (const registry of [empty, agentsOnly]) {
        const binder = await registryBinder({ registry, fleet: harness.fleet, start: 'sim:small' });
        assert.equal(binder.source, 'fleet');
        assert.deepEqual(
          TIERS.map((tier) => binder.bind('answer', { tier })?.card),
          ['fleet:sim:small', 'fleet:sim:medium', 'fleet:sim:large'],
        );
        // Simulated models are local: forbidding `local` leaves nothing to bind (no silent fallback).
        const forbidden = await registryBinder({ registry, fleet: harness.fleet, start: 'sim:small', policy: { forbid: ['local'] } });
        assert.equal(forbidden.bind('answer'), undefined);
      }
      // Model cards present but none passing: nothing is bound, the fleet is NOT used instead.
      const strict = await registryWith([modelCard('model:only', 'sim:small', ['may-use-network'], 0.001)]);
      try {
        const binder = await registryBinder({ registry: strict, fleet: harness.fleet, policy: { forbid: ['may-use-network'] } });
        assert.equal(binder.source, 'registry');
        assert.equal(binder.bind('answer'), undefined);
      } finally {
        strict.close();
      }
    } finally {
      empty.close();
      agentsOnly.close();
    }
  });

  it('governedSolve binds through it: no call reaches a forbidden model, and the decision names the cards', async () => {
    const tasks = mixedArithmeticSuite({ count: 12, seed: 4 });
    const registry = await registryWith([
      modelCard('model:sim-small', 'sim:small', ['local', 'simulated'], 0.0001),
      modelCard('model:sim-medium', 'sim:medium', ['local', 'simulated'], 0.0005),
      // The large tier is offered only by a card that may send data over the network.
      modelCard('model:cloud-large', 'sim:large', ['may-use-network'], 0.004, 'cloud'),
    ]);
    try {
      for (const task of tasks) {
        const harness = governorHarness({ tasks });
        const binder = await registryBinder({
          registry,
          fleet: harness.fleet,
          start: 'sim:small',
          policy: { forbid: ['may-use-network'] },
        });
        const result = await governedSolve({
          query: task.prompt,
          fleet: harness.fleet,
          budget: harness.ledger({ totalTokens: 4000 }).root,
          taskId: task.id,
          binder,
          policy: DEFAULT_POLICY,
          force: { arm: 'cascade', escalate: true, tier: 'large' },
        });
        assert.ok(!harness.calls.some((call) => call.model === 'sim:large'), 'no call to the forbidden card’s model');
        assert.ok(result.decision.bindings && result.decision.bindings.length > 0);
        assert.ok(result.decision.bindings.every((bound) => bound.card !== 'model:cloud-large@1.0.0'));
        assert.ok(result.decision.bindings.some((bound) => bound.card === 'model:sim-medium@1.0.0' && bound.tier === 'medium'));
        assert.equal(result.decision.tiers.large, undefined);
      }
    } finally {
      registry.close();
    }
  });
});
