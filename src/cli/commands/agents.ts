/**
 * `thicket agents …`: the capability registry — add A2A AgentCards / MCP tools / cards (with operator
 * overrides: labels, provider, cost, latency, quality), list, show, discover under policy and budget,
 * deprecate/yank versions, reindex, re-embed, and register the fleet's models (sync-fleet). The logic lives
 * in src/registry (commands.ts); this file parses flags and prints.
 */
import { existsSync } from 'node:fs';
import pc from 'picocolors';
import { InvalidInputError, systemClock } from '../../core/index.ts';
import { FleetResolver, loadFleetConfig } from '../../models/index.ts';
import {
  CARD_STATUSES,
  LABEL_PATTERN,
  agentsList,
  agentsReembed,
  agentsReindex,
  agentsSearch,
  agentsSetStatus,
  agentsShow,
  agentsSyncFleet,
  defaultRegistryPath,
  loadCardsToAdd,
  openRegistry,
  registerCardsToAdd,
  resolveEmbedder,
  type Binding,
  type CardStatus,
  type CardSummary,
  type CapabilityRegistry,
  type Embedder,
  type IngestOptions,
} from '../../registry/index.ts';
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
  /** agents add overrides. */
  label?: string[];
  costPerCall?: string;
  latencyMs?: string;
  quality?: string;
  /** agents ls filters. */
  id?: string;
  status?: string;
  /** agents sync-fleet. */
  config?: string;
  sim?: boolean;
}

/** `agents search --kind` is repeatable and names binding kinds (`agents add --kind` names a document kind). */
export type AgentsSearchFlags = Omit<AgentsFlags, 'kind'> & { kind?: string[]; minSimilarity?: string };

const BINDING_KINDS: readonly Binding['kind'][] = ['model', 'operator', 'agent', 'a2a', 'mcp'];

/** `agents add` overrides from flags, every bad one listed with its flag (the registry checks them again). */
function overridesOf(flags: AgentsFlags, issues: IssueCollector): IngestOptions {
  const costPerCall = issues.number('--cost-per-call', flags.costPerCall, { min: 0 });
  const latencyMs = issues.number('--latency-ms', flags.latencyMs, { min: 0 });
  const quality = issues.number('--quality', flags.quality, { min: 0, max: 1 });
  for (const label of flags.label ?? [])
    if (!LABEL_PATTERN.test(label))
      issues.add('--label', `"${label}": labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu), ≤ 100 chars`);
  return {
    ...(flags.label && flags.label.length > 0 ? { labels: flags.label } : {}),
    ...(flags.provider && flags.provider.length > 0 ? { provider: flags.provider[flags.provider.length - 1]! } : {}),
    ...(costPerCall !== undefined ? { cost: { perCallUsd: costPerCall } } : {}),
    ...(latencyMs !== undefined ? { latency: { p50Ms: latencyMs } } : {}),
    ...(quality !== undefined ? { quality } : {}),
  };
}

/**
 * The embedder `--embedder <ref>` names, else the fleet config's `embedder` field (config from --config,
 * $THICKET_CONFIG or ./thicket.config.json), else undefined: the registry then uses the embedder its vectors
 * were made with (the hashing embedder for a new registry). Resolved before the registry is opened, so a bad
 * reference writes nothing.
 */
async function embedderOf(flags: Pick<AgentsFlags, 'embedder' | 'config'>): Promise<Embedder | undefined> {
  const { config } = loadFleetConfig(flags.config);
  const reference = flags.embedder ?? config.embedder;
  if (reference === undefined) return undefined;
  return (await resolveEmbedder(reference, config, { source: flags.embedder !== undefined ? '--embedder' : 'embedder' })).embedder;
}

async function withRegistry<T>(
  flags: Pick<AgentsFlags, 'registry'>,
  readOnly: boolean,
  action: (registry: CapabilityRegistry) => Promise<T> | T,
  embedder?: Embedder,
): Promise<T> {
  const path = flags.registry ?? defaultRegistryPath();
  // Reading commands never create a registry file.
  if (readOnly && !existsSync(path))
    throw new InvalidInputError('No capability registry', [
      { path: '--registry', message: `${path} does not exist yet; add capabilities with \`thicket agents add <file|url>\`` },
    ]);
  // A registry whose vectors came from another embedder refuses this one (EmbedderMismatchError → reembed).
  const registry = await openRegistry({ path, ...(embedder !== undefined ? { embedder } : {}) });
  try {
    return await action(registry);
  } finally {
    registry.close();
  }
}

