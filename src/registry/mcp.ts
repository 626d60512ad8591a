/**
 * MCP tool ingestion: from a saved `tools/list` result (`{ tools: [...] }`, or the JSON-RPC response holding
 * it) or live from a server through the official SDK (stdio or Streamable HTTP).
 *
 * Tools have no version of their own, so a tool's card takes the server's `serverInfo.version` (coerced to
 * semver); for a saved file the server name and version come from the options (or a `serverInfo` field
 * beside `tools`). Mapping: one card per tool —
 *   id        `mcp:<server>/<tool>` (slugged; `idPrefix` replaces `mcp:<server>`)
 *   name      the tool's title (or annotations.title), else its name; description: the tool's
 *   io        inputSchema / outputSchema as given
 *   binding   { kind: 'mcp', server: { name, version, command?, args?, url? }, tool }
 *   labels    operator labels + `protocol:mcp` (+ `may-use-network` for an HTTP server)
 * Annotations (readOnlyHint, destructiveHint, …) are kept in metadata as hints only: MCP says they are
 * untrusted, so they never become policy labels.
 */
import { z } from 'zod';
import { importOptional, InvalidInputError, type InputIssue } from '../core/index.ts';
import { zodIssues } from '../models/index.ts';
import { parseCards, type Card, type CardInput } from './card.ts';
import { hostOf, slug, toSemver, versionIssue, withOperatorFields, type IngestOptions } from './ingest-common.ts';

const objectSchema = z.looseObject({ type: z.literal('object') });

const mcpToolSchema = z.looseObject({
  name: z.string().min(1),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: objectSchema,
  outputSchema: objectSchema.optional(),
  annotations: z.looseObject({ title: z.string().optional() }).optional(),
});

export const toolsListSchema = z.looseObject({
  tools: z.array(mcpToolSchema),
  nextCursor: z.string().optional(),
  serverInfo: z.looseObject({ name: z.string().min(1), version: z.string().min(1) }).optional(),
});

export type McpTool = z.infer<typeof mcpToolSchema>;

export interface McpServerRef {
  name: string;
  version: string;
  command?: string;
  args?: string[];
  url?: string;
}

/** Maps a tools/list result to cards. `server` may be partial when the document carries `serverInfo`. */
export function mcpToCards(document: unknown, server: Partial<McpServerRef>, options: IngestOptions & { sourceUri?: string } = {}): Card[] {
  const what = ['Invalid MCP tools/list result', options.sourceUri ? `from ${options.sourceUri}` : ''].filter(Boolean).join(' ');
  const body = isJsonRpcResponse(document) ? document.result : document;
  const parsed = toolsListSchema.safeParse(body);
  const issues: InputIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  const info = parsed.success ? parsed.data.serverInfo : undefined;
  const name = server.name ?? info?.name;
  const rawVersion = server.version ?? info?.version;
  if (name === undefined)
    issues.push({ path: 'serverInfo.name', message: 'server name unknown: give it (--server) or include serverInfo in the document' });
  if (rawVersion === undefined)
    issues.push({
      path: 'serverInfo.version',
      message: 'server version unknown: give it (--server-version) or include serverInfo; tools are versioned by their server',
    });
  const version = rawVersion === undefined ? undefined : toSemver(rawVersion);
  if (rawVersion !== undefined && version === undefined) issues.push(versionIssue('serverInfo.version', rawVersion));
  if (!parsed.success || issues.length > 0 || name === undefined || version === undefined) throw new InvalidInputError(what, issues);
  const prefix = options.idPrefix ?? `mcp:${slug(name)}`;
  const serverBinding = {
    name,
    version: rawVersion!,
    ...(server.command !== undefined ? { command: server.command } : {}),
    ...(server.args !== undefined ? { args: server.args } : {}),
    ...(server.url !== undefined ? { url: server.url } : {}),
  };
  const derived = ['protocol:mcp', ...(server.url !== undefined ? ['may-use-network'] : [])];
  const source = { kind: 'mcp' as const, ...(options.sourceUri ? { uri: options.sourceUri } : {}) };
  const cards: CardInput[] = parsed.data.tools.map((tool) =>
    withOperatorFields(
      {
        id: `${prefix}/${slug(tool.name)}`,
        version,
        name: tool.title ?? tool.annotations?.title ?? tool.name,
        description: tool.description ?? '',
        skills: [
          { id: tool.name, name: tool.title ?? tool.name, ...(tool.description ? { description: tool.description } : {}), tags: [] },
        ],
        io: { inputSchema: tool.inputSchema, ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}) },
        binding: { kind: 'mcp', server: serverBinding, tool: tool.name },
        provider: server.url !== undefined ? hostOf(server.url) : name,
        source,
        metadata: { server: { name, version: rawVersion }, ...(tool.annotations ? { annotations: tool.annotations } : {}) },
      },
      options,
      derived,
    ),
  );
  return parseCards(cards, `capability cards mapped from MCP server ${name}`);
}

