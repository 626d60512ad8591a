import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Journal } from '../journal/index.ts';
import { governedSolve, mixedArithmeticSuite, readTrajectories, DEFAULT_POLICY } from './index.ts';
import { governorHarness } from './testing.ts';

const tasks = mixedArithmeticSuite({ count: 12, seed: 21 });
const task = tasks[4]!;
/** The sim planner's first-attempt invalid rate (models/sim/planner-policy.ts; not exported from the models layer). */
const PLAN_INVALID_RATE = 0.1;

const CYCLIC = JSON.stringify({
  version: 1,
  nodes: [
    { id: 'a', op: 'generate', inputs: { query: 'query', b: 'b.answer' }, params: { prompt: '{{query}}' } },
    { id: 'b', op: 'generate', inputs: { a: 'a.answer' }, params: { prompt: '{{query}}' } },
  ],
  output: 'a',
});
const OVER_LIMIT = JSON.stringify({
  version: 1,
  nodes: [{ id: 'wide', op: 'sample', inputs: { query: 'query' }, params: { samples: 500, aggregator: 'majority' } }],
  output: 'wide',
});
const UNKNOWN_INPUT = JSON.stringify({
  version: 1,
  nodes: [{ id: 'lost', op: 'generate', inputs: { hint: 'draft.answer' }, params: { prompt: '{{query}} {{hint}}' } }],
  output: 'lost',
});
const VALID = JSON.stringify({
  version: 1,
  name: 'planned-vote',
  nodes: [{ id: 'planned', op: 'sample', tier: 'small', inputs: { query: 'query' }, params: { samples: 3, aggregator: 'majority' } }],
  output: 'planned',
});
const CAPABILITY = JSON.stringify({
  version: 1,
  nodes: [
    {
      id: 'bound',
      op: 'sample',
      capability: { need: 'arithmetic solver' },
      inputs: { query: 'query' },
      params: { samples: 3, aggregator: 'majority' },
    },
  ],
  output: 'bound',
});
const EXPENSIVE = JSON.stringify({
  version: 1,
  nodes: [{ id: 'pricey', op: 'sample', tier: 'large', inputs: { query: 'query' }, params: { samples: 60, aggregator: 'majority' } }],
  output: 'pricey',
});

/** Calls that executed a node of a spec: workflow step ids are `gov/plan/r<round>/run/<node>/…`. */
const executed = (calls: ReadonlyArray<{ stepId: string }>, node: string) =>
  calls.filter((call) => new RegExp(`/run/${node}(/|$)`).test(call.stepId)).length;