function summaries(cards: CardSummary[]): string {
  return table(
    ['capability', 'status', 'name', 'provider', 'binding', 'labels', '$/call'],
    cards.map((card) => [
      card.ref,
      card.status,
      card.name,
      card.provider,
      card.binding,
      card.labels.join(', '),
      card.costPerCall === undefined ? '—' : formatUsd(card.costPerCall),
    ]),
  );
}

export async function agentsAddCommand(source: string | undefined, flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (source === undefined && flags.mcp === undefined)
    issues.add('source', 'give a file or URL, or --mcp "<command> [args…]" for a live MCP server');
  if (flags.provider !== undefined && flags.provider.length > 1)
    issues.add('--provider', `give one provider, got ${flags.provider.join(', ')}`);
  const overrides = overridesOf(flags, issues);
  issues.throwIfAny('Invalid agents add request');
  const embedder = await embedderOf(flags);
  // Read, converted and checked (size and count limits) before the registry is opened: a refused add writes nothing.
  const loaded = await loadCardsToAdd({
    ...(source !== undefined ? { source } : {}),
    ...(flags.kind ? { kind: flags.kind } : {}),
    ...(flags.mcp ? { mcpCommand: flags.mcp.split(/\s+/).filter(Boolean) } : {}),
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.serverVersion ? { serverVersion: flags.serverVersion } : {}),
    ...overrides,
  });
  const result = await withRegistry(flags, false, (registry) => registerCardsToAdd(registry, loaded), embedder);
  if (output.json) output.out(JSON.stringify(result));
  else
    output.out(
      `${pc.green('added')} ${result.added.length} (${result.added.join(', ') || 'none'}), unchanged ${result.unchanged.length} — from ` +
        `${result.source} (${result.kind})`,
    );
  return 0;
}

export async function agentsListCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const limit = issues.number('--limit', flags.limit ?? '100', { integer: true, min: 1, max: 100_000 }) ?? 100;
  if (flags.status !== undefined && !(CARD_STATUSES as readonly string[]).includes(flags.status))
    issues.add('--status', `must be ${CARD_STATUSES.join(', ')}; got "${flags.status}"`);
  if (flags.id !== undefined && flags.id.trim() === '') issues.add('--id', 'must not be empty');
  issues.throwIfAny('Invalid agents ls request');
  const listed = await withRegistry(flags, true, (registry) =>
    agentsList(registry, {
      limit,
      ...(flags.id !== undefined ? { id: flags.id } : {}),
      ...(flags.status !== undefined ? { status: flags.status as CardStatus } : {}),
    }),
  );
  if (output.json) output.out(JSON.stringify(listed));
  else output.out(`${summaries(listed.cards)}\n${listed.total} capabilit${listed.total === 1 ? 'y' : 'ies'}`);
  return 0;
}

export async function agentsShowCommand(reference: string, flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const shown = await withRegistry(flags, true, (registry) => agentsShow(registry, { reference }));
  if (output.json) output.out(JSON.stringify(shown));
  else
    output.out(
      `${JSON.stringify(shown.card, null, 2)}\nversions: ${shown.versions.map((version) => `${version.version} (${version.status})`).join(', ')}`,
    );
  return 0;
}

