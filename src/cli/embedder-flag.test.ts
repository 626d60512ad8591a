/**
 * `--embedder <ref>` and the fleet config's `embedder` / `embedders` fields, end to end (the real
 * `bin/thicket.js`): the registry commands and `thicket criticality` embed through a configured
 * OpenAI-compatible alias — a local fake `POST /v1/embeddings` server that counts its requests — and bad
 * references or a switch of embedder on an existing registry are refused (exit 2) with nothing written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeResult, makeTempDir, parseSingleJson, runCli, type CliResult, type TempDir } from './testing/run-cli.ts';

function expectExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, `expected exit ${code}\n${describeResult(result)}`);
}

interface ErrorJson {
  status: 'error';
  error: { code: string; message: string };
  issues?: Array<{ path: string; message: string }>;
}

/** 8 deterministic dimensions from the text's words (bag of hashed words), so related texts are similar. */
function fakeVector(text: string): number[] {
  const vector = new Array<number>(8).fill(0);
  for (const word of text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean)) {
    let hash = 7;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 10_007;
    vector[hash % 8]! += 1;
  }
  vector[7]! += 0.01;
  return vector;
}

const CARDS = [
  {
    id: 'arith',
    version: '1.0.0',
    name: 'Arithmetic solver',
    description: 'Solves arithmetic word problems',
    binding: { kind: 'model', ref: 'sim:small' },
    provider: 'sim',
  },
  {
    id: 'poet',
    version: '1.0.0',
    name: 'Poem writer',
    description: 'Writes sonnets about the sea',
    binding: { kind: 'model', ref: 'sim:medium' },
    provider: 'sim',
  },
];

