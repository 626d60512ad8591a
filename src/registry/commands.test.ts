import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VirtualClock } from '../core/index.ts';
import { FleetResolver, parseFleetConfig } from '../models/index.ts';
import { CAPABILITY_LABEL_PATTERN, CapabilityUnresolvedError, type CapabilityResolveContext } from '../workflow/index.ts';
import { LABEL_PATTERN } from './card.ts';
import {
  agentsAdd,
  agentsList,
  agentsReembed,
  agentsReindex,
  agentsSearch,
  agentsSetStatus,
  agentsShow,
  agentsSyncFleet,
  checkOverrides,
  defaultRegistryPath,
  embedderFromSpec,
  openRegistry,
} from './commands.ts';
import { NoCapabilityError } from './errors.ts';
import { resolveCapability, workflowCapabilityResolver } from './resolve.ts';
import { card, fixture, issuesOf, tempFolder } from './testing/fixtures.ts';

const FLEET = parseFleetConfig({
  version: 1,
  models: {
    'local-small': { provider: 'sim', profile: 'small', description: 'Small simulated model for quick classification and extraction' },
    'big-reasoner': { provider: 'sim', profile: 'reasoner-large', description: 'Large reasoning model for hard math and planning' },
    remote: {
      provider: 'openai-compatible',
      baseURL: 'https://api.example.com/v1',
      model: 'gpt-x',
      priceInputPerMillion: 2,
      priceOutputPerMillion: 8,
      tier: 'large',
    },
  },
});
const profiles = new FleetResolver({ config: FLEET, clock: new VirtualClock(), seed: 1 });

