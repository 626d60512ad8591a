/**
 * Whole-query solvers as lab architectures: `solverArchitecture` wraps any solver, and the governor's solvers
 * are wrapped with it — `auto` (its built-in policy), its arms `adaptive-vote` and `router`, and `governed`
 * (the probe → allocation path without frontier tables).
 */
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { Retriever, TraceJson } from '../ops/index.ts';
import { STRATEGY_KNOBS } from '../workflow/index.ts';
import {
  ADAPTIVE_VOTE_LEAD,
  builtinPolicy,
  fleetBinder,
  governedSolve,
  type GovernedSolveOptions,
  type Objective,
} from '../governor/index.ts';
import type { ArchitectureDefinition, ArchitectureFamily } from './architecture-registry.ts';
import { operatorsFor, toolUse } from './strategy-architectures.ts';

/** What a whole-query solver (the governor's `governedSolve`, …) receives from the lab. */
export interface SolverInput {
  query: string;
  taskId: string;
  /** The suite's kind (`arithmetic`, `logic`, `multihop`, …): the task family the governor's tables are keyed by. */
  family: string;
  /** The cell's budget in token-equivalents. */
  budgetTokens: number;
  /** The `@n` of the architecture's name, when given. */
  parameter: number | undefined;
  /** The study's objective for the governor's tables (tokens when absent). */
  optimize?: Objective;
  fleet: Fleet;
  budget: Budget;
  model: string;
  maxOutputTokens: number;
  cascadeModels: string[];
  retriever?: Retriever;
  journal?: { journal: Journal; runId: string };
  stepPrefix: string;
  signal?: AbortSignal;
}

export interface SolverOutput {
  answer: string | undefined;
  status?: string;
  trace?: TraceJson;
  degraded?: readonly string[];
  simulated?: boolean;
}

/** Wraps any solver as an architecture (how `auto` plugs in once src/governor lands). */
export function solverArchitecture(
  name: string,
  family: ArchitectureFamily,
  description: string,
  solve: (input: SolverInput) => Promise<SolverOutput>,
  parameter?: ArchitectureDefinition['parameter'],
): ArchitectureDefinition {
  return {
    name,
    family,
    description,
    ...(parameter ? { parameter } : {}),
    unsupported: (suite) => (suite.network ? 'network instances need a network architecture' : undefined),
    async run(input) {
      const output = await solve({
        query: input.task.prompt,
        taskId: input.task.id,
        family: input.suite.kind,
        budgetTokens: input.budgetTokens,
        parameter: input.parameter,
        ...(input.optimize ? { optimize: input.optimize } : {}),
        fleet: input.fleet,
        budget: input.budget,
        model: input.model,
        maxOutputTokens: input.maxOutputTokens,
        cascadeModels: input.cascadeModels,
        stepPrefix: input.stepPrefix,
        ...(input.suite.retriever ? { retriever: input.suite.retriever } : {}),
        ...(input.journal ? { journal: input.journal } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      const tools = output.trace ? toolUse(output.trace) : { searchSteps: 0, toolCalls: 0 };
      return {
        answer: output.answer,
        status: output.status ?? (output.answer === undefined ? 'error' : 'ok'),
        ...(output.trace ? { graph: output.trace.graph } : {}),
        ...tools,
        degraded: output.degraded?.length ?? 0,
        simulated: output.simulated ?? false,
      };
    },
  };
}

/** What every governed architecture passes to `governedSolve`: the cell's query, fleet, budget, corpus and journal. */
function governedInput(input: SolverInput): GovernedSolveOptions {
  return {
    query: input.query,
    fleet: input.fleet,
    budget: input.budget,
    model: input.model,
    maxOutputTokens: input.maxOutputTokens,
    taskId: input.taskId,
    family: input.family,
    ...(input.optimize ? { optimize: input.optimize } : {}),
    cascadeModels: input.cascadeModels,
    operators: operatorsFor(input.retriever),
    // Real fleets: the governor escalates along the cell's cascade ladder, as `thicket solve` binds it (the
    // simulated fleet's tiers are the binder's default).
    ...(input.fleet.model(input.model).profile.simulated
      ? {}
      : { binder: fleetBinder(input.fleet, input.model, { candidates: input.cascadeModels.slice(1) }) }),
    // With the suite's corpus the governor's strategy space includes search (its corpus allocation table).
    ...(input.retriever ? { retriever: input.retriever } : {}),
    ...(input.journal ? { journal: input.journal } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  };
}

/**
 * `--strategy auto`: the governor with its built-in policy — the frontier table of the suite's family for the
 * cell's model and budget (fitted on training seeds), else the probe → allocation path.
 */
export const autoSolver = (input: SolverInput): Promise<SolverOutput> => governedSolve(governedInput(input));

/** The governor's probe → difficulty allocation path alone (the built-in policy without its frontier tables). */
export const governedSolver = (input: SolverInput): Promise<SolverOutput> => {
  const { frontier: _tables, ...probePath } = builtinPolicy().policy;
  return governedSolve({
    ...governedInput(input),
    policy: probePath,
    policySource: 'probe path (built-in policy without frontier tables)',
  });
};

/** Samples of an adaptive vote without `@n`: scaled with the budget as `vote`'s are. */
const adaptiveSamples = (input: SolverInput): number => {
  const knob = STRATEGY_KNOBS.vote!;
  return Math.min(knob.max, Math.max(knob.min, Math.floor(input.budgetTokens / knob.perUnit)));
};

/** The governor's vote arm: the probe's samples reused, widened up to n, stopped once the leader is 3 ahead. */
export const adaptiveVoteSolver = (input: SolverInput): Promise<SolverOutput> =>
  governedSolve({
    ...governedInput(input),
    force: { arm: 'vote', samples: input.parameter ?? adaptiveSamples(input), lead: ADAPTIVE_VOTE_LEAD },
  });

/** The governor's confidence router: the probe is the first stage; escalate while the stage is unsure. */
export const routerSolver = (input: SolverInput): Promise<SolverOutput> =>
  governedSolve({ ...governedInput(input), force: { arm: 'cascade' } });