describe('--embedder and the config embedder, end to end', () => {
  let dir: TempDir;
  let server: Server;
  let baseURL: string;
  /** Every embeddings request: its model and input texts. */
  const requests: Array<{ model: string; input: string[] }> = [];
  let config: string;
  let configWithDefault: string;
  let configWithThreshold: string;

  before(async () => {
    dir = makeTempDir('thicket-embedder-');
    server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'not found' } }));
          return;
        }
        const body = JSON.parse(raw) as { model: string; input: string[] };
        requests.push({ model: body.model, input: body.input });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: body.model,
            data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text) })),
            usage: { prompt_tokens: 1, total_tokens: 1 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const fake = { provider: 'openai-compatible', baseURL, model: 'fake-embed', dimension: 8 };
    config = dir.write('config.json', { version: 1, embedders: { fake } });
    configWithDefault = dir.write('config-default.json', { version: 1, embedder: 'fake', embedders: { fake } });
    configWithThreshold = dir.write('config-threshold.json', { version: 1, embedders: { fake: { ...fake, nullThreshold: 0.5 } } });
    dir.write('cards.json', CARDS);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  const run = (args: string[], configPath = config) => runCli(args, { cwd: dir.path, env: { THICKET_CONFIG: configPath } });

  it('agents add/search --embedder <alias> embed through the endpoint; another embedder is refused until reembed', async () => {
    const registry = dir.file('registry.db');
    requests.length = 0;
    expectExit(await run(['agents', 'add', dir.file('cards.json'), '--embedder', 'fake', '--registry', registry, '--json']), 0);
    assert.deepEqual(
      requests.map((request) => request.model),
      ['fake-embed'],
      'one request embeds both cards',
    );
    assert.equal(requests[0]!.input.length, 2);

    const search = await run([
      'agents',
      'search',
      'solve arithmetic word problems',
      '--embedder',
      'fake',
      '--registry',
      registry,
      '--json',
    ]);
    expectExit(search, 0);
    // The first search also calibrates the embedder's relevance floor (one request for the null corpus),
    // which the registry keeps: later searches embed only their need.
    assert.equal(requests.length, 3, 'the search embedded its need through the endpoint');
    assert.deepEqual(requests[1]!.input, ['solve arithmetic word problems']);
    assert.ok(requests[2]!.input.length > 10, 'the null corpus, embedded once');
    const found = parseSingleJson<{ results: Array<{ id: string }> }>(search);
    assert.equal(found.results[0]!.id, 'arith');

    // The config's `embedder` field stands in for the flag.
    expectExit(await run(['agents', 'search', 'sonnets about the sea', '--registry', registry, '--json'], configWithDefault), 0);
    assert.equal(requests.length, 4, 'the floor was kept in the registry: one request for the need only');

    // Switching embedder on a registry with vectors: refused, exit 2, the endpoint not called, nothing changed.
    const switched = await run(['agents', 'search', 'arithmetic', '--embedder', 'hash', '--registry', registry, '--json']);
    expectExit(switched, 2);
    const error = parseSingleJson<ErrorJson>(switched).error;
    assert.equal(error.code, 'INVALID_CONFIG');
    assert.match(error.message, /openai-compatible:fake-embed@.*"hash-v1-384" was given.*thicket agents reembed --embedder <ref>/s);
    assert.equal(requests.length, 4);

    // reembed migrates every vector; from then on hash is the registry's embedder and the endpoint is not used.
    const reembedded = await run(['agents', 'reembed', '--embedder', 'hash', '--registry', registry, '--json']);
    expectExit(reembedded, 0);
    const migration = parseSingleJson<{ cards: number; from: string; to: string }>(reembedded);
    assert.equal(migration.cards, 2);
    assert.equal(migration.from, `openai-compatible:fake-embed@${baseURL}`);
    assert.equal(migration.to, 'hash-v1-384');
    expectExit(await run(['agents', 'search', 'arithmetic', '--registry', registry, '--json']), 0);
    assert.equal(requests.length, 4);
    // …and the alias is now the one refused.
    expectExit(await run(['agents', 'search', 'arithmetic', '--embedder', 'fake', '--registry', registry, '--json']), 2);
    assert.equal(requests.length, 4);
  });

  it('bad references: exit 2 with the flag (or config field) and the reason; no registry file is created', async () => {
    const registry = dir.file('never.db');
    // (Every reference form is checked in process by src/registry/resolve-embedder.test.ts; here, the CLI wiring.)
    const cases: Array<[string[], RegExp]> = [
      [
        ['agents', 'add', dir.file('cards.json'), '--embedder', 'nope'],
        /"nope" is not an embedder: use hash, hash-v1-<dimension>, gguf:<path>, or an alias .* \(configured: fake\)/,
      ],
      [['agents', 'sync-fleet', '--embedder', `gguf:${dir.file('missing.gguf')}`], /no model file at .*missing\.gguf/],
    ];
    for (const [args, message] of cases) {
      const result = await run([...args, '--registry', registry, '--json']);
      expectExit(result, 2);
      const issues = parseSingleJson<ErrorJson>(result).issues ?? [];
      assert.deepEqual(
        issues.map((issue) => issue.path),
        ['--embedder'],
      );
      assert.match(issues[0]!.message, message);
    }
    assert.equal(existsSync(registry), false);

    // The config's own `embedder` field is checked when the config is loaded.
    const badConfig = dir.write('bad-config.json', { version: 1, embedder: 'nope' });
    const result = await run(['agents', 'add', dir.file('cards.json'), '--registry', registry, '--json'], badConfig);
    expectExit(result, 2);
    assert.deepEqual(
      parseSingleJson<ErrorJson>(result).issues?.map((issue) => issue.path),
      ['embedder'],
    );
    const criticality = await run(['criticality', dir.write('g.json', { nodes: [], edges: [] }), '--embedder', 'nope', '--json']);
    expectExit(criticality, 2);
    assert.equal(parseSingleJson<ErrorJson>(criticality).issues?.[0]?.path, '--embedder');
    assert.equal(existsSync(registry), false);
  });

  it('criticality --embedder <alias>: the nodes are embedded by the endpoint; τ₀ from the config, else calibrated once', async () => {
    const graph = dir.write('graph.json', {
      nodes: [
        { id: 'a', text: 'coral reefs bleach in warm water' },
        { id: 'b', text: 'warm water bleaches coral reefs' },
        { id: 'c', text: 'the compiler emits bytecode' },
      ],
      edges: [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
      ],
    });
    requests.length = 0;
    const withThreshold = await run(['criticality', graph, '--embedder', 'fake', '--json'], configWithThreshold);
    expectExit(withThreshold, 0);
    const report = parseSingleJson<{ embedder: string; snapshots: Array<{ semanticThreshold: number; nodes: number }> }>(withThreshold);
    assert.equal(report.embedder, `openai-compatible:fake-embed@${baseURL}`);
    assert.equal(report.snapshots[0]!.semanticThreshold, 0.5);
    assert.equal(report.snapshots[0]!.nodes, 3);
    assert.equal(requests.length, 1, 'τ₀ from the config: only the three nodes are embedded');
    assert.equal(requests[0]!.input.length, 3);

    const calibrated = await run(['criticality', graph, '--embedder', 'fake', '--json']);
    expectExit(calibrated, 0);
    // One request for the 64-text null corpus (one batch), one for the nodes.
    assert.deepEqual(
      requests.slice(1).map((request) => request.input.length),
      [64, 3],
    );
    const threshold = parseSingleJson<{ snapshots: Array<{ semanticThreshold: number }> }>(calibrated).snapshots[0]!.semanticThreshold;
    assert.ok(threshold > 0 && threshold < 1, String(threshold));
  });
});