describe('agents commands', () => {
  it('add / ls / show / search / deprecate / yank / reindex / reembed on a registry file', async () => {
    const folder = tempFolder();
    try {
      const cardsFile = join(folder.path, 'cards.json');
      writeFileSync(
        cardsFile,
        JSON.stringify([
          card('notes', '1.0.0', { description: 'Takes meeting notes and lists action items' }),
          card('notes', '1.1.0', { description: 'Takes meeting notes and lists action items and owners' }),
        ]),
      );
      const registry = await openRegistry({ env: { THICKET_REGISTRY: join(folder.path, 'registry.db') } });
      assert.equal(registry.indexPath, join(folder.path, 'registry.db.usearch'));
      assert.deepEqual((await agentsAdd(registry, { source: cardsFile })).added, ['notes@1.0.0', 'notes@1.1.0']);
      const a2a = await agentsAdd(registry, { source: fixture('a2a-v03.json'), labels: ['residency:eu'] });
      assert.equal(a2a.kind, 'a2a');
      const mcp = await agentsAdd(registry, {
        source: fixture('mcp-tools.json'),
        server: 'weather',
        serverVersion: '1.0.0',
        cost: { perCallUsd: 0.001 },
      });
      assert.deepEqual(mcp.added, ['mcp:weather/get_weather@1.0.0', 'mcp:weather/convert_currency@1.0.0']);

      const listed = agentsList(registry);
      assert.equal(listed.total, 6);
      assert.deepEqual(
        listed.cards.find((entry) => entry.id === 'mcp:weather/get_weather'),
        {
          ref: 'mcp:weather/get_weather@1.0.0',
          id: 'mcp:weather/get_weather',
          version: '1.0.0',
          status: 'active',
          name: 'Weather lookup',
          provider: 'weather',
          binding: 'mcp',
          labels: ['protocol:mcp'],
          costPerCall: 0.001,
        },
      );
      assert.deepEqual(agentsShow(registry, { reference: 'notes@^1' }).versions, [
        { version: '1.0.0', status: 'active' },
        { version: '1.1.0', status: 'active' },
      ]);
      assert.equal(agentsShow(registry, { reference: 'notes' }).card.version, '1.1.0');

      const search = await agentsSearch(registry, { need: 'summarize this NDA contract', require: ['residency:eu'], k: 2 });
      assert.equal(search.results[0]!.id, 'a2a:legal.example.com/contract-desk/contract-summary');
      assert.equal(search.plan.method, 'exact');
      assert.deepEqual(
        (await agentsSearch(registry, { need: 'weather in Paris', maxCost: 0.0005 })).results,
        [],
        'every priced card costs more, the rest are unpriced',
      );
      assert.equal(
        (JSON.parse(JSON.stringify(search)) as { results: Array<{ explanation: { passed: string[] } }> }).results[0]!.explanation.passed[1],
        'require:residency:eu',
        'results are JSON-able',
      );

      assert.equal(agentsSetStatus(registry, { reference: 'notes@1.1.0', status: 'deprecated' }).status, 'deprecated');
      assert.equal(agentsShow(registry, { reference: 'notes' }).card.version, '1.0.0');
      assert.equal(agentsSetStatus(registry, { reference: 'notes@1.0.0', status: 'yanked' }).status, 'yanked');
      assert.deepEqual(
        (await issuesOf(() => agentsSetStatus(registry, { reference: 'notes', status: 'yanked' }))).map((issue) => issue.message),
        ['give an exact version: <id>@<x.y.z>'],
      );
      assert.deepEqual(
        (await agentsSearch(registry, { need: 'take meeting notes', k: 10 })).results.filter((result) => result.id === 'notes'),
        [],
      );

      assert.equal(agentsReindex(registry).indexed, 4);
      assert.deepEqual(await agentsReembed(registry, { embedder: 'hash-v1-64' }), { cards: 6, from: 'hash-v1-384', to: 'hash-v1-64' });
      assert.equal((await agentsSearch(registry, { need: 'convert currency amounts' })).results[0]!.id, 'mcp:weather/convert_currency');
      registry.close();
      assert.deepEqual(
        (await issuesOf(() => embedderFromSpec('bert'))).map((issue) => issue.path),
        ['--embedder'],
      );
    } finally {
      folder.cleanup();
    }
  });

  it('the default path sits beside the journal unless THICKET_REGISTRY says otherwise', () => {
    assert.equal(defaultRegistryPath({ THICKET_DB: '/data/thicket/journal.db' }), '/data/thicket/registry.db');
    assert.equal(defaultRegistryPath({ THICKET_REGISTRY: '/x/r.db', THICKET_DB: '/data/journal.db' }), '/x/r.db');
  });

  it('syncs fleet models as capabilities: unchanged is a no-op, a change is a new minor version', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    const first = await agentsSyncFleet(registry, { config: FLEET, profiles, includeSim: false });
    assert.deepEqual(first.added.sort(), ['model:big-reasoner@1.0.0', 'model:local-small@1.0.0', 'model:remote@1.0.0']);
    const small = registry.resolve('model:local-small');
    assert.deepEqual(small.binding, { kind: 'model', ref: 'local-small' });
    assert.deepEqual(small.labels, ['local', 'simulated', 'tier:small']);
    assert.equal(small.latency?.p50Ms, 150 + 500 * 6);
    const remote = registry.resolve('model:remote');
    assert.deepEqual(remote.labels, ['may-use-network', 'tier:large']);
    assert.equal(remote.provider, 'api.example.com');
    assert.equal(agentsList(registry).cards.find((entry) => entry.id === 'model:remote')!.costPerCall, (1000 * 2 + 500 * 8) / 1e6);
    assert.deepEqual((await agentsSyncFleet(registry, { config: FLEET, profiles, includeSim: false })).added, []);
    const changed = parseFleetConfig({
      ...FLEET,
      models: { ...FLEET.models, remote: { ...FLEET.models['remote']!, priceInputPerMillion: 1 } },
    });
    const second = await agentsSyncFleet(registry, {
      config: changed,
      profiles: new FleetResolver({ config: changed, clock: new VirtualClock(), seed: 1 }),
      includeSim: false,
    });
    assert.deepEqual(second, {
      added: ['model:remote@1.1.0'],
      unchanged: ['model:local-small@1.0.0', 'model:big-reasoner@1.0.0'],
      deprecated: ['model:remote@1.0.0'],
      yanked: [],
      unavailable: [],
    });
    assert.equal(registry.resolve('model:remote').version, '1.1.0');
  });

  it('resolveCapability binds a need to the best capability under constraints, or fails loudly', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    await agentsSyncFleet(registry, { config: FLEET, profiles, includeSim: false });
    await registry.register(
      card('math-agent', '1.0.0', { description: 'Solves hard math problems with careful reasoning', labels: ['may-use-network'] }),
    );
    const chosen = await resolveCapability(
      registry,
      { need: 'solve a hard math problem with reasoning', forbid: ['may-use-network'] },
      { bindingKinds: ['model'] },
    );
    assert.deepEqual(chosen.binding, { kind: 'model', ref: 'big-reasoner' });
    assert.equal(chosen.ref, 'model:big-reasoner@1.0.0');
    const unconstrained = await resolveCapability(registry, 'solve hard math problems with careful reasoning');
    assert.equal(unconstrained.ref, 'math-agent@1.0.0');
    await assert.rejects(
      resolveCapability(registry, { need: 'anything', require: ['clearance:secret'] }),
      (error: unknown) => error instanceof NoCapabilityError && error.message.includes('require:clearance:secret'),
    );
  });

  it('sync-fleet registers the built-in sim tiers too; re-running is a no-op; a yanked card stays yanked; a change is a new version', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    const first = await agentsSyncFleet(registry, { config: FLEET, profiles });
    assert.deepEqual(first.added.filter((ref) => ref.startsWith('model:sim:')).sort(), [
      'model:sim:large@1.0.0',
      'model:sim:medium@1.0.0',
      'model:sim:reasoner-large@1.0.0',
      'model:sim:reasoner-small@1.0.0',
      'model:sim:small@1.0.0',
    ]);
    assert.equal(first.added.length, 8);
    const small = registry.resolve('model:sim:small');
    assert.deepEqual(small.binding, { kind: 'model', ref: 'sim:small' });
    assert.deepEqual(small.labels, ['local', 'simulated', 'tier:small']);
    assert.deepEqual(registry.resolve('model:sim:reasoner-large').labels, ['local', 'reasoning', 'simulated', 'tier:large']);
    const again = await agentsSyncFleet(registry, { config: FLEET, profiles });
    assert.deepEqual([again.added, again.deprecated, again.yanked, again.unchanged.length], [[], [], [], 8]);

    // A yanked version with the same content is not brought back by a re-sync.
    agentsSetStatus(registry, { reference: 'model:sim:large@1.0.0', status: 'yanked' });
    const afterYank = await agentsSyncFleet(registry, { config: FLEET, profiles });
    assert.deepEqual([afterYank.added, afterYank.yanked], [[], ['model:sim:large@1.0.0']]);
    assert.equal(agentsList(registry, { id: 'model:sim:large' }).cards[0]!.status, 'yanked');

    // Changed content after a yank becomes the next version (the yanked number is never reused).
    agentsSetStatus(registry, { reference: 'model:local-small@1.0.0', status: 'yanked' });
    const described = parseFleetConfig({
      ...FLEET,
      models: { ...FLEET.models, 'local-small': { ...FLEET.models['local-small']!, description: 'Small model, described differently' } },
    });
    const changed = await agentsSyncFleet(registry, {
      config: described,
      profiles: new FleetResolver({ config: described, clock: new VirtualClock(), seed: 1 }),
    });
    assert.deepEqual(changed.added, ['model:local-small@1.1.0']);
    assert.deepEqual(changed.deprecated, [], 'the yanked version is not deprecated');
    assert.equal(registry.resolve('model:local-small').version, '1.1.0');
    registry.close();
  });

  it('sync-fleet skips a model that cannot resolve (missing gguf file), reports it, and leaves its card as it was', async () => {
    const folder = tempFolder();
    try {
      const model = join(folder.path, 'local.gguf');
      const withLocal = parseFleetConfig({ ...FLEET, models: { ...FLEET.models, local: { provider: 'llama', path: model } } });
      const resolverFor = () => new FleetResolver({ config: withLocal, clock: new VirtualClock(), seed: 1 });
      const registry = await openRegistry({ path: ':memory:' });
      // While the file is a GGUF header stand-in the reference resolves (a stat and 24 bytes; no weights are read).
      writeFileSync(model, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(16)]));
      const first = await agentsSyncFleet(registry, { config: withLocal, profiles: resolverFor(), includeSim: false });
      assert.ok(first.added.includes('model:local@1.0.0'), first.added.join(', '));
      assert.deepEqual(first.unavailable, []);
      rmSync(model);
      const second = await agentsSyncFleet(registry, { config: withLocal, profiles: resolverFor(), includeSim: false });
      assert.deepEqual(
        second.unavailable.map((entry) => [entry.alias, entry.error.code]),
        [['local', 'UNKNOWN_MODEL']],
      );
      assert.ok(second.unavailable[0]!.error.message.includes(`No model file at ${model}`));
      assert.deepEqual([second.added, second.deprecated], [[], []]);
      assert.equal(second.unchanged.length, 3, 'the other models sync as before');
      assert.equal(registry.resolve('model:local').status, 'active', 'its card is left as it was');
      registry.close();
    } finally {
      folder.cleanup();
    }
  });

  it('agents add applies --label/--provider/--cost-per-call/--latency-ms/--quality before validating, and lists every bad override', async () => {
    const folder = tempFolder();
    try {
      const file = join(folder.path, 'cards.json');
      writeFileSync(
        file,
        JSON.stringify([
          card('solver', '1.0.0', { labels: ['tier:small'], latency: { p50Ms: 100, p95Ms: 900 }, cost: { inputPerMillionUsd: 1 } }),
          card('helper', '2.0.0'),
        ]),
      );
      const registry = await openRegistry({ path: ':memory:' });
      const added = await agentsAdd(registry, {
        source: file,
        labels: ['residency:eu', 'tier:small'],
        provider: 'acme',
        cost: { perCallUsd: 0.002 },
        latency: { p50Ms: 250 },
        quality: 0.9,
      });
      assert.deepEqual(added.added, ['solver@1.0.0', 'helper@2.0.0']);
      const solver = registry.resolve('solver');
      assert.deepEqual(solver.labels, ['residency:eu', 'tier:small']);
      assert.equal(solver.provider, 'acme');
      assert.deepEqual(solver.cost, { inputPerMillionUsd: 1, perCallUsd: 0.002 });
      assert.deepEqual(solver.latency, { p50Ms: 250 }, 'the stale p95 is replaced, or it would still bind latency limits');
      assert.equal(solver.quality, 0.9);
      assert.deepEqual(registry.resolve('helper').labels, ['residency:eu', 'tier:small']);
      // The overrides decide discovery: every card now carries the label and the per-call cost.
      // (No relevance floor here: what is under test is the filters.)
      const filtersOnly = { need: 'solver', minSimilarity: -1 };
      assert.equal((await agentsSearch(registry, { ...filtersOnly, require: ['residency:eu'], maxCost: 0.002 })).results.length, 2);
      assert.equal((await agentsSearch(registry, { ...filtersOnly, maxCost: 0.0019 })).results.length, 0);

      const issues = await issuesOf(() =>
        agentsAdd(registry, {
          source: file,
          labels: ['EU', 'ok', 'bad label'],
          provider: ' ',
          cost: { perCallUsd: -1 },
          latency: { p50Ms: Number.NaN },
          quality: 1.5,
        }),
      );
      assert.deepEqual(
        issues.map((issue) => issue.path),
        ['--label', '--label', '--provider', '--cost-per-call', '--latency-ms', '--quality'],
      );
      assert.doesNotThrow(() => checkOverrides({ labels: ['clearance:internal'], quality: 0 }));
      assert.equal(agentsList(registry).total, 2, 'nothing was stored by the rejected add');
      registry.close();
    } finally {
      folder.cleanup();
    }
  });

  it('agents ls filters by id and status (total counts the matches); agents search filters by binding kind', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    await registry.register([
      card('notes', '1.0.0'),
      card('notes', '1.1.0'),
      card('other', '1.0.0'),
      { ...card('model-notes', '1.0.0', { description: 'Takes meeting notes' }), binding: { kind: 'model', ref: 'sim:small' } },
    ]);
    agentsSetStatus(registry, { reference: 'notes@1.0.0', status: 'deprecated' });
    assert.deepEqual(
      agentsList(registry, { id: 'notes' }).cards.map((entry) => entry.ref),
      ['notes@1.0.0', 'notes@1.1.0'],
    );
    assert.deepEqual(agentsList(registry, { id: 'notes', status: 'active' }), {
      total: 1,
      cards: [agentsList(registry, { id: 'notes' }).cards[1]!],
    });
    assert.deepEqual(
      agentsList(registry, { status: 'deprecated' }).cards.map((entry) => entry.ref),
      ['notes@1.0.0'],
    );
    assert.equal(agentsList(registry, { status: 'active', limit: 1 }).total, 3);
    assert.equal(agentsList(registry).total, 4);
    const models = await agentsSearch(registry, { need: 'take meeting notes', bindingKinds: ['model'], k: 10 });
    assert.deepEqual(
      models.results.map((result) => result.ref),
      ['model-notes@1.0.0'],
    );
    const agents = await agentsSearch(registry, { need: 'take meeting notes', bindingKinds: ['agent'], k: 10 });
    assert.ok(agents.results.length > 0 && agents.results.every((result) => result.binding === 'agent'));
    registry.close();
  });

  it('workflowCapabilityResolver binds only fleet-model cards the fleet can call, and says why otherwise', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    const context: CapabilityResolveContext = { nodeId: 'n', node: { need: 'x' }, runPolicy: {}, remainingUsd: undefined };
    const knows = (model: string): string | undefined => (model.startsWith('sim:') ? undefined : `unknown model ${model}`);
    const resolver = workflowCapabilityResolver(registry, { canCall: knows });
    await registry.register([
      {
        ...card('contract-agent', '1.0.0', { description: 'Reviews legal contracts and flags risky clauses', labels: ['residency:eu'] }),
        binding: { kind: 'a2a', url: 'https://legal.example.com/a2a' },
      },
      {
        ...card('contract-model', '1.0.0', {
          description: 'Reviews legal contracts',
          labels: ['residency:us'],
          cost: { perCallUsd: 0.01 },
        }),
        binding: { kind: 'model', ref: 'sim:large' },
      },
      {
        ...card('ghost-model', '1.0.0', { description: 'Translates poetry between languages', labels: ['residency:fr'] }),
        binding: { kind: 'model', ref: 'openai:ghost' },
      },
    ]);
    const bound = await resolver({ need: 'review a legal contract', require: [], forbid: [] }, context);
    assert.deepEqual(
      { ...bound, explanation: undefined },
      {
        model: 'sim:large',
        cardId: 'contract-model',
        version: '1.0.0',
        score: bound.score,
        explanation: undefined,
        labels: ['residency:us'],
        costPerCall: 0.01,
      },
    );
    const reason = async (request: Parameters<typeof resolver>[0]): Promise<string> => {
      try {
        await resolver(request, context);
      } catch (error) {
        assert.ok(error instanceof CapabilityUnresolvedError && error.code === 'CAPABILITY_UNRESOLVED');
        return `${error.reason}: ${error.message}`;
      }
      return 'bound';
    };
    assert.match(
      await reason({ need: 'review a legal contract', require: ['residency:eu'], forbid: [] }),
      /^not-executable: .*contract-agent@1\.0\.0, is an a2a binding; only fleet model cards/,
    );
    assert.match(
      await reason({ need: 'translate poetry', require: ['residency:fr'], forbid: [] }),
      /^model-unavailable: .*ghost-model@1\.0\.0 → openai:ghost \(unknown model openai:ghost\)/,
    );
    assert.match(
      await reason({ need: 'review a legal contract', require: [], forbid: [], maxCostPerCall: 0.001 }),
      /^no-match: .*costPerCall≤0\.001/,
    );
    registry.close();
  });

  it("the workflow spec's capability labels follow the registry's label rule", () => {
    assert.equal(CAPABILITY_LABEL_PATTERN.source, LABEL_PATTERN.source);
  });
});
