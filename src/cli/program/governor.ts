/**
 * `thicket governor calibrate|fit|frontier` and `thicket export trajectories`: fitting the governor's policy
 * from journaled runs, and exporting the governed solves it learns from. Flags and help only;
 * ../commands/governor.ts does the work.
 */
import { Option, type Command } from 'commander';
import type { GovernorFlags } from '../commands/governor.ts';
import { CONFIG_HELP, JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { exportTrajectoriesCommand, governorCalibrateCommand, governorFitCommand, governorFrontierCommand } = lazyModule(
  () => import('../commands/governor.ts'),
);

export function addGovernorCommands(program: Command): void {
  const governor = program
    .command('governor')
    .description('Fit the governor (cascade thresholds, difficulty-aware allocation) from journaled calibration runs');
  governor
    .command('calibrate')
    .description('Run every cascade stage and compute arm on a generated mixed-difficulty suite, journaled for `fit`')
    .option('--items <n>', 'suite size', '120')
    .option('--seed <n>', 'suite seed', '0')
    .option('-m, --model <ref>', 'starting (smallest) model', undefined)
    .option('--levels <list>', "budget levels (tokens) for the arms, e.g. 1500,4000,12000; '' for stages only")
    .option(
      '--suite <name>',
      'arithmetic (default) | multihop: questions over a generated corpus, arms with search; `fit` then learns the corpus table (solve --corpus)',
    )
    .option('--policy <file>', 'base policy (e.g. after a stages-only fit)')
    .option('--verifier', 'also score stages with a verifier call')
    .option('-y, --yes', 'spend on non-simulated models without asking')
    .option('--max-usd <dollars>', 'stop once calibration has spent this much (also confirms spending on non-simulated models)')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: GovernorFlags) => governorCalibrateCommand(flags)));
  governor
    .command('fit')
    .description('Fit the policy from calibration runs and write it (use with solve --policy)')
    .option('--out <file>', 'policy JSON to write')
    .option('--target <ratio>', 'cascade: ≥ this share of the largest model’s accuracy at minimum cost', '0.98')
    .option('--cost-cap <x>', 'cascade: maximum accuracy under this cost per query instead')
    .option('--runs <ids>', 'calibration run ids (default: all)')
    .option('--policy <file>', 'base policy')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: GovernorFlags) => governorFitCommand(flags)));
  governor
    .command('frontier')
    .description(
      'Fit the frontier tables `auto` chooses from (per task family, model and budget): run the studies on training seeds ' +
        "with every fixed strategy and the governor's arms, write a policy",
    )
    .option('--study <name-or-file...>', 'built-in study (quick-sim, quick, default) or study file(s)', ['quick-sim'])
    .option('--seeds <list>', 'training seeds (never the held-out ones)', '1001,1002')
    .option('--held-out <list>', 'seeds reserved for evaluation: refused for training', '1,2')
    .option('--tolerance <points>', 'accuracy within this of the best counts as best; the cheapest such candidate wins', '0.01')
    .option('--out <file>', 'policy JSON to write')
    .option('--policy <file>', 'base policy (probe, cascade, allocation carried over)')
    .option('-y, --yes', 'run studies that call paid models')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: GovernorFlags) => governorFrontierCommand(flags)));
}

export function addExportCommands(program: Command): void {
  program
    .command('export')
    .description('Export journaled data')
    .command('trajectories')
    .description(
      "Trajectories as JSONL: one per governed solve (query, features, decision or workflow, cost, outcome, reward) and the planner's plan steps",
    )
    .option('--out <file>', 'output file (default: stdout)')
    .option('--runs <ids>', 'run ids (default: all)')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .action(wrap((flags: GovernorFlags) => exportTrajectoriesCommand(flags)));
}
