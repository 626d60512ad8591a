import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Journal } from '../journal/index.ts';
import { InvalidWorkflowError, defaultOperators, runWorkflow, type OperatorRegistry } from './index.ts';
import { fakeLog, fakeOperator, fakeRegistry, fanSpec, simFleet } from './testing.ts';

const QUERY = 'What is 17*23?';
const node = (id: string, op: string, inputs: Record<string, string> = {}, params: Record<string, unknown> = { prompt: '{{query}}' }) => ({
  id,
  op,
  inputs,
  params,
});

/** a → (b, c) → d(aggregate); e feeds d too; plus a debate that only fake operators can run. */
const DIAMOND = {
  version: 1,
  defaults: { model: 'sim:small' },
  nodes: [
    node('a', 'generate'),
    node('b', 'generate', { a: 'a.answer' }),
    node('c', 'debate', { a: 'a' }, { agents: 3, rounds: 2, topology: 'ring' }),
    node('e', 'generate'),
    node('d', 'aggregate', { b: 'b.answer', c: 'c.answer', e: 'e.answer' }, { method: 'majority' }),
  ],
  output: 'd',
};

describe('workflow executor', () => {
  it('respects DAG order: every node starts after all of its upstream nodes ended', async () => {
    const { fleet } = simFleet();
    const log = fakeLog();
    const ledger = new Ledger({ clock: fleet.clock });
    const result = await runWorkflow({
      spec: DIAMOND,
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: fakeRegistry({ log, latencyMs: 10 }),
    });
    assert.equal(result.status, 'ok');
    const at = (event: string) => log.events.indexOf(event);
    for (const [from, to] of [
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'd'],
      ['c', 'd'],
      ['e', 'd'],
    ])
      assert.ok(at(`end:${from}`) < at(`start:${to}`), `${from} must end before ${to} starts`);
    assert.deepEqual(
      Object.values(result.nodes).map((record) => record.status),
      ['ok', 'ok', 'ok', 'ok', 'ok'],
    );
    // Graph: query node, one answer per node, d derived from b, c and e.
    const edges = result.trace.graph.edges.filter((edge) => edge.kind === 'derived-from').map((edge) => `${edge.from}<-${edge.to}`);
    assert.ok(
      edges.includes('wf/d:answer<-wf/b:answer') &&
        edges.includes('wf/d:answer<-wf/c:answer') &&
        edges.includes('wf/d:answer<-wf/e:answer'),
    );
    assert.ok(edges.includes('wf/a:answer<-wf:query'));
  });

  it('fans out and back in with real sim generate nodes and the interim aggregate', async () => {
    const { fleet } = simFleet(3);
    const ledger = new Ledger({ clock: fleet.clock });
    const result = await runWorkflow({
      spec: fanSpec(12, { model: 'sim:medium' }),
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: defaultOperators(),
      concurrency: 6,
    });
    assert.equal(result.status, 'ok');
    assert.equal(result.answeredBy, 'sink');
    const votes = result.nodes['sink']!.result!.details['votes'] as Record<string, number>;
    assert.equal(
      Object.values(votes).reduce((sum, count) => sum + count, 0),
      12,
    );
    assert.equal(result.answer, Object.entries(votes).sort((a, b) => b[1] - a[1])[0]![0]);
    assert.equal(ledger.root.spent().calls, 13);
    assert.equal(result.usage.calls, 13);
    assert.equal(result.simulated, true);
  });

  it('bounds concurrency', async () => {
    const { fleet } = simFleet();
    const log = fakeLog();
    const result = await runWorkflow({
      spec: fanSpec(30),
      query: QUERY,
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      operators: fakeRegistry({ log, latencyMs: 10 }),
      concurrency: 4,
    });
    assert.equal(result.status, 'ok');
    assert.equal(log.maxInFlight, 4);
    assert.equal(log.calls.size, 32);
  });

  it('degrades instead of throwing when the budget runs out: skips, falls back, never overspends', async () => {
    const { fleet } = simFleet();
    const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: 1000 } });
    const chain = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [
        node('a', 'generate'),
        node('b', 'generate', { a: 'a.answer' }),
        node('c', 'generate', { b: 'b.answer' }),
        node('d', 'generate', { c: 'c.answer' }),
      ],
      output: 'd',
    };
    const result = await runWorkflow({
      spec: chain,
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: fakeRegistry({ spend: { inputTokens: 100, outputTokens: 250 } }),
    });
    assert.equal(result.status, 'budget_exhausted');
    assert.deepEqual(
      Object.values(result.nodes).map((record) => [record.status, record.reason]),
      [
        ['ok', undefined],
        ['ok', undefined],
        ['skipped', 'budget'],
        ['skipped', 'upstream'],
      ],
    );
    assert.equal(result.answeredBy, 'b');
    assert.equal(result.answer, result.nodes['b']!.result!.answer);
    assert.deepEqual(result.degraded, ['c: skipped (budget)', 'd: skipped (upstream)', 'd: skipped; answered from b']);
    assert.ok(ledger.root.spent().totalTokens <= 1000);
    assert.ok(result.trace.events.some((event) => event.type === 'note' && event.data['fallback'] === 'b'));
  });

  it('gives each node its share and honours budgetShare', async () => {
    const { fleet } = simFleet();
    const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: 10_000 } });
    const spec = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [{ ...node('a', 'generate'), budgetShare: 0.1 }, node('b', 'generate', { a: 'a' })],
      output: 'b',
    };
    const result = await runWorkflow({ spec, query: QUERY, fleet, budget: ledger.root, operators: fakeRegistry({}) });
    const start = (id: string) =>
      result.trace.events.find((event) => event.stepId === `wf/${id}` && event.type === 'op-start')!.data['budget'] as {
        totalTokens: number;
      };
    assert.equal(start('a').totalTokens, 1000);
    assert.equal(start('b').totalTokens, 10_000);
  });

  it('cancels: running operators see the signal, nodes not started end cancelled', async () => {
    const { fleet } = simFleet();
    const controller = new AbortController();
    const log = fakeLog();
    const chain = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [node('a', 'generate'), node('b', 'generate', { a: 'a' }), node('c', 'generate', { b: 'b' })],
      output: 'c',
    };
    const operators = fakeRegistry({ log, latencyMs: 100 });
    fleet.clock.setTimer(150, () => controller.abort());
    const result = await runWorkflow({
      spec: chain,
      query: QUERY,
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      operators,
      signal: controller.signal,
    });
    assert.equal(result.status, 'cancelled');
    assert.deepEqual(
      Object.values(result.nodes).map((record) => record.status),
      ['ok', 'cancelled', 'cancelled'],
    );
    assert.equal(log.calls.get('c'), undefined);
    assert.equal(result.answer, result.nodes['a']!.result!.answer);
  });

  it('journals every step and, on resume, reuses finished nodes without running them and charges their spend', async () => {
    const journal = Journal.open(':memory:');
    const runId = 'resume-test';
    journal.beginOrResumeRun({ id: runId, command: 'workflow', query: QUERY, simulated: true });
    const chain = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [
        node('a', 'generate'),
        node('b', 'generate', { a: 'a' }),
        node('c', 'generate', { b: 'b' }),
        node('d', 'generate', { c: 'c' }),
      ],
      output: 'd',
    };
    const spend = { inputTokens: 40, outputTokens: 60 };

    const first = simFleet();
    const firstLog = fakeLog();
    const controller = new AbortController();
    const interrupted = await runWorkflow({
      spec: chain,
      query: QUERY,
      fleet: first.fleet,
      budget: new Ledger({ clock: first.clock }).root,
      operators: fakeRegistry({ log: firstLog, spend, hook: (id) => (id === 'b' ? controller.abort() : undefined) }),
      journal: { journal, runId },
      signal: controller.signal,
    });
    assert.equal(interrupted.status, 'cancelled');
    assert.deepEqual(
      journal.getSteps(runId).map((step) => [step.stepId, step.status]),
      [
        ['wf/a', 'ok'],
        ['wf/b', 'ok'],
        ['wf/c', 'cancelled'],
        ['wf/d', 'cancelled'],
      ],
    );

    const second = simFleet();
    const secondLog = fakeLog();
    const ledger = new Ledger({ clock: second.clock, limits: { totalTokens: 1000 } });
    const resumed = await runWorkflow({
      spec: chain,
      query: QUERY,
      fleet: second.fleet,
      budget: ledger.root,
      operators: fakeRegistry({ log: secondLog, spend }),
      journal: { journal, runId },
    });
    assert.equal(resumed.status, 'ok');
    assert.deepEqual([...secondLog.calls.keys()], ['c', 'd']);
    assert.equal(resumed.nodes['a']!.replayed, true);
    assert.equal(resumed.nodes['b']!.replayed, true);
    assert.equal(resumed.nodes['a']!.result!.answer, interrupted.nodes['a']!.result!.answer);
    // Four nodes' spend on the ledger: two charged from the journal, two new.
    assert.equal(ledger.root.spent().totalTokens, 4 * 100);
    assert.equal(ledger.report().byOperator['generate']!.totalTokens, 200);
    assert.deepEqual(
      journal.getSteps(runId).map((step) => step.status),
      ['ok', 'ok', 'ok', 'ok'],
    );
    journal.close();
  });

  it('resumes a sim run from the journal: nodes replayed, no new model calls, same answer', async () => {
    const journal = Journal.open(':memory:');
    const runId = 'sim-resume';
    journal.beginOrResumeRun({ id: runId, command: 'workflow', query: QUERY, simulated: true });
    const spec = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [node('a', 'generate'), node('b', 'sample', { a: 'a.answer' }, { samples: 3, aggregator: 'majority' })],
      output: 'b',
    };
    const run = async () => {
      const { fleet } = simFleet(5);
      const ledger = new Ledger({ clock: fleet.clock });
      let providerCalls = 0;
      fleet.onEvent((event) => void (event.type === 'call-start' ? providerCalls++ : 0));
      const result = await runWorkflow({
        spec,
        query: QUERY,
        fleet,
        budget: ledger.root,
        operators: defaultOperators(),
        journal: { journal, runId },
      });
      return { result, providerCalls, spent: ledger.root.spent() };
    };
    const first = await run();
    const second = await run();
    assert.equal(first.providerCalls, 4);
    assert.equal(second.providerCalls, 0);
    assert.equal(second.result.answer, first.result.answer);
    assert.deepEqual(second.spent, first.spent);
    journal.close();
  });

  it('records operator failures as node errors and keeps going', async () => {
    const { fleet } = simFleet();
    const spec = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [node('a', 'generate'), node('b', 'generate'), node('c', 'aggregate', { a: 'a.answer', b: 'b.answer' }, { method: 'first' })],
      output: 'c',
    };
    const result = await runWorkflow({
      spec,
      query: QUERY,
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      operators: fakeRegistry({ failOn: { a: new ProviderError('boom', { status: 500 }) } }),
    });
    assert.equal(result.status, 'error');
    assert.equal(result.nodes['a']!.status, 'error');
    assert.deepEqual(result.nodes['a']!.error, { code: 'PROVIDER_ERROR', message: 'boom' });
    assert.equal(result.nodes['c']!.status, 'ok');
    assert.equal(result.answeredBy, 'c');
  });

  it('refuses a spec using an operator the registry lacks before running anything', async () => {
    const { fleet } = simFleet();
    const log = fakeLog();
    const operators: OperatorRegistry = { generate: fakeOperator({ log }), aggregate: fakeOperator({ log }) };
    await assert.rejects(
      runWorkflow({ spec: DIAMOND, query: QUERY, fleet, budget: new Ledger({ clock: fleet.clock }).root, operators }),
      (error: unknown) => error instanceof InvalidWorkflowError && /operator "debate" is not available/.test(error.message),
    );
    assert.equal(log.calls.size, 0);
  });

  it('is deterministic: same seed, same result JSON (sim latency, concurrency, sampling)', async () => {
    const spec = {
      version: 1,
      defaults: { model: 'sim:small', maxOutputTokens: 400 },
      nodes: [
        node('a', 'generate'),
        node('b', 'sample', {}, { samples: 5, aggregator: 'confidence-weighted' }),
        node('c', 'generate', { a: 'a', b: 'b.answer' }, { prompt: 'Two drafts: {{a}} / {{b}}. {{query}}' }),
        node('d', 'aggregate', { a: 'a.answer', b: 'b.answer', c: 'c.answer' }, { method: 'majority' }),
      ],
      output: 'd',
    };
    const run = async () => {
      const { fleet } = simFleet(11);
      const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: 4000 } });
      return JSON.stringify(
        await runWorkflow({ spec, query: QUERY, fleet, budget: ledger.root, operators: defaultOperators(), concurrency: 3 }),
      );
    };
    const [one, two] = [await run(), await run()];
    assert.equal(one, two);
    assert.ok(one.length > 1000);
  });
});