function isJsonRpcResponse(value: unknown): value is { result: unknown } {
  return typeof value === 'object' && value !== null && 'jsonrpc' in value && 'result' in value;
}

export type McpConnection = { command: string; args?: string[]; env?: Record<string, string>; cwd?: string } | { url: string };

/** Connects to a live MCP server, lists every tool (following cursors) and disconnects. */
export async function listMcpTools(
  connection: McpConnection,
  options: { timeoutMs?: number } = {},
): Promise<{ serverInfo: { name: string; version: string }; tools: unknown[]; server: Partial<McpServerRef> }> {
  // The SDK is loaded on first use (~0.2 s to import): only live-server ingestion needs it, and the CLI
  // imports this module for every command. It is an optional peer dependency.
  const feature = 'Ingesting a live MCP server';
  const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
    importOptional('@modelcontextprotocol/sdk', feature, () => import('@modelcontextprotocol/sdk/client/index.js')),
    importOptional('@modelcontextprotocol/sdk', feature, () => import('@modelcontextprotocol/sdk/client/stdio.js')),
    importOptional('@modelcontextprotocol/sdk', feature, () => import('@modelcontextprotocol/sdk/client/streamableHttp.js')),
  ]);
  const client = new Client({ name: 'thicket-registry', version: '0.1.0' });
  const transport =
    'url' in connection
      ? new StreamableHTTPClientTransport(new URL(connection.url))
      : new StdioClientTransport({
          command: connection.command,
          args: connection.args ?? [],
          ...(connection.env ? { env: connection.env } : {}),
          ...(connection.cwd ? { cwd: connection.cwd } : {}),
          stderr: 'pipe',
        });
  const timeout = options.timeoutMs ?? 15_000;
  const where = 'url' in connection ? connection.url : [connection.command, ...(connection.args ?? [])].join(' ');
  try {
    await client.connect(transport, { timeout });
    const serverInfo = client.getServerVersion();
    if (serverInfo === undefined) throw new Error('the server sent no serverInfo');
    const tools: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const server: Partial<McpServerRef> =
      'url' in connection
        ? { url: connection.url }
        : { command: connection.command, ...(connection.args ? { args: connection.args } : {}) };
    return { serverInfo: { name: serverInfo.name, version: serverInfo.version }, tools, server };
  } catch (error) {
    if (InvalidInputError.isInstance(error)) throw error;
    throw new InvalidInputError('Cannot list MCP tools', [{ path: where, message: (error as Error).message }]);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Live server → cards, versioned by the server's serverInfo.version. */
export async function mcpServerToCards(connection: McpConnection, options: IngestOptions = {}): Promise<Card[]> {
  const { serverInfo, tools, server } = await listMcpTools(connection);
  const uri = 'url' in connection ? connection.url : `stdio:${[connection.command, ...(connection.args ?? [])].join(' ')}`;
  return mcpToCards({ tools }, { ...server, name: serverInfo.name, version: serverInfo.version }, { ...options, sourceUri: uri });
}
