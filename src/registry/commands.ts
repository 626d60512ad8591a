/**
 * The `thicket agents …` commands as plain functions: parsed options in, JSON-able results out. The CLI
 * layer only parses flags, opens the registry (`openRegistry`), calls one of these and prints; all the logic
 * is here so that it is tested here.
 */
import { dirname, join } from 'node:path';
import semver from 'semver';
import { InvalidInputError } from '../core/index.ts';
import { defaultJournalPath } from '../journal/index.ts';
import type { FleetConfig } from '../models/index.ts';
import { a2aToCards, loadAgentCard } from './a2a.ts';
import { cardRef, costPerCall, parseCards, type Binding, type Card, type CardStatus, type StoredCard } from './card.ts';
import type { Plan } from './discovery.ts';
import { HashingEmbedder, type Embedder } from './embedder.ts';
import { fleetCards, syncCards, type ProfileSource } from './fleet-cards.ts';
import { isUrl, readJsonFile, type IngestOptions } from './ingest-common.ts';
import { mcpServerToCards, mcpToCards } from './mcp.ts';
import { CapabilityRegistry, type RegistryOptions } from './registry.ts';
import { parseReference } from './versions.ts';

/** `THICKET_REGISTRY`, else `registry.db` beside the journal (e.g. ~/.local/share/thicket/registry.db). */
export function defaultRegistryPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['THICKET_REGISTRY'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return join(dirname(defaultJournalPath(env)), 'registry.db');
}

export async function openRegistry(options: RegistryOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<CapabilityRegistry> {
  const { env, ...rest } = options;
  return CapabilityRegistry.open({ ...rest, path: rest.path ?? defaultRegistryPath(env) });
}

/** `hash-v1-<dim>` (or `hash:<dim>`) → the hashing embedder; real models are built by the caller. */
export function embedderFromSpec(spec: string): Embedder {
  const match = /^(?:hash-v1-|hash:)(\d+)$/.exec(spec);
  if (match) return new HashingEmbedder({ dimension: Number(match[1]) });
  throw new InvalidInputError('Unknown embedder', [{ path: '--embedder', message: `"${spec}": use hash-v1-<dimension> (e.g. hash-v1-384), or a model embedder wired by the CLI` }]);
}

export interface AddOptions extends IngestOptions {
  /** File path or URL; optional when `mcpCommand` is given. */
  source?: string;
  /** What the source holds (default: detected from the document; a URL defaults to A2A). */
  kind?: 'a2a' | 'mcp' | 'cards';
  /** Live MCP server over stdio: command and arguments. */
  mcpCommand?: string[];
  /** For a saved tools/list file: the server's name and version (unless the file has serverInfo). */
  server?: string;
  serverVersion?: string;
}

export interface AddResult {
  source: string;
  kind: 'a2a' | 'mcp' | 'cards';
  added: string[];
  unchanged: string[];
}

/** `thicket agents add <file|url>`: A2A AgentCard (file, URL, well-known), MCP tools (file or live), or Thicket cards. */
export async function agentsAdd(registry: CapabilityRegistry, options: AddOptions): Promise<AddResult> {
  const { source, kind: givenKind, mcpCommand, server, serverVersion, ...ingest } = options;
  let cards: Card[];
  let kind: AddResult['kind'];
  let where: string;
  if (mcpCommand !== undefined && mcpCommand.length > 0) {
    kind = 'mcp';
    where = `stdio:${mcpCommand.join(' ')}`;
    cards = await mcpServerToCards({ command: mcpCommand[0]!, args: mcpCommand.slice(1) }, ingest);
  } else if (source === undefined) {
    throw new InvalidInputError('Nothing to add', [{ path: 'source', message: 'give a file, a URL, or --mcp-command' }]);
  } else if (isUrl(source) && givenKind === 'mcp') {
    kind = 'mcp';
    where = source;
    cards = await mcpServerToCards({ url: source }, ingest);
  } else {
    where = source;
    const { document, uri } = isUrl(source) ? await loadAgentCard(source) : { document: await readJsonFile(source, 'capability document'), uri: source };
    kind = givenKind ?? detectKind(document);
    cards =
      kind === 'a2a'
        ? a2aToCards(document, { ...ingest, sourceUri: uri })
        : kind === 'mcp'
          ? mcpToCards(document, { ...(server !== undefined ? { name: server } : {}), ...(serverVersion !== undefined ? { version: serverVersion } : {}) }, { ...ingest, sourceUri: uri })
          : parseCards(document, `capability cards in ${uri}`);
  }
  const { added, unchanged } = await registry.register(cards);
  return { source: where, kind, added, unchanged };
}

function detectKind(document: unknown): AddResult['kind'] {
  if (Array.isArray(document)) return 'cards';
  if (typeof document !== 'object' || document === null) return 'cards';
  const record = document as Record<string, unknown>;
  const result = record['result'];
  if (Array.isArray(record['tools']) || (typeof result === 'object' && result !== null && 'tools' in result)) return 'mcp';
  if ('skills' in record && ('supportedInterfaces' in record || 'url' in record)) return 'a2a';
  return 'cards';
}

export interface CardSummary {
  ref: string;
  id: string;
  version: string;
  status: CardStatus;
  name: string;
  provider: string;
  binding: Binding['kind'];
  labels: string[];
  costPerCall: number | undefined;
}

export function summarize(card: StoredCard): CardSummary {
  return { ref: cardRef(card), id: card.id, version: card.version, status: card.status, name: card.name, provider: card.provider, binding: card.binding.kind, labels: card.labels, costPerCall: costPerCall(card) };
}

/** `thicket agents ls [--id X] [--status S] [--limit N]` */
export function agentsList(registry: CapabilityRegistry, options: { id?: string; status?: CardStatus; limit?: number; offset?: number } = {}): { total: number; cards: CardSummary[] } {
  return { total: registry.count(), cards: registry.list({ limit: 1_000, ...options }).map(summarize) };
}

/** `thicket agents show <id[@range]>`: the resolved card and every version with its status. */
export function agentsShow(registry: CapabilityRegistry, options: { reference: string }): { card: StoredCard; versions: { version: string; status: CardStatus }[] } {
  const card = registry.resolve(options.reference);
  const versions = registry.list({ id: card.id }).map((stored) => ({ version: stored.version, status: stored.status }));
  return { card, versions };
}

export interface SearchOptions {
  need: string;
  require?: string[];
  forbid?: string[];
  providers?: string[];
  bindingKinds?: Binding['kind'][];
  maxCost?: number;
  maxLatencyMs?: number;
  k?: number;
}

/** `thicket agents search "<need>" [--require L]… [--forbid L]… [--provider P]… [--max-cost X] [--max-latency MS] [--k N]` */
export async function agentsSearch(registry: CapabilityRegistry, options: SearchOptions): Promise<{ need: string; plan: Plan; results: (CardSummary & { score: number; explanation: object })[] }> {
  const { results, plan } = await registry.discover({
    need: options.need,
    k: options.k ?? 5,
    ...(options.require ? { require: options.require } : {}),
    ...(options.forbid ? { forbid: options.forbid } : {}),
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.bindingKinds ? { bindingKinds: options.bindingKinds } : {}),
    ...(options.maxCost !== undefined ? { maxCostPerCall: options.maxCost } : {}),
    ...(options.maxLatencyMs !== undefined ? { maxLatencyMs: options.maxLatencyMs } : {}),
  });
  return { need: options.need, plan, results: results.map((result) => ({ ...summarize(result.card), score: result.score, explanation: result.explanation })) };
}

