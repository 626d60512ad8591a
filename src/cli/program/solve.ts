/**
 * `thicket solve` and `thicket workflow validate|estimate|schema`: answering a query with a strategy or a
 * workflow spec, and checking and pricing a spec before it runs. Flags and help only; ../commands/solve.ts and
 * ../commands/workflow.ts do the work.
 */
import { Option, type Command } from 'commander';
import type { SolveFlags } from '../commands/solve.ts';
import { CONFIG_HELP, JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { solveCommand } = lazyModule(() => import('../commands/solve.ts'));
const { createRuntime } = lazyModule(() => import('../../runtime/index.ts'));
const { workflowEstimateCommand, workflowSchemaCommand, workflowValidateCommand } = lazyModule(() => import('../commands/workflow.ts'));

export function addSolveCommand(program: Command): void {
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
}

export function addWorkflowCommands(program: Command): void {
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
}
