/**
 * The executor's per-node budget slices: each node's worst-case weights, what the nodes not yet started may
 * still claim, the slices promised to running nodes, and from these the slice a node gets when it starts and
 * whether that slice can pay for its first call (the rules are in executor.ts).
 *
 * Its own module because it is arithmetic over the budget and the estimate, separate from the scheduling
 * that asks for it (execution.ts). One instance per run, created with its Execution.
 */
import { NANO_USD_PER_USD } from '../core/index.ts';
import { DIMENSIONS, type Budget, type BudgetLimits } from '../budget/index.ts';
import type { WorkflowEstimate } from './estimate.ts';
import type { CompiledNode, ValidatedWorkflow } from './validate.ts';

export const USD = DIMENSIONS.indexOf('usd');
const TOTAL_TOKENS = DIMENSIONS.indexOf('totalTokens');

export class BudgetSlices {
  /** Worst-case cost per node and dimension (the share weights), and its sum over the nodes not yet started. */
  private readonly weights: Float64Array;
  private readonly unstarted = new Float64Array(5);
  /** 1 for capability nodes whose dollars the estimate could not price. */
  private readonly unpriced: Uint8Array;
  /** The nodes running now, and each one's slice while it runs: the headroom promised to them. */
  readonly runningSet = new Set<number>();
  readonly budgets: Array<Budget | undefined>;

  constructor(
    workflow: ValidatedWorkflow,
    private readonly estimate: WorkflowEstimate,
    private readonly budget: Budget,
  ) {
    const count = workflow.nodes.length;
    this.budgets = new Array<Budget | undefined>(count);
    this.weights = new Float64Array(count * 5);
    this.unpriced = new Uint8Array(count);
    for (const index of workflow.order) {
      const estimated = estimate.nodes[workflow.nodes[index]!.id]!;
      if (estimated.unpriced) this.unpriced[index] = 1;
      DIMENSIONS.forEach((dimension, d) => {
        this.weights[index * 5 + d] = estimated.worst[dimension];
        this.unstarted[d]! += estimated.worst[dimension];
      });
    }
  }

  /**
   * The node's slice of the headroom that running nodes have not been promised: its `budgetShare`, or by
   * default max(its worst-case share among the nodes not yet started, its own worst case) — so in a tight
   * budget the nodes that start first run undegraded and later ones wait or are skipped, rather than every
   * node being cut short.
   */
  sliceFor(node: CompiledNode): BudgetLimits {
    const room = this.budget.headroom();
    const promised = new Float64Array(5);
    for (const running of this.runningSet) {
      const slice = this.budgets[running]!;
      for (let d = 0; d < 5; d++) {
        const limit = slice.limitVector[d]!;
        // The vectors keep dollars as integer nano-dollars (budget/ledger.ts); `room` is in dollars.
        if (Number.isFinite(limit))
          promised[d]! += Math.max(0, limit - slice.spentVector[d]! - slice.reservedVector[d]!) / (d === USD ? NANO_USD_PER_USD : 1);
      }
    }
    const share = node.node.budgetShare;
    const limits: BudgetLimits = {};
    for (let d = 0; d < 5; d++) {
      if (!Number.isFinite(room[d]!)) continue;
      const available = Math.max(0, room[d]! - promised[d]!);
      const weight = this.weights[node.index * 5 + d]!;
      const unstarted = this.unstarted[d]!;
      let value =
        share !== undefined
          ? available * share
          : Math.max(unstarted > 1e-12 ? (available * weight) / unstarted : 0, Math.min(available, weight));
      // An unpriced capability node has no dollar weight (its model is chosen when it starts): it gets the
      // share of the dollars that it has of the tokens, rather than none at all.
      if (d === USD && share === undefined && this.unpriced[node.index] === 1) {
        const tokens = this.unstarted[TOTAL_TOKENS]!;
        value = tokens > 1e-12 ? (available * this.weights[node.index * 5 + TOTAL_TOKENS]!) / tokens : available;
      }
      const dimension = DIMENSIONS[d]!;
      // Integer dimensions round up (never above `available`, which is whole).
      if (dimension !== 'usd') value = Math.min(available, Math.ceil(value - 1e-9));
      limits[dimension] = value;
    }
    return limits;
  }

  consume(index: number): void {
    for (let d = 0; d < 5; d++) this.unstarted[d] = Math.max(0, this.unstarted[d]! - this.weights[index * 5 + d]!);
  }

  /** Whether the slice (and the deadline) can pay for the node's first call with a minimal output. */
  canStart(node: CompiledNode, limits: BudgetLimits): boolean {
    if (this.budget.remainingMs() <= 0) return false;
    const first = this.estimate.nodes[node.id]!.firstCall;
    if (first.calls === 0) return true;
    for (const dimension of DIMENSIONS) {
      const limit = limits[dimension];
      if (limit !== undefined && limit < first[dimension] - (dimension === 'usd' ? 1e-12 : 0)) return false;
    }
    return true;
  }
}
