/**
 * `thicket agents …`: the capability registry's commands (add, ls, show, search, sync-fleet, deprecate, yank,
 * reindex, reembed). Flags and help only; ../commands/agents.ts does the work.
 */
import type { Command } from 'commander';
import type * as AgentsCommands from '../commands/agents.ts';
import { CONFIG_HELP, lazyModule, wrap } from './common.ts';

const agentsCli: typeof AgentsCommands = lazyModule(() => import('../commands/agents.ts'));

const REGISTRY_HELP = 'capability registry database (default: $THICKET_REGISTRY, then registry.db beside the journal)';
const EMBEDDER_HELP =
  'embedder: hash (default), hash-v1-<dim>, gguf:<path>, or an alias under "embedders" in the fleet config (default: its "embedder" field); ' +
  "must match the registry's vectors (else: agents reembed)";
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function addAgentsCommands(program: Command): void {
  const agents = program
    .command('agents')
    .description('Capability registry: versioned cards, A2A/MCP ingestion, discovery under policy and budget');
  agents
    .command('add')
    .description('Add an A2A AgentCard (file, URL or <url>/.well-known/agent-card.json), an MCP tools/list file, or Thicket cards')
    .argument('[source]', 'file path or URL')
    .option('--kind <kind>', 'a2a | mcp | cards (default: detected)')
    .option('--mcp <command>', 'a live MCP server over stdio, e.g. "node server.js"')
    .option('--server <name>', 'MCP tools/list file: the server name (unless the file has serverInfo)')
    .option('--server-version <semver>', 'MCP tools/list file: the server version')
    .option('--label <label>', 'policy label to attach to every added card (repeatable), e.g. residency:eu', collect)
    .option('--provider <name>', 'provider override', collect)
    .option('--cost-per-call <usd>', 'expected dollars per call (override)')
    .option('--latency-ms <ms>', 'latency p50 in ms (override)')
    .option('--quality <q>', 'quality prior in [0, 1] (override)')
    .option('--embedder <ref>', EMBEDDER_HELP)
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((source: string | undefined, flags: AgentsCommands.AgentsFlags) => agentsCli.agentsAddCommand(source, flags)));
  agents
    .command('ls')
    .description('List capabilities')
    .option('--id <id>', 'only the versions of this capability id')
    .option('--status <status>', 'active | deprecated | yanked')
    .option('--limit <n>', 'how many', '100')
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: AgentsCommands.AgentsFlags) => agentsCli.agentsListCommand(flags)));
  agents
    .command('show')
    .description('Show a capability: id, id@1.4.2 or id@^1.4')
    .argument('<ref>', 'capability reference')
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((ref: string, flags: AgentsCommands.AgentsFlags) => agentsCli.agentsShowCommand(ref, flags)));
  agents
    .command('search')
    .description('Discover capabilities for a need, under hard policy filters and a budget')
    .argument('<need>', 'what the capability must do')
    .option('--require <label>', 'required policy label (repeatable)', collect)
    .option('--forbid <label>', 'forbidden policy label (repeatable)', collect)
    .option('--provider <name>', 'allowed provider (repeatable)', collect)
    .option('--max-cost <usd>', 'max dollars per call')
    .option('--max-latency <ms>', 'max latency (p50) in ms')
    .option('--kind <kind>', 'binding kind: model | operator | agent | a2a | mcp (repeatable)', collect)
    .option('--k <n>', 'results', '5')
    .option(
      '--min-similarity <x>',
      "relevance floor in [-1, 1] (default: the embedder's, calibrated on unrelated texts; -1 lists the nearest whatever they are)",
    )
    .option('--embedder <ref>', EMBEDDER_HELP)
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((need: string, flags: AgentsCommands.AgentsSearchFlags) => agentsCli.agentsSearchCommand(need, flags)));
  agents
    .command('sync-fleet')
    .description(
      'Register every configured fleet model and the built-in sim tiers as capability cards (unchanged: no-op; changed: a new version)',
    )
    .option('--no-sim', 'only the configured models, not the built-in sim:<profile> tiers')
    .option('--config <path>', CONFIG_HELP)
    .option('--embedder <ref>', EMBEDDER_HELP)
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: AgentsCommands.AgentsFlags) => agentsCli.agentsSyncFleetCommand(flags)));
  agents
    .command('deprecate')
    .description('Deprecate id@version (resolved only when pinned)')
    .argument('<ref>', 'id@version')
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((ref: string, flags: AgentsCommands.AgentsFlags) => agentsCli.agentsStatusCommand(ref, 'deprecated', flags)));
  agents
    .command('yank')
    .description('Yank id@version (never resolved again)')
    .argument('<ref>', 'id@version')
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((ref: string, flags: AgentsCommands.AgentsFlags) => agentsCli.agentsStatusCommand(ref, 'yanked', flags)));
  agents
    .command('reindex')
    .description('Rebuild the HNSW index from the database')
    .option('--embedder <ref>', EMBEDDER_HELP)
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: AgentsCommands.AgentsFlags) => agentsCli.agentsReindexCommand(flags)));
  agents
    .command('reembed')
    .description('Re-embed every card with another embedder and rebuild the index')
    .requiredOption(
      '--embedder <ref>',
      'the new embedder: hash, hash-v1-<dim>, gguf:<path>, or an alias under "embedders" in the fleet config',
    )
    .option('--registry <path>', REGISTRY_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: AgentsCommands.AgentsFlags) => agentsCli.agentsReembedCommand(flags)));
}
