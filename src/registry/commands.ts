/**
 * The `thicket agents …` commands as plain functions: parsed options in, JSON-able results out. The CLI
 * layer only parses flags, opens the registry (`openRegistry`), calls one of these and prints; all the logic
 * is here so that it is tested here.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';
import { InvalidInputError, toThicketError } from '../core/index.ts';
import { defaultJournalPath } from '../journal/index.ts';
import { LlamaEmbedder, OpenAICompatibleEmbedder, parseEmbedderReference, type FleetConfig } from '../models/index.ts';
import { a2aToCards, loadAgentCard } from './a2a.ts';
import { cardRef, costPerCall, LABEL_PATTERN, parseCards, type Binding, type Card, type CardStatus, type StoredCard } from './card.ts';
import type { Plan } from './discovery.ts';
import { HashingEmbedder, type Embedder } from './embedder.ts';
import { fleetCards, syncCards, type ProfileSource } from './fleet-cards.ts';
import { checkIngestLimits, isUrl, readJsonFile, type IngestOptions } from './ingest-common.ts';
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
  throw new InvalidInputError('Unknown embedder', [
    { path: '--embedder', message: `"${spec}": use hash-v1-<dimension> (e.g. hash-v1-384), or a model embedder wired by the CLI` },
  ]);
}

export interface ResolvedEmbedder {
  embedder: Embedder;
  /** The reference it came from (`hash`, `gguf:<path>`, an alias). */
  reference: string;
  /** τ₀ for criticality, when the config records one for this embedder. */
  nullThreshold?: number;
}

/**
 * The embedder an `--embedder <ref>` flag (or the config's `embedder` field) names: `hash` (default hashing
 * embedder), `hash-v1-<dim>` / `hash:<dim>`, `gguf:<path>` (node-llama-cpp embedding context), or an alias
 * under the config's `embedders` (an OpenAI-compatible endpoint: baseURL, model, dimension, apiKeyEnv; or a
 * llama model: path). A bad reference is an InvalidInputError at `source` (the flag, or `embedder` in the
 * config), raised before anything is opened or written. Nothing is contacted here except a gguf file, which
 * is loaded (the model's dimension is needed).
 */
