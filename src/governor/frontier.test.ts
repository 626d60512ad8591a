import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GOVERNED_CHOICE, cellForArchitecture, fitFrontier, inferFamily, selectFrontier, type FrontierRecord } from './frontier.ts';
import { parsePolicy, DEFAULT_POLICY } from './policy.ts';

/** `n` items of one candidate at one level: `correct` of them right, each costing the given tokens/usd/seconds. */
function records(
  choice: string,
  level: number,
  n: number,
  correct: number,
  cost: { tokens: number; usd: number; seconds: number },
  family = 'arithmetic',
  model = 'sim:small',
  tier: 'small' | 'medium' | 'large' = 'small',
): FrontierRecord[] {
  return Array.from({ length: n }, (_, index) => ({
    family,
    model,
    tier,
    level,
    itemId: `item-${index}`,
    choice,
    score: index < correct ? 1 : 0,
    ...cost,
  }));
}

const source = { studies: ['test'], seeds: [1001], items: 20 };

describe('inferFamily', () => {
  it('names the family from the query, a corpus first', () => {
    assert.equal(inferFamily('What is the capital of Norland?', { corpus: true }).family, 'multihop');
    assert.equal(inferFamily('What is 17*23?').family, 'arithmetic');
    assert.equal(inferFamily('Compute (3 + 4) * 2 - 5.').family, 'arithmetic');
    assert.equal(inferFamily('p1 is true. p2 is not p1. p3 is p1 and p2. What is the value of p3? Answer true or false.').family, 'logic');
    assert.equal(inferFamily('Write a haiku about autumn.').family, 'other');
    assert.equal(inferFamily('In 2024 there were 3 cats').family, 'other');
  });
});

describe('fitFrontier', () => {
  it('picks the cheapest candidate within the tolerance of the best, per level and objective', () => {
    const data = [
      // level 800: thread 60% at 300 tokens; vote 61% at 900 tokens but cheaper in seconds → tokens: thread (within 1 pt).
      ...records('thread', 800, 100, 60, { tokens: 300, usd: 0.0003, seconds: 9 }),
      ...records('vote', 800, 100, 61, { tokens: 900, usd: 0.0002, seconds: 2 }),
      ...records('single', 800, 100, 40, { tokens: 100, usd: 0.0001, seconds: 1 }),
      // level 5000: vote 80% clearly best.
      ...records('thread', 5000, 100, 70, { tokens: 1200, usd: 0.001, seconds: 20 }),
      ...records('vote', 5000, 100, 80, { tokens: 3000, usd: 0.002, seconds: 3 }),
      ...records('governed', 5000, 100, 79, { tokens: 800, usd: 0.0005, seconds: 2 }),
    ];
    const frontier = fitFrontier(data, { cellOf: cellForArchitecture, source });
    const tokens = frontier.tables.find((table) => table.objective === 'tokens')!;
    assert.deepEqual(
      tokens.entries.map((entry) => [entry.level, entry.choice]),
      [
        [800, 'thread'],
        // governed 79% is within 1 point of vote's 80% and far cheaper.
        [5000, 'governed'],
      ],
    );
    assert.deepEqual(tokens.entries[0]!.cell, { arm: 'strategy', strategy: 'thread' });
    assert.equal(tokens.entries[1]!.cell, undefined, 'governed runs the probe path: no fixed cell');
    assert.deepEqual(tokens.entries[0]!.train, { choice: 'thread', accuracy: 0.6, cost: 300, items: 100 });
    assert.deepEqual(
      tokens.entries[0]!.candidates.map((candidate) => candidate.choice),
      ['vote', 'thread', 'single'],
      'best accuracy first',
    );
    const seconds = frontier.tables.find((table) => table.objective === 'seconds')!;
    assert.equal(seconds.entries[0]!.choice, 'vote', 'in seconds vote is the cheaper of the two within a point');
    const usd = frontier.tables.find((table) => table.objective === 'usd')!;
    assert.equal(usd.entries[0]!.choice, 'vote');
  });

  it('keeps no entry for candidates with too few items, and ignores what the governor cannot run', () => {
    const data = [
      ...records('thread', 800, 5, 5, { tokens: 300, usd: 0, seconds: 1 }),
      ...records('single', 800, 20, 8, { tokens: 100, usd: 0, seconds: 1 }),
      ...records('auto', 800, 20, 20, { tokens: 100, usd: 0, seconds: 1 }),
      ...records('agentsnet', 800, 20, 20, { tokens: 100, usd: 0, seconds: 1 }),
    ];
    const frontier = fitFrontier(data, { cellOf: cellForArchitecture, source, objectives: ['tokens'] });
    assert.equal(frontier.tables.length, 1);
    assert.equal(frontier.tables[0]!.entries[0]!.choice, 'single');
    assert.deepEqual(
      frontier.tables[0]!.entries[0]!.candidates.map((candidate) => candidate.choice),
      ['single'],
    );
  });
});

