/**
 * `thicket fleet [check]` and `thicket models pull|ls|fixture`: the models Thicket can call, from the fleet
 * config and the local GGUF cache of the embedded engine. Flags and help only; ../commands/fleet.ts and
 * ../commands/models.ts do the work.
 */
import { Option, type Command } from 'commander';
import { CONFIG_HELP, JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { fleetCheckCommand, fleetListCommand } = lazyModule(() => import('../commands/fleet.ts'));
const { modelsFixtureCommand, modelsListCommand, modelsPullCommand } = lazyModule(() => import('../commands/models.ts'));

export function addFleetCommands(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('List the models Thicket can call')
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print JSON');
  fleet.action(wrap(() => fleetListCommand(fleet.opts())));
  fleet
    .command('check')
    .description('Probe each model with one tiny call and report latency and errors')
    .addOption(new Option('-m, --model <ref...>', 'only these models'))
    .option('--config <path>', CONFIG_HELP)
    .option('--journal <path>', `${JOURNAL_HELP} (the probe calls are journaled as a "fleet check" run)`)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof fleetCheckCommand>[0]) => fleetCheckCommand({ ...fleet.opts(), ...flags })));
}

export function addModelsCommands(program: Command): void {
  const models = program.command('models').description('Local GGUF models for the embedded llama.cpp engine');
  models
    .command('pull')
    .description('Download a pinned small instruct model (checksum-verified, cached; $THICKET_MODELS_DIR)')
    .argument('[name]', 'pinned model name (default: the small default)')
    .option('--json', 'print JSON')
    .action(wrap((name: string | undefined, flags: { json?: boolean }) => modelsPullCommand(name, flags)));
  models
    .command('ls')
    .description('The pinned models, and which are in the cache (no network)')
    .option('--json', 'print JSON')
    .action(wrap(async (flags: { json?: boolean }) => modelsListCommand(flags)));
  models
    .command('fixture')
    .description("Write the project's tiny random-weight GGUF (gibberish text, real engine mechanics)")
    .argument('<path>', 'output .gguf path')
    .option('--seed <n>', 'weights seed', '1')
    .option('--json', 'print JSON')
    .action(wrap((path: string, flags: { seed?: string; json?: boolean }) => modelsFixtureCommand(path, flags)));
}
