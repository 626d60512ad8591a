/**
 * The registry over REST, on a real socket: an admin registers cards, any key searches under the policy
 * filter and reads a card with its versions; unknown references are 404, invalid cards 422 with every
 * problem, and a client key may not register.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from './server.ts';
import { callJson, startKeyedTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-registry-'));
let test: TestGateway;
let server: RunningGateway;
let admin: string;
let client: string;

const card = (id: string, version: string, description: string, extra: Record<string, unknown> = {}) => ({
  id,
  version,
  name: id,
  description,
  binding: { kind: 'agent', name: id },
  provider: 'local',
  ...extra,
});

interface ErrorBody {
  error: { type: string; code: string | null; message: string; issues?: { path: string; message: string }[] };
}
interface SearchBody {
  data: { ref: string; score: number; card: { id: string; labels: string[] }; explanation: { passed: string[] } }[];
}
interface ShownBody {
  card: { id: string; version: string };
  versions: { version: string; status: string }[];
}

/** A request with a key (see callJson). */
const call = <T = ErrorBody>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: T }> =>
  callJson<T>(server.url, method, path, token, body);

before(async () => {
  ({ test, admin, client } = await startKeyedTestGateway(folder));
  server = test.running;
});

after(() => test.close());

describe('registry REST', () => {
  it('registers cards (admin), searches them under the policy filter and shows a card with its versions', async () => {
    const added = await call<unknown>('POST', '/v1/registry/cards', admin, [
      card('contracts', '1.0.0', 'Summarize legal contracts: clauses, parties and obligations.', { labels: ['residency:eu'] }),
      card('contracts', '1.1.0', 'Summarize legal contracts: clauses, parties, obligations and risks.', { labels: ['residency:eu'] }),
      card('contracts-us', '1.0.0', 'Summarize legal contracts under US law: clauses and parties.', { labels: ['residency:us'] }),
      card('geometry', '1.0.0', 'Solve geometry problems: triangles, circles, areas and angles.', { provider: 'acme' }),
    ]);
    assert.equal(added.status, 201);
    assert.deepEqual(added.json, { added: ['contracts@1.0.0', 'contracts@1.1.0', 'contracts-us@1.0.0', 'geometry@1.0.0'], unchanged: [] });

    const again = await call<unknown>(
      'POST',
      '/v1/registry/cards',
      admin,
      card('geometry', '1.0.0', 'Solve geometry problems: triangles, circles, areas and angles.', { provider: 'acme' }),
    );
    assert.equal(again.status, 201);
    assert.deepEqual(again.json, { added: [], unchanged: ['geometry@1.0.0'] });

    // A client key may search: the best match first, every result passing the labels asked for.
    const found = await call<SearchBody>('GET', '/v1/registry/search?q=summarize%20this%20legal%20contract&limit=5', client);
    assert.equal(found.status, 200);
    assert.ok(found.json.data.length >= 2);
    assert.match(found.json.data[0]?.ref ?? '', /^contracts/);
    assert.equal(typeof found.json.data[0]?.score, 'number');

    const eu = await call<SearchBody>('GET', '/v1/registry/search?q=summarize%20this%20legal%20contract&require=residency:eu', client);
    assert.ok(eu.json.data.length >= 1);
    for (const result of eu.json.data) {
      assert.ok(result.card.labels.includes('residency:eu'), result.ref);
      assert.ok(result.explanation.passed.includes('require:residency:eu'));
    }
    const notEu = await call<SearchBody>('GET', '/v1/registry/search?q=summarize%20this%20legal%20contract&forbid=residency:eu', client);
    const notEuRefs = notEu.json.data.map((result) => result.ref);
    assert.equal(notEuRefs[0], 'contracts-us@1.0.0');
    assert.ok(!notEuRefs.some((ref) => ref.startsWith('contracts@')), notEuRefs.join(', '));
    const acmeOnly = await call<SearchBody>('GET', '/v1/registry/search?q=triangles%20and%20circles&provider=acme', client);
    assert.deepEqual(
      acmeOnly.json.data.map((result) => result.ref),
      ['geometry@1.0.0'],
    );
    const free = await call<SearchBody>('GET', '/v1/registry/search?q=summarize%20contracts&maxCostPerCall=0.01', client);
    assert.deepEqual(free.json.data, [], 'an unpriced card cannot be shown to fit a cost limit');

    const shown = await call<ShownBody>('GET', '/v1/registry/cards/contracts', client);
    assert.equal(shown.status, 200);
    assert.equal(shown.json.card.id, 'contracts');
    assert.equal(shown.json.card.version, '1.1.0', 'a bare id resolves to the newest active version');
    assert.deepEqual(
      shown.json.versions.map((version) => [version.version, version.status]),
      [
        ['1.0.0', 'active'],
        ['1.1.0', 'active'],
      ],
    );
    const pinned = await call<ShownBody>('GET', `/v1/registry/cards/${encodeURIComponent('contracts@1.0.0')}`, client);
    assert.equal(pinned.json.card.version, '1.0.0');
  });

  it('answers 404 for an unknown card or version and 422 for a malformed search', async () => {
    const unknown = await call('GET', '/v1/registry/cards/no-such-card', client);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.type, 'not_found_error');
    assert.equal(unknown.json.error.code, 'capability_not_found');
    const version = await call('GET', `/v1/registry/cards/${encodeURIComponent('contracts@9.0.0')}`, client);
    assert.equal(version.status, 404);
    const noNeed = await call('GET', '/v1/registry/search?limit=500', client);
    assert.equal(noNeed.status, 422);
    assert.deepEqual((noNeed.json.error.issues ?? []).map((issue) => issue.path).sort(), ['limit', 'q']);
  });

  it('refuses invalid cards with every problem (nothing stored) and a client key with 403', async () => {
    const invalid = await call('POST', '/v1/registry/cards', admin, [
      card('fine', '1.0.0', 'A valid card that must not be stored when its batch is refused.'),
      { id: 'bad card', version: 'v1', name: 'bad', binding: { kind: 'agent', name: 'bad' } },
    ]);
    assert.equal(invalid.status, 422);
    assert.equal(invalid.json.error.type, 'invalid_request_error');
    const paths = (invalid.json.error.issues ?? []).map((issue) => issue.path);
    for (const path of ['[1].id', '[1].version', '[1].provider']) assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    assert.equal((await call('GET', '/v1/registry/cards/fine', admin)).status, 404);

    const conflict = await call(
      'POST',
      '/v1/registry/cards',
      admin,
      card('geometry', '1.0.0', 'Different content under the same version.'),
    );
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.error.code, 'capability_conflict');

    const forbidden = await call('POST', '/v1/registry/cards', client, card('sneaky', '1.0.0', 'A client key may not register.'));
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.error.type, 'permission_error');
    assert.equal((await call('GET', '/v1/registry/cards/sneaky', admin)).status, 404);
  });

  it('lists the registry routes in /openapi.json', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(document.paths['/v1/registry/search']?.['get']);
    assert.ok(document.paths['/v1/registry/cards/{ref}']?.['get']);
    assert.ok(document.paths['/v1/registry/cards']?.['post']);
  });
});
