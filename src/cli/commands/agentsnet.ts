/**
 * `thicket agentsnet`: the AgentsNet benchmark (colouring, vertex cover, matching, leader election,
 * consensus) over seeded WS/BA/Delaunay graphs, plain or verifying protocol, on any fleet model.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { VirtualClock, systemClock } from '../../core/index.ts';
import { Ledger } from '../../budget/index.ts';
import { Fleet, FleetResolver, loadFleetConfig } from '../../models/index.ts';
import { Journal, defaultJournalPath } from '../../journal/index.ts';
import { GRAPH_FAMILIES, TASK_IDS, parseTasks, agentsNetJsonl, renderAgentsNetTable, runAgentsNet, type GraphFamily, type TaskId } from '../../network/index.ts';
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
}

export async function agentsnetCommand(flags: AgentsnetFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const requested = (flags.task === undefined || flags.task === 'all' ? [...TASK_IDS] : flags.task.split(',')) as TaskId[];
  for (const task of requested) if (!TASK_IDS.includes(task) && !['colouring', 'leader', 'vc'].includes(task)) issues.add('--task', `unknown task "${task}" (tasks: ${TASK_IDS.join(', ')}, all)`);
  const tasks = issues.issues.length === 0 ? parseTasks(flags.task ?? 'all') : requested;
  const sizes = (flags.sizes ?? '4,8,16').split(',').map((size) => issues.number('--sizes', size, { integer: true, min: 2, max: 100_000 }) ?? 0);
  const graphs = (flags.graphs ?? 'ws,ba,dt').split(',') as GraphFamily[];
  for (const graph of graphs) if (!GRAPH_FAMILIES.includes(graph)) issues.add('--graphs', `unknown graph family "${graph}" (ws, ba, dt)`);
  if (flags.protocol !== undefined && !['plain', 'verified'].includes(flags.protocol)) issues.add('--protocol', 'must be plain or verified');
  if (flags.history !== undefined && !/^(persistent|pruned:\d+)$/.test(flags.history)) issues.add('--history', 'persistent or pruned:<rounds>');
  const seed = issues.number('--seed', flags.seed ?? '42', { integer: true, min: 0 }) ?? 42;
  const samples = issues.number('--samples', flags.samples ?? '3', { integer: true, min: 1, max: 100 }) ?? 3;
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
  const bar = output.json || !output.isTTY ? undefined : new cliProgress.SingleBar({ format: `agentsnet${simulated ? ' (simulated)' : ''} [{bar}] {value}/{total} instances`, stream: process.stderr }, cliProgress.Presets.shades_classic);
  try {
    journal.beginOrResumeRun({ id: runId, command: 'agentsnet', query: `agentsnet ${tasks.join(',')} @ ${sizes.join(',')}`, args: { model, tasks, sizes, graphs, protocol: flags.protocol ?? 'plain', seed, samples }, seed, simulated, budget: limits });
    bar?.start(tasks.length * sizes.length * graphs.length * samples, 0);
    const history = flags.history?.startsWith('pruned:') ? { kind: 'pruned' as const, keepRounds: Number(flags.history.slice(7)) } : { kind: 'persistent' as const };
    const result = await runAgentsNet({
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
      journal: { journal, runId },
      onProgress: (event) => {
        if ((event as { type?: string }).type === 'instance-end') bar?.increment();
      },
    });
    bar?.stop();
    if (flags.out) writeFileSync(flags.out, agentsNetJsonl(result));
    journal.finishRun(runId, { status: 'ok', answer: null, error: null, usage: { ...ledger.report().total, costUsd: ledger.report().total.usd } });
    if (output.json) output.out(JSON.stringify({ runId, ...result, simulated }));
    else output.out(`${simulated ? `${SIMULATED_LABEL} ` : ''}AgentsNet run ${runId}\n${renderAgentsNetTable(result)}`);
    return 0;
  } finally {
    bar?.stop();
    journal.close();
  }
}
