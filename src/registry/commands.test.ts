import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VirtualClock } from '../core/index.ts';
import { FleetResolver, parseFleetConfig } from '../models/index.ts';
import { agentsAdd, agentsList, agentsReembed, agentsReindex, agentsSearch, agentsSetStatus, agentsShow, agentsSyncFleet, defaultRegistryPath, embedderFromSpec, openRegistry } from './commands.ts';
import { NoCapabilityError } from './errors.ts';
import { resolveCapability } from './resolve.ts';
import { card, fixture, issuesOf, tempFolder } from './testing/fixtures.ts';

const FLEET = parseFleetConfig({
  version: 1,
  models: {
    'local-small': { provider: 'sim', profile: 'small', description: 'Small simulated model for quick classification and extraction' },
    'big-reasoner': { provider: 'sim', profile: 'reasoner-large', description: 'Large reasoning model for hard math and planning' },
    remote: { provider: 'openai-compatible', baseURL: 'https://api.example.com/v1', model: 'gpt-x', priceInputPerMillion: 2, priceOutputPerMillion: 8, tier: 'large' },
  },
});
const profiles = new FleetResolver({ config: FLEET, clock: new VirtualClock(), seed: 1 });

describe('agents commands', () => {
  it('add / ls / show / search / deprecate / yank / reindex / reembed on a registry file', async () => {
    const folder = tempFolder();
    try {
      const cardsFile = join(folder.path, 'cards.json');
      writeFileSync(cardsFile, JSON.stringify([card('notes', '1.0.0', { description: 'Takes meeting notes and lists action items' }), card('notes', '1.1.0', { description: 'Takes meeting notes and lists action items and owners' })]));
      const registry = await openRegistry({ env: { THICKET_REGISTRY: join(folder.path, 'registry.db') } });
      assert.equal(registry.indexPath, join(folder.path, 'registry.db.usearch'));
      assert.deepEqual((await agentsAdd(registry, { source: cardsFile })).added, ['notes@1.0.0', 'notes@1.1.0']);
      const a2a = await agentsAdd(registry, { source: fixture('a2a-v03.json'), labels: ['residency:eu'] });
      assert.equal(a2a.kind, 'a2a');
      const mcp = await agentsAdd(registry, { source: fixture('mcp-tools.json'), server: 'weather', serverVersion: '1.0.0', cost: { perCallUsd: 0.001 } });
      assert.deepEqual(mcp.added, ['mcp:weather/get_weather@1.0.0', 'mcp:weather/convert_currency@1.0.0']);

      const listed = agentsList(registry);
      assert.equal(listed.total, 6);
      assert.deepEqual(listed.cards.find((entry) => entry.id === 'mcp:weather/get_weather'), {
        ref: 'mcp:weather/get_weather@1.0.0', id: 'mcp:weather/get_weather', version: '1.0.0', status: 'active', name: 'Weather lookup', provider: 'weather', binding: 'mcp', labels: ['protocol:mcp'], costPerCall: 0.001,
      });
      assert.deepEqual(agentsShow(registry, { reference: 'notes@^1' }).versions, [{ version: '1.0.0', status: 'active' }, { version: '1.1.0', status: 'active' }]);
      assert.equal(agentsShow(registry, { reference: 'notes' }).card.version, '1.1.0');

      const search = await agentsSearch(registry, { need: 'summarize this NDA contract', require: ['residency:eu'], k: 2 });
      assert.equal(search.results[0]!.id, 'a2a:legal.example.com/contract-desk/contract-summary');
      assert.equal(search.plan.method, 'exact');
      assert.deepEqual((await agentsSearch(registry, { need: 'weather in Paris', maxCost: 0.0005 })).results, [], 'every priced card costs more, the rest are unpriced');
      assert.equal(JSON.parse(JSON.stringify(search)).results[0].explanation.passed[1], 'require:residency:eu', 'results are JSON-able');

      assert.equal(agentsSetStatus(registry, { reference: 'notes@1.1.0', status: 'deprecated' }).status, 'deprecated');
      assert.equal(agentsShow(registry, { reference: 'notes' }).card.version, '1.0.0');
      assert.equal(agentsSetStatus(registry, { reference: 'notes@1.0.0', status: 'yanked' }).status, 'yanked');
      assert.deepEqual((await issuesOf(() => agentsSetStatus(registry, { reference: 'notes', status: 'yanked' }))).map((issue) => issue.message), ['give an exact version: <id>@<x.y.z>']);
      assert.deepEqual((await agentsSearch(registry, { need: 'take meeting notes', k: 10 })).results.filter((result) => result.id === 'notes'), []);

      assert.equal(agentsReindex(registry).indexed, 4);
      assert.deepEqual(await agentsReembed(registry, { embedder: 'hash-v1-64' }), { cards: 6, from: 'hash-v1-384', to: 'hash-v1-64' });
      assert.equal((await agentsSearch(registry, { need: 'convert currency amounts' })).results[0]!.id, 'mcp:weather/convert_currency');
      registry.close();
      assert.deepEqual((await issuesOf(() => embedderFromSpec('bert'))).map((issue) => issue.path), ['--embedder']);
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
    const first = await agentsSyncFleet(registry, { config: FLEET, profiles });
    assert.deepEqual(first.added.sort(), ['model:big-reasoner@1.0.0', 'model:local-small@1.0.0', 'model:remote@1.0.0']);
    const small = registry.resolve('model:local-small');
    assert.deepEqual(small.binding, { kind: 'model', ref: 'local-small' });
    assert.deepEqual(small.labels, ['local', 'simulated', 'tier:small']);
    assert.equal(small.latency?.p50Ms, 150 + 500 * 6);
    const remote = registry.resolve('model:remote');
    assert.deepEqual(remote.labels, ['may-use-network', 'tier:large']);
    assert.equal(remote.provider, 'api.example.com');
    assert.equal(agentsList(registry).cards.find((entry) => entry.id === 'model:remote')!.costPerCall, (1000 * 2 + 500 * 8) / 1e6);
    assert.deepEqual((await agentsSyncFleet(registry, { config: FLEET, profiles })).added, []);
    const changed = parseFleetConfig({ ...FLEET, models: { ...FLEET.models, remote: { ...FLEET.models['remote']!, priceInputPerMillion: 1 } } });
    const second = await agentsSyncFleet(registry, { config: changed, profiles: new FleetResolver({ config: changed, clock: new VirtualClock(), seed: 1 }) });
    assert.deepEqual(second, { added: ['model:remote@1.1.0'], unchanged: ['model:local-small@1.0.0', 'model:big-reasoner@1.0.0'], deprecated: ['model:remote@1.0.0'] });
    assert.equal(registry.resolve('model:remote').version, '1.1.0');
  });

  it('resolveCapability binds a need to the best capability under constraints, or fails loudly', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    await agentsSyncFleet(registry, { config: FLEET, profiles });
    await registry.register(card('math-agent', '1.0.0', { description: 'Solves hard math problems with careful reasoning', labels: ['may-use-network'] }));
    const chosen = await resolveCapability(registry, { need: 'solve a hard math problem with reasoning', forbid: ['may-use-network'] }, { bindingKinds: ['model'] });
    assert.deepEqual(chosen.binding, { kind: 'model', ref: 'big-reasoner' });
    assert.equal(chosen.ref, 'model:big-reasoner@1.0.0');
    const unconstrained = await resolveCapability(registry, 'solve hard math problems with careful reasoning');
    assert.equal(unconstrained.ref, 'math-agent@1.0.0');
    await assert.rejects(resolveCapability(registry, { need: 'anything', require: ['clearance:secret'] }), (error: unknown) => error instanceof NoCapabilityError && error.message.includes('require:clearance:secret'));
  });
});
