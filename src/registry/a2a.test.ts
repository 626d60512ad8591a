import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { a2aToCards, agentCardUrl, detectA2AVersion, loadAgentCard } from './a2a.ts';
import { agentsAdd } from './commands.ts';
import { CapabilityRegistry } from './registry.ts';
import { fixture, issuesOf } from './testing/fixtures.ts';

const read = (name: string): unknown => JSON.parse(readFileSync(fixture(name), 'utf8'));

describe('A2A AgentCard ingestion', () => {
  it('maps a v0.3 card: one card per skill, version coerced, auth and access labels derived', () => {
    const document = read('a2a-v03.json');
    assert.equal(detectA2AVersion(document), '0.3');
    const cards = a2aToCards(document, { labels: ['residency:eu'], sourceUri: 'a2a-v03.json' });
    assert.deepEqual(
      cards.map((card) => `${card.id}@${card.version}`),
      ['a2a:legal.example.com/contract-desk/contract-summary@2.3.0', 'a2a:legal.example.com/contract-desk/clause-check@2.3.0'],
    );
    const [summary, clauses] = cards;
    assert.equal(summary!.name, 'Contract Desk: Contract summary');
    assert.equal(summary!.provider, 'Example Legal LLP');
    assert.deepEqual(summary!.labels, ['auth:http', 'may-use-network', 'protocol:a2a', 'residency:eu']);
    assert.deepEqual(summary!.binding, {
      kind: 'a2a',
      url: 'https://legal.example.com/a2a/v1',
      skill: 'contract-summary',
      protocolBinding: 'JSONRPC',
      protocolVersion: '0.3.0',
    });
    assert.deepEqual(summary!.io, { inputModes: ['text/plain', 'application/pdf'], outputModes: ['text/plain'] });
    assert.deepEqual(summary!.skills[0]!.examples, ['Summarize this NDA', 'What are the termination clauses in this lease?']);
    assert.deepEqual(
      clauses!.io,
      { inputModes: ['application/pdf'], outputModes: ['application/json'] },
      'skill modes override the defaults',
    );
    assert.equal((summary!.metadata!['agent'] as { version: string }).version, '2.3', 'the original version is kept');
    assert.deepEqual(summary!.source, { kind: 'a2a', protocolVersion: '0.3', uri: 'a2a-v03.json' });
  });

  it('maps a v1.0 card: preferred interface, one-of security schemes, skill requirements override the agent', () => {
    const document = read('a2a-v10.json');
    assert.equal(detectA2AVersion(document), '1.0');
    const [flights, itinerary] = a2aToCards(document);
    assert.equal(flights!.id, 'a2a:travel.example.org/trip-planner/flight-search');
    assert.equal(flights!.version, '1.0.0');
    assert.deepEqual(flights!.binding, {
      kind: 'a2a',
      url: 'https://travel.example.org/a2a',
      skill: 'flight-search',
      protocolBinding: 'JSONRPC',
      protocolVersion: '1.0',
    });
    assert.deepEqual(flights!.labels, ['auth:oauth2', 'may-use-network', 'protocol:a2a']);
    assert.deepEqual(itinerary!.labels, ['auth:apikey', 'may-use-network', 'protocol:a2a']);
    assert.equal(itinerary!.provider, 'Example Travel');
  });

  it('rejects invalid v0.3 and v1.0 cards listing every problem, and stores nothing', async () => {
    const registry = await CapabilityRegistry.open();
    const v03 = await issuesOf(() => agentsAdd(registry, { source: fixture('a2a-v03-invalid.json') }));
    assert.deepEqual(v03.map((issue) => issue.path).sort(), [
      'defaultOutputModes',
      'description',
      'skills[1].name',
      'skills[1].tags',
      'url',
    ]);
    const v10 = await issuesOf(() => agentsAdd(registry, { source: fixture('a2a-v10-invalid.json') }));
    assert.deepEqual(v10.map((issue) => issue.path).sort(), [
      'capabilities.streaming',
      'securitySchemes.weird',
      'supportedInterfaces[0].protocolVersion',
    ]);
    const noVersion = await issuesOf(() => a2aToCards({ ...(read('a2a-v10.json') as object), version: 'next' }));
    assert.deepEqual(
      noVersion.map((issue) => issue.path),
      ['version'],
    );
    assert.equal(registry.count(), 0);
  });

  it('an agent without skills becomes one card for the whole agent', () => {
    const cards = a2aToCards({ ...(read('a2a-v10.json') as object), skills: [] });
    assert.deepEqual(
      cards.map((card) => card.id),
      ['a2a:travel.example.org/trip-planner'],
    );
    assert.deepEqual(cards[0]!.labels, ['auth:oauth2', 'may-use-network', 'protocol:a2a']);
  });

  describe('over HTTP', () => {
    let server: Server;
    let base: string;
    const requests: string[] = [];
    before(async () => {
      server = createServer((request, response) => {
        requests.push(request.url ?? '');
        if (request.url === '/.well-known/agent-card.json') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(readFileSync(fixture('a2a-v10.json')));
        } else if (request.url === '/broken/.well-known/agent-card.json') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{ not json');
        } else {
          response.writeHead(404);
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetches <url>/.well-known/agent-card.json and registers its skills', async () => {
      assert.equal(agentCardUrl(`${base}/`), `${base}/.well-known/agent-card.json`);
      const registry = await CapabilityRegistry.open();
      const result = await agentsAdd(registry, { source: base, labels: ['vendor:travel'] });
      assert.equal(result.kind, 'a2a');
      assert.deepEqual(result.added, [
        'a2a:travel.example.org/trip-planner/flight-search@1.0.0',
        'a2a:travel.example.org/trip-planner/itinerary@1.0.0',
      ]);
      assert.equal(registry.resolve('a2a:travel.example.org/trip-planner/itinerary').source?.uri, `${base}/.well-known/agent-card.json`);
      assert.ok(requests.includes('/.well-known/agent-card.json'));
      const { results } = await registry.discover({ need: 'find a flight to Tokyo', k: 1 });
      assert.equal(results[0]!.card.id, 'a2a:travel.example.org/trip-planner/flight-search');
    });

    it('reports HTTP errors and bad JSON as invalid input', async () => {
      assert.deepEqual(await issuesOf(() => loadAgentCard(`${base}/missing`)), [
        { path: `${base}/missing/.well-known/agent-card.json`, message: 'HTTP 404' },
      ]);
      const broken = await issuesOf(() => loadAgentCard(`${base}/broken`));
      assert.match(broken[0]!.message, /not valid JSON/);
    });
  });
});