describe('planner', () => {
  it('rejects invalid, cyclic and over-limit specs with their paths, never executes them, and falls back to a template', async () => {
    const harness = governorHarness({ tasks, plannerReplies: [CYCLIC, OVER_LIMIT, UNKNOWN_INPUT] });
    const journal = Journal.open(':memory:');
    journal.createRun({ id: 'run', command: 'solve', query: task.prompt, simulated: true });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      planner: 'fake:planner',
      force: { arm: 'plan' },
      journal: { journal, runId: 'run' },
      examples: false,
    });
    const round = result.decision.planner!.rounds[0]!;
    assert.equal(round.attempts, 3);
    assert.deepEqual(
      round.rejected.map((attempt) => attempt.issues.map((issue) => [issue.code, issue.path])),
      [[['cycle', 'nodes[0].inputs']], [['limit', 'nodes[0].params.samples']], [['unknown-input', 'nodes[0].inputs.hint']]],
    );
    assert.match(round.rejected[0]!.issues[0]!.message, /cycle: a → b → a/);
    for (const node of ['a', 'b', 'wide', 'lost']) assert.equal(executed(harness.calls, node), 0, `node ${node} of a rejected spec ran`);
    // Each retry shows the planner the previous attempt's issues, with paths.
    const planCalls = harness.calls.filter((call) => call.purpose === 'plan');
    assert.equal(planCalls.length, 3);
    assert.match(planCalls[1]!.lastUser, /Rejected:[\s\S]*nodes\[0\]\.inputs: cycle: a → b → a \[cycle\]/);
    assert.match(planCalls[2]!.lastUser, /nodes\[0\]\.params\.samples: 500 exceeds maxSamplesPerNode 64 \[limit\]/);
    assert.ok(planCalls.every((call) => call.lastUser.endsWith(`Query:\n${task.prompt}`)));
    // The fallback is the template for the difficulty bin, and it did run.
    assert.equal(round.fallback, true);
    assert.ok(result.decision.spec?.name?.startsWith('strategy:'));
    assert.ok(harness.calls.some((call) => call.stepId.includes('/run/') && call.purpose === 'answer'));
    assert.notEqual(result.answer, undefined);
    assert.equal(result.decision.planner!.calls, 3);
    assert.ok((result.spendByAxis['planning']?.calls ?? 0) === 3);
    // Journal: three rejected plan steps and the fallback, in order.
    assert.deepEqual(
      readTrajectories(journal, { source: 'planner' }).map((step) => step.status),
      ['rejected', 'rejected', 'rejected', 'fallback'],
    );
    journal.close();
  });

  it('executes the first valid spec after a rejection, binding its tier through the binder', async () => {
    const harness = governorHarness({ tasks, plannerReplies: [CYCLIC, VALID] });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      planner: 'fake:planner',
      force: { arm: 'plan' },
      examples: false,
    });
    const round = result.decision.planner!.rounds[0]!;
    assert.equal(round.attempts, 2);
    assert.equal(round.fallback, false);
    assert.equal(result.decision.spec?.name, 'planned-vote');
    assert.equal(executed(harness.calls, 'a') + executed(harness.calls, 'b'), 0);
    assert.equal(executed(harness.calls, 'planned'), 3);
    assert.ok(harness.calls.filter((call) => /\/run\/planned\//.test(call.stepId)).every((call) => call.model === 'sim:small'));
  });

  it('sends a capability node back (the governor binds generated workflows by tier) and runs the corrected spec', async () => {
    const harness = governorHarness({ tasks, plannerReplies: [CAPABILITY, VALID] });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      planner: 'fake:planner',
      force: { arm: 'plan' },
      examples: false,
    });
    const round = result.decision.planner!.rounds[0]!;
    assert.deepEqual(
      round.rejected.map((attempt) => attempt.issues.map((issue) => [issue.code, issue.path])),
      [[['capability', 'nodes[0].capability']]],
    );
    assert.equal(executed(harness.calls, 'bound'), 0);
    assert.equal(result.decision.spec?.name, 'planned-vote');
    assert.equal(result.status, 'ok');
  });

  it('sends a spec the budget cannot pay for back as too expensive', async () => {
    const harness = governorHarness({ tasks, plannerReplies: [EXPENSIVE, VALID] });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger({ usd: 0.01 }).root,
      taskId: task.id,
      planner: 'fake:planner',
      force: { arm: 'plan' },
      examples: false,
    });
    const round = result.decision.planner!.rounds[0]!;
    assert.equal(round.rejected.length, 1);
    assert.match(round.rejected[0]!.issues[0]!.message, /^too expensive: The workflow's expected cost exceeds the budget: usd/);
    assert.equal(executed(harness.calls, 'pricey'), 0);
    assert.equal(result.decision.spec?.name, 'planned-vote');
  });

  it('refines on execution feedback when the query is checkable, and keeps the best round', async () => {
    const harness = governorHarness({ tasks });
    const failing = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      force: { arm: 'plan' },
      checker: () => false,
      examples: false,
    });
    const rounds = failing.decision.planner!.rounds;
    assert.equal(rounds.length, 3);
    assert.ok(rounds.every((round) => round.quality === 0 && round.objective !== undefined && round.objective < 0));
    const feedback = harness.calls.filter((call) => call.purpose === 'plan').map((call) => call.lastUser);
    assert.ok(
      feedback.some((text) => /Execution feedback \(round 0\): answer .*; Outcome: incorrect \(quality 0\.00 by checker\)/.test(text)),
    );
    // The sim planner spends more after each failure: the spec changes between rounds.
    assert.notDeepEqual(rounds[0]!.spec, rounds[rounds.length - 1]!.spec);

    const passing = governorHarness({ tasks });
    const solved = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: passing.fleet,
      budget: passing.ledger().root,
      taskId: task.id,
      force: { arm: 'plan' },
      checker: () => true,
      examples: false,
    });
    assert.equal(solved.decision.planner!.rounds.length, 1);
    assert.equal(solved.decision.planner!.rounds[0]!.quality, 1);
  });

  it('the simulated planner is sometimes invalid on purpose; those specs are caught and never run', async () => {
    const suite = mixedArithmeticSuite({ count: 60, seed: 33 });
    let rejected = 0;
    let attempts = 0;
    for (const item of suite) {
      const harness = governorHarness({ tasks: suite });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: item.prompt,
        fleet: harness.fleet,
        budget: harness.ledger().root,
        taskId: item.id,
        force: { arm: 'plan' },
        examples: false,
      });
      for (const round of result.decision.planner!.rounds) {
        attempts += round.attempts;
        rejected += round.rejected.length;
        for (const attempt of round.rejected)
          assert.ok(
            attempt.issues.length > 0 && attempt.issues.every((issue) => issue.path.startsWith('nodes') && issue.code !== 'schema'),
          );
      }
      // The sim's broken specs use these node ids; none of them ever reaches the executor.
      for (const node of ['wide', 'check_a', 'check_b']) assert.equal(executed(harness.calls, node), 0);
      assert.notEqual(result.answer, undefined);
      assert.ok(result.simulated);
    }
    assert.ok(rejected > 0, 'the retry path must be exercised');
    assert.ok(rejected / attempts < PLAN_INVALID_RATE * 2.5, `${rejected}/${attempts} rejected`);
  });

  it('is deterministic by seed and call identity', async () => {
    const run = async () => {
      const harness = governorHarness({ tasks });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: harness.fleet,
        budget: harness.ledger().root,
        taskId: task.id,
        force: { arm: 'plan' },
        examples: false,
      });
      return { spec: result.decision.spec, answer: result.answer, usage: result.usage };
    };
    assert.deepEqual(await run(), await run());
  });
});
