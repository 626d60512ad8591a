/**
 * Reading what ran: `thicket runs ls|show` (the run journal) and `thicket criticality` (metrics of a reasoning
 * graph, such as a run's trace). Flags and help only; ../commands/runs.ts and the criticality layer do the work.
 */
import { Option, type Command } from 'commander';
import { JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { runsListCommand, runsShowCommand } = lazyModule(() => import('../commands/runs.ts'));
const { criticalityCommand } = lazyModule(() => import('../../criticality/index.ts'));

export function addCriticalityCommand(program: Command): void {
  program
    .command('criticality')
    .description(
      'Criticality metrics of a reasoning graph: von Neumann entropies, D, surprising-edge share, clustering, modularity, hubs, bridges',
    )
    .argument(
      '<graph>',
      'graph JSON: a ReasoningGraph, a trace JSON (runs show --trace --json), or {nodes:[{id,text?}], edges:[{source|from, target|to}]}',
    )
    .option('--tau <x>', 'fixed cosine threshold for a surprising edge (default 0.2, calibrated for the hashing embedder)')
    .option('--snapshots <n|s1,s2,…>', 'N evenly spaced snapshots, or explicit steps')
    .option('--merge <x>', 'first merge near-duplicate nodes at cosine ≥ x')
    .option(
      '--embedder <ref>',
      'embedder: hash (default), hash-v1-<dim>, gguf:<path>, or an alias under "embedders" in the fleet config (default: its "embedder" field)',
    )
    .option('--json', 'print exactly one JSON object')
    .action(
      wrap(async (path: string, flags: Parameters<typeof criticalityCommand>[1]) => {
        await criticalityCommand(path, flags);
        return 0;
      }),
    );
}

export function addRunsCommands(program: Command): void {
  const runs = program.command('runs').description('Inspect the run journal');
  runs
    .command('ls')
    .description('List runs, newest first')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--limit <n>', 'how many runs', '50')
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof runsListCommand>[0]) => runsListCommand(flags)));
  runs
    .command('show')
    .description("Show a run's calls, usage, cost and status")
    .argument('<id>', 'run id')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--trace', 'print the trace: per-node results and the reasoning graph')
    .option('--json', 'print JSON (with --trace: the trace, events and graph)')
    .action(wrap((id: string, flags: Parameters<typeof runsShowCommand>[1]) => runsShowCommand(id, flags)));
}
