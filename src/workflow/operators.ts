/**
 * The operator registry: how a workflow node's `op` becomes a call. An operator gets its OpContext (fleet,
 * its own budget slice, trace, step id, model), the node's typed params (with `maxOutputTokens` resolved) and
 * its wired inputs, and returns an OpResult. The executor never knows what an operator does.
 *
 * `defaultOperators()` wires what exists today: `generate`, an interim `sample` built on `generate` (majority
 * or confidence-weighted vote, adaptive early stop; `verifier`/`usc` aggregators fall back to majority and
 * say so in `degraded`) and an interim `aggregate` (pure fan-in). The ops being written in src/ops replace or
 * join them with one line each (see the comments in `defaultOperators`); a spec that uses an op the registry
 * lacks is rejected at validation time ("operator X is not available").
 */
import { BudgetExhaustedError, CancelledError, ThicketError, normalizeAnswer } from '../core/index.ts';
import { generate, type GenerateOutcome, type OpContext, type OpResult } from '../ops/index.ts';
import type { OpName, OpParams } from './spec.ts';
import { buildMessages, type TemplateValue } from './template.ts';

export interface NodeInput {
  name: string;
  /** As written in the spec: `query`, `<id>` or `<id>.answer`. */
  ref: string;
  /** `query` or the upstream node id. */
  from: string;
  /** What a template substitutes: the query, the upstream text (truncated to its estimated bound) or its answer. */
  value: string;
  answer: string | undefined;
  confidence: number | undefined;
  /** The reasoning-graph node this input came from (the query node for the query). */
  graphNode: string | undefined;
  /** False when the upstream produced no result (only `aggregate` runs with missing inputs). */
  available: boolean;
}

export interface NodeInputs {
  nodeId: string;
  query: string;
  list: NodeInput[];
  byName: Record<string, NodeInput>;
}

export type OperatorFn<K extends OpName> = (context: OpContext, params: OpParams<K>, inputs: NodeInputs) => Promise<OpResult>;
export type OperatorRegistry = { [K in OpName]?: OperatorFn<K> };

/** Template values of the available inputs. */
export function templateValues(inputs: NodeInputs): TemplateValue[] {
  const values: TemplateValue[] = [];
  for (const input of inputs.list) if (input.available) values.push({ name: input.name, value: input.value });
  return values;
}

export function defaultOperators(): OperatorRegistry {
  return {
    generate: generateOperator,
    sample: sampleOperator, // interim (built on generate); swap for the ops sample operator with one line like those below
    aggregate: aggregateOperator,
    // One line per op from src/ops, adapting spec params + inputs to its options, e.g.:
    // debate: (ctx, p, inputs) => debate(ctx, { ...p, question: renderTemplate(p.prompt ?? DEFAULT_PROMPT_TEMPLATE, inputs.query, templateValues(inputs)) }),
    // verify: (ctx, p, inputs) => verify(ctx, { ...p, question: inputs.query, candidate: inputs.byName['candidate']!.answer }),
    // Keep each op within the call plan in plan.ts (calls and prompt growth), or update the plan with it.
  };
}

export const generateOperator: OperatorFn<'generate'> = async (context, params, inputs) => {
  const out = await generate(context, {
    step: 'call',
    messages: buildMessages(params, inputs.query, templateValues(inputs)),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    operator: 'generate',
    axis: 'base',
  });
  return { answer: out.answer, confidence: out.confidence, text: out.text, nodeId: out.nodeId, calls: 1, degraded: [], budgetExhausted: false, simulated: out.call.simulated, details: { model: out.call.model, finishReason: out.call.finishReason, replayed: out.call.replayed } };
};

/**
 * Interim width operator: N `generate` calls (≤ 8 in flight), then a vote over normalised answers in sample
 * order (ties go to the lowest index, so the result does not depend on completion order). A budget refusal
 * stops new samples and the vote runs over what finished; with no finished sample the refusal is rethrown so
 * the executor marks the node skipped.
 */