export async function agentsSearchCommand(need: string, flags: AgentsSearchFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (need.trim() === '') issues.add('need', 'must not be empty');
  const k = issues.number('--k', flags.k ?? '5', { integer: true, min: 1, max: 1000 }) ?? 5;
  const maxCost = issues.number('--max-cost', flags.maxCost, { min: 0 });
  const maxLatencyMs = issues.number('--max-latency', flags.maxLatency, { min: 0 });
  const minSimilarity = issues.number('--min-similarity', flags.minSimilarity, { min: -1, max: 1 });
  for (const kind of flags.kind ?? [])
    if (!(BINDING_KINDS as readonly string[]).includes(kind))
      issues.add('--kind', `"${kind}" is not a binding kind (${BINDING_KINDS.join(', ')})`);
  issues.throwIfAny('Invalid agents search request');
  const embedder = await embedderOf(flags);
  const found = await withRegistry(
    flags,
    true,
    (registry) =>
      agentsSearch(registry, {
        need,
        k,
        ...(flags.require ? { require: flags.require } : {}),
        ...(flags.forbid ? { forbid: flags.forbid } : {}),
        ...(flags.provider ? { providers: flags.provider } : {}),
        ...(flags.kind && flags.kind.length > 0 ? { bindingKinds: flags.kind as Binding['kind'][] } : {}),
        ...(maxCost !== undefined ? { maxCost } : {}),
        ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
        ...(minSimilarity !== undefined ? { minSimilarity } : {}),
      }),
    embedder,
  );
  if (output.json) output.out(JSON.stringify(found));
  else if (found.results.length === 0)
    output.out(
      `No capability matches "${need}"` +
        (found.belowFloor > 0
          ? `: the ${found.belowFloor} nearest that pass the filters are no more similar to it than unrelated texts are to each ` +
            `other (similarity ≤ ${found.floor.toFixed(3)}, the relevance floor of this embedder). Describe the need in other ` +
            'words, or pass --min-similarity -1 to list the nearest anyway.'
          : ': none passes the filters.'),
    );
  else
    output.out(
      table(
        ['#', 'capability', 'score', 'name', 'labels', '$/call'],
        found.results.map((card, index) => [
          index + 1,
          card.ref,
          card.score.toFixed(3),
          card.name,
          card.labels.join(', '),
          card.costPerCall === undefined ? '—' : formatUsd(card.costPerCall),
        ]),
      ),
    );
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
  const result = await withRegistry(flags, true, (registry) => agentsReindex(registry), await embedderOf(flags));
  if (output.json) output.out(JSON.stringify(result));
  else output.out(`reindexed ${result.indexed} capabilities in ${Math.round(result.ms)} ms`);
  return 0;
}

export async function agentsReembedCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  if (flags.embedder === undefined)
    throw new InvalidInputError('Missing embedder', [
      { path: '--embedder', message: 'e.g. hash-v1-512, gguf:<path> or a configured alias' },
    ]);
  const { config } = loadFleetConfig(flags.config);
  const { embedder } = await resolveEmbedder(flags.embedder, config);
  // Opened with the embedder its vectors were made with (none given), then migrated to the new one.
  const result = await withRegistry(flags, true, (registry) => agentsReembed(registry, { embedder }));
  if (output.json) output.out(JSON.stringify(result));
  else output.out(`re-embedded ${result.cards} capabilities: ${result.from ?? '—'} → ${result.to}`);
  return 0;
}

/** `thicket agents sync-fleet [--config F] [--no-sim]`: the fleet's models (and the sim tiers) as capability cards. */
export async function agentsSyncFleetCommand(flags: AgentsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const { config } = loadFleetConfig(flags.config);
  const profiles = new FleetResolver({ config, clock: systemClock, seed: 0 });
  const embedder = await embedderOf(flags);
  const result = await withRegistry(
    flags,
    false,
    (registry) => agentsSyncFleet(registry, { config, profiles, includeSim: flags.sim !== false }),
    embedder,
  );
  if (output.json) output.out(JSON.stringify(result));
  else {
    const list = (refs: string[]): string => (refs.length === 0 ? '' : ` (${refs.join(', ')})`);
    output.out(
      `${pc.green('added')} ${result.added.length}${list(result.added)}, unchanged ${result.unchanged.length}, deprecated ` +
        `${result.deprecated.length}${list(result.deprecated)}`,
    );
    for (const ref of result.yanked) output.out(pc.yellow(`${ref} is yanked and its content is unchanged: not registered again`));
    for (const { alias, error } of result.unavailable)
      output.out(pc.yellow(`${alias} is unavailable (${error.code}: ${error.message}): its card, if any, is left as it was`));
  }
  return 0;
}
