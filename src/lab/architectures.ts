/**
 * The architecture registry: what a study can compare. An architecture takes one task under one hard
 * per-query budget and returns an answer (or a score) plus what it spent along which axis.
 *
 * Built in: every named workflow strategy (single, vote, refine, thread, search, debate, solo, cascade), run
 * through the workflow executor exactly as `thicket solve --strategy` runs it. Later layers plug in with one
 * line each in `defaultArchitectures()` (and nothing else in the lab changes) — `auto` (the governor's
 * `governedSolve`) and AgentsNet (`agentsnetArchitectures`, over the network layer) are registered that way.
 *
 * Names may carry a parameter: `vote@5` (samples), `refine@3` (rounds), `thread@12` / `search@4` (steps),
 * `debate@4` (agents). Without one, the main knob scales with the budget B (in tokens) the way a user would
 * set it for that cap: vote samples B/450 (3–15), refine rounds B/1500 (1–4), thread steps B/250 (4–24),
 * search steps B/700 (1–6), debate 3 agents × B/3000 rounds (1–3), cascade first-stage samples B/450 (3–5).
 * The hard cap is enforced by the ledger either way; the knob only decides how the architecture plans to use it.
 */
import { graphInstances, runInstance, taskInstance } from '../network/index.ts';
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { type ReasoningGraph, type Retriever, type TraceJson } from '../ops/index.ts';
import {
  STRATEGIES,
  defaultOperators,
  runWorkflow,
  budgetedStrategySpec,
  STRATEGY_KNOBS,
  type BudgetPolicy,
  type OperatorRegistry,
  type Strategy,
} from '../workflow/index.ts';
import {
  ADAPTIVE_VOTE_LEAD,
  builtinPolicy,
  fleetBinder,
  governedSolve,
  type GovernedSolveOptions,
  type Objective,
} from '../governor/index.ts';
import { agentsnetInstanceOf, type AgentsnetInstance } from './suites/index.ts';
import type { LabTask, SuiteInstance } from './types.ts';

export type ArchitectureFamily = 'single-agent' | 'multi-agent' | 'cascade' | 'governed' | 'network';

export interface ArchitectureRunInput {
  task: LabTask;
  suite: SuiteInstance;
  fleet: Fleet;
  /** The cell's hard per-query budget: the architecture must never spend beyond it (the ledger enforces it). */
  budget: Budget;
  /** The budget in token-equivalents, for scaling knobs (equal to the budget for token budgets). */
  budgetTokens: number;
  model: string;
  /** The `@n` of the architecture's name, when given. */
  parameter: number | undefined;
  maxOutputTokens: number;
  budgetPolicy: BudgetPolicy;
  /** The study's objective for `auto` (tokens when absent). */
  optimize?: Objective;
  /** Models cheapest-first for cascades (starting at `model`). */
  cascadeModels: string[];
  /** Journal + run for call replay; step ids start with `stepPrefix`. */
  journal?: { journal: Journal; runId: string };
  stepPrefix: string;
  signal?: AbortSignal;
}

export interface ArchitectureOutcome {
  answer: string | undefined;
  /** `ok`, `budget_exhausted`, `error`, `cancelled` (workflow statuses) or the architecture's own. */
  status: string;
  /** Set when the architecture scores itself (network tasks); otherwise the suite's checker scores `answer`. */
  score?: number;
  /** The raw reply `answer` was extracted from (the answering node's text), for scorers that read more than it. */
  reply?: string | undefined;
  graph?: ReasoningGraph;
  searchSteps: number;
  toolCalls: number;
  degraded: number;
  simulated: boolean;
}

export interface ArchitectureDefinition {
  name: string;
  family: ArchitectureFamily;
  description: string;
  /** What `@n` sets, with its allowed range; absent when the name takes no parameter. */
  parameter?: { name: string; min: number; max: number };
  /** Why this architecture cannot run tasks of `suite` (undefined when it can). */
  unsupported(suite: Pick<SuiteInstance, 'kind' | 'network' | 'retriever' | 'name'>): string | undefined;
  run(input: ArchitectureRunInput): Promise<ArchitectureOutcome>;
}