export const sampleOperator: OperatorFn<'sample'> = async (context, params, inputs) => {
  const messages = buildMessages(params, inputs.query, templateValues(inputs));
  const total = params.samples;
  const outcomes: Array<GenerateOutcome | undefined> = new Array<GenerateOutcome | undefined>(total);
  const counts = new Map<string, number>();
  let next = 0;
  let completed = 0;
  let stop = false;
  let refused: BudgetExhaustedError | undefined;
  let failure: unknown;
  const decided = (): boolean => {
    if (!params.adaptive) return false;
    const [first = 0, second = 0] = [...counts.values()].sort((a, b) => b - a);
    return first - second > total - completed;
  };
  const worker = async (): Promise<void> => {
    while (!stop && next < total && !context.signal?.aborted) {
      const index = next++;
      try {
        const out = await generate(context, {
          step: `s${index}`,
          messages,
          ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
          temperature: params.temperature ?? (total > 1 ? 0.7 : 0),
          operator: 'sample',
          axis: 'width',
        });
        outcomes[index] = out;
        completed++;
        if (out.normalized !== undefined) counts.set(out.normalized, (counts.get(out.normalized) ?? 0) + 1);
        if (decided()) stop = true;
      } catch (error) {
        if (error instanceof BudgetExhaustedError) {
          refused ??= error;
          stop = true;
        } else if (ThicketError.isInstance(error) && error.category === 'cancelled') throw error;
        else failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, total) }, worker));
  if (completed === 0) {
    if (context.signal?.aborted) throw new CancelledError();
    throw refused ?? failure ?? new BudgetExhaustedError({ budget: context.budget.path, dimension: 'calls', limit: 0, committed: 0, requested: 1 });
  }

  const weighted = params.aggregator === 'confidence-weighted';
  const weights = new Map<string, number>();
  const firstOf = new Map<string, GenerateOutcome>();
  let totalWeight = 0;
  for (const out of outcomes) {
    if (out?.normalized === undefined) continue;
    const weight = weighted ? (out.confidence ?? 0.5) : 1;
    weights.set(out.normalized, (weights.get(out.normalized) ?? 0) + weight);
    totalWeight += weight;
    if (!firstOf.has(out.normalized)) firstOf.set(out.normalized, out);
  }
  let winner: string | undefined;
  for (const [key, weight] of weights) if (winner === undefined || weight > weights.get(winner)!) winner = key;
  const chosen = winner === undefined ? undefined : firstOf.get(winner)!;
  const degraded: string[] = [];
  if (refused) degraded.push(`samples ${total} → ${completed} (budget)`);
  if (params.aggregator === 'verifier' || params.aggregator === 'usc') degraded.push(`aggregator "${params.aggregator}" is not available yet; used majority`);
  const nodeId = context.trace.addNode(context.stepId, 'answer', chosen?.text ?? '', winner);
  context.trace.derive(nodeId, outcomes.flatMap((out) => (out?.nodeId === undefined ? [] : [out.nodeId])));
  return {
    answer: chosen?.answer,
    confidence: winner === undefined || totalWeight === 0 ? undefined : weights.get(winner)! / totalWeight,
    text: chosen?.text ?? '',
    nodeId,
    calls: completed,
    degraded,
    budgetExhausted: refused !== undefined,
    simulated: outcomes.some((out) => out?.call.simulated),
    details: { samples: total, completed, votes: Object.fromEntries(weights), stoppedEarly: completed < total && !refused, aggregator: params.aggregator },
  };
};

/** Interim fan-in: picks one input's answer by majority (ties: first input), first answer, or best confidence. */
export const aggregateOperator: OperatorFn<'aggregate'> = async (context, params, inputs) => {
  const candidates = inputs.list.filter((input) => input.available && input.from !== 'query' && input.answer !== undefined);
  let chosen: NodeInput | undefined;
  let confidence: number | undefined;
  const votes: Record<string, number> = {};
  if (params.method === 'first') {
    chosen = candidates[0];
    confidence = chosen?.confidence;
  } else if (params.method === 'best-confidence') {
    for (const input of candidates) if (!chosen || (input.confidence ?? -1) > (chosen.confidence ?? -1)) chosen = input;
    confidence = chosen?.confidence;
  } else {
    const firstOf = new Map<string, NodeInput>();
    for (const input of candidates) {
      const key = normalizeAnswer(input.answer!);
      votes[key] = (votes[key] ?? 0) + 1;
      if (!firstOf.has(key)) firstOf.set(key, input);
    }
    let winner: string | undefined;
    for (const [key, count] of Object.entries(votes)) if (winner === undefined || count > votes[winner]!) winner = key;
    chosen = winner === undefined ? undefined : firstOf.get(winner);
    confidence = winner === undefined ? undefined : votes[winner]! / candidates.length;
  }
  const normalized = chosen?.answer === undefined ? undefined : normalizeAnswer(chosen.answer);
  const nodeId = context.trace.addNode(context.stepId, 'answer', chosen?.value ?? '', normalized);
  return {
    answer: chosen?.answer,
    confidence,
    text: chosen?.value ?? '',
    nodeId,
    calls: 0,
    degraded: [],
    budgetExhausted: false,
    simulated: false,
    details: { method: params.method, chosen: chosen?.from, candidates: candidates.length, ...(params.method === 'majority' ? { votes } : {}) },
  };
};
