/**
 * AgentsNet as lab architectures: `agentsnet` (plain message passing) and `agentsnet-verified` (claims
 * verified before adoption), scoring themselves on network instances, over the network layer's runner.
 */
import { graphInstances, runInstance, taskInstance } from '../network/index.ts';
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { TraceJson } from '../ops/index.ts';
import type { ArchitectureDefinition, ArchitectureOutcome, ArchitectureRunInput } from './architecture-registry.ts';
import { agentsnetInstanceOf, type AgentsnetInstance } from './suites/index.ts';
import type { SuiteInstance } from './types.ts';

/** What the network layer's AgentsNet runner receives for one instance. */
export interface AgentsnetRunInput {
  instance: AgentsnetInstance;
  /** The network layer's protocols: plain message passing, or claims verified before adoption. */
  protocol: 'plain' | 'verified';
  fleet: Fleet;
  budget: Budget;
  model: string;
  journal?: { journal: Journal; runId: string };
  stepPrefix: string;
  signal?: AbortSignal;
}

export interface AgentsnetRunOutput {
  /** Fractional AgentsNet score in [0, 1]. */
  score: number;
  status?: string;
  trace?: TraceJson;
  simulated?: boolean;
}

export type AgentsnetRunner = (input: AgentsnetRunInput) => Promise<AgentsnetRunOutput>;

/** `agentsnet` (plain protocol) and `agentsnet-verified`, over a runner from the network layer. */
export function agentsnetArchitectures(runner: AgentsnetRunner): ArchitectureDefinition[] {
  return (['plain', 'verified'] as const).map((protocol) => ({
    name: protocol === 'plain' ? 'agentsnet' : 'agentsnet-verified',
    family: 'network' as const,
    description: `AgentsNet message passing, ${protocol} protocol`,
    unsupported: (suite: Pick<SuiteInstance, 'network'>) => (suite.network ? undefined : 'runs AgentsNet instances only'),
    async run(input: ArchitectureRunInput): Promise<ArchitectureOutcome> {
      const output = await runner({
        instance: agentsnetInstanceOf(input.task),
        protocol,
        fleet: input.fleet,
        budget: input.budget,
        model: input.model,
        stepPrefix: input.stepPrefix,
        ...(input.journal ? { journal: input.journal } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      return {
        answer: undefined,
        status: output.status ?? 'ok',
        score: output.score,
        ...(output.trace ? { graph: output.trace.graph } : {}),
        searchSteps: 0,
        toolCalls: 0,
        degraded: 0,
        simulated: output.simulated ?? false,
      };
    },
  }));
}

/** AgentsNet instances on the network layer's runtime: the same seeded graph for every architecture and model. */
export const agentsnetRunner: AgentsnetRunner = async (input) => {
  const { task, size, family, seed, sample } = input.instance;
  const graph = graphInstances(size, seed, [family], sample + 1)[sample]!;
  const result = await runInstance(taskInstance(task, graph), {
    fleet: input.fleet,
    budget: input.budget,
    model: input.model,
    protocol: input.protocol,
    stepId: input.stepPrefix,
    ...(input.journal ? { recorder: input.journal.journal.recorder(input.journal.runId) } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { score: result.score, status: result.budgetExhaustedAgents > 0 ? 'budget_exhausted' : 'ok', simulated: result.simulated };
};
