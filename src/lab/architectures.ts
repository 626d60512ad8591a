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
import { DEFAULT_SOLO_MAX_OUTPUT_TOKENS, type ReasoningGraph, type Retriever, type TraceJson } from '../ops/index.ts';
import {
  STRATEGIES,
  defaultOperators,
  runWorkflow,
  strategySpec,
  type BudgetPolicy,
  type OperatorRegistry,
  type Strategy,
} from '../workflow/index.ts';
import { fleetBinder, governedSolve } from '../governor/index.ts';
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

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/** The knob each strategy scales with the budget, and how (token-equivalents per unit, bounds). */
const KNOBS: Partial<Record<Strategy, { name: string; perUnit: number; min: number; max: number }>> = {
  vote: { name: 'samples', perUnit: 450, min: 3, max: 15 },
  refine: { name: 'rounds', perUnit: 1500, min: 1, max: 4 },
  thread: { name: 'steps', perUnit: 250, min: 4, max: 24 },
  search: { name: 'steps', perUnit: 700, min: 1, max: 6 },
  debate: { name: 'agents', perUnit: Infinity, min: 3, max: 3 },
  cascade: { name: 'samples', perUnit: 450, min: 3, max: 5 },
};

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
  const knob = KNOBS[strategy];
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
      const scaled = knob ? clamp(Math.floor(input.budgetTokens / knob.perUnit), knob.min, knob.max) : undefined;
      const value = input.parameter ?? scaled;
      const debateRounds = clamp(Math.floor(input.budgetTokens / 3000), 1, 3);
      const spec = strategySpec(strategy, {
        model: input.model,
        samples: strategy === 'vote' || strategy === 'cascade' ? (value ?? 3) : 1,
        // Solo writes the whole persona transcript in one call: a per-call cap sized for one answer would
        // truncate it and measure the cap, not the architecture. The per-query budget still binds.
        maxOutputTokens: strategy === 'solo' ? Math.max(input.maxOutputTokens, DEFAULT_SOLO_MAX_OUTPUT_TOKENS) : input.maxOutputTokens,
        cascadeModels: input.cascadeModels,
        ...(strategy === 'refine' ? { rounds: value ?? 2 } : strategy === 'debate' ? { rounds: debateRounds, agents: value ?? 3 } : {}),
        ...(strategy === 'thread' || strategy === 'search' ? { steps: value ?? 3 } : {}),
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
): ArchitectureDefinition {
  return {
    name,
    family,
    description,
    unsupported: (suite) => (suite.network ? 'network instances need a network architecture' : undefined),
    async run(input) {
      const output = await solve({
        query: input.task.prompt,
        taskId: input.task.id,
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

/** `--strategy auto`: the governor's probe → allocate → arm, under the cell's budget, on the suite's corpus. */
const autoSolver = (input: SolverInput): Promise<SolverOutput> =>
  governedSolve({
    query: input.query,
    fleet: input.fleet,
    budget: input.budget,
    model: input.model,
    maxOutputTokens: input.maxOutputTokens,
    taskId: input.taskId,
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
  });

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
