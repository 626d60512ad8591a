/**
 * A tiny MCP server for the registry's tests, built with the official SDK. Run as a script it speaks stdio:
 * `node --import tsx src/registry/testing/mcp-server.ts [--version 2.1.0]`; `testServer(version)` gives the
 * same server for an in-process Streamable HTTP transport. Two text tools with zod input schemas; the version
 * is a parameter so a test can publish a second version.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export function testServer(version: string): McpServer {
  const server = new McpServer({ name: 'thicket-test-tools', version });

  server.registerTool(
    'word_count',
    {
      title: 'Word counter',
      description: 'Counts the words in a text.',
      inputSchema: { text: z.string() },
      annotations: { readOnlyHint: true },
    },
    async ({ text }) => ({ content: [{ type: 'text', text: String(text.split(/\s+/).filter(Boolean).length) }] }),
  );
  server.registerTool(
    'reverse_text',
    { description: 'Reverses a text, character by character.', inputSchema: { text: z.string() }, annotations: { destructiveHint: false } },
    async ({ text }) => ({ content: [{ type: 'text', text: [...text].reverse().join('') }] }),
  );
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--version');
  await testServer(flag > 0 ? process.argv[flag + 1]! : '1.2.0').connect(new StdioServerTransport());
}
