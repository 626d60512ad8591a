import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../budget/index.ts';
import { Journal } from '../journal/index.ts';
import {
  CAPABILITY_ASSUMPTION,
  CapabilityUnresolvedError,
  checkWorkflow,
  defaultOperators,
  estimateWorkflow,
  mergeCapabilityConstraints,
  preflightCapabilities,
  runWorkflow,
  validateWorkflow,
  type CapabilityBinding,
  type CapabilityRequest,
  type CapabilityResolveContext,
  type CapabilityResolver,
} from './index.ts';
import { simFleet } from './testing.ts';

const QUERY = 'What is 17*23?';
const NEED = {
  need: 'solve arithmetic word problems',
  require: ['local'],
  forbid: ['may-use-network'],
  providers: ['sim', 'acme'],
  maxCostPerCall: 0.01,
};

/** `a` (capability) → `b` (model) → output `b`. */
function spec(capability: Record<string, unknown> = NEED, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    nodes: [
      { id: 'a', op: 'generate', capability, params: { prompt: '{{query}}', maxOutputTokens: 400 }, ...extra },
      {
        id: 'b',
        op: 'generate',
        model: 'sim:medium',
        inputs: { a: 'a.answer' },
        params: { prompt: '{{query}} Earlier answer: {{a}}', maxOutputTokens: 400 },
      },
    ],
    output: 'b',
  };
}

/** A resolver that records what it was asked and binds to `model` (as card `fake-card@1.2.3`). */
function fakeResolver(binding: Partial<CapabilityBinding> = {}): {
  resolver: CapabilityResolver;
  seen: Array<{ request: CapabilityRequest; context: CapabilityResolveContext }>;
} {
  const seen: Array<{ request: CapabilityRequest; context: CapabilityResolveContext }> = [];
  const resolver: CapabilityResolver = async (request, context) => {
    seen.push({ request, context });
    return { model: 'sim:small', cardId: 'fake-card', version: '1.2.3', score: 0.75, explanation: { similarity: 0.8 }, ...binding };
  };
  return { resolver, seen };
}

const issuesOf = (value: unknown, options: Parameters<typeof checkWorkflow>[1] = {}) =>
  checkWorkflow(value, options).issues.map((issue) => `${issue.code} ${issue.path}: ${issue.message}`);

