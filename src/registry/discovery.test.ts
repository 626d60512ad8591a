import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cardText, costPerCall, latencyBoundMs, parseCards, type CardInput } from './card.ts';
import { dot, HashingEmbedder } from './embedder.ts';
import { RANKING } from './discovery.ts';
import type { DiscoveryConstraints } from './filter.ts';
import { CapabilityRegistry } from './registry.ts';
import { card } from './testing/fixtures.ts';
import { syntheticCards, syntheticNeeds } from './testing/synthetic.ts';

const AGENTS: CardInput[] = [
  card('invoice-reconciler', '1.0.0', {
    description: 'Matches invoices against bank payments and flags discrepancies',
    labels: ['residency:eu'],
    cost: { perCallUsd: 0.002 },
  }),
  card('contract-summarizer', '1.0.0', {
    description: 'Summarizes legal contracts: parties, obligations and termination clauses',
    labels: ['residency:eu', 'pii-ok'],
  }),
  card('fr-de-translator', '1.0.0', {
    description: 'Translates letters and documents between French and German',
    labels: ['may-use-network'],
    cost: { perCallUsd: 0.01 },
  }),
  card('python-reviewer', '1.0.0', {
    description: 'Reviews Python code and pull requests for bugs and style problems',
    cost: { perCallUsd: 0.005 },
  }),
  card('flight-finder', '1.0.0', {
    description: 'Searches cheap flights and airfares between airports',
    labels: ['may-use-network'],
    provider: 'skyapi',
  }),
  card('weather', '1.0.0', {
    description: 'Current weather and a weather forecast for any city',
    labels: ['may-use-network'],
    provider: 'skyapi',
    cost: { perCallUsd: 0.0001 },
  }),
  card('sql-writer', '1.0.0', { description: 'Writes SQL queries from questions about a database schema' }),
  card('captioner', '1.0.0', { description: 'Describes images and writes alt text captions' }),
  card('pii-redactor', '1.0.0', {
    description: 'Finds and redacts personal data such as email addresses and phone numbers in documents',
    labels: ['residency:eu'],
  }),
  card('scheduler', '1.0.0', { description: 'Schedules meetings by finding free slots in everyone’s calendar' }),
  card('sentiment', '1.0.0', { description: 'Classifies customer reviews as positive, negative or neutral sentiment' }),
  card('math-solver', '1.0.0', {
    description: 'Solves algebra and arithmetic word problems step by step',
    binding: { kind: 'model', ref: 'sim:large' },
  }),
];

const NEEDS: [string, string][] = [
  ['summarize this contract and its termination clauses', 'contract-summarizer'],
  ['translate my letter from French to German', 'fr-de-translator'],
  ['find me a cheap flight to Lisbon', 'flight-finder'],
  ['redact email addresses and phone numbers from a document', 'pii-redactor'],
  ['write an SQL query that counts orders in the database', 'sql-writer'],
  ['review my python code for bugs', 'python-reviewer'],
  ['reconcile invoices with bank payments', 'invoice-reconciler'],
  ['what is the weather forecast in Berlin', 'weather'],
  ['schedule a meeting when everyone is free', 'scheduler'],
  ['solve this algebra word problem', 'math-solver'],
  ['write alt text for these images', 'captioner'],
  ['classify the sentiment of customer reviews', 'sentiment'],
];

async function handMade(): Promise<CapabilityRegistry> {
  const registry = await CapabilityRegistry.open();
  await registry.register(AGENTS);
  return registry;
}

