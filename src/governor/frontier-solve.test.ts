/**
 * governedSolve with frontier tables: the table's choice for the query's family, model and budget runs before
 * (or instead of) any probe; the decision explains it; --optimize picks the objective's table; nothing spends
 * past the budget.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_POLICY,
  fitFrontier,
  cellForArchitecture,
  governedSolve,
  mixedArithmeticSuite,
  parsePolicy,
  type FrontierRecord,
} from './index.ts';
import { governorHarness } from './testing.ts';

const tasks = mixedArithmeticSuite({ count: 12, seed: 5 });

/** Training figures where, for arithmetic on sim:small, thread wins at 2,000 tokens in tokens and vote@5 in dollars. */
function trainingRecords(): FrontierRecord[] {
  const out: FrontierRecord[] = [];
  const add = (choice: string, level: number, correct: number, cost: { tokens: number; usd: number; seconds: number }): void => {
    for (let item = 0; item < 20; item++)
      out.push({
        family: 'arithmetic',
        model: 'sim:small',
        tier: 'small',
        level,
        itemId: `i${item}`,
        choice,
        score: item < correct ? 1 : 0,
        ...cost,
      });
  };
  add('thread', 2000, 14, { tokens: 900, usd: 0.0009, seconds: 9 });
  add('vote@5', 2000, 14, { tokens: 1500, usd: 0.0004, seconds: 2 });
  add('single', 2000, 9, { tokens: 300, usd: 0.0001, seconds: 1 });
  add('governed', 500, 8, { tokens: 400, usd: 0.0001, seconds: 1 });
  add('single', 500, 7, { tokens: 300, usd: 0.0001, seconds: 1 });
  return out;
}

const frontier = fitFrontier(trainingRecords(), { cellOf: cellForArchitecture, source: { studies: ['test'], seeds: [1001], items: 20 } });
const policy = parsePolicy({ ...structuredClone(DEFAULT_POLICY), frontier });

describe('governedSolve on frontier tables', () => {
  it('runs the fixed strategy the table chose, without a probe, and explains why', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 2_500 });
    const result = await governedSolve({ policy, query: task.prompt, fleet: harness.fleet, budget: ledger.root, taskId: task.id });
    assert.equal(result.decision.arm, 'strategy');
    assert.deepEqual(result.decision.cell, { arm: 'strategy', strategy: 'thread' });
    assert.equal(result.decision.difficulty.bin, 'unprobed');
    assert.equal(result.spendByAxis['probe'], undefined, 'no probe call');
    assert.ok(harness.calls.every((call) => !call.stepId.includes('probe')));
    const why = result.decision.frontier!;
    assert.equal(why.family, 'arithmetic');
    assert.equal(why.familySource, 'inferred');
    assert.equal(why.objective, 'tokens');
    assert.equal(why.level, 2000);
    assert.equal(why.choice, 'thread');
    assert.deepEqual(
      why.alternatives.map((alternative) => alternative.choice),
      ['vote@5', 'single'],
    );
    assert.match(why.why, /^thread: on 20 training arithmetic items for sim:small at 2000 tokens it scored 70%/);
    assert.match(result.decision.strategy, /^strategy: thread on sim:small/);
    assert.ok(ledger.report().total.totalTokens <= 2_500);
    assert.equal(result.usage.totalTokens, ledger.report().total.totalTokens);
  });

  it('--optimize usd takes the dollar table (vote@5 at a third of the dollars)', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 2_500 });
    const result = await governedSolve({
      policy,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
      optimize: 'usd',
    });
    assert.deepEqual(result.decision.cell, { arm: 'strategy', strategy: 'vote', parameter: 5 });
    assert.equal(result.decision.frontier!.objective, 'usd');
    assert.deepEqual(
      harness.calls.map((call) => call.stepId),
      [0, 1, 2, 3, 4].map((sample) => `gov/strategy/vote/sample-${sample}`),
      'five samples of the fixed vote, no probe',
    );
    assert.ok(ledger.report().total.totalTokens <= 2_500);
  });

  it('below the second level the lowest entry applies: governed runs the probe path', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 1_000 });
    const result = await governedSolve({ policy, query: task.prompt, fleet: harness.fleet, budget: ledger.root, taskId: task.id });
    assert.equal(result.decision.frontier!.choice, 'governed');
    assert.notEqual(result.decision.difficulty.bin, 'unprobed');
    assert.ok(result.decision.difficulty.samples >= 1);
    assert.ok(ledger.report().total.totalTokens <= 1_000);
  });

  it('a family without a table (given by the caller) leaves the decision to the probe path', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 2_500 });
    const result = await governedSolve({
      policy,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
      family: 'logic',
    });
    assert.equal(result.decision.frontier, undefined);
    assert.notEqual(result.decision.arm, 'strategy');
  });

  it('a budget too small for a probe buys one answer instead (probe path, no table)', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 400 });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
    });
    assert.equal(result.decision.frontier, undefined);
    assert.deepEqual(result.decision.cell, { arm: 'strategy', strategy: 'single' });
    assert.equal(result.decision.difficulty.bin, 'unprobed');
    assert.match(result.decision.strategy, /no probe: the budget cannot pay for one/);
    assert.deepEqual(
      harness.calls.map((call) => call.stepId),
      ['gov/strategy/answer/call'],
    );
    assert.ok(result.degraded.some((reason) => /budget too small for a 3-sample probe/.test(reason)));
    assert.ok(ledger.report().total.totalTokens <= 400);
  });

  it('a probe that fits only with shorter calls gets them: every sample within its share', async () => {
    const task = tasks[3]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 1_200 });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
    });
    assert.notEqual(result.decision.difficulty.bin, 'unprobed');
    assert.ok(result.decision.difficulty.samples >= 2, 'more than one probe sample fits once each call is capped');
    assert.ok(result.spendByAxis['probe']!.totalTokens <= 600);
    assert.ok(ledger.report().total.totalTokens <= 1_200);
  });
});