const FAMILIES: Record<Strategy, ArchitectureFamily> = {
  single: 'single-agent',
  refine: 'single-agent',
  thread: 'single-agent',
  solo: 'single-agent',
  search: 'single-agent',
  vote: 'multi-agent',
  debate: 'multi-agent',
  cascade: 'cascade',
};

const DESCRIPTIONS: Record<Strategy, string> = {
  single: 'one generation (temperature 0)',
  vote: 'width: independent samples, majority vote',
  refine: 'depth: draft → verify → critique → revise',
  thread: 'recursive subtask tree in one context (TIM)',
  search: 'retrieval tool loop over the suite corpus',
  debate: 'agents debating over rounds (all-to-all)',
  solo: 'one persona prompt simulating the debate (SPP)',
  cascade: 'cheapest model first, escalate on low agreement',
};

const operatorCache = new WeakMap<object, OperatorRegistry>();
const NO_RETRIEVER = {};

function operatorsFor(retriever: Retriever | undefined): OperatorRegistry {
  const key = retriever ?? NO_RETRIEVER;
  let operators = operatorCache.get(key);
  if (!operators) operatorCache.set(key, (operators = defaultOperators(retriever ? { retriever } : {})));
  return operators;
}

/** Counts retrieval steps and all tool uses from a trace's events. */
function toolUse(trace: TraceJson): { searchSteps: number; toolCalls: number } {
  let searchSteps = 0;
  let toolCalls = 0;
  for (const event of trace.events) {
    if (event.type !== 'tool') continue;
    toolCalls++;
    if (event.data['tool'] === 'retriever') searchSteps++;
  }
  return { searchSteps, toolCalls };
}

