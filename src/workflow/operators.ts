/**
 * The operator registry: how a workflow node's `op` becomes a call. An operator gets its OpContext (fleet,
 * its own budget slice, trace, step id, model), the node's typed params (with `maxOutputTokens` resolved) and
 * its wired inputs, and returns an OpResult. The executor never knows what an operator does.
 *
 * `defaultOperators()` wires `generate` and the pure fan-in `aggregate` (here) and every operator of src/ops
 * through op-adapters.ts; a spec that uses an op the registry lacks (e.g. `search` without a corpus) is
 * rejected at validation time ("operator X is not available").
 */
import { normalizeAnswer } from '../core/index.ts';
import { answerCall, answerOrText, type AnswerExtraction } from '../ops/index.ts';
import { buildMessages } from './template.ts';
import { computeOperators, type OperatorEnvironment } from './op-adapters.ts';
import { templateValues, type NodeInput, type OperatorFn, type OperatorRegistry } from './operator-types.ts';

export { templateValues, type NodeInput, type NodeInputs, type OperatorFn, type OperatorRegistry } from './operator-types.ts';

/**
 * Every operator: `generate` and the pure fan-in `aggregate` from this file, the rest from src/ops through
 * their adapters. `search` needs a corpus (`environment.retriever`); without one, specs using it are
 * rejected at validation ("operator search is not available").
 */
export function defaultOperators(environment: OperatorEnvironment = {}): OperatorRegistry {
  return { generate: generateOperator, aggregate: aggregateOperator, ...computeOperators(environment) };
}

/**
 * One call. Its answer is the reply's short answer (core/answer.ts, or the JSON `answer` when the model does
 * structured output), else the reply's text itself: a free-text reply is an answer, not an error. What was
 * matched (or that nothing was) and the raw reply go in `details.extraction`.
 */
export const generateOperator: OperatorFn<'generate'> = async (context, params, inputs) => {
  const out = await answerCall(context, {
    step: 'call',
    messages: buildMessages(params, inputs.query, templateValues(inputs)),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    operator: 'generate',
    axis: 'base',
  });
  const extraction: AnswerExtraction = {
    extractor: out.extractor ?? null,
    text: out.text,
    ...(out.structured !== 'off' ? { structured: out.structured } : {}),
    ...(out.finishReason === 'length' ? { truncated: true } : {}),
  };
  return {
    answer: answerOrText(out),
    confidence: out.confidence,
    text: out.text,
    nodeId: out.nodeId,
    calls: out.calls,
    degraded: [],
    budgetExhausted: false,
    simulated: out.simulated,
    details: {
      model: out.model,
      finishReason: out.finishReason ?? null,
      replayed: out.replayed,
      extraction,
      ...(out.structuredError ? { structuredError: out.structuredError } : {}),
    },
  };
};

/** Fan-in: picks one input's answer by majority (ties: first input), first answer, or best confidence. */
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
    details: {
      method: params.method,
      chosen: chosen?.from,
      candidates: candidates.length,
      ...(params.method === 'majority' ? { votes } : {}),
    },
  };
};
