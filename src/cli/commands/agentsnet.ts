/**
 * `thicket agentsnet`: the AgentsNet benchmark (colouring, vertex cover, matching, leader election,
 * consensus) over seeded WS/BA/Delaunay graphs, plain or verifying protocol, on any fleet model.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { VirtualClock, systemClock, toThicketError, type UsageTotals } from '../../core/index.ts';
import { Ledger } from '../../budget/index.ts';
import { Fleet, FleetResolver, loadFleetConfig } from '../../models/index.ts';
import { Journal, defaultJournalPath } from '../../journal/index.ts';
import {
  GRAPH_FAMILIES,
  TASK_IDS,
  parseTasks,
  agentsNetJsonl,
  renderAgentsNetTable,
  runAgentsNet,
  type GraphFamily,
  type TaskId,
} from '../../network/index.ts';
import { IssueCollector, parseBudgetFlags, type BudgetFlags } from '../options.ts';
import { SIMULATED_LABEL, processOutput } from '../output.ts';

export interface AgentsnetFlags extends BudgetFlags {
  task?: string;
  sizes?: string;
  model?: string;
  protocol?: string;
  graphs?: string;
  seed?: string;
  samples?: string;
  history?: string;
  out?: string;
  runId?: string;
  db?: string;
  config?: string;
  json?: boolean;
  /** Agents' calls in flight per instance. */
  concurrency?: string;
  /** Instances run in parallel. */
  instanceConcurrency?: string;
}

/** Exit codes as `thicket solve` uses them: 0 ok, 3 budget exhausted (other failures: the error's own code). */
const EXIT_BUDGET_EXHAUSTED = 3;

