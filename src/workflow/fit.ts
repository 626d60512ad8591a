/**
 * Fitting a workflow to a budget before it runs, as the caller chooses:
 *   - `reject`: throw WorkflowOverBudgetError (a BudgetExhaustedError, code BUDGET_EXHAUSTED) naming every
 *     budget dimension the estimate exceeds, with the most expensive nodes;
 *   - `scale`: shrink samples / rounds / agents / steps by one common factor f (each floored, never below its
 *     minimum: 1 sample, 1 round, 2 agents, 1 step) — the largest f whose estimate fits, found by bisection
 *     (the estimate is monotone in f) — and report every change. If even the minimum does not fit, reject.
 * `basis` picks what must fit: the `expected` cost (default; the ledger still enforces the hard budget at run
 * time and operators degrade) or the `worst` case (then the run cannot be cut short by the budget).
 * Seconds are not estimated and never cause a rejection here.
 */
import { BudgetExhaustedError, type BudgetShortfall, type UsageTotals } from '../core/index.ts';
import { DIMENSIONS, type Budget, type BudgetLimits } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import { estimateWorkflow, type EstimateCache, type WorkflowEstimate } from './estimate.ts';
import { DEFAULT_THREAD_STEPS } from './plan.ts';
import type { WorkflowNode } from './spec.ts';
import { withNodes, type ValidatedWorkflow } from './validate.ts';

export type FitMode = 'reject' | 'scale';
export type EstimateBasis = 'expected' | 'worst';

export interface ScaleChange {
  node: string;
  param: string;
  from: number;
  to: number;
}

export interface FitResult {
  workflow: ValidatedWorkflow;
  estimate: WorkflowEstimate;
  scaled: ScaleChange[];
  /** The common factor applied (1 when nothing was scaled). */
  factor: number;
}

export interface FitOptions {
  query: string;
  budget: Budget | BudgetLimits;
  mode: FitMode;
  basis?: EstimateBasis;
  /** Reuse an estimate already made for `workflow`. */
  estimate?: WorkflowEstimate;
}

/** The estimate does not fit the budget (and could not be scaled to fit). */
export class WorkflowOverBudgetError extends BudgetExhaustedError {
  constructor(
    readonly exceeded: BudgetShortfall[],
    readonly basis: EstimateBasis,
    detail: string,
  ) {
    super(exceeded[0]!);
    this.name = 'WorkflowOverBudgetError';
    this.message =
      `The workflow's ${basis} cost exceeds ` +
      `the budget: ` +
      `${exceeded.map((line) => `${line.dimension} ${format(line.dimension, line.requested)} > ${format(line.dimension, line.limit)}`).join(', ')}${detail}`;
  }
}

export function fitWorkflow(workflow: ValidatedWorkflow, fleet: Fleet, options: FitOptions): FitResult {
  const basis = options.basis ?? 'expected';
  const limits = limitsOf(options.budget);
  const cache: EstimateCache = new Map();
  const estimate = options.estimate ?? estimateWorkflow(workflow, fleet, { query: options.query, cache });
  if (shortfalls(estimate, limits, basis).length === 0) return { workflow, estimate, scaled: [], factor: 1 };
  if (options.mode === 'reject') throw overBudget(estimate, limits, basis, '');

  const attempt = (factor: number) => {
    const changes: ScaleChange[] = [];
    const replaced = new Map<number, WorkflowNode>();
    for (const index of workflow.order) {
      const compiled = workflow.nodes[index]!;
      const node = scaleNode(compiled.node, factor, changes);
      if (node !== compiled.node) replaced.set(index, node);
    }
    const scaledWorkflow = withNodes(workflow, replaced);
    return {
      workflow: scaledWorkflow,
      estimate: estimateWorkflow(scaledWorkflow, fleet, { query: options.query, cache }),
      scaled: changes,
      factor,
    };
  };
  let best = attempt(0);
  if (shortfalls(best.estimate, limits, basis).length > 0)
    throw overBudget(best.estimate, limits, basis, ' even with every sample/round/agent/step count at its minimum');
  let low = 0;
  let high = 1;
  // 20 halvings resolve f to 1e-6: below any integer step of realistic parameter values.
  for (let iteration = 0; iteration < 20; iteration++) {
    const middle = (low + high) / 2;
    const candidate = attempt(middle);
    if (shortfalls(candidate.estimate, limits, basis).length === 0) {
      best = candidate;
      low = middle;
    } else high = middle;
  }
  return best;
}

