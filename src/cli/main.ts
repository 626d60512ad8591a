/**
 * The `thicket` command. Exit codes are a contract: 0 ok, 2 bad input, 3 budget exhausted, 4 cancelled,
 * 1 anything else. With `--json`, errors are printed as one JSON object on stdout too.
 */
import { Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { exitCodeFor, toThicketError, type ThicketError } from '../core/index.ts';
import type { SolveFlags } from './commands/solve.ts';
import type * as AgentsCommands from './commands/agents.ts';
import type { AgentsnetFlags } from './commands/agentsnet.ts';
import type { GovernorFlags } from './commands/governor.ts';
import type { EvalFlags } from './commands/eval.ts';
import type { WorkerFlags } from './commands/worker.ts';

/**
 * A module's functions, loaded on first call. Each command's module (and through it the layers it needs: the
 * runtime for solve, the lab for study, …) is imported only when that command runs, so start-up pays for
 * commander and the one command instead of every layer (about 0.4 s of module loading on 2 cores).
 */
function lazyModule<M extends object>(load: () => Promise<M>): M {
  return new Proxy({} as M, {
    get:
      (_target, name) =>
      (...args: unknown[]) =>
        load().then((module) => (module[name as keyof M] as (...parameters: unknown[]) => unknown)(...args)),
  });
}

const { fleetCheckCommand, fleetListCommand } = lazyModule(() => import('./commands/fleet.ts'));
const { runsListCommand, runsShowCommand } = lazyModule(() => import('./commands/runs.ts'));
const { solveCommand } = lazyModule(() => import('./commands/solve.ts'));
const { createRuntime } = lazyModule(() => import('../runtime/index.ts'));
const { criticalityCommand } = lazyModule(() => import('../criticality/index.ts'));
const { modelsFixtureCommand, modelsListCommand, modelsPullCommand } = lazyModule(() => import('./commands/models.ts'));
const agentsCli: typeof AgentsCommands = lazyModule(() => import('./commands/agents.ts'));
const { runSimFitCommand, runStudyCommand } = lazyModule(() => import('./commands/study.ts'));
const { runEvalCommand } = lazyModule(() => import('./commands/eval.ts'));
const { runWorkerCommand } = lazyModule(() => import('./commands/worker.ts'));
const { agentsnetCommand } = lazyModule(() => import('./commands/agentsnet.ts'));
const { exportTrajectoriesCommand, governorCalibrateCommand, governorFitCommand, governorFrontierCommand } = lazyModule(
  () => import('./commands/governor.ts'),
);
const { serveCommand, keysCreateCommand, keysListCommand, keysRevokeCommand } = lazyModule(() => import('./commands/serve.ts'));
const { workflowEstimateCommand, workflowSchemaCommand, workflowValidateCommand } = lazyModule(() => import('./commands/workflow.ts'));
/** Frees the embedded engine if a command loaded it (the models layer is loaded by then, or nothing was). */
const { disposeLlamaEngine } = lazyModule(() => import('../models/index.ts'));

/** Thrown inside action handlers to carry an exit code out of commander. */
class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const JOURNAL_HELP = 'journal database (default: $THICKET_JOURNAL, then a per-user data folder); --db is the older spelling';
const CONFIG_HELP = 'fleet config file (default: $THICKET_CONFIG, then ./thicket.config.json)';

export function buildProgram(): Command {
  const program = new Command('thicket')
    .description('Runtime and lab for compute-optimal multi-agent reasoning. Every run has a hard budget and a journal.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // One flag per concept: the journal is --journal everywhere; --db (and sim fit's --from-journal) are older
    // spellings kept as aliases. Commands read the resolved path as `db`.
    .hook('preAction', (_program, command) => {
      const options = command.opts<{ journal?: string; db?: string }>();
      if (options.journal !== undefined) command.setOptionValue('db', options.journal);
    });
  const wrap =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      const code = await action(...args);
      if (code !== 0) throw new ExitSignal(code);
    };

  program
    .command('solve')
    .description('Answer a query: one generation, or width sampling with majority vote (--samples N)')
    .argument('<query>', 'the question or task')
    .option('-m, --model <ref>', 'model reference: sim:<profile>, an alias from the fleet config, or openai:<model>')
    .option(
      '-s, --strategy <name>',
      'auto (default: the governor) | single | vote | refine | thread | search | debate | solo | cascade; --samples N alone means vote',
    )
    .option('-w, --workflow <file>', 'run a workflow spec (JSON) instead of a strategy')
    .option('--corpus <path>', 'folder of .txt/.md files or a .jsonl file for the search strategy/operator')
    .option('-n, --samples <n>', 'samples for majority vote (1 = single generation)')
    .option('--rounds <n>', 'rounds for refine and debate')
    .option('--agents <n>', 'agents for debate')
    .option('--steps <n>', 'steps for thread and search')
    .option('--budget-policy <p>', 'when the estimate exceeds the budget: degrade (default) | scale | reject')
    .option('--policy <file>', 'governor policy fitted by `thicket governor fit` (default: the built-in policy)')
    .option(
      '--require <label>',
      'a policy label every bound capability must carry (workflow capability nodes; strategy auto: every model, bound through the registry) (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--forbid <label>',
      'a policy label no bound capability may carry (workflow capability nodes; strategy auto: every model) (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--provider <name>',
      'an allowed provider of bound capabilities (workflow capability nodes; strategy auto: every model) (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--max-cost-per-call <usd>', "largest expected dollars per call of a bound capability (the card's cost profile)")
    .option(
      '--registry <path>',
      'capability registry for workflow capability nodes and strategy auto under --require/--forbid/--provider/--max-cost-per-call (default: ' +
        '$THICKET_REGISTRY, then registry.db beside the journal)',
    )
    .option('--planner <ref>', 'model that writes per-query workflows (strategy auto)')
    .option('--plan <mode>', 'strategy auto: auto (policy decides) | always | never')
    .option(
      '--optimize <objective>',
      'strategy auto: what to spend least of at the accuracy the budget buys: tokens (default) | usd | seconds',
    )
    .option(
      '--family <name>',
      'strategy auto: the task family picking the fitted table (arithmetic, logic, multihop, …); default: inferred',
    )
    .option('--max-output-tokens <n>', 'cap on output tokens per call (default: what the strategy must produce: solo 1536, others 512)')
    .option('--budget-tokens <n>', 'hard cap on total tokens (input + output)')
    .option('--budget-input-tokens <n>', 'hard cap on input tokens')
    .option('--budget-output-tokens <n>', 'hard cap on output tokens')
    .option('--budget-usd <x>', 'hard cap on dollars')
    .option(
      '--allow-unpriced',
      'run under --budget-usd even when a model has no known price (its calls count as $0: the dollar cap does not hold on it)',
    )
    .option('--budget-seconds <s>', 'hard cap on wall-clock seconds (simulated seconds for sim: models)')
    .option('--budget-calls <n>', 'hard cap on model calls (retries included)')
    .option('--run-id <id>', 'journal run id; giving an existing id resumes that run')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--config <path>', CONFIG_HELP)
    .option('--seed <n>', 'seed for the simulated fleet, retry jitter and the embedded engine sampling (gguf: models)', '0')
    .option('--json', 'print exactly one JSON object')
    .action(
      wrap(async (query: string, flags: SolveFlags & { db?: string; config?: string; registry?: string }) => {
        const runtime = await createRuntime({
          ...(flags.config !== undefined ? { config: flags.config } : {}),
          ...(flags.db !== undefined ? { journal: flags.db } : {}),
          ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
          // THICKET_SIM_CLOCK=real: simulated latency really waits (to watch progress, or to interrupt a run part-way).
          simulatedClock: process.env['THICKET_SIM_CLOCK'] === 'real' ? 'real' : 'virtual',
        });
        try {
          return await solveCommand(runtime, query, flags);
        } finally {
          await runtime.close();
        }
      }),
    );

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

  const workflow = program.command('workflow').description('Validate, price and describe workflow specs');
  workflow
    .command('validate')
    .description('Check a spec; lists every problem with its JSON path (exit 2 when invalid)')
    .argument('<spec>', 'workflow spec (JSON)')
    .option('--json', 'print JSON')
    .action(wrap((path: string, flags: Parameters<typeof workflowValidateCommand>[1]) => workflowValidateCommand(path, flags)));
  workflow
    .command('estimate')
    .description('Expected and worst-case tokens and dollars before running; with a budget, fit the spec to it')
    .argument('<spec>', 'workflow spec (JSON)')
    .option('-m, --model <ref>', 'model for nodes that name none')
    .option('-q, --query <text>', 'the query (its tokens count in every prompt)', '')
    .option('--budget-tokens <n>', 'fit to this total-token budget')
    .option('--budget-input-tokens <n>', 'fit to this input-token budget')
    .option('--budget-output-tokens <n>', 'fit to this output-token budget')
    .option('--budget-usd <x>', 'fit to this dollar budget')
    .option('--budget-calls <n>', 'fit to this many calls')
    .option('--fit <mode>', 'scale (default: shrink samples/rounds/agents/steps) or reject')
    .option(
      '--fit-basis <basis>',
      'what must fit the budget: worst (default: the worst case, what the ledger reserves) or expected (the typical run)',
    )
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(wrap((path: string, flags: Parameters<typeof workflowEstimateCommand>[1]) => workflowEstimateCommand(path, flags)));
  workflow
    .command('schema')
    .description('Print the workflow JSON Schema')
    .action(wrap(() => workflowSchemaCommand()));

  const REGISTRY_HELP = 'capability registry database (default: $THICKET_REGISTRY, then registry.db beside the journal)';
  const EMBEDDER_HELP =
    'embedder: hash (default), hash-v1-<dim>, gguf:<path>, or an alias under "embedders" in the fleet config (default: its "embedder" field); ' +
    "must match the registry's vectors (else: agents reembed)";
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
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

  program
    .command('serve')
    .description('Serve an OpenAI-compatible gateway: strategies as models, hard per-key budgets, REST for runs, studies and the registry')
    .option('--host <address>', 'address to bind (anything but loopback needs an API key first)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one)', '8787')
    .option('-m, --model <ref>', 'model of thicket/<strategy> (default: the config default, the pulled embedded model, else sim:small)')
    .option('--config <path>', CONFIG_HELP)
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--registry <path>', 'capability registry database (default: registry.db beside the journal)')
    .option('--cors <origin...>', 'allow these origins (CORS is off by default)')
    .option('--otlp <url>', 'export OpenTelemetry traces over OTLP/HTTP (default: $OTEL_EXPORTER_OTLP_ENDPOINT; off when unset)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info')
    .option('--drain-seconds <s>', 'on SIGTERM, how long runs in flight may finish before they are cancelled', '30')
    .option('--seed <n>', 'default seed of runs (simulated fleet)')
    .option(
      '--redis <url>',
      "share each key's budget with other gateway processes through Redis (default: $THICKET_REDIS_URL; off when unset)",
    )
    .action(wrap((flags: Parameters<typeof serveCommand>[0]) => serveCommand(flags)));
  const keys = program.command('keys').description("Manage the gateway's API keys (stored hashed in the journal)");
  keys
    .command('create')
    .description('Create a key; its token is printed once')
    .requiredOption('--name <name>', 'a name for the key (shown in logs and metrics)')
    .option('--admin', 'an admin key: manages keys, sees every run, starts studies')
    .option('--budget-usd <usd>', 'hard dollar budget per period')
    .option('--budget-tokens <n>', 'hard token budget per period (2e6 works)')
    .option('--budget-calls <n>', 'hard model-call budget per period')
    .option('--period <period>', 'day | month | total (UTC periods)', 'total')
    .option('--models <refs>', 'comma-separated model references the key may use (`sim:*` matches a prefix)')
    .option('--rpm <n>', 'requests per minute')
    .option('--concurrency <n>', 'requests in flight at once')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof keysCreateCommand>[0]) => keysCreateCommand(flags)));
  keys
    .command('ls')
    .description('List keys with their spend this period')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof keysListCommand>[0]) => keysListCommand(flags)));
  keys
    .command('revoke')
    .description('Revoke a key')
    .argument('<id>', 'key id (thicket keys ls)')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((id: string, flags: Parameters<typeof keysRevokeCommand>[1]) => keysRevokeCommand(id, flags)));

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
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return handleError(error, json);
  } finally {
    // Frees the embedded engine (if a gguf: model was loaded) so the process can exit.
    await disposeLlamaEngine();
  }
}

function handleError(error: unknown, json: boolean): number {
  {
    if (error instanceof ExitSignal) return error.code;
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; anything else commander rejects is bad input.
      if (error.exitCode === 0) return 0;
      if (json) process.stdout.write(`${JSON.stringify({ status: 'error', error: { code: 'INVALID_INPUT', message: error.message } })}\n`);
      return 2;
    }
    const thicketError: ThicketError = toThicketError(error);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ status: 'error', error: thicketError.toJSON(), ...('issues' in thicketError ? { issues: thicketError.issues } : {}) })}\n`,
      );
    process.stderr.write(`${pc.red(`error ${thicketError.code}`)}: ${thicketError.message}\n`);
    if (thicketError.code === 'INTERNAL' && process.env['THICKET_DEBUG']) process.stderr.write(`${String((error as Error).stack)}\n`);
    return exitCodeFor(thicketError);
  }
}