describe('discovery', () => {
  it('ranks the obviously right agent first for each need', async () => {
    const registry = await handMade();
    for (const [need, expected] of NEEDS) {
      const { results } = await registry.discover({ need, k: 3 });
      assert.equal(results[0]?.card.id, expected, `${need} → ${results.map((result) => result.card.id).join(', ')}`);
    }
  });

  it('explains every result: similarity, prior, cost penalty, and the filters it passed', async () => {
    const registry = await handMade();
    const { results, plan } = await registry.discover({
      need: 'what is the weather forecast in Berlin',
      k: 1,
      providers: ['skyapi'],
      maxCostPerCall: 0.001,
    });
    assert.equal(plan.method, 'exact');
    const [weather] = results;
    assert.equal(weather!.ref, 'weather@1.0.0');
    const { similarity, prior, costPenalty, costPerCall: cost, passed } = weather!.explanation;
    assert.equal(prior, 0.5);
    assert.equal(cost, 0.0001);
    assert.ok(Math.abs(costPenalty - 0.0001 / 0.0101) < 1e-12);
    assert.ok(Math.abs(weather!.score - (similarity + RANKING.PRIOR_WEIGHT * (prior - 0.5) - RANKING.COST_WEIGHT * costPenalty)) < 1e-9);
    assert.deepEqual(passed, ['status=active', 'provider∈{skyapi}', 'costPerCall≤0.001']);
  });

  it('applies policy and budget as hard filters, never as scores', async () => {
    const registry = await handMade();
    const ids = async (query: Parameters<CapabilityRegistry['discover']>[0]) =>
      (await registry.discover(query)).results.map((result) => result.card.id);
    assert.ok(!(await ids({ need: 'what is the weather forecast in Berlin', forbid: ['may-use-network'], k: 12 })).includes('weather'));
    assert.deepEqual((await ids({ need: 'summarize this contract', require: ['residency:eu'], k: 12 })).sort(), [
      'contract-summarizer',
      'invoice-reconciler',
      'pii-redactor',
    ]);
    const affordable = await ids({ need: 'translate my letter from French to German', maxCostPerCall: 0.005, k: 12 });
    assert.deepEqual([...affordable].sort(), ['invoice-reconciler', 'python-reviewer', 'weather'], 'unknown cost fails a cost limit');
    assert.deepEqual(await ids({ need: 'solve algebra', bindingKinds: ['model'], k: 5 }), ['math-solver']);
    assert.deepEqual(await ids({ need: 'anything', require: ['no-such-label'] }), []);
    assert.deepEqual(await ids({ need: 'anything', providers: ['nobody'] }), []);
  });

  it('breaks near-ties by prior and cost, and returns one version per capability', async () => {
    const registry = await CapabilityRegistry.open();
    const same = { description: 'Detects fraud in card transactions' };
    await registry.register([
      card('fraud-a', '1.0.0', { ...same, name: 'fraud detector', quality: 0.9, cost: { perCallUsd: 0.0001 } }),
      card('fraud-b', '1.0.0', { ...same, name: 'fraud detector', quality: 0.3 }),
      card('fraud-c', '1.0.0', { ...same, name: 'fraud detector', cost: { perCallUsd: 0.5 } }),
      card('fraud-c', '1.1.0', { ...same, name: 'fraud detector', cost: { perCallUsd: 0.0001 } }),
    ]);
    const { results } = await registry.discover({ need: 'detect fraud in card transactions', k: 5 });
    assert.deepEqual(
      results.map((result) => result.ref),
      ['fraud-a@1.0.0', 'fraud-c@1.1.0', 'fraud-b@1.0.0'],
    );
  });

  it('gives the same answers whichever plan runs (exact, label partition, HNSW)', async () => {
    const registry = await CapabilityRegistry.open({ embedder: new HashingEmbedder({ dimension: 64 }), plan: { exactBudget: 1 } });
    for (const batch of syntheticCards(3_000, 3)) await registry.register(batch);
    const store = registry.columns;
    const queries: DiscoveryConstraints[] = [
      {},
      { require: ['residency:eu'] },
      { require: ['gpu'], forbid: ['pii-ok'], maxCostPerCall: 0.01 },
    ];
    const methods: string[] = [];
    let agree = 0;
    let total = 0;
    for (const need of syntheticNeeds(20, 5)) {
      const [vector] = await new HashingEmbedder({ dimension: 64 }).embed([need]);
      for (const constraints of queries) {
        const auto = registry.discoverVector(vector!, constraints, 10);
        methods.push(auto.plan.method);
        const exactRefs = exactRefsFor(registry, vector!, constraints);
        total += exactRefs.length;
        agree += auto.results.filter((result) => exactRefs.includes(result.ref)).length;
      }
    }
    assert.ok(store.activeCount > 2_800);
    assert.deepEqual([...new Set(methods)].sort(), ['exact', 'hnsw', 'partition']);
    assert.ok(agree / total >= 0.98, `recall ${agree / total}`);
  });

  it('never returns a forbidden, unrequired, disallowed or over-budget capability (property)', async () => {
    const labels = ['a', 'b', 'c', 'd'];
    const providers = ['p1', 'p2', 'p3'];
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda'.split(' ');
    const cardArbitrary = fc.record({
      words: fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 6 }),
      labels: fc.uniqueArray(fc.constantFrom(...labels), { maxLength: 3 }),
      provider: fc.constantFrom(...providers),
      cost: fc.option(fc.double({ min: 0, max: 0.1, noNaN: true }), { nil: undefined }),
      latency: fc.option(fc.integer({ min: 10, max: 5_000 }), { nil: undefined }),
      quality: fc.double({ min: 0, max: 1, noNaN: true }),
      status: fc.constantFrom('active', 'active', 'active', 'deprecated', 'yanked'),
    });
    const queryArbitrary = fc.record({
      need: fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')),
      require: fc.option(fc.uniqueArray(fc.constantFrom(...labels), { maxLength: 2 }), { nil: undefined }),
      forbid: fc.option(fc.uniqueArray(fc.constantFrom(...labels), { maxLength: 2 }), { nil: undefined }),
      providers: fc.option(fc.uniqueArray(fc.constantFrom(...providers), { minLength: 1, maxLength: 2 }), { nil: undefined }),
      maxCostPerCall: fc.option(fc.double({ min: 0, max: 0.1, noNaN: true }), { nil: undefined }),
      maxLatencyMs: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: undefined }),
      k: fc.integer({ min: 1, max: 8 }),
      force: fc.constantFrom(undefined, 'exact', 'hnsw', 'partition'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(cardArbitrary, { minLength: 1, maxLength: 40 }),
        fc.array(queryArbitrary, { minLength: 1, maxLength: 5 }),
        async (specs, queries) => {
          const inputs = specs.map((spec, index) =>
            card(`cap-${index}`, '1.0.0', {
              description: spec.words.join(' '),
              labels: spec.labels,
              provider: spec.provider,
              quality: spec.quality,
              status: spec.status,
              ...(spec.cost !== undefined ? { cost: { perCallUsd: spec.cost } } : {}),
              ...(spec.latency !== undefined ? { latency: { p50Ms: spec.latency } } : {}),
            }),
          );
          const cards = parseCards(inputs);
          const embedder = new HashingEmbedder({ dimension: 64 });
          for (const { force, ...query } of queries) {
            const registry = await CapabilityRegistry.open({ embedder, plan: force === undefined ? {} : { force } });
            await registry.register(inputs);
            const { results } = await registry.discover(stripUndefined(query));
            const allowed = (index: number) => {
              const item = cards[index]!;
              const cost = costPerCall(item);
              const latency = latencyBoundMs(item);
              return (
                item.status === 'active' &&
                (query.require ?? []).every((label) => item.labels.includes(label)) &&
                !(query.forbid ?? []).some((label) => item.labels.includes(label)) &&
                (query.providers === undefined || query.providers.includes(item.provider)) &&
                (query.maxCostPerCall === undefined || (cost !== undefined && cost <= query.maxCostPerCall)) &&
                (query.maxLatencyMs === undefined || (latency !== undefined && latency <= query.maxLatencyMs))
              );
            };
            for (const result of results)
              assert.ok(allowed(Number(result.card.id.slice(4))), `${result.ref} violates ${JSON.stringify(query)}`);
            // Completeness: an independent oracle scores every allowed card the documented way.
            const [needVector] = await embedder.embed([query.need]);
            const cardVectors = await embedder.embed(cards.map(cardText));
            const oracle = cards
              .map((item, index) => ({
                index,
                score:
                  dot(needVector!, cardVectors[index]!) +
                  RANKING.PRIOR_WEIGHT * ((item.quality ?? 0.5) - 0.5) -
                  RANKING.COST_WEIGHT * penalty(costPerCall(item)),
              }))
              .filter(({ index }) => allowed(index))
              .sort((left, right) => right.score - left.score)
              .slice(0, query.k);
            assert.equal(results.length, oracle.length);
            results.forEach((result, position) =>
              assert.ok(Math.abs(result.score - oracle[position]!.score) < 1e-4, `${result.score} vs ${oracle[position]!.score}`),
            );
            registry.close();
          }
        },
      ),
      { seed: 20_240_601, numRuns: 60 },
    );
  });
});

function penalty(cost: number | undefined): number {
  return cost === undefined ? RANKING.UNKNOWN_COST_PENALTY : cost / (cost + RANKING.COST_REFERENCE_USD);
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function exactRefsFor(registry: CapabilityRegistry, vector: Float32Array, constraints: DiscoveryConstraints): string[] {
  return registry.discoverVector(vector, constraints, 10, { force: 'exact' }).results.map((result) => result.ref);
}