/** A copy of the node with every scalable count multiplied by `factor` (floored, at least its minimum). */
export function scaleNode(node: WorkflowNode, factor: number, changes: ScaleChange[]): WorkflowNode {
  const scale = (param: string, from: number, minimum: number): number => {
    const to = Math.max(minimum, Math.min(from, Math.floor(from * factor)));
    if (to !== from) changes.push({ node: node.id, param, from, to });
    return to;
  };
  switch (node.op) {
    case 'sample':
      return { ...node, params: { ...node.params, samples: scale('samples', node.params.samples, 1) } };
    case 'refine':
      return { ...node, params: { ...node.params, rounds: scale('rounds', node.params.rounds, 1) } };
    case 'thread':
      return { ...node, params: { ...node.params, maxSteps: scale('maxSteps', node.params.maxSteps ?? DEFAULT_THREAD_STEPS, 1) } };
    case 'search':
      return { ...node, params: { ...node.params, maxSteps: scale('maxSteps', node.params.maxSteps, 1) } };
    case 'debate':
      return {
        ...node,
        params: { ...node.params, agents: scale('agents', node.params.agents, 2), rounds: scale('rounds', node.params.rounds, 1) },
      };
    case 'cascade':
      return {
        ...node,
        params: {
          ...node.params,
          stages: node.params.stages.map((stage, index) => ({
            ...stage,
            samples: scale(`stages[${index}].samples`, stage.samples ?? 1, 1),
          })),
        },
      };
    default:
      return node;
  }
}

/** Finite limits as the budget stands now (a Budget's headroom on its whole path). */
function limitsOf(budget: Budget | BudgetLimits): Partial<Record<(typeof DIMENSIONS)[number], number>> {
  const source: BudgetLimits =
    'remaining' in budget && typeof budget.remaining === 'function' ? budget.remaining() : (budget as BudgetLimits);
  const limits: Partial<Record<(typeof DIMENSIONS)[number], number>> = {};
  for (const dimension of DIMENSIONS) {
    const value = source[dimension];
    if (value !== undefined && Number.isFinite(value)) limits[dimension] = value;
  }
  return limits;
}

function shortfalls(
  estimate: WorkflowEstimate,
  limits: Partial<Record<(typeof DIMENSIONS)[number], number>>,
  basis: EstimateBasis,
): BudgetShortfall[] {
  const line: UsageTotals = estimate.total[basis];
  const result: BudgetShortfall[] = [];
  for (const dimension of DIMENSIONS) {
    const limit = limits[dimension];
    if (limit !== undefined && line[dimension] > limit + (dimension === 'usd' ? 1e-12 : 0))
      result.push({ budget: `workflow estimate (${basis})`, dimension, limit, committed: 0, requested: line[dimension] });
  }
  return result;
}

function overBudget(
  estimate: WorkflowEstimate,
  limits: Partial<Record<(typeof DIMENSIONS)[number], number>>,
  basis: EstimateBasis,
  suffix: string,
): WorkflowOverBudgetError {
  const exceeded = shortfalls(estimate, limits, basis);
  const top = Object.entries(estimate.nodes)
    .sort((a, b) => b[1][basis].totalTokens - a[1][basis].totalTokens)
    .slice(0, 3)
    .map(([id, node]) => `${id} (${node.op}, ${node[basis].totalTokens} tokens)`);
  return new WorkflowOverBudgetError(exceeded, basis, `${suffix}. Most expensive nodes: ${top.join(', ')}.`);
}

function format(dimension: string, value: number): string {
  return dimension === 'usd' ? `$${value.toFixed(6)}` : String(Math.round(value * 100) / 100);
}
