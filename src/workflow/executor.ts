/**
 * The DAG executor. `runWorkflow` validates the spec (against the operator registry and the fleet), estimates
 * it, optionally fits it to the budget (`reject` / `scale`), then runs the nodes that feed the output:
 *
 *   - readiness by in-degree counters (a node is queued when its last upstream ends), FIFO, at most
 *     `concurrency` operators in flight — O(nodes + edges) overall, no scanning;
 *   - each node runs under a child budget carved when it starts, out of the headroom not promised to running
 *     nodes: its `budgetShare`, or by default max(its worst-case cost over the worst-case cost of all nodes
 *     not yet started, its own worst case). A budget that covers the whole worst case thus limits no node,
 *     and in a tight one the nodes that start first run undegraded instead of every node being cut short;
 *     what a node leaves unspent flows to the nodes after it. The ledger enforces the hard limits whatever
 *     the slices;
 *   - a node whose slice cannot pay for its first call waits (FIFO) while running nodes hold budget they may
 *     not spend, and is skipped (reason `budget`) when nothing is running; a node whose inputs did not all
 *     arrive is skipped (reason `upstream`; `aggregate` runs with whatever arrived); operators degrade
 *     themselves inside their slice. Nothing throws for budget reasons: the answer falls back to the best
 *     available upstream answer of the output (nearest level first, then confidence), noted in the trace;
 *   - every step is journaled (StepJournal, group commit); on resume a node finished earlier is not run again:
 *     its OpResult comes from the journal and its recorded spend is charged to the ledger;
 *   - a capability node (`capability: { need, … }` instead of a model) is bound when it starts, through the
 *     caller's `resolveCapability`, under the run's policy and its slice's remaining dollars; the choice is a
 *     `capability-bound` trace event. Unresolvable → the node fails with CAPABILITY_UNRESOLVED (capability.ts);
 *   - cancellation: the signal reaches every operator; nodes not yet started end `cancelled`.
 *
 * This module prepares the run; the run itself (scheduling, running and replaying nodes) is `Execution`
 * (execution.ts), and the per-node budget slices are `BudgetSlices` (budget-slices.ts).
 */
import type { BudgetLimits } from '../budget/index.ts';
import { Execution } from './execution.ts';
import type { RunWorkflowOptions, WorkflowResult } from './result.ts';
import { estimateWorkflow } from './estimate.ts';
import { fitWorkflow, type ScaleChange } from './fit.ts';
import { validateWorkflow } from './validate.ts';

export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowResult> {
  let workflow = validateWorkflow(options.spec, {
    operators: options.operators,
    requireModels: true,
    fleet: options.fleet,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    ...(options.tierModels ? { tierModels: options.tierModels } : {}),
  });
  const specLimits = workflow.spec.limits;
  let budget = options.budget;
  if (specLimits) {
    const limits: BudgetLimits = {};
    for (const [key, value] of Object.entries(specLimits)) if (value !== undefined) limits[key as keyof BudgetLimits] = value;
    budget = budget.child(workflow.spec.name ?? 'workflow', { limits });
  }
  let estimate = estimateWorkflow(workflow, options.fleet, { query: options.query });
  let scaled: ScaleChange[] = [];
  const policy = options.budgetPolicy ?? 'degrade';
  if (policy !== 'degrade') {
    const fit = fitWorkflow(workflow, options.fleet, {
      query: options.query,
      budget,
      mode: policy,
      estimate,
      // The worst case by default: it is what the ledger reserves call by call, so a plan whose worst case
      // fits is never refused a call; `expected` fits the typical run and leaves the rest to degradation.
      basis: options.estimateBasis ?? 'worst',
    });
    ({ workflow, estimate, scaled } = fit);
  }
  return new Execution(workflow, estimate, scaled, budget, options).run();
}