/** `thicket agents deprecate|yank <id@version>` (an exact version: lifecycle changes are never ranged). */
export function agentsSetStatus(registry: CapabilityRegistry, options: { reference: string; status: 'deprecated' | 'yanked' }): CardSummary {
  const { id, range } = parseReference(options.reference);
  if (range === undefined || semver.valid(range) === null) {
    throw new InvalidInputError(`Cannot ${options.status === 'yanked' ? 'yank' : 'deprecate'}`, [{ path: options.reference, message: 'give an exact version: <id>@<x.y.z>' }]);
  }
  return summarize(registry.setStatus(id, semver.valid(range)!, options.status));
}

/** `thicket agents reindex` */
export function agentsReindex(registry: CapabilityRegistry): { indexed: number; ms: number } {
  return registry.reindex();
}

/** `thicket agents reembed [--embedder hash-v1-256]` */
export async function agentsReembed(registry: CapabilityRegistry, options: { embedder: Embedder | string }): Promise<{ cards: number; from: string | undefined; to: string }> {
  return registry.reembed(typeof options.embedder === 'string' ? embedderFromSpec(options.embedder) : options.embedder);
}

/** `thicket agents sync-fleet`: every configured fleet model as a capability card (new version on change). */
export async function agentsSyncFleet(registry: CapabilityRegistry, options: { config: FleetConfig; profiles: ProfileSource }): Promise<{ added: string[]; unchanged: string[]; deprecated: string[] }> {
  return syncCards(registry, fleetCards(options.config, options.profiles));
}
