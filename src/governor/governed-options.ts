/**
 * What a governed solve is asked: `GovernedSolveOptions`, the query, the one budget and the knobs of the four
 * decisions (probe, allocate, execute, explain). A module of its own because the steps that read it
 * (solve.ts, run-arm.ts, decision-record.ts) import it without importing one another.
 */
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { Checker, Retriever, Trace } from '../ops/index.ts';
import type { OperatorRegistry } from '../workflow/index.ts';
import type { CapabilityBinder } from './binder.ts';
import type { AllocationCell, GovernorPolicy } from './policy.ts';
import type { Objective } from './frontier.ts';

export interface GovernedSolveOptions {
  query: string;
  fleet: Fleet;
  /** The one budget for probe + planning + execution (e.g. `ledger.root`). */
  budget: Budget;
  /** Starting model (its tier is the cheapest used). Default `sim:small`. */
  model?: string;
  binder?: CapabilityBinder;
  policy?: GovernorPolicy;
  /** Where the policy came from, for the explanation (e.g. the --policy file). */
  policySource?: string;
  /** Planner model (`--planner`); default: the binder's `plan` capability. */
  planner?: string;
  /** `auto` (the policy decides), `always` (plan every non-easy query), `never`. */
  planning?: 'auto' | 'always' | 'never';
  /** Policy labels of the query, passed to the binder. */
  labels?: readonly string[];
  /**
   * The query's corpus (solve --corpus, the lab's multi-hop suite): the strategy space then includes `search`
   * and the allocation uses the policy's corpus table (or DEFAULT_CORPUS_ALLOCATION).
   */
  retriever?: Retriever;
  /** Makes the query checkable: the planner refines on its verdicts. */
  checker?: Checker;
  /** Judge for the planner's refinement when there is no checker. */
  verifierModel?: string;
  operators?: OperatorRegistry;
  maxOutputTokens?: number;
  taskId?: string;
  journal?: { journal: Journal; runId: string };
  signal?: AbortSignal;
  trace?: Trace;
  /** Run this arm whatever the difficulty (calibration). */
  force?: AllocationCell;
  /** Example folder for the planner's template library (default examples/); false for none. */
  examples?: string | false;
  /**
   * The query's task family (`arithmetic`, `logic`, `multihop`, …): picks the policy's frontier table. Default:
   * inferred from the query (`inferFamily`); the decision says which.
   */
  family?: string;
  /** What to spend least of once accuracy is had: tokens (default), dollars or seconds (`--optimize`). */
  optimize?: Objective;
  /** Models cheapest-first for a fixed `cascade` strategy chosen by the frontier (default: the bound tiers upward). */
  cascadeModels?: string[];
}
