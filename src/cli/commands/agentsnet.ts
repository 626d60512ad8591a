/**
 * `thicket agentsnet`: the AgentsNet benchmark (colouring, vertex cover, matching, leader election,
 * consensus) over seeded WS/BA/Delaunay graphs, plain or verifying protocol, on any fleet model.
 */
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { EXIT_CODE_BY_STATUS } from '../../core/index.ts';
import { createRuntime } from '../../runtime/index.ts';
import {
  GRAPH_FAMILIES,
  TASK_IDS,
  parseTasks,
  agentsNetJsonl,
  renderAgentsNetTable,
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
  allowUnpriced?: boolean;
}

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
    .map((size) => issues.number('--sizes', size.trim(), { integer: true, min: 2, max: 100_000 }) ?? 0);
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
  const runtime = await createRuntime({
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(flags.db !== undefined ? { journal: flags.db } : {}),
  });
  let bar: cliProgress.SingleBar | undefined;
  try {
    const result = await runtime.agentsnet({
      ...(flags.model !== undefined ? { model: flags.model } : {}),
      tasks,
      sizes,
      graphs,
      samples,
      seed,
      budget: limits,
      ...(flags.allowUnpriced === true ? { allowUnpriced: true } : {}),
      protocol: (flags.protocol as 'plain' | 'verified' | undefined) ?? 'plain',
      history: flags.history?.startsWith('pruned:')
        ? { kind: 'pruned' as const, keepRounds: Number(flags.history.slice(7)) }
        : { kind: 'persistent' as const },
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(instanceConcurrency !== undefined ? { instanceConcurrency } : {}),
      ...(flags.runId !== undefined ? { runId: flags.runId } : {}),
      onProgress: (event) => {
        if (output.json || !output.isTTY) return;
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { format: `agentsnet [{bar}] {value}/{total} instances`, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          bar.start(event.total, 0);
        }
        if (event.type === 'instance-end') bar.increment();
      },
    });
    bar?.stop();
    if (flags.out) writeFileSync(flags.out, agentsNetJsonl(result));
    const { runId, simulated, error } = result;
    if (output.json) output.out(JSON.stringify(result));
    else {
      const notes = [
        ...(result.reusedInstances > 0
          ? [
              `Resumed: ${result.reusedInstances} of ${result.instances.length} instance(s) already finished in the journal were reused (no calls).`,
            ]
          : []),
        ...(error ? [`Budget exhausted (exit ${EXIT_CODE_BY_STATUS.budget_exhausted}): ${error.message}`] : []),
      ];
      output.out([`${simulated ? `${SIMULATED_LABEL} ` : ''}AgentsNet run ${runId}`, renderAgentsNetTable(result), ...notes].join('\n'));
    }
    return EXIT_CODE_BY_STATUS[result.status];
  } finally {
    bar?.stop();
    await runtime.close();
  }
}
