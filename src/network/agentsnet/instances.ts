/**
 * AgentsNet instances: for each size, three graphs per family (9 graphs), each with seeded agent names and
 * its diameter; for each task, the round count and number of colouring groups follow from the graph.
 */
import { diameter, maxDegree, type AgentGraph } from '../graph.ts';
import { agentNames } from '../names.ts';
import { GRAPH_FAMILIES, generateGraph, type GraphFamily } from './generators.ts';
import type { TaskId } from './score.ts';
import { groupsFor, roundsFor } from './tasks.ts';

export interface GraphInstance {
  id: string;
  family: GraphFamily;
  size: number;
  sample: number;
  graph: AgentGraph;
  names: string[];
  diameter: number;
  maxDegree: number;
}

export interface TaskInstance extends GraphInstance {
  task: TaskId;
  rounds: number;
  groups: number;
}

export const SAMPLES_PER_FAMILY = 3;

/** The graphs for one size: `samples` per family, in family order; deterministic in (seed, family, size, sample). */
export function graphInstances(
  size: number,
  seed: number,
  families: readonly GraphFamily[] = GRAPH_FAMILIES,
  samples = SAMPLES_PER_FAMILY,
): GraphInstance[] {
  const instances: GraphInstance[] = [];
  for (const family of families) {
    for (let sample = 0; sample < samples; sample++) {
      const graph = generateGraph(family, size, seed, sample);
      instances.push({
        id: `${family}-${size}-${sample}`,
        family,
        size,
        sample,
        graph,
        names: agentNames(size, seed, family, sample),
        diameter: diameter(graph),
        maxDegree: maxDegree(graph),
      });
    }
  }
  return instances;
}

export function taskInstance(task: TaskId, instance: GraphInstance): TaskInstance {
  return { ...instance, task, rounds: roundsFor(task, instance.size, instance.diameter), groups: groupsFor(instance.maxDegree) };
}
