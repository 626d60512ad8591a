/**
 * One run of a validated, estimated workflow: the in-degree scheduler (queue, concurrency, readiness,
 * cancellation), each node's execution (capability binding, operator call, journaled step), replay of the
 * nodes a resumed run finished earlier, and the wiring of node inputs and trace derivations. The rules it
 * follows are described in executor.ts; the budget slices it starts nodes under are in budget-slices.ts.
 */
import { BudgetExhaustedError, normalizeAnswer, toThicketError, type UsageTotals } from '../core/index.ts';
import type { Budget } from '../budget/index.ts';
import type { CallRecorder } from '../models/index.ts';
import type { StepRow } from '../journal/index.ts';
import { Trace, type OpContext, type OpResult } from '../ops/index.ts';
import { assembleResult, type NodeRecord, type RunWorkflowOptions, type WorkflowResult } from './result.ts';
import { zeroLine, type WorkflowEstimate } from './estimate.ts';
import type { ScaleChange } from './fit.ts';
import { QUERY } from './graph.ts';
import type { NodeInput, NodeInputs } from './operator-types.ts';
import { STEP_KIND, StepJournal } from './step-journal.ts';
import { clip } from './template.ts';
import type { CompiledNode, ValidatedWorkflow } from './validate.ts';
import { bindCapability } from './capability.ts';
import { BudgetSlices, USD } from './budget-slices.ts';

type AnyOperator = (context: OpContext, params: unknown, inputs: NodeInputs) => Promise<OpResult>;

const IDLE = 0;
const QUEUED = 1;
const RUNNING = 2;
const DONE = 3;

export class Execution {
  private readonly nodes: CompiledNode[];
  private readonly trace: Trace;
  private readonly prefix: string;
  private readonly concurrency: number;
  private readonly steps: StepJournal | undefined;
  private readonly finishedRows: Map<string, StepRow>;
  private readonly recorder: CallRecorder | undefined;
  private readonly pending: Int32Array;
  private readonly state: Uint8Array;
  private readonly records: Array<NodeRecord | undefined>;
  private readonly slices: BudgetSlices;
  private readonly textBound: Float64Array;
  private readonly queue: number[] = [];
  private head = 0;
  private running = 0;
  private done = 0;
  private total = 0;
  private aborted = false;
  private queryNode = '';
  private resolve: (() => void) | undefined;
  private fatal: { error: unknown } | undefined;

  constructor(
    private readonly workflow: ValidatedWorkflow,
    private readonly estimate: WorkflowEstimate,
    private readonly scaled: ScaleChange[],
    private readonly budget: Budget,
    private readonly options: RunWorkflowOptions,
  ) {
    this.nodes = workflow.nodes;
    const count = this.nodes.length;
    this.trace = options.trace ?? new Trace(options.fleet.clock);
    this.prefix = options.stepPrefix ?? 'wf/';
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
    this.steps = options.journal ? new StepJournal(options.journal.journal, options.journal.runId) : undefined;
    this.finishedRows = this.steps?.finishedSteps(this.prefix) ?? new Map<string, StepRow>();
    this.recorder = options.journal ? options.journal.journal.recorder(options.journal.runId) : undefined;
    this.pending = new Int32Array(count);
    this.state = new Uint8Array(count);
    this.records = new Array<NodeRecord | undefined>(count);
    this.textBound = new Float64Array(count);
    this.slices = new BudgetSlices(workflow, estimate, budget);
    for (const index of workflow.order) {
      const node = this.nodes[index]!;
      const estimated = estimate.nodes[node.id]!;
      this.pending[index] = node.upstream.length;
      this.textBound[index] = estimated.textTokens.worst;
    }
    this.total = workflow.order.length;
  }

