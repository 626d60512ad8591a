import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { agentsAdd } from './commands.ts';
import { mcpToCards } from './mcp.ts';
import { CapabilityRegistry } from './registry.ts';
import { fixture, issuesOf, mcpServerCommand } from './testing/fixtures.ts';
import { testServer } from './testing/mcp-server.ts';

const read = (name: string): unknown => JSON.parse(readFileSync(fixture(name), 'utf8'));

describe('MCP tool ingestion', () => {
  it('maps a saved tools/list result, versioned by the server; annotations stay hints', () => {
    const cards = mcpToCards(read('mcp-tools.json'), { name: 'Weather Tools', version: '3.1' }, { labels: ['residency:us'] });
    assert.deepEqual(
      cards.map((card) => `${card.id}@${card.version}`),
      ['mcp:weather-tools/get_weather@3.1.0', 'mcp:weather-tools/convert_currency@3.1.0'],
    );
    const [weather, currency] = cards;
    assert.equal(weather!.name, 'Weather lookup');
    assert.equal(currency!.name, 'convert_currency');
    assert.deepEqual(weather!.binding, { kind: 'mcp', server: { name: 'Weather Tools', version: '3.1' }, tool: 'get_weather' });
    assert.deepEqual(weather!.labels, ['protocol:mcp', 'residency:us'], 'readOnlyHint/openWorldHint never become labels');
    assert.deepEqual(weather!.metadata!['annotations'], { readOnlyHint: true, openWorldHint: true });
    assert.deepEqual(currency!.io?.outputSchema, { type: 'object', properties: { amount: { type: 'number' } } });
    assert.equal(weather!.provider, 'Weather Tools');
  });

  it('accepts a JSON-RPC response and serverInfo inside the document', () => {
    const tools = (read('mcp-tools.json') as { tools: unknown[] }).tools;
    const cards = mcpToCards({ jsonrpc: '2.0', id: 1, result: { tools, serverInfo: { name: 'srv', version: '1.0.0' } } }, {});
    assert.deepEqual(
      cards.map((card) => card.id),
      ['mcp:srv/get_weather', 'mcp:srv/convert_currency'],
    );
  });

  it('rejects invalid documents and unknown server versions listing every problem; nothing stored', async () => {
    const registry = await CapabilityRegistry.open();
    const issues = await issuesOf(() =>
      agentsAdd(registry, { source: fixture('mcp-invalid.json'), server: 'broken', serverVersion: '1.0.0' }),
    );
    assert.deepEqual(issues.map((issue) => issue.path).sort(), ['tools[1].inputSchema.type', 'tools[1].name', 'tools[2].inputSchema']);
    const unversioned = await issuesOf(() => agentsAdd(registry, { source: fixture('mcp-tools.json') }));
    assert.deepEqual(
      unversioned.map((issue) => issue.path),
      ['serverInfo.name', 'serverInfo.version'],
    );
    const badVersion = await issuesOf(() => mcpToCards(read('mcp-tools.json'), { name: 's', version: 'nightly' }));
    assert.deepEqual(
      badVersion.map((issue) => issue.path),
      ['serverInfo.version'],
    );
    assert.equal(registry.count(), 0);
  });

  it('lists tools from a live MCP server over stdio and versions them by serverInfo.version', async () => {
    const registry = await CapabilityRegistry.open();
    const first = await agentsAdd(registry, { mcpCommand: mcpServerCommand('1.2.0'), labels: ['local'] });
    assert.equal(first.kind, 'mcp');
    assert.deepEqual(first.added, ['mcp:thicket-test-tools/word_count@1.2.0', 'mcp:thicket-test-tools/reverse_text@1.2.0']);
    const counter = registry.resolve('mcp:thicket-test-tools/word_count');
    assert.equal(counter.name, 'Word counter');
    assert.deepEqual(counter.io?.inputSchema?.['required'], ['text']);
    assert.equal(counter.binding.kind === 'mcp' && counter.binding.server.version, '1.2.0');
    assert.deepEqual(counter.labels, ['local', 'protocol:mcp']);
    // Same server, same version: nothing new. A new server version is a new card version beside the old.
    assert.deepEqual((await agentsAdd(registry, { mcpCommand: mcpServerCommand('1.2.0'), labels: ['local'] })).added, []);
    await agentsAdd(registry, { mcpCommand: mcpServerCommand('1.3.0'), labels: ['local'] });
    assert.equal(registry.resolve('mcp:thicket-test-tools/word_count').version, '1.3.0');
    assert.equal(registry.resolve('mcp:thicket-test-tools/word_count@1.2.0').version, '1.2.0');
    const { results } = await registry.discover({ need: 'count the words in my text', k: 1 });
    assert.equal(results[0]!.card.id, 'mcp:thicket-test-tools/word_count');
  });

  it('lists tools from a live MCP server over Streamable HTTP; the network use is labelled', async () => {
    // Stateless mode: a fresh server and transport per request, as the SDK recommends.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- node:http ignores the returned promise; a failure fails the client's request
    const http = createServer(async (request, response) => {
      const server = testServer('3.0.0');
      const transport = new StreamableHTTPServerTransport({});
      response.on('close', () => void transport.close().then(() => server.close()));
      await server.connect(transport);
      await transport.handleRequest(request, response);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
      const registry = await CapabilityRegistry.open();
      const result = await agentsAdd(registry, { source: url, kind: 'mcp' });
      assert.deepEqual(result.added, ['mcp:thicket-test-tools/word_count@3.0.0', 'mcp:thicket-test-tools/reverse_text@3.0.0']);
      const reverse = registry.resolve('mcp:thicket-test-tools/reverse_text');
      assert.deepEqual(reverse.binding, {
        kind: 'mcp',
        server: { name: 'thicket-test-tools', version: '3.0.0', url },
        tool: 'reverse_text',
      });
      assert.deepEqual(reverse.labels, ['may-use-network', 'protocol:mcp']);
      assert.equal(reverse.provider, `127.0.0.1:${(http.address() as AddressInfo).port}`);
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('reports a server that cannot be started as invalid input', async () => {
    const registry = await CapabilityRegistry.open();
    const issues = await issuesOf(() => agentsAdd(registry, { mcpCommand: [process.execPath, '-e', 'process.exit(3)'] }));
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.path, /process\.exit\(3\)/);
  });
});
