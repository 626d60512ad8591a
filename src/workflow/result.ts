/**
 * A workflow run's options, and what it returns: the answer (the output node's, or — when it has none — the
 * best available upstream answer), an overall status, every node's record, the trace, what was degraded and
 * the estimate.
 *
 * Status: `cancelled` when the signal fired; else `budget_exhausted` when a node was skipped for budget or an
 * operator reported a budget refusal; else `error` when a node failed or there is no answer; else `ok`.
 */
import type { RunStatus, UsageTotals } from '../core/index.ts';
import type { Budget } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import type { OpResult, Trace, TraceJson } from '../ops/index.ts';
import { addLines, zeroLine, type WorkflowEstimate } from './estimate.ts';
import type { EstimateBasis, ScaleChange } from './fit.ts';
import type { CapabilityPolicy, CapabilityResolver } from './capability.ts';
import type { OperatorRegistry } from './operator-types.ts';
import type { OpName, Tier } from './spec.ts';
import type { ValidatedWorkflow, WorkflowLimits } from './validate.ts';

export type BudgetPolicy = 'degrade' | 'scale' | 'reject';

export interface RunWorkflowOptions {
  /** The spec as JSON; validated here (against `operators`, `limits` and the fleet). */
  spec: unknown;
  query: string;
  fleet: Fleet;
  /** The run's budget (e.g. `ledger.root`); the spec's `limits` are applied under it. */
  budget: Budget;
  operators: OperatorRegistry;
  /** Model for nodes that name none (after the spec's defaults.model). */
  model?: string;
  tierModels?: Partial<Record<Tier, string>>;
  limits?: Partial<WorkflowLimits>;
  /** Operators in flight at once (default 8). */
  concurrency?: number;
  /** Before running: `degrade` (default: run, operators degrade), `scale` or `reject` (see fit.ts). */
  budgetPolicy?: BudgetPolicy;
  /** What `scale` / `reject` fit to the budget: the `worst` case (default; what the ledger reserves) or the `expected` cost. */
  estimateBasis?: EstimateBasis;
  /** Journal + run id (the run must exist: `journal.beginOrResumeRun`). Enables step journaling and resume. */
  journal?: { journal: Journal; runId: string };
  /** Prefix of step ids (default `wf/`); distinct prefixes let several workflows share one run. */
  stepPrefix?: string;
  signal?: AbortSignal;
  taskId?: string;
  trace?: Trace;
  /**
   * Binds capability nodes (`capability: { need, … }`) to a model when they start (capability.ts). Without
   * it, capability nodes fail with CAPABILITY_UNRESOLVED — never a silent fallback to another model.
   */
  resolveCapability?: CapabilityResolver;
  /** The run's policy, merged into every capability node's constraints (labels, providers, limits). */
  capabilityPolicy?: CapabilityPolicy;
}

export type NodeStatus = 'ok' | 'skipped' | 'error' | 'cancelled' | 'pruned';
export type SkipReason = 'budget' | 'upstream' | 'cancelled' | 'unreachable';

export interface NodeRecord {
  op: OpName;
  status: NodeStatus;
  reason?: SkipReason;
  result?: OpResult;
  /** Spend of the node's budget slice (for a replayed node: its recorded spend, charged again to the ledger). */
  usage: UsageTotals;
  /** Clock times (virtual for simulated runs), ms. */
  startedAt?: number;
  endedAt?: number;
  /** Reused from the journal on resume; the operator did not run. */
  replayed?: boolean;
  error?: { code: string; message: string };
  /** Capability node: what it was bound to (card id@version and the model its operator called). */
  capability?: { card: string; model: string; score: number };
}

export interface WorkflowResult {
  answer: string | undefined;
  /** Node whose answer `answer` is (the output, or the fallback upstream node). */
  answeredBy: string | undefined;
  status: RunStatus;
  nodes: Record<string, NodeRecord>;
  trace: TraceJson;
  degraded: string[];
  estimate: WorkflowEstimate;
  scaled: ScaleChange[];
  /** Σ node usage. */
  usage: UsageTotals;
  simulated: boolean;
}

