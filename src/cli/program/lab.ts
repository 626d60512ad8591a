/**
 * The lab's commands: `thicket agentsnet`, `study`, `eval`, `worker` (the queue's cell runner) and
 * `sim fit`. Flags and help only; the modules in ../commands/ (and through them the lab) do the work.
 */
import { Option, type Command } from 'commander';
import type { AgentsnetFlags } from '../commands/agentsnet.ts';
import type { EvalFlags } from '../commands/eval.ts';
import type { WorkerFlags } from '../commands/worker.ts';
import { CONFIG_HELP, JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { runSimFitCommand, runStudyCommand } = lazyModule(() => import('../commands/study.ts'));
const { runEvalCommand } = lazyModule(() => import('../commands/eval.ts'));
const { runWorkerCommand } = lazyModule(() => import('../commands/worker.ts'));
const { agentsnetCommand } = lazyModule(() => import('../commands/agentsnet.ts'));

export function addAgentsnetCommand(program: Command): void {
  program
    .command('agentsnet')
    .description('The AgentsNet benchmark: coordination tasks on agent networks of any size, plain or verifying protocol')
    .option('--task <name|all>', 'coloring | vertex_cover | matching | leader_election | consensus | all (comma-separated)', 'all')
    .option('--sizes <list>', 'network sizes', '4,8,16')
    .option('-m, --model <ref>', 'model for every agent (default: config default, else sim:large)')
    .option('--protocol <p>', 'plain | verified', 'plain')
    .option('--graphs <list>', 'ws,ba,dt', 'ws,ba,dt')
    .option('--samples <n>', 'graphs per family and size', '3')
    .option('--history <mode>', 'persistent | pruned:<rounds>')
    .option('--seed <n>', 'graph and sim seed', '42')
    .option('--budget-tokens <n>', 'hard cap on total tokens')
    .option('--budget-usd <x>', 'hard cap on dollars')
    .option('--allow-unpriced', 'run under --budget-usd even when the model has no known price (the dollar cap does not hold on it)')
    .option('--out <file>', 'results as JSONL')
    .option('--concurrency <n>', 'agent calls in flight per instance (default 64)')
    .option('--instance-concurrency <n>', 'instances run in parallel (default 1)')
    .option('--run-id <id>', 'journal run id (re-running resumes: finished instances are reused, no calls)')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(wrap((flags: AgentsnetFlags) => agentsnetCommand(flags)));
}

export function addStudyCommand(program: Command): void {
  program
    .command('study')
    .description(
      "Thicket's main job: matched-budget architecture studies (suites × architectures × budgets × models), analysis and a report",
    )
    .option(
      '--quick [fleet]',
      'the built-in quick study, offline: on the tiny models Thicket trained (default; real, ≈ 1.5 minutes) ' +
        'or `sim` (simulated fleet, ≈ 1 minute)',
    )
    .option('--study <file>', 'a study file (YAML or JSON); default: the built-in default study')
    .option('--id <id>', 'study id (re-running the same id resumes: finished cells are skipped)')
    .option('--suites <list>', 'override the suites')
    .option('--architectures <list>', 'override the architectures (single, vote@k, refine, thread, search, debate, solo, cascade, auto)')
    .option('--budgets <list>', 'override the per-query token budgets')
    .option('--models <list>', 'override the models')
    .option('--seeds <list>', 'override the seeds')
    .option('--items <n>', 'items per suite')
    .option('--concurrency <n>', 'queries in flight')
    .option(
      '--queue [redis-url]',
      'run the cells on `thicket worker` processes through this Redis (default THICKET_REDIS_URL, else redis://127.0.0.1:6379)',
    )
    .option('--queue-prefix <prefix>', "key prefix of the queue in Redis (the workers' --prefix)", 'thicket')
    .option('--out <dir>', 'report folder')
    .option('--allow-unpriced', 'run a dollar-budget study on models with no known price (their cells count as $0)')
    .option('--no-report', 'skip writing the report')
    .option('-y, --yes', 'spend on non-simulated models without asking')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print exactly one JSON object')
    .action(wrap((flags: Parameters<typeof runStudyCommand>[0]) => runStudyCommand(flags)));
}

export function addEvalCommand(program: Command): void {
  program
    .command('eval')
    .argument('<dataset>', 'a dataset (.jsonl, .json, .csv, .tsv, .parquet) or an eval file (.yaml) describing the evaluation')
    .description('Matched-budget study on your own dataset, models and scorer: accuracy and cost with CIs, paired comparisons, a report')
    .option('--preset <name>', 'gsm8k | math | mc | hotpot | trivia | none (field names and answer reading)')
    .option('--format <format>', 'jsonl | json | csv | tsv | parquet (default: from the extension)')
    .option('--input <field>', 'field holding the question')
    .option('--answer <field>', 'field holding the answer')
    .option('--choices <fields>', 'field holding the choices, or one field per choice (A,B,C,D)')
    .option('--context <field>', 'field holding context paragraphs (they become the search corpus)')
    .option('--id <field>', 'field holding each item’s id')
    .option('--scorer <scorer>', 'exact | any-of | numeric[:tol] | regex[:pattern] | mc | f1 | json[:schema] | judge:<model> | ./scorer.js')
    .option('--limit <n>', 'first n items')
    .option('--sample <n>', 'n items drawn at random (seeded by the first seed)')
    .option('--split <name>', 'split to use (a JSON object of splits, or rows with a "split" field)')
    .option('--strict', 'refuse the dataset when any row is bad (default: skip and report bad rows)')
    .option('--strategies <list>', 'strategies: single (default), vote, refine, thread, search, debate, solo, cascade, auto')
    .option('--budgets <list>', 'per-query token budgets, e.g. 2k,8k (default 2k)')
    .option('--models <list>', 'models to evaluate (required here or in the eval file)')
    .option('--seeds <list>', 'seeds (default 1)')
    .option('--concurrency <n>', 'queries in flight')
    .option('--queue [redis-url]', 'run the cells on `thicket worker` processes through this Redis (as `thicket study --queue`)')
    .option('--queue-prefix <prefix>', "key prefix of the queue in Redis (the workers' --prefix)")
    .option('--judge-budget <tokens>', "the LLM judge's slice for all its verdicts (default 1,500 tokens per cell)")
    .option('--max-usd <dollars>', 'cap on the whole eval’s spend (enforced; consent to spend up to it)')
    .option('--resume <id>', 'eval id to start or resume (default: derived from the dataset and options)')
    .option('--out <dir>', 'report folder (default thicket-eval/<id>)')
    .option('--export <format>', 'per-item results as jsonl | csv (items.<format> in the report folder)')
    .option('--allow-unpriced', 'allow --max-usd on models with no known price (their calls count as $0)')
    .option('--no-report', 'skip writing the report')
    .option('-y, --yes', 'spend on non-simulated models without asking')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print exactly one JSON object')
    .action(wrap((target: string, flags: EvalFlags) => runEvalCommand(target, flags)));
}

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'Run study and eval cells from a Redis queue (`thicket study --queue`); several workers share the work and a crash loses none',
    )
    .option('--redis <url>', "the queue's Redis (default THICKET_REDIS_URL, else redis://127.0.0.1:6379)")
    .option('--concurrency <n>', 'cells at once in this process', '4')
    .option('--queues <list>', 'queues to consume: cells', 'cells')
    .option('--lock-ms <ms>', "a dead worker's job is retried elsewhere this long after its last heartbeat", '30000')
    .option('--prefix <prefix>', 'key prefix of the queues in Redis', 'thicket')
    .option('--max-jobs <n>', 'exit after this many cells (default: run until stopped)')
    .action(wrap((flags: WorkerFlags) => runWorkerCommand(flags)));
}

export function addSimCommands(program: Command): void {
  program
    .command('sim')
    .description('The simulated fleet')
    .command('fit')
    .description("Fit a sim profile to a real model's journaled study runs (a digital twin for what-if planning)")
    .requiredOption('-m, --model <ref>', "the real model's reference as journaled")
    .addOption(new Option('--from-journal <path>').hideHelp())
    .option('--run <id...>', 'study run ids (default: all)')
    .option('--base <profile>', 'sim profile to start from')
    .option('--alias <name>', 'alias for the fitted profile')
    .option('--write <file>', 'write the fleet-config snippet here')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof runSimFitCommand>[0]) => runSimFitCommand(flags)));
}