/** A named workflow strategy as a lab architecture. */
export function strategyArchitecture(strategy: Strategy): ArchitectureDefinition {
  const knob = STRATEGY_KNOBS[strategy];
  return {
    name: strategy,
    family: FAMILIES[strategy],
    description: DESCRIPTIONS[strategy],
    ...(knob ? { parameter: { name: knob.name, min: strategy === 'debate' ? 2 : 1, max: strategy === 'vote' ? 64 : 32 } } : {}),
    unsupported: (suite) =>
      suite.network
        ? 'network instances need a network architecture'
        : strategy === 'search' && !suite.retriever
          ? 'the suite has no corpus to search'
          : undefined,
    async run(input) {
      const spec = budgetedStrategySpec(strategy, {
        model: input.model,
        budgetTokens: input.budgetTokens,
        parameter: input.parameter,
        maxOutputTokens: input.maxOutputTokens,
        cascadeModels: input.cascadeModels,
      });
      const result = await runWorkflow({
        spec,
        query: input.task.prompt,
        fleet: input.fleet,
        budget: input.budget,
        operators: operatorsFor(input.suite.retriever),
        model: input.model,
        budgetPolicy: input.budgetPolicy,
        stepPrefix: input.stepPrefix,
        taskId: input.task.id,
        ...(input.journal ? { journal: input.journal } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      return {
        answer: result.answer,
        reply: result.answeredBy === undefined ? undefined : result.nodes[result.answeredBy]?.result?.text,
        status: result.status,
        graph: result.trace.graph,
        ...toolUse(result.trace),
        degraded: result.degraded.length,
        simulated: result.simulated,
      };
    },
  };
}

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

export class ArchitectureRegistry {
  private readonly entries = new Map<string, ArchitectureDefinition>();
  private readonly plannedEntries = new Map<string, string>();

  register(definition: ArchitectureDefinition): this {
    if (!/^[a-z][a-z0-9-]*$/.test(definition.name))
      throw new RangeError(`architecture names are lower-case words (got "${definition.name}")`);
    this.entries.set(definition.name, definition);
    this.plannedEntries.delete(definition.name);
    return this;
  }

  /** A name a study may mention that is not runnable yet; validation explains why instead of "unknown". */
  plan(name: string, reason: string): this {
    if (!this.entries.has(name)) this.plannedEntries.set(name, reason);
    return this;
  }

  get(name: string): ArchitectureDefinition | undefined {
    return this.entries.get(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Splits `vote@5` and checks it: the definition and parameter, or a message saying what is wrong. */
  parse(full: string): { definition: ArchitectureDefinition; parameter: number | undefined } | { problem: string } {
    const match = /^([a-z][a-z0-9-]*)(?:@(\d+))?$/.exec(full);
    if (!match) return { problem: `"${full}" is not an architecture name (e.g. vote, vote@5, search@3)` };
    const base = match[1]!;
    const definition = this.entries.get(base);
    if (!definition) {
      const planned = this.plannedEntries.get(base);
      return {
        problem: planned
          ? `"${base}" is not available yet: ${planned}`
          : `unknown architecture "${base}" (known: ${this.names().join(', ')})`,
      };
    }
    if (match[2] === undefined) return { definition, parameter: undefined };
    const parameter = Number(match[2]);
    const range = definition.parameter;
    if (!range) return { problem: `"${base}" takes no @parameter` };
    if (parameter < range.min || parameter > range.max)
      return { problem: `${range.name} for "${base}" must be in [${range.min}, ${range.max}], got ${parameter}` };
    return { definition, parameter };
  }
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
const autoSolver = (input: SolverInput): Promise<SolverOutput> => governedSolve(governedInput(input));

/** The governor's probe → difficulty allocation path alone (the built-in policy without its frontier tables). */
const governedSolver = (input: SolverInput): Promise<SolverOutput> => {
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
const adaptiveVoteSolver = (input: SolverInput): Promise<SolverOutput> =>
  governedSolve({
    ...governedInput(input),
    force: { arm: 'vote', samples: input.parameter ?? adaptiveSamples(input), lead: ADAPTIVE_VOTE_LEAD },
  });

/** The governor's confidence router: the probe is the first stage; escalate while the stage is unsure. */
const routerSolver = (input: SolverInput): Promise<SolverOutput> => governedSolve({ ...governedInput(input), force: { arm: 'cascade' } });

/**
 * The lab's architectures: the workflow strategies, the governor (`auto`) and AgentsNet (plain, verified).
 * Registering a name makes its `plan` line stop applying.
 */
export function defaultArchitectures(): ArchitectureRegistry {
  const registry = new ArchitectureRegistry();
  for (const strategy of STRATEGIES) registry.register(strategyArchitecture(strategy));
  registry.register(
    solverArchitecture(
      'auto',
      'governed',
      'the governor probes difficulty and allocates compute (thicket solve --strategy auto)',
      autoSolver,
    ),
  );
  // The governor's own arms, as candidates its frontier tables are fitted from (and to compare against).
  registry.register(
    solverArchitecture(
      'adaptive-vote',
      'governed',
      "width that stops once decided: the probe's samples reused, up to n, stopped when the leader is 3 ahead",
      adaptiveVoteSolver,
      { name: 'samples', min: 3, max: 64 },
    ),
  );
  registry.register(
    solverArchitecture('router', 'governed', 'the confidence router: probe the small model, escalate while unsure', routerSolver),
  );
  registry.register(
    solverArchitecture(
      'governed',
      'governed',
      "the governor's probe → difficulty bin → allocation path (no frontier table)",
      governedSolver,
    ),
  );
  for (const entry of agentsnetArchitectures(agentsnetRunner)) registry.register(entry);
  return registry;
}

/** AgentsNet instances on the network layer's runtime: the same seeded graph for every architecture and model. */
const agentsnetRunner: AgentsnetRunner = async (input) => {
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