  async run(): Promise<WorkflowResult> {
    const by = this.prefix.replace(/\/$/, '') || 'workflow';
    this.queryNode = this.trace.addNode(by, 'query', this.options.query);
    this.trace.event(by, 'op-start', {
      workflow: this.workflow.spec.name,
      nodes: this.total,
      pruned: this.nodes.length - this.total,
      estimate: this.estimate.total,
      scaled: this.scaled,
    });
    for (const node of this.nodes)
      if (!node.reachable) this.records[node.index] = { op: node.op, status: 'pruned', reason: 'unreachable', usage: zeroLine() };
    for (const index of this.workflow.order) {
      if (this.pending[index] === 0) {
        this.state[index] = QUEUED;
        this.queue.push(index);
      }
    }
    const signal = this.options.signal;
    const onAbort = (): void => {
      this.cancelRest();
      if (this.done === this.total) this.resolve?.();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve) => {
        this.resolve = resolve;
        if (signal?.aborted) onAbort();
        this.pump();
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (this.fatal) {
      this.steps?.close();
      throw this.fatal.error;
    }
    const result = assembleResult({
      workflow: this.workflow,
      records: this.records as NodeRecord[],
      estimate: this.estimate,
      scaled: this.scaled,
      trace: this.trace,
      aborted: this.aborted,
      stepPrefix: this.prefix,
      by,
    });
    this.steps?.close();
    return result;
  }

  private pump(): void {
    while (this.head < this.queue.length && this.running < this.concurrency) {
      const index = this.queue[this.head]!;
      // The queue head may wait for budget that running nodes hold but may not spend (FIFO: nothing overtakes it).
      if (this.state[index] === QUEUED && !this.begin(index)) break;
      this.head++;
    }
    if (this.done === this.total) this.resolve?.();
  }

  /** Starts, replays or skips the node; false when it must wait for running nodes to release budget. */
  private begin(index: number): boolean {
    const node = this.nodes[index]!;
    const stepId = this.prefix + node.id;
    if (!this.inputsArrived(node)) {
      this.slices.consume(index);
      this.finish(index, { op: node.op, status: 'skipped', reason: 'upstream', usage: zeroLine() });
      return true;
    }
    const row = this.finishedRows.get(stepId);
    if (row) {
      this.replay(index, row);
      return true;
    }
    const limits = this.slices.sliceFor(node);
    if (!this.slices.canStart(node, limits)) {
      if (this.running > 0) return false;
      this.slices.consume(index);
      this.trace.event(stepId, 'degrade', { reason: 'budget', slice: limits, firstCall: this.estimate.nodes[node.id]!.firstCall });
      this.finish(index, { op: node.op, status: 'skipped', reason: 'budget', usage: zeroLine() });
      return true;
    }
    this.slices.consume(index);
    const budget = this.budget.child(node.id, { limits });
    this.state[index] = RUNNING;
    this.running++;
    this.slices.runningSet.add(index);
    this.slices.budgets[index] = budget;
    void this.execute(node, stepId, budget);
    return true;
  }

  private async execute(node: CompiledNode, stepId: string, budget: Budget): Promise<void> {
    const clock = this.options.fleet.clock;
    const startedAt = clock.now();
    const inputs = this.inputsOf(node);
    const context: OpContext = {
      fleet: this.options.fleet,
      budget,
      trace: this.trace,
      stepId,
      model: node.model ?? this.options.model ?? '',
    };
    if (this.recorder) context.recorder = this.recorder;
    if (this.options.signal) context.signal = this.options.signal;
    if (this.options.taskId !== undefined) context.taskId = this.options.taskId;
    const refs: Record<string, string> = {};
    const answers: Record<string, string | undefined> = {};
    for (const input of inputs.list) {
      refs[input.name] = input.ref;
      if (input.from !== 'query') answers[input.name] = input.answer;
    }
    const limits = budget.limits;
    let record: NodeRecord;
    let bound: NodeRecord['capability'];
    try {
      if (node.capability !== undefined) {
        bound = await this.bind(node, stepId, budget);
        context.model = bound.model;
      }
      const model = bound?.model ?? node.model;
      const capability = bound?.card;
      this.trace.event(stepId, 'op-start', { op: node.op, model, capability, inputs: refs, answers, budget: limits });
      this.steps?.write({
        stepId,
        kind: STEP_KIND,
        status: 'running',
        input: { op: node.op, model, capability, inputs: refs, budget: limits },
        startedAt: new Date().toISOString(),
      });
      const params = node.op === 'aggregate' ? node.node.params : { ...node.node.params, maxOutputTokens: node.maxOutputTokens };
      const result = await (this.options.operators[node.op] as unknown as AnyOperator)(context, params, inputs);
      record = { op: node.op, status: 'ok', result, usage: lineOf(budget), startedAt, endedAt: clock.now() };
    } catch (caught) {
      const error = toThicketError(caught);
      const status =
        error.category === 'cancelled' || this.options.signal?.aborted
          ? 'cancelled'
          : error instanceof BudgetExhaustedError
            ? 'skipped'
            : 'error';
      record = { op: node.op, status, usage: lineOf(budget), startedAt, endedAt: clock.now(), error: error.toJSON() };
      if (status === 'skipped') record.reason = 'budget';
      if (status === 'cancelled') record.reason = 'cancelled';
    }
    if (bound) record.capability = bound;
    this.running--;
    this.slices.runningSet.delete(node.index);
    this.slices.budgets[node.index] = undefined;
    try {
      this.finish(node.index, record, inputs);
      this.pump();
    } catch (error) {
      // A bug or a journal failure here must end the run, not leave it waiting forever.
      this.fatal ??= { error };
      this.resolve?.();
    }
  }

  /**
   * Binds a capability node under the run's policy and what its slice can still spend (capability.ts), and
   * records the choice in the trace. Throws CapabilityUnresolvedError: the node fails, nothing falls back.
   */
  private async bind(node: CompiledNode, stepId: string, budget: Budget): Promise<NonNullable<NodeRecord['capability']>> {
    const need = node.capability!;
    const usd = budget.headroom()[USD]!;
    const fleet = this.options.fleet;
    const { binding, request } = await bindCapability(node.id, need, {
      resolver: this.options.resolveCapability,
      ...(this.options.capabilityPolicy ? { policy: this.options.capabilityPolicy } : {}),
      ...(Number.isFinite(usd) ? { remainingUsd: Math.max(0, usd) } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      canCall: (model) => {
        try {
          fleet.model(model);
          return undefined;
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      },
    });
    const card = `${binding.cardId}@${binding.version}`;
    this.trace.event(stepId, 'capability-bound', {
      need: need.need,
      card,
      model: binding.model,
      score: binding.score,
      explanation: binding.explanation,
      constraints: request,
    });
    return { card, model: binding.model, score: binding.score };
  }

  /** Reuses a node's journaled OpResult; its recorded spend is charged so the run total stays honest. */
  private replay(index: number, row: StepRow): void {
    const node = this.nodes[index]!;
    const stepId = this.prefix + node.id;
    this.slices.consume(index);
    const result = { ...(row.output as OpResult) };
    const usage = { ...zeroLine(), ...(row.usage as Partial<UsageTotals> | null) };
    try {
      this.budget.charge(
        { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, usd: usage.usd, calls: usage.calls },
        { operator: node.op },
      );
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      this.trace.event(stepId, 'degrade', { reason: 'budget', replay: true });
      return this.finish(index, { op: node.op, status: 'skipped', reason: 'budget', usage: zeroLine() });
    }
    result.nodeId = this.trace.addNode(
      stepId,
      'answer',
      result.text,
      result.answer === undefined || result.answer === null ? undefined : normalizeAnswer(result.answer),
    );
    const now = this.options.fleet.clock.now();
    this.finish(index, { op: node.op, status: 'ok', result, usage, startedAt: now, endedAt: now, replayed: true });
  }

  private finish(index: number, record: NodeRecord, inputs?: NodeInputs): void {
    const node = this.nodes[index]!;
    const stepId = this.prefix + node.id;
    this.records[index] = record;
    this.state[index] = DONE;
    this.done++;
    const result = record.result;
    if (result?.nodeId !== undefined) {
      const sources = new Set<string>();
      for (const input of (inputs ?? this.inputsOf(node)).list)
        if (input.available && input.graphNode !== undefined) sources.add(input.graphNode);
      this.trace.derive(result.nodeId, sources.size > 0 ? [...sources] : [this.queryNode]);
    }
    const ms = record.startedAt === undefined ? undefined : record.endedAt! - record.startedAt;
    this.trace.event(stepId, 'op-end', {
      status: record.status,
      reason: record.reason,
      answer: result?.answer,
      confidence: result?.confidence,
      calls: result?.calls ?? 0,
      usage: record.usage,
      ms,
      replayed: record.replayed,
      degraded: result?.degraded,
      error: record.error,
    });
    if (!record.replayed) {
      const output = result ?? { reason: record.reason, error: record.error };
      this.steps?.write({ stepId, kind: STEP_KIND, status: record.status, output, usage: record.usage, endedAt: new Date().toISOString() });
    }
    if (this.aborted) return;
    for (const next of node.downstream) {
      if (this.state[next] === IDLE && --this.pending[next]! === 0) {
        this.state[next] = QUEUED;
        this.queue.push(next);
      }
    }
  }

  private cancelRest(): void {
    this.aborted = true;
    for (const index of this.workflow.order) {
      if (this.state[index] !== IDLE && this.state[index] !== QUEUED) continue;
      this.slices.consume(index);
      this.finish(index, { op: this.nodes[index]!.op, status: 'cancelled', reason: 'cancelled', usage: zeroLine() });
    }
  }

  private inputsArrived(node: CompiledNode): boolean {
    if (node.upstream.length === 0) return true;
    const any = node.op === 'aggregate';
    for (const from of node.upstream) {
      const ok = this.records[from]?.status === 'ok';
      if (any && ok) return true;
      if (!any && !ok) return false;
    }
    return !any;
  }

  private inputsOf(node: CompiledNode): NodeInputs {
    const list: NodeInput[] = [];
    const byName: Record<string, NodeInput> = {};
    for (const input of node.inputs) {
      let entry: NodeInput;
      if (input.from === QUERY) {
        entry = {
          name: input.name,
          ref: input.ref,
          from: 'query',
          value: this.options.query,
          answer: undefined,
          confidence: undefined,
          graphNode: this.queryNode,
          available: true,
        };
      } else {
        const result = this.records[input.from]?.status === 'ok' ? this.records[input.from]!.result : undefined;
        const from = this.nodes[input.from]!.id;
        if (!result)
          entry = {
            name: input.name,
            ref: input.ref,
            from,
            value: '',
            answer: undefined,
            confidence: undefined,
            graphNode: undefined,
            available: false,
          };
        else {
          const raw = input.field === 'answer' ? (result.answer ?? '') : result.text;
          entry = {
            name: input.name,
            ref: input.ref,
            from,
            value: clip(raw, this.textBound[input.from]!),
            answer: result.answer,
            confidence: result.confidence,
            graphNode: result.nodeId,
            available: true,
          };
        }
      }
      list.push(entry);
      byName[input.name] = entry;
    }
    return { nodeId: node.id, query: this.options.query, list, byName };
  }
}

function lineOf(budget: Budget): UsageTotals {
  const { inputTokens, outputTokens, totalTokens, usd, calls } = budget.spent();
  return { inputTokens, outputTokens, totalTokens, usd, calls };
}