describe('workflow capability nodes', () => {
  it('validates: a capability stands in for the model; both, tier+capability, model-free or cascade nodes are rejected with paths', () => {
    // No resolver is needed to validate, and requireModels is satisfied by the capability.
    const workflow = validateWorkflow(spec(), { requireModels: true });
    assert.equal(workflow.nodes[0]!.model, undefined);
    assert.deepEqual(workflow.nodes[0]!.capability, NEED);
    assert.equal(workflow.nodes[1]!.capability, undefined);

    assert.deepEqual(issuesOf(spec(NEED, { model: 'sim:small' }), { requireModels: true }), [
      'capability nodes[0].capability: give either model or capability, not both',
    ]);
    assert.deepEqual(issuesOf(spec(NEED, { tier: 'small' }), { requireModels: true }), [
      'capability nodes[0].capability: give either tier or capability, not both',
    ]);
    const aggregate = {
      version: 1,
      nodes: [
        { id: 'x', op: 'generate', model: 'sim:small', params: { prompt: '{{query}}' } },
        { id: 'y', op: 'aggregate', capability: NEED, inputs: { x: 'x.answer' }, params: { method: 'first' } },
      ],
      output: 'y',
    };
    assert.deepEqual(issuesOf(aggregate), ['capability nodes[1].capability: aggregate makes no model call; remove capability']);
    const cascade = {
      version: 1,
      nodes: [
        { id: 'c', op: 'cascade', capability: NEED, params: { stages: [{ model: 'sim:small', threshold: 0.5, signal: 'confidence' }] } },
      ],
      output: 'c',
    };
    assert.deepEqual(issuesOf(cascade), [
      'capability nodes[0].capability: a cascade names its models per stage (params.stages[].model); capability is not supported on cascade nodes',
    ]);

    // Neither a model nor a capability (and no default): the node has nothing to call.
    const neither = { version: 1, nodes: [{ id: 'a', op: 'generate', params: { prompt: '{{query}}' } }], output: 'a' };
    assert.deepEqual(issuesOf(neither, { requireModels: true }), [
      'model nodes[0].model: no model: set nodes[].model or nodes[].capability, a tier bound by the caller, defaults.model, or a default model',
    ]);

    // Labels are the registry's (lowercase); the need is required; unknown keys are errors.
    const bad = issuesOf(spec({ need: '', require: ['EU'], budget: 3 }));
    assert.ok(
      bad.some((issue) => issue.startsWith('schema nodes[0].capability.need')),
      bad.join('\n'),
    );
    assert.ok(
      bad.some((issue) => issue.startsWith('schema nodes[0].capability.require[0]') && issue.includes('lowercase')),
      bad.join('\n'),
    );
    assert.ok(
      bad.some((issue) => issue.startsWith('schema nodes[0].capability') && issue.includes('budget')),
      bad.join('\n'),
    );
  });

  it('estimates capability nodes at maxCostPerCall per call, and flags them unpriced without one', () => {
    const { fleet } = simFleet();
    const priced = estimateWorkflow(
      validateWorkflow(
        spec({ need: 'x', maxCostPerCall: 0.002 }, { op: 'sample', params: { samples: 3, aggregator: 'majority', maxOutputTokens: 64 } }),
        { requireModels: true },
      ),
      fleet,
      { query: QUERY },
    );
    assert.equal(priced.nodes['a']!.capability, 'x');
    assert.equal(priced.nodes['a']!.unpriced, undefined);
    assert.equal(priced.nodes['a']!.worst.calls, 3);
    assert.ok(Math.abs(priced.nodes['a']!.worst.usd - 3 * 0.002) < 1e-12);
    assert.equal(priced.nodes['a']!.worst.outputTokens, 3 * 64);
    assert.deepEqual(priced.unpriced, []);
    assert.ok(priced.assumptions.includes(CAPABILITY_ASSUMPTION));

    const unpriced = estimateWorkflow(validateWorkflow(spec({ need: 'x' }), { requireModels: true }), fleet, { query: QUERY });
    assert.equal(unpriced.nodes['a']!.unpriced, true);
    assert.equal(unpriced.nodes['a']!.worst.usd, 0);
    assert.ok(unpriced.nodes['a']!.worst.totalTokens > 64, 'tokens are still counted');
    assert.deepEqual(unpriced.unpriced, ['a']);
    // The model node is priced from the fleet as before.
    assert.ok(unpriced.nodes['b']!.worst.usd > 0);
  });

  it('binds the node through the resolver: run policy merged, node budget passed, choice traced and journaled, runs on the bound model', async () => {
    const { fleet } = simFleet(4);
    const { resolver, seen } = fakeResolver();
    const ledger = new Ledger({ clock: fleet.clock, limits: { usd: 0.005 } });
    const journal = Journal.open(':memory:');
    journal.beginOrResumeRun({ id: 'r1', command: 'test', query: QUERY, args: {}, seed: 4, simulated: true, budget: {} });
    const result = await runWorkflow({
      spec: spec(),
      query: QUERY,
      fleet,
      budget: ledger.root,
      operators: defaultOperators(),
      resolveCapability: resolver,
      capabilityPolicy: { require: ['tier:small'], forbid: ['may-use-network', 'gpu'], providers: ['sim'], maxLatencyMs: 5_000 },
      journal: { journal, runId: 'r1' },
    });
    assert.equal(result.status, 'ok', JSON.stringify(result.nodes));
    assert.equal(seen.length, 1);
    const { request, context } = seen[0]!;
    assert.equal(context.nodeId, 'a');
    assert.deepEqual(request.require, ['local', 'tier:small']);
    assert.deepEqual(request.forbid, ['gpu', 'may-use-network']);
    assert.deepEqual(request.providers, ['sim']);
    assert.equal(request.maxLatencyMs, 5_000);
    // The node's slice of the $0.005 budget is tighter than the node's own $0.01 cap, so it is the cap.
    assert.ok(context.remainingUsd !== undefined && context.remainingUsd > 0 && context.remainingUsd <= 0.005);
    assert.equal(request.maxCostPerCall, context.remainingUsd);

    const events = result.trace.events.filter((event) => event.type === 'capability-bound');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.stepId, 'wf/a');
    assert.equal(events[0]!.data['card'], 'fake-card@1.2.3');
    assert.equal(events[0]!.data['model'], 'sim:small');
    assert.deepEqual(events[0]!.data['explanation'], { similarity: 0.8 });
    assert.deepEqual(result.nodes['a']!.capability, { card: 'fake-card@1.2.3', model: 'sim:small', score: 0.75 });

    // The node's calls went to the bound model; the other node kept its own.
    const byModel = ledger.report().byModel;
    assert.equal(byModel['sim:small']?.calls, 1);
    assert.equal(byModel['sim:medium']?.calls, 1);
    const step = journal.getSteps('r1').find((row) => row.stepId === 'wf/a')!;
    assert.equal((step.input as { capability: string }).capability, 'fake-card@1.2.3');
    assert.equal((step.input as { model: string }).model, 'sim:small');
    journal.close();
  });

  it(
    'fails the node with CAPABILITY_UNRESOLVED — never a fallback — when there is no resolver, no match, an uncallable model or a binding ' +
      'outside policy',
    async () => {
      const cases: Array<[string, CapabilityResolver | undefined, string]> = [
        ['no resolver', undefined, 'no-resolver'],
        [
          'nothing qualifies',
          async () => {
            throw new Error('No active capability passes every constraint');
          },
          'no-match',
        ],
        ['model not in the fleet', fakeResolver({ model: 'no-such-alias' }).resolver, 'model-unavailable'],
        ['forbidden label', fakeResolver({ labels: ['local', 'may-use-network'] }).resolver, 'outside-policy'],
        ['too expensive', fakeResolver({ labels: ['local'], costPerCall: 0.5 }).resolver, 'outside-policy'],
      ];
      for (const [what, resolver, reason] of cases) {
        const { fleet } = simFleet();
        const ledger = new Ledger({ clock: fleet.clock });
        // A default model is given: it must NOT be used for the capability node.
        const result = await runWorkflow({
          spec: spec(),
          query: QUERY,
          fleet,
          budget: ledger.root,
          operators: defaultOperators(),
          model: 'sim:large',
          ...(resolver ? { resolveCapability: resolver } : {}),
        });
        assert.equal(result.status, 'error', what);
        assert.equal(result.nodes['a']!.status, 'error', what);
        assert.equal(result.nodes['a']!.error?.code, 'CAPABILITY_UNRESOLVED', what);
        assert.ok(result.nodes['a']!.error.message.includes(`(${reason})`), `${what}: ${result.nodes['a']!.error.message}`);
        assert.equal(result.nodes['b']!.status, 'skipped', what);
        assert.equal(ledger.root.spent().calls, 0, `${what}: nothing was called`);
        assert.equal(result.trace.events.filter((event) => event.type === 'capability-bound').length, 0, what);
      }
    },
  );

  it('merges policy: union of labels, intersection of providers, tighter limits; contradictions fail up front', () => {
    assert.deepEqual(
      mergeCapabilityConstraints(
        'a',
        { need: 'x', require: ['b'], maxCostPerCall: 0.1, maxLatencyMs: 10 },
        { require: ['a', 'b'], maxCostPerCall: 0.05, providers: ['p'] },
        0.2,
      ),
      {
        need: 'x',
        require: ['a', 'b'],
        forbid: [],
        providers: ['p'],
        maxCostPerCall: 0.05,
        maxLatencyMs: 10,
      },
    );
    assert.throws(
      () => mergeCapabilityConstraints('a', { need: 'x', require: ['eu'] }, { forbid: ['eu'] }),
      (error: unknown) =>
        error instanceof CapabilityUnresolvedError &&
        error.code === 'CAPABILITY_UNRESOLVED' &&
        error.message.includes('both required and forbidden'),
    );
    assert.throws(
      () => mergeCapabilityConstraints('a', { need: 'x', providers: ['p'] }, { providers: ['q'] }),
      (error: unknown) => error instanceof CapabilityUnresolvedError && error.message.includes('the run allows only q'),
    );
  });

  it('preflight binds every reachable capability node and lists every failure', async () => {
    const workflow = validateWorkflow({
      version: 1,
      nodes: [
        { id: 'ok', op: 'generate', capability: { need: 'fine' }, params: { prompt: '{{query}}' } },
        { id: 'bad1', op: 'generate', capability: { need: 'impossible one' }, params: { prompt: '{{query}}' } },
        { id: 'bad2', op: 'generate', capability: { need: 'impossible two' }, params: { prompt: '{{query}}' } },
        { id: 'out', op: 'aggregate', inputs: { a: 'ok.answer', b: 'bad1.answer', c: 'bad2.answer' }, params: { method: 'first' } },
      ],
      output: 'out',
    });
    const resolver: CapabilityResolver = async (request) => {
      if (request.need.startsWith('impossible')) throw new Error(`nothing for ${request.need}`);
      return { model: 'sim:small', cardId: 'c', version: '1.0.0', score: 1, explanation: {} };
    };
    await assert.rejects(preflightCapabilities(workflow.nodes, { resolver }), (error: unknown) => {
      assert.ok(error instanceof CapabilityUnresolvedError);
      assert.deepEqual(
        error.issues.map((issue) => issue.path),
        ['nodes.bad1.capability', 'nodes.bad2.capability'],
      );
      return true;
    });
    const bound = await preflightCapabilities(
      workflow.nodes.filter((node) => !node.id.startsWith('bad')),
      { resolver },
    );
    assert.deepEqual(Object.keys(bound), ['ok']);
  });
});