export interface AssembleInput {
  workflow: ValidatedWorkflow;
  records: NodeRecord[];
  estimate: WorkflowEstimate;
  scaled: ScaleChange[];
  trace: Trace;
  aborted: boolean;
  stepPrefix: string;
  by: string;
}

export function assembleResult(input: AssembleInput): WorkflowResult {
  const { workflow, records, trace } = input;
  const degraded: string[] = input.scaled.map(
    (change) => `${change.node}.${change.param} ${change.from} → ${change.to} (scaled to fit the budget)`,
  );
  const nodes: Record<string, NodeRecord> = {};
  const usage = zeroLine();
  let budgetHit = false;
  let failed = false;
  let simulated = false;
  for (const node of workflow.nodes) {
    const record = records[node.index]!;
    nodes[node.id] = record;
    addLines(usage, record.usage);
    if (record.result?.simulated) simulated = true;
    if (record.result?.budgetExhausted || record.reason === 'budget') budgetHit = true;
    if (record.status === 'error') failed = true;
    for (const note of record.result?.degraded ?? []) degraded.push(`${node.id}: ${note}`);
    if (record.status === 'skipped') degraded.push(`${node.id}: skipped (${record.reason})`);
  }

  const output = workflow.nodes[workflow.output]!;
  const outputRecord = records[output.index]!;
  let answer: string | undefined = outputRecord.status === 'ok' ? outputRecord.result?.answer : undefined;
  let answeredBy: string | undefined = answer === undefined ? undefined : output.id;
  if (answer === undefined) {
    const fallback = bestUpstream(workflow, records);
    if (fallback !== undefined) {
      answer = records[fallback]!.result!.answer;
      answeredBy = workflow.nodes[fallback]!.id;
      degraded.push(`${output.id}: ${outputRecord.status === 'ok' ? 'no answer' : outputRecord.status}; answered from ${answeredBy}`);
      trace.event(input.stepPrefix + output.id, 'note', { fallback: answeredBy, answer, outputStatus: outputRecord.status });
    }
  }
  const status = input.aborted ? 'cancelled' : budgetHit ? 'budget_exhausted' : failed || answer === undefined ? 'error' : 'ok';
  trace.event(input.by, 'op-end', { status, answer, answeredBy, usage });
  return {
    answer,
    answeredBy,
    status,
    nodes,
    trace: trace.toJSON(),
    degraded,
    estimate: input.estimate,
    scaled: input.scaled,
    usage,
    simulated,
  };
}

/**
 * The best available upstream answer of the output: nearest level first (reverse BFS over the inputs), within
 * a level the highest confidence (no confidence counts as −1), then the lowest spec index.
 */
function bestUpstream(workflow: ValidatedWorkflow, records: NodeRecord[]): number | undefined {
  const seen = new Set<number>([workflow.output]);
  let level = [...workflow.nodes[workflow.output]!.upstream];
  for (const index of level) seen.add(index);
  while (level.length > 0) {
    let best: number | undefined;
    for (const index of level) {
      const result = records[index]?.status === 'ok' ? records[index].result : undefined;
      if (result?.answer === undefined) continue;
      const bestConfidence = best === undefined ? -Infinity : (records[best]!.result!.confidence ?? -1);
      const confidence = result.confidence ?? -1;
      if (best === undefined || confidence > bestConfidence || (confidence === bestConfidence && index < best)) best = index;
    }
    if (best !== undefined) return best;
    const next: number[] = [];
    for (const index of level) {
      for (const from of workflow.nodes[index]!.upstream) {
        if (!seen.has(from)) {
          seen.add(from);
          next.push(from);
        }
      }
    }
    level = next;
  }
  return undefined;
}
