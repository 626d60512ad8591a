/**
 * What an architecture is to the lab, and the registry of them a study names: an architecture takes one task
 * under one hard per-query budget and returns an answer (or a score) plus what it spent along which axis. The
 * registry resolves a study's names (`vote@5`: the definition and its checked parameter). The built-in
 * families (./strategy-architectures.ts, ./solver-architectures.ts, ./agentsnet-architectures.ts) implement
 * this contract; ./architectures.ts registers them.
 */
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { ReasoningGraph } from '../ops/index.ts';
import type { BudgetPolicy } from '../workflow/index.ts';
import type { Objective } from '../governor/index.ts';
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