export async function agentsnetCommand(flags: AgentsnetFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const requested = (flags.task === undefined || flags.task === 'all' ? [...TASK_IDS] : flags.task.split(',')) as TaskId[];
  for (const task of requested)
    if (!TASK_IDS.includes(task) && !['colouring', 'leader', 'vc'].includes(task))
      issues.add('--task', `unknown task "${task}" (tasks: ${TASK_IDS.join(', ')}, all)`);
  const tasks = issues.issues.length === 0 ? parseTasks(flags.task ?? 'all') : requested;
  const sizes = (flags.sizes ?? '4,8,16')
    .split(',')
    .map((size) => issues.number('--sizes', size, { integer: true, min: 2, max: 100_000 }) ?? 0);
  const graphs = (flags.graphs ?? 'ws,ba,dt').split(',') as GraphFamily[];
  for (const graph of graphs) if (!GRAPH_FAMILIES.includes(graph)) issues.add('--graphs', `unknown graph family "${graph}" (ws, ba, dt)`);
  if (flags.protocol !== undefined && !['plain', 'verified'].includes(flags.protocol))
    issues.add('--protocol', 'must be plain or verified');
  if (flags.history !== undefined && !/^(persistent|pruned:\d+)$/.test(flags.history))
    issues.add('--history', 'persistent or pruned:<rounds>');
  const seed = issues.number('--seed', flags.seed ?? '42', { integer: true, min: 0 }) ?? 42;
  const samples = issues.number('--samples', flags.samples ?? '3', { integer: true, min: 1, max: 100 }) ?? 3;
  const concurrency = issues.number('--concurrency', flags.concurrency, { integer: true, positive: true });
  const instanceConcurrency = issues.number('--instance-concurrency', flags.instanceConcurrency, { integer: true, positive: true });
  const limits = parseBudgetFlags(flags, issues);
  issues.throwIfAny('Invalid agentsnet request');
  const { config } = loadFleetConfig(flags.config);
  const model = flags.model ?? config.defaultModel ?? 'sim:large';
  const simulated = new FleetResolver({ config, clock: systemClock, seed }).resolve(model).profile.simulated;
  const clock = simulated ? new VirtualClock() : systemClock;
  const fleet = new Fleet({ resolver: new FleetResolver({ config, clock, seed }), clock, seed });
  const ledger = new Ledger({ clock, limits });
  const journal = Journal.open(resolve(flags.db ?? defaultJournalPath()));
  const runId = flags.runId ?? `agentsnet-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const bar =
    output.json || !output.isTTY
      ? undefined
      : new cliProgress.SingleBar(
          { format: `agentsnet${simulated ? ' (simulated)' : ''} [{bar}] {value}/{total} instances`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
  try {
    const { resumed } = journal.beginOrResumeRun({
      id: runId,
      command: 'agentsnet',
      query: `agentsnet ${tasks.join(',')} @ ${sizes.join(',')}`,
      args: { model, tasks, sizes, graphs, protocol: flags.protocol ?? 'plain', seed, samples },
      seed,
      simulated,
      budget: limits,
    });
    bar?.start(tasks.length * sizes.length * graphs.length * samples, 0);
    const history = flags.history?.startsWith('pruned:')
      ? { kind: 'pruned' as const, keepRounds: Number(flags.history.slice(7)) }
      : { kind: 'persistent' as const };
    let result: Awaited<ReturnType<typeof runAgentsNet>>;
    try {
      result = await runAgentsNet({
        fleet,
        model,
        tasks,
        sizes,
        graphs,
        samples,
        seed,
        history,
        budget: ledger.root,
        protocol: (flags.protocol as 'plain' | 'verified' | undefined) ?? 'plain',
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(instanceConcurrency !== undefined ? { instanceConcurrency } : {}),
        journal: { journal, runId },
        onProgress: (event) => {
          if (event.type === 'instance-end') bar?.increment();
        },
      });
    } catch (error) {
      // The run row must not stay 'running' (runs ls would show it as in progress forever).
      const failure = toThicketError(error);
      journal.finishRun(runId, {
        status: failure.category === 'budget' ? 'budget_exhausted' : 'error',
        answer: null,
        error: failure.toJSON(),
        usage: usageOf(ledger),
      });
      throw failure;
    }
    bar?.stop();
    if (flags.out) writeFileSync(flags.out, agentsNetJsonl(result));
    const exhausted = result.status === 'budget_exhausted';
    // Like `thicket solve`: a run whose agents were refused calls by the budget did not succeed, even though
    // every instance was scored (silent agents answer None).
    const error = exhausted
      ? {
          code: 'BUDGET_EXHAUSTED',
          message:
            `Agents ran out of budget in ${result.budgetExhaustedInstances} of ${result.instances.length} instance(s); they fell silent and ` +
            `answered None. ${budgetLine(ledger)}`,
        }
      : null;
    const usage = usageOf(ledger);
    journal.finishRun(runId, { status: result.status, answer: null, error, usage });
    if (output.json)
      output.out(JSON.stringify({ runId, resumed, usage, budget: limits, ...(error ? { error } : {}), ...result, simulated }));
    else {
      const notes = [
        ...(result.reusedInstances > 0
          ? [
              `Resumed: ${result.reusedInstances} of ${result.instances.length} instance(s) already finished in the journal were reused (no calls).`,
            ]
          : []),
        ...(error ? [`Budget exhausted (exit ${EXIT_BUDGET_EXHAUSTED}): ${error.message}`] : []),
      ];
      output.out([`${simulated ? `${SIMULATED_LABEL} ` : ''}AgentsNet run ${runId}`, renderAgentsNetTable(result), ...notes].join('\n'));
    }
    return exhausted ? EXIT_BUDGET_EXHAUSTED : 0;
  } finally {
    bar?.stop();
    journal.close();
  }
}

function usageOf(ledger: Ledger): UsageTotals {
  const total = ledger.report().total;
  return {
    inputTokens: total.inputTokens,
    outputTokens: total.outputTokens,
    totalTokens: total.totalTokens,
    costUsd: total.usd,
    calls: total.calls,
  };
}

/** The limits that bound, with what was spent against them. */
function budgetLine(ledger: Ledger): string {
  const limits = ledger.root.limits;
  const spent = ledger.root.spent();
  const parts = (['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'calls'] as const)
    .filter((dimension) => limits[dimension] !== undefined)
    .map(
      (dimension) =>
        `${dimension}: limit ${limits[dimension]}, spent ${dimension === 'usd' ? spent[dimension].toFixed(6) : spent[dimension]}`,
    );
  return parts.length > 0 ? `Budget ${parts.join('; ')}.` : '';
}