describe('selectFrontier', () => {
  const frontier = fitFrontier(
    [
      ...records('single', 800, 20, 10, { tokens: 200, usd: 0.0001, seconds: 1 }),
      ...records('thread', 5000, 20, 15, { tokens: 2000, usd: 0.001, seconds: 5 }),
      ...records('search@4', 2000, 20, 15, { tokens: 900, usd: 0.0004, seconds: 3 }, 'multihop', 'sim:medium', 'medium'),
    ],
    { cellOf: cellForArchitecture, source, objectives: ['tokens'] },
  );
  const query = { family: 'arithmetic', model: 'sim:small', tier: 'small' as const, usdPerToken: 1e-6, objective: 'tokens' as const };

  it('takes the highest level the budget reaches (the lowest below it)', () => {
    assert.equal(selectFrontier(frontier, { ...query, budget: { totalTokens: 300 } })!.entry.choice, 'single');
    assert.equal(selectFrontier(frontier, { ...query, budget: { totalTokens: 4999 } })!.entry.choice, 'single');
    assert.equal(selectFrontier(frontier, { ...query, budget: { totalTokens: 5000 } })!.entry.choice, 'thread');
    // Dollars convert at the price per token: $0.006 at $1e-6/token = 6,000 tokens.
    assert.equal(selectFrontier(frontier, { ...query, budget: { usd: 0.006 } })!.entry.choice, 'thread');
    assert.equal(selectFrontier(frontier, { ...query, budget: {} })!.entry.choice, 'thread', 'no limit: the highest level');
  });

  it('matches by model, then by tier; nothing for an unknown family; falls back to the tokens table', () => {
    const byTier = selectFrontier(frontier, {
      ...query,
      family: 'multihop',
      model: 'other:m',
      tier: 'medium',
      budget: { totalTokens: 3000 },
    });
    assert.equal(byTier!.table.matchedBy, 'tier');
    assert.deepEqual(byTier!.entry.cell, { arm: 'strategy', strategy: 'search', parameter: 4 });
    assert.equal(selectFrontier(frontier, { ...query, family: 'other', budget: { totalTokens: 3000 } }), undefined);
    assert.equal(selectFrontier(frontier, { ...query, objective: 'usd', budget: { totalTokens: 300 } })!.table.objective, 'tokens');
  });

  it('round-trips through the policy file schema', () => {
    const policy = parsePolicy({ ...structuredClone(DEFAULT_POLICY), frontier });
    assert.deepEqual(policy.frontier, frontier);
    assert.throws(
      () => parsePolicy({ ...structuredClone(DEFAULT_POLICY), frontier: { ...frontier, tolerance: 2 } }),
      /frontier\.tolerance/,
    );
  });
});

describe('cellForArchitecture', () => {
  it('maps lab architecture names to what the governor runs', () => {
    assert.deepEqual(cellForArchitecture('vote@8'), { arm: 'strategy', strategy: 'vote', parameter: 8 });
    assert.deepEqual(cellForArchitecture('adaptive-vote@9'), { arm: 'vote', samples: 9, lead: 3 });
    assert.deepEqual(cellForArchitecture('router'), { arm: 'cascade' });
    assert.equal(cellForArchitecture('governed'), GOVERNED_CHOICE);
    assert.equal(cellForArchitecture('auto'), undefined);
    assert.equal(cellForArchitecture('agentsnet-verified'), undefined);
  });
});
