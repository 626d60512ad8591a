/**
 * `thicket agents …`: the capability registry — add A2A AgentCards / MCP tools / cards, list, show, discover
 * under policy and budget, deprecate/yank versions, reindex, re-embed. The logic lives in src/registry
 * (commands.ts); this file parses flags and prints.
 */
import { existsSync } from 'node:fs';
import pc from 'picocolors';
import { InvalidInputError } from '../../core/index.ts';
import { agentsAdd, agentsList, agentsReembed, agentsReindex, agentsSearch, agentsSetStatus, agentsShow, defaultRegistryPath, openRegistry, type CardSummary, type CapabilityRegistry } from '../../registry/index.ts';
import { IssueCollector } from '../options.ts';
import { formatUsd, processOutput, table } from '../output.ts';

export interface AgentsFlags {
  registry?: string;
  json?: boolean;
  kind?: 'a2a' | 'mcp' | 'cards';
  mcp?: string;
  server?: string;
  serverVersion?: string;
  require?: string[];
  forbid?: string[];
  provider?: string[];
  maxCost?: string;
  maxLatency?: string;
  k?: string;
  limit?: string;
  embedder?: string;
}

async function withRegistry<T>(flags: AgentsFlags, readOnly: boolean, action: (registry: CapabilityRegistry) => Promise<T> | T): Promise<T> {
  const path = flags.registry ?? defaultRegistryPath();
  // Reading commands never create a registry file.
  if (readOnly && !existsSync(path)) throw new InvalidInputError('No capability registry', [{ path: '--registry', message: `${path} does not exist yet; add capabilities with \`thicket agents add <file|url>\`` }]);
  const registry = await openRegistry({ path });
  try {
    return await action(registry);
  } finally {
    registry.close();
  }
}

function summaries(cards: CardSummary[]): string {
  return table(['capability', 'status', 'name', 'provider', 'binding', 'labels', '$/call'], cards.map((card) => [card.ref, card.status, card.name, card.provider, card.binding, card.labels.join(', '), card.costPerCall === undefined ? '—' : formatUsd(card.costPerCall)]));
}

export async function agentsAddCommand(source: string | undefined, flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  if (source === undefined && flags.mcp === undefined) throw new InvalidInputError('Nothing to add', [{ path: 'source', message: 'give a file or URL, or --mcp "<command> [args…]" for a live MCP server' }]);
  const result = await withRegistry(flags, false, (registry) =>
    agentsAdd(registry, { ...(source !== undefined ? { source } : {}), ...(flags.kind ? { kind: flags.kind } : {}), ...(flags.mcp ? { mcpCommand: flags.mcp.split(/\s+/).filter(Boolean) } : {}), ...(flags.server ? { server: flags.server } : {}), ...(flags.serverVersion ? { serverVersion: flags.serverVersion } : {}) }),
  );
  if (output.json) output.out(JSON.stringify(result));
  else output.out(`${pc.green('added')} ${result.added.length} (${result.added.join(', ') || 'none'}), unchanged ${result.unchanged.length} — from ${result.source} (${result.kind})`);
  return 0;
}

export async function agentsListCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const limit = issues.number('--limit', flags.limit ?? '100', { integer: true, min: 1, max: 100_000 }) ?? 100;
  issues.throwIfAny('Invalid agents ls request');
  const listed = await withRegistry(flags, true, (registry) => agentsList(registry, { limit }));
  if (output.json) output.out(JSON.stringify(listed));
  else output.out(`${summaries(listed.cards)}\n${listed.total} capabilit${listed.total === 1 ? 'y' : 'ies'}`);
  return 0;
}

export async function agentsShowCommand(reference: string, flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const shown = await withRegistry(flags, true, (registry) => agentsShow(registry, { reference }));
  if (output.json) output.out(JSON.stringify(shown));
  else output.out(`${JSON.stringify(shown.card, null, 2)}\nversions: ${shown.versions.map((version) => `${version.version} (${version.status})`).join(', ')}`);
  return 0;
}

export async function agentsSearchCommand(need: string, flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (need.trim() === '') issues.add('need', 'must not be empty');
  const k = issues.number('--k', flags.k ?? '5', { integer: true, min: 1, max: 1000 }) ?? 5;
  const maxCost = issues.number('--max-cost', flags.maxCost, { min: 0 });
  const maxLatencyMs = issues.number('--max-latency', flags.maxLatency, { min: 0 });
  issues.throwIfAny('Invalid agents search request');
  const found = await withRegistry(flags, true, (registry) =>
    agentsSearch(registry, {
      need,
      k,
      ...(flags.require ? { require: flags.require } : {}),
      ...(flags.forbid ? { forbid: flags.forbid } : {}),
      ...(flags.provider ? { providers: flags.provider } : {}),
      ...(maxCost !== undefined ? { maxCost } : {}),
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
    }),
  );
  if (output.json) output.out(JSON.stringify(found));
  else output.out(table(['#', 'capability', 'score', 'name', 'labels', '$/call'], found.results.map((card, index) => [index + 1, card.ref, card.score.toFixed(3), card.name, card.labels.join(', '), card.costPerCall === undefined ? '—' : formatUsd(card.costPerCall)])));
  return 0;
}

export async function agentsStatusCommand(reference: string, status: 'deprecated' | 'yanked', flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const card = await withRegistry(flags, true, (registry) => agentsSetStatus(registry, { reference, status }));
  if (output.json) output.out(JSON.stringify(card));
  else output.out(`${card.ref} is now ${card.status}`);
  return 0;
}

export async function agentsReindexCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const result = await withRegistry(flags, true, (registry) => agentsReindex(registry));
  if (output.json) output.out(JSON.stringify(result));
  else output.out(`reindexed ${result.indexed} capabilities in ${Math.round(result.ms)} ms`);
  return 0;
}

export async function agentsReembedCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  if (flags.embedder === undefined) throw new InvalidInputError('Missing embedder', [{ path: '--embedder', message: 'e.g. hash-v1-512' }]);
  const result = await withRegistry(flags, true, (registry) => agentsReembed(registry, { embedder: flags.embedder! }));
  if (output.json) output.out(JSON.stringify(result));
  else output.out(`re-embedded ${result.cards} capabilities: ${result.from ?? '—'} → ${result.to}`);
  return 0;
}