export async function resolveEmbedder(
  reference: string,
  config: Pick<FleetConfig, 'embedders'>,
  options: { source?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ResolvedEmbedder> {
  const source = options.source ?? '--embedder';
  const parsed = parseEmbedderReference(reference, config);
  if (typeof parsed === 'string') throw new InvalidInputError('Unknown embedder', [{ path: source, message: parsed }]);
  if (parsed.kind === 'hash') return { embedder: new HashingEmbedder({ dimension: parsed.dimension }), reference };
  const gguf = async (path: string, extra: { contextSize?: number; threads?: number } = {}) => {
    const absolute = resolve(path.startsWith('gguf:') ? path.slice(5) : path);
    if (!existsSync(absolute) || !statSync(absolute).isFile())
      throw new InvalidInputError('Unknown embedder', [{ path: source, message: `"${reference}": no model file at ${absolute}` }]);
    return LlamaEmbedder.create({ modelPath: absolute, ...extra });
  };
  if (parsed.kind === 'gguf') return { embedder: await gguf(parsed.path), reference };
  const { entry } = parsed;
  const threshold = entry.nullThreshold !== undefined ? { nullThreshold: entry.nullThreshold } : {};
  if (entry.provider === 'llama') {
    const extra = {
      ...(entry.contextSize !== undefined ? { contextSize: entry.contextSize } : {}),
      ...(entry.threads !== undefined ? { threads: entry.threads } : {}),
    };
    return { embedder: await gguf(entry.path, extra), reference, ...threshold };
  }
  const env = options.env ?? process.env;
  const apiKey = entry.apiKeyEnv !== undefined ? env[entry.apiKeyEnv] : undefined;
  if (entry.apiKeyEnv !== undefined && (apiKey === undefined || apiKey === ''))
    throw new InvalidInputError('Unknown embedder', [
      { path: source, message: `"${reference}": its API key variable ${entry.apiKeyEnv} is not set` },
    ]);
  const embedder = new OpenAICompatibleEmbedder({
    baseURL: entry.baseURL,
    model: entry.model,
    dimension: entry.dimension,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(entry.headers !== undefined ? { headers: entry.headers } : {}),
    ...(entry.sendDimensions !== undefined ? { sendDimensions: entry.sendDimensions } : {}),
    ...(entry.batchSize !== undefined ? { batchSize: entry.batchSize } : {}),
  });
  return { embedder, reference, ...threshold };
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

/**
 * Checks the operator's overrides (`--label`, `--provider`, `--cost-per-call`, `--latency-ms`, `--quality`)
 * before anything is read or stored, listing every bad one with its flag.
 */
export function checkOverrides(options: IngestOptions): void {
  const issues: { path: string; message: string }[] = [];
  for (const label of options.labels ?? [])
    if (!LABEL_PATTERN.test(label))
      issues.push({
        path: '--label',
        message: `"${label}": labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu), ≤ 100 chars`,
      });
  if (options.provider !== undefined && (options.provider.trim() === '' || options.provider.length > 200))
    issues.push({ path: '--provider', message: 'must be 1–200 characters' });
  const perCall = options.cost?.perCallUsd;
  if (perCall !== undefined && !(Number.isFinite(perCall) && perCall >= 0))
    issues.push({ path: '--cost-per-call', message: `must be a number ≥ 0 (dollars per call), got ${perCall}` });
  const p50 = options.latency?.p50Ms;
  if (p50 !== undefined && !(Number.isFinite(p50) && p50 >= 0))
    issues.push({ path: '--latency-ms', message: `must be a number ≥ 0 (milliseconds), got ${p50}` });
  if (options.quality !== undefined && !(options.quality >= 0 && options.quality <= 1))
    issues.push({ path: '--quality', message: `must be between 0 and 1, got ${options.quality}` });
  if (issues.length > 0) throw new InvalidInputError('Invalid agents add overrides', issues);
}

/**
 * The operator's overrides applied to a Thicket card document before it is validated: labels are added
 * (sorted, deduplicated), the provider and quality replaced, `--cost-per-call` sets `cost.perCallUsd` (which
 * discovery prefers over token prices), `--latency-ms` replaces the latency (a stale p95 would otherwise
 * still be what limits compare against). Non-objects pass through for parseCards to reject.
 */
function applyOverrides(document: unknown, options: IngestOptions): unknown {
  if (Array.isArray(document)) return document.map((item) => applyOverrides(item, options));
  if (typeof document !== 'object' || document === null) return document;
  const card = { ...(document as Record<string, unknown>) };
  if (options.labels !== undefined && options.labels.length > 0) {
    const existing = Array.isArray(card['labels']) ? (card['labels'] as unknown[]) : [];
    card['labels'] = [...new Set([...existing, ...options.labels])].sort();
  }
  if (options.provider !== undefined) card['provider'] = options.provider;
  if (options.quality !== undefined) card['quality'] = options.quality;
  if (options.cost !== undefined)
    card['cost'] = { ...(typeof card['cost'] === 'object' && card['cost'] !== null ? card['cost'] : {}), ...options.cost };
  if (options.latency !== undefined) card['latency'] = options.latency;
  return card;
}

/** What `agents add` will register: read, converted and checked against INGEST_LIMITS, nothing stored yet. */
export interface CardsToAdd {
  source: string;
  kind: AddResult['kind'];
  cards: Card[];
}

/** `thicket agents add <file|url>`: A2A AgentCard (file, URL, well-known), MCP tools (file or live), or Thicket cards. */
export async function agentsAdd(registry: CapabilityRegistry, options: AddOptions): Promise<AddResult> {
  return registerCardsToAdd(registry, await loadCardsToAdd(options));
}

/**
 * Registers what `loadCardsToAdd` read: all of it or none (one transaction, one batch of embeddings — see
 * CapabilityRegistry.register).
 */
export async function registerCardsToAdd(registry: CapabilityRegistry, loaded: CardsToAdd): Promise<AddResult> {
  const { added, unchanged } = await registry.register(loaded.cards);
  return { source: loaded.source, kind: loaded.kind, added, unchanged };
}

/**
 * Reads and converts what `agents add` was given, refusing (InvalidInputError, every limit named) a file, a
 * card or a card count past INGEST_LIMITS — before any registry is opened, so a refused add writes nothing.
 */
export async function loadCardsToAdd(options: AddOptions): Promise<CardsToAdd> {
  const { source, kind: givenKind, mcpCommand, server, serverVersion, ...ingest } = options;
  checkOverrides(ingest);
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
    const { document, uri } = isUrl(source)
      ? await loadAgentCard(source)
      : { document: await readJsonFile(source, 'capability document'), uri: source };
    kind = givenKind ?? detectKind(document);
    cards =
      kind === 'a2a'
        ? a2aToCards(document, { ...ingest, sourceUri: uri })
        : kind === 'mcp'
          ? mcpToCards(
              document,
              { ...(server !== undefined ? { name: server } : {}), ...(serverVersion !== undefined ? { version: serverVersion } : {}) },
              { ...ingest, sourceUri: uri },
            )
          : parseCards(applyOverrides(document, ingest), `capability cards in ${uri}`);
  }
  checkIngestLimits(cards, where);
  return { source: where, kind, cards };
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
  return {
    ref: cardRef(card),
    id: card.id,
    version: card.version,
    status: card.status,
    name: card.name,
    provider: card.provider,
    binding: card.binding.kind,
    labels: card.labels,
    costPerCall: costPerCall(card),
  };
}

/**
 * `thicket agents ls [--id X] [--status S] [--limit N]`. `total` counts the stored versions that match the
 * filters (all versions, yanked included, when there are none); `cards` is the first `limit` of them.
 */
export function agentsList(
  registry: CapabilityRegistry,
  options: { id?: string; status?: CardStatus; limit?: number; offset?: number } = {},
): { total: number; cards: CardSummary[] } {
  const filtered = options.id !== undefined || options.status !== undefined;
  const filter = {
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
  };
  return {
    total: filtered ? registry.list(filter).length : registry.count(),
    cards: registry.list({ limit: 1_000, ...options }).map(summarize),
  };
}

/** `thicket agents show <id[@range]>`: the resolved card and every version with its status. */
export function agentsShow(
  registry: CapabilityRegistry,
  options: { reference: string },
): { card: StoredCard; versions: { version: string; status: CardStatus }[] } {
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
  /** Relevance floor (default `'calibrated'`: the embedder's, from its null similarities). */
  minSimilarity?: number | 'calibrated';
}

/** `thicket agents search "<need>" [--require L]… [--forbid L]… [--provider P]… [--max-cost X] [--max-latency MS] [--k N]` */
export async function agentsSearch(
  registry: CapabilityRegistry,
  options: SearchOptions,
): Promise<{
  need: string;
  plan: Plan;
  /** The relevance floor applied, and how many of the k best passed the policy filters but not the floor. */
  floor: number;
  belowFloor: number;
  results: (CardSummary & { score: number; explanation: object })[];
}> {
  const { results, plan, floor, belowFloor } = await registry.discover({
    need: options.need,
    k: options.k ?? 5,
    minSimilarity: options.minSimilarity ?? 'calibrated',
    ...(options.require ? { require: options.require } : {}),
    ...(options.forbid ? { forbid: options.forbid } : {}),
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.bindingKinds ? { bindingKinds: options.bindingKinds } : {}),
    ...(options.maxCost !== undefined ? { maxCostPerCall: options.maxCost } : {}),
    ...(options.maxLatencyMs !== undefined ? { maxLatencyMs: options.maxLatencyMs } : {}),
  });
  return {
    need: options.need,
    plan,
    floor: floor ?? Number.NEGATIVE_INFINITY,
    belowFloor: belowFloor ?? 0,
    results: results.map((result) => ({ ...summarize(result.card), score: result.score, explanation: result.explanation })),
  };
}

/** `thicket agents deprecate|yank <id@version>` (an exact version: lifecycle changes are never ranged). */
export function agentsSetStatus(
  registry: CapabilityRegistry,
  options: { reference: string; status: 'deprecated' | 'yanked' },
): CardSummary {
  const { id, range } = parseReference(options.reference);
  if (range === undefined || semver.valid(range) === null) {
    throw new InvalidInputError(`Cannot ${options.status === 'yanked' ? 'yank' : 'deprecate'}`, [
      { path: options.reference, message: 'give an exact version: <id>@<x.y.z>' },
    ]);
  }
  return summarize(registry.setStatus(id, semver.valid(range)!, options.status));
}

/** `thicket agents reindex` */
export function agentsReindex(registry: CapabilityRegistry): { indexed: number; ms: number } {
  return registry.reindex();
}

/** `thicket agents reembed --embedder <ref>` (a string: a hashing spec, see embedderFromSpec; or a resolved embedder) */
export async function agentsReembed(
  registry: CapabilityRegistry,
  options: { embedder: Embedder | string },
): Promise<{ cards: number; from: string | undefined; to: string }> {
  return registry.reembed(typeof options.embedder === 'string' ? embedderFromSpec(options.embedder) : options.embedder);
}

/**
 * `thicket agents sync-fleet`: every configured fleet model — and, by default, the built-in simulated tiers
 * (`sim:small` …) — as a capability card. Idempotent: unchanged content is a no-op; changed content is a new
 * minor version (the previous one deprecated); content equal to a yanked version stays yanked (fleet-cards.ts).
 */
export async function agentsSyncFleet(
  registry: CapabilityRegistry,
  options: { config: FleetConfig; profiles: ProfileSource; includeSim?: boolean },
): Promise<{
  added: string[];
  unchanged: string[];
  deprecated: string[];
  yanked: string[];
  unavailable: Array<{ alias: string; error: { code: string; message: string } }>;
}> {
  // A model that cannot resolve now keeps whatever card it had (nothing is deprecated for it) and is reported.
  const unavailable: Array<{ alias: string; error: { code: string; message: string } }> = [];
  const cards = fleetCards(options.config, options.profiles, {
    includeSim: options.includeSim ?? true,
    onUnavailable: (alias, error) => {
      const { code, message } = toThicketError(error).toJSON();
      unavailable.push({ alias, error: { code, message } });
    },
  });
  return { ...(await syncCards(registry, cards)), unavailable };
}
