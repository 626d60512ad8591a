/** debate: topologies, n×r calls, per-agent spend, persuasion on the sim, degradation, solo compilation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from './generate.ts';
import { arithmeticTaskSet, createOpHarness, mapConcurrent, rate } from './testing/harness.ts';
import { recordRequests, userText } from './testing/thread-fixtures.ts';
import { debate, debateAsSolo, neighbours } from './debate.ts';

describe('debate topologies', () => {
  it('gives the right neighbour sets', () => {
    assert.deepEqual(neighbours('all-to-all', 3), [
      [1, 2],
      [0, 2],
      [0, 1],
    ]);
    assert.deepEqual(neighbours('ring', 5), [
      [1, 4],
      [0, 2],
      [1, 3],
      [2, 4],
      [0, 3],
    ]);
    assert.deepEqual(neighbours('ring', 2), [[1], [0]]);
    assert.deepEqual(neighbours('ring', 1), [[]]);
    assert.deepEqual(neighbours('star', 4), [[1, 2, 3], [0], [0], [0]]);
    assert.deepEqual(neighbours('star', 1), [[]]);
  });
});

describe('debate on the simulated fleet', () => {
  it('runs n × r calls, tags spend per agent and records per-round answers', async () => {
    const h = createOpHarness({ model: 'sim:medium' });
    const seen = recordRequests(h.fleet);
    const { context, ledger } = h.fresh({});
    const result = await debate(context, { question: 'What is (12+7)*3 - 4 + 18*5?', agents: 3, rounds: 2 });
    assert.equal(result.calls, 6);
    assert.equal(seen.length, 6);
    assert.deepEqual(result.degraded, []);
    const report = ledger.report();
    assert.deepEqual(Object.keys(report.byAgent), ['agent-A', 'agent-B', 'agent-C']);
    for (const line of Object.values(report.byAgent)) assert.equal(line.calls, 2);
    assert.equal(report.byOperator['debate']?.calls, 6);
    assert.deepEqual(Object.keys(report.byBudget).sort(), ['run', 'run/agent-A', 'run/agent-B', 'run/agent-C']);
    const details = result.details as { roundsRun: number; rounds: Array<{ answers: Record<string, string | null>; agreement: number }> };
    assert.equal(details.roundsRun, 2);
    assert.equal(details.rounds.length, 2);
    for (const round of details.rounds) {
      assert.deepEqual(Object.keys(round.answers), ['agent-A', 'agent-B', 'agent-C']);
      assert.ok(round.agreement > 0 && round.agreement <= 1);
    }
    assert.equal(result.confidence, details.rounds[1]!.agreement);
    // Round-1 answers derive from the agent's own and its neighbours' round-0 answers.
    const edges = context.trace.edges.filter((edge) => edge.kind === 'derived-from' && edge.from.includes('/agent-A/round-1'));
    assert.equal(edges.length, 3);
  });

  it('shows each agent only its neighbours (ring of four)', async () => {
    const h = createOpHarness({ model: 'sim:small' });
    const seen = recordRequests(h.fleet);
    const result = await debate(h.fresh({}).context, { question: 'What is 47*23 - 120?', agents: 4, rounds: 2, topology: 'ring' });
    assert.equal(result.calls, 8);
    const roundOne = (agent: string): string =>
      userText(seen.find((recorded) => recorded.request.metadata?.stepId === `op/${agent}/round-1`)!);
    const a = roundOne('agent-A');
    assert.ok(a.includes('agent-B:') && a.includes('agent-D:') && !a.includes('agent-C:'));
    const c = roundOne('agent-C');
    assert.ok(c.includes('agent-B:') && c.includes('agent-D:') && !c.includes('agent-A:'));
    // The agent's own round-0 answer is in its history, as an assistant turn.
    const request = seen.find((recorded) => recorded.request.metadata?.stepId === 'op/agent-A/round-1')!.request;
    assert.deepEqual(
      request.messages.map((message) => message.role),
      ['user', 'assistant', 'user'],
    );
  });

  it('3 agents × 2 rounds beat a single answer on medium-difficulty chains', async () => {
    const tasks = arithmeticTaskSet({ count: 100, minDifficulty: 1, maxDifficulty: 2.5 });
    const h = createOpHarness({ model: 'sim:medium', tasks });
    const single = await mapConcurrent(tasks, 16, async (task) => {
      const outcome = await generate(h.fresh({ taskId: task.id }).context, {
        step: 'single',
        prompt: task.prompt,
        temperature: 0.7,
        operator: 'single',
        axis: 'width',
      });
      return h.isCorrect(task.id, outcome.answer);
    });
    const debated = await mapConcurrent(tasks, 16, async (task) =>
      h.isCorrect(task.id, (await debate(h.fresh({ taskId: task.id }).context, { question: task.prompt })).answer),
    );
    // Measured: single 0.52, debate 0.61 (seed 7).
    assert.ok(rate(debated) >= rate(single) + 0.05, `debate ${rate(debated)} vs single ${rate(single)}`);
  });

  it('degrades (fewer rounds/agents) under a tight budget without throwing or overspending', async () => {
    const h = createOpHarness({ model: 'sim:medium' });
    const question = 'What is (12+7)*3 - 4 + 18*5?';
    for (const totalTokens of [400, 1200, 2500, 4000]) {
      const { context, ledger } = h.fresh({ limits: { totalTokens } });
      const result = await debate(context, { question, agents: 3, rounds: 3 });
      assert.ok(ledger.report().total.totalTokens <= totalTokens, `spent ${ledger.report().total.totalTokens} of ${totalTokens}`);
      assert.ok(result.degraded.length > 0, `degraded at ${totalTokens}`);
      assert.ok(context.trace.events.some((event) => event.type === 'degrade'));
      if (totalTokens >= 1200) assert.ok(result.answer !== undefined && result.calls >= 1);
    }
    // A calls cap: 4 calls for a 3 × 3 plan → 2 agents × 2 rounds.
    const { context } = h.fresh({ limits: { calls: 4 } });
    const result = await debate(context, { question, agents: 3, rounds: 3 });
    assert.equal(result.calls, 4);
    assert.deepEqual(result.degraded, ['agents 3 → 2', 'rounds 3 → 2']);
  });

  it('aggregates with a judge when asked', async () => {
    const h = createOpHarness({ model: 'sim:medium' });
    const { context, ledger } = h.fresh({});
    const result = await debate(context, { question: 'What is 47*23 - 120?', aggregate: 'judge', judgeModel: 'sim:large' });
    assert.equal(result.calls, 7);
    assert.equal(ledger.report().byAgent['judge']?.calls, 1);
    assert.equal(ledger.report().byModel['sim:large']?.calls, 1);
    assert.equal(context.trace.node(result.nodeId!)?.kind, 'verdict');
  });

  it('compiles the same spec into one solo call', async () => {
    const spec = {
      question: 'What is 47*23 - 120?',
      agents: [{ name: 'Calculator', persona: 'a careful calculator' }, 'Skeptic', 'Estimator'],
      rounds: 2,
    };
    const compiled = debateAsSolo(spec);
    assert.deepEqual(compiled.personas, [
      { name: 'Calculator', description: 'a careful calculator' },
      { name: 'Skeptic' },
      { name: 'Estimator' },
    ]);
    assert.equal(compiled.maxRounds, 2);
    assert.equal(compiled.structured, true);
    const h = createOpHarness({ model: 'sim:large' });
    const seen = recordRequests(h.fleet);
    const result = await debate(h.fresh({}).context, { ...spec, mode: 'solo' });
    assert.equal(result.calls, 1);
    assert.equal(seen[0]!.request.metadata?.tags?.['purpose'], 'solo');
    assert.equal((result.details as { mode: string }).mode, 'solo');
    assert.deepEqual((result.details as { personas: string[] }).personas, ['AI Assistant (you)', 'Calculator', 'Skeptic', 'Estimator']);
  });
});
