/**
 * AgentsNet instances (see spec/agentsnet.md): graph-coordination problems solved by a network of agents
 * that talk only to their neighbours. The lab generates the instance grid (task × network size × graph
 * family × sample) and scores what comes back; the network layer (src/network, `runAgentsnet`) builds the
 * graphs and runs the agents. Until it lands no architecture accepts these items, so a study that lists an
 * `agentsnet` suite reports them as not runnable instead of failing.
 *
 * Items are not registered with the task oracle: simulated agents follow the sim's agent policy, not the
 * answer oracle. Scores are fractional (per the AgentsNet scoring rules) and reported with `solved = 1`.
 */
import type { LabTask, SuiteInstance } from '../types.ts';

// Task ids and graph families as the network layer names them (src/network, AgentsNet).
export const AGENTSNET_TASKS = ['consensus', 'leader_election', 'coloring', 'matching', 'vertex_cover'] as const;
export type AgentsnetTask = (typeof AGENTSNET_TASKS)[number];
export const AGENTSNET_FAMILIES = ['ws', 'ba', 'dt'] as const;
export type AgentsnetFamily = (typeof AGENTSNET_FAMILIES)[number];

export interface AgentsnetSuiteOptions {
  name: string;
  seed: number;
  tasks: readonly AgentsnetTask[];
  sizes: readonly number[];
  families: readonly AgentsnetFamily[];
  /** Graph samples per (task, size, family) (the reference uses 3). */
  instances: number;
}

/**
 * What an AgentsNet item asks for, as the network layer needs it: the graph is
 * `graphInstances(size, seed, [family], sample + 1)[sample]` there.
 */
export interface AgentsnetInstance {
  task: AgentsnetTask;
  size: number;
  family: AgentsnetFamily;
  seed: number;
  sample: number;
}

export function agentsnetInstanceOf(task: LabTask): AgentsnetInstance {
  return {
    task: task.meta['task'] as AgentsnetTask,
    size: Number(task.meta['networkSize']),
    family: task.meta['family'] as AgentsnetFamily,
    seed: Number(task.meta['seed']),
    sample: Number(task.meta['sample']),
  };
}

export function agentsnetSuite(options: AgentsnetSuiteOptions): SuiteInstance {
  const tasks: LabTask[] = [];
  for (const task of options.tasks) {
    for (const size of options.sizes) {
      for (const family of options.families) {
        for (let sample = 0; sample < options.instances; sample++) {
          tasks.push({
            id: `${options.name}/s${options.seed}/${task}-${family}-${size}-${sample}`,
            prompt: `AgentsNet ${task} on a ${family} graph of ${size} agents (sample ${sample + 1})`,
            // Not an oracle task: the answer field only satisfies the shared task shape.
            answer: 'solved',
            difficulty: 0,
            suite: options.name,
            meta: { task, networkSize: size, family, seed: options.seed, sample },
          });
        }
      }
    }
  }
  return {
    name: options.name,
    kind: 'agentsnet',
    seed: options.seed,
    tasks,
    network: true,
    // Network architectures return their own fractional score; an answer string is never checked.
    check: () => 0,
    description: `${tasks.length} AgentsNet instances (${options.tasks.join(', ')}; N = ${options.sizes.join(', ')})`,
  };
}
