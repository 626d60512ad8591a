/**
 * Adapters from workflow nodes (spec params + wired inputs) to the compute operators in src/ops. Each adapter
 * passes the node's task as the operator expects it (messages, a question or a prompt) and maps the spec's
 * parameter names onto the operator's. Caps that bound cost (maxSteps, output caps) are always passed
 * explicitly, so an operator never runs past the call plan the estimator priced (plan.ts).
 */
import { BudgetExhaustedError, InvalidInputError, TimeoutError, costOf, extractAnswer, hash32, type Usage } from '../core/index.ts';
import type { KvThreadCapability } from '../models/index.ts';
import {
  cascade,
  debate,
  refine,
  sample,
  search,
  solo,
  thread,
  verify,
  type CascadeSignal,
  type OpResult,
  type Retriever,
} from '../ops/index.ts';
import { templateValues, type OperatorFn, type OperatorRegistry } from './operator-types.ts';
import { DEFAULT_THREAD_STEPS } from './plan.ts';
import { DEFAULT_PROMPT_TEMPLATE, buildMessages, renderTemplate } from './template.ts';

export interface OperatorEnvironment {
  /** The corpus the `search` operator retrieves from; without one, specs using `search` are rejected. */
  retriever?: Retriever;
}

const question = (params: { prompt?: string | undefined }, inputs: Parameters<OperatorFn<'generate'>>[2]): string =>
  renderTemplate(params.prompt ?? DEFAULT_PROMPT_TEMPLATE, inputs.query, templateValues(inputs));

const sampleOp: OperatorFn<'sample'> = (context, params, inputs) =>
  sample(context, {
    samples: params.samples,
    messages: buildMessages(params, inputs.query, templateValues(inputs)),
    aggregator: params.aggregator,
    ...(params.adaptive !== undefined ? { adaptive: params.adaptive } : {}),
    ...(params.verifierModel !== undefined ? { verifierModel: params.verifierModel } : {}),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });

const verifyOp: OperatorFn<'verify'> = async (context, params, inputs) => {
  const candidate = inputs.byName['candidate'];
  // Validation guarantees the wiring; an upstream node that failed or answered nothing leaves nothing to judge.
  // That is the run's outcome (no answer), not bad input: the node answers nothing too and says why.
  if (candidate === undefined) {
    throw new InvalidInputError('verify node', [
      { path: `nodes.${inputs.nodeId}.inputs.candidate`, message: 'needs an upstream answer to judge' },
    ]);
  }
  if (!candidate.available || candidate.answer === undefined) {
    const reason = `verify: nothing to judge (${candidate.from} gave no answer)`;
    context.trace.event(context.stepId, 'degrade', { operator: 'verify', reason: 'no-candidate', from: candidate.from });
    return {
      answer: undefined,
      confidence: undefined,
      text: '',
      nodeId: undefined,
      calls: 0,
      degraded: [reason],
      budgetExhausted: false,
      simulated: false,
      details: { verdict: null, judged: false, candidate: null, from: candidate.from },
    } satisfies OpResult;
  }
  const verdict = await verify(context, {
    question: question(params, { ...inputs, list: inputs.list.filter((input) => input.name !== 'candidate') }),
    candidate: candidate.answer,
    ...(params.verifierModel !== undefined ? { model: params.verifierModel } : {}),
    ...(candidate.graphNode !== undefined ? { candidateNode: candidate.graphNode } : {}),
  });
  return {
    answer: verdict.verdict ? candidate.answer : undefined,
    confidence: verdict.score,
    text: verdict.call?.text ?? '',
    nodeId: verdict.nodeId,
    calls: verdict.calls,
    degraded: verdict.degraded,
    budgetExhausted: verdict.budgetExhausted,
    simulated: verdict.simulated,
    details: { verdict: verdict.verdict, score: verdict.score, judged: verdict.judged, candidate: candidate.answer },
  } satisfies OpResult;
};

const refineOp: OperatorFn<'refine'> = (context, params, inputs) =>
  refine(context, {
    prompt: question(params, inputs),
    rounds: params.rounds,
    ...(params.system !== undefined ? { system: params.system } : {}),
    ...(params.verifierModel !== undefined ? { verifierModel: params.verifierModel } : {}),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });

/**
 * A thread on a provider that prunes its KV cache for real (`provider.kvThread`, the embedded engine: the TIM
 * tree is decoded in ONE sequence and finished subtask lists are erased) instead of resending pruned messages.
 * It bypasses the fleet's per-call path, so it books its tokens itself: it reserves the provider's worst case
 * of a full tree, or — when the node's budget slice has less room — the same mix of input and output scaled
 * down to what the slice has left (tokens and dollars, at the model profile's prices), hands exactly that to
 * the thread as hard caps on its token meter, and settles what the meter counted, however the thread ends.
 * A thread the caps stop part-way is budget-exhausted and answers from its last conclusion (as the chat
 * thread answers from its partial tree); it never spends past its reservation.
 */
async function kvThreadOp(
  context: Parameters<OperatorFn<'thread'>>[0],
  params: Parameters<OperatorFn<'thread'>>[1],
  inputs: Parameters<OperatorFn<'thread'>>[2],
  model: string,
  kv: KvThreadCapability,
): Promise<OpResult> {
  const maxTasks = params.maxSteps ?? DEFAULT_THREAD_STEPS;
  const { profile } = context.fleet.model(model);
  const pricing = { inputPerMillion: profile.priceInputPerMillion, outputPerMillion: profile.priceOutputPerMillion };
  const wanted = await kv.worstCase(maxTasks);
  const room = context.budget.remaining();
  // One scale for both directions, so a smaller slice keeps the worst case's mix of input and output.
  const wantedUsd = costOf(wanted, pricing);
  const scale = Math.min(
    1,
    room.totalTokens / Math.max(1, wanted.inputTokens + wanted.outputTokens),
    wantedUsd > 0 ? room.usd / wantedUsd : 1,
  );
  const inputTokens = Math.max(0, Math.floor(Math.min(wanted.inputTokens * scale, room.inputTokens)));
  const outputTokens = Math.max(0, Math.floor(Math.min(wanted.outputTokens * scale, room.outputTokens, room.totalTokens - inputTokens)));
  const degraded: string[] = [];
  const note = (reason: string): void => {
    context.trace.event(context.stepId, 'degrade', { reason: `kv thread: ${reason}` });
    degraded.push(`thread ${reason}`);
  };
  const skipped = (reason: string): OpResult => {
    note(reason);
    return {
      answer: undefined,
      confidence: undefined,
      text: '',
      nodeId: undefined,
      calls: 0,
      degraded,
      budgetExhausted: true,
      simulated: false,
      details: {},
    };
  };
  // Less than a prompt's worth of input or a few strings' worth of output cannot finish even one task.
  if (inputTokens < 256 || outputTokens < 64) return skipped('skipped (budget)');
  const reserved = { inputTokens, outputTokens };
  let reservation;
  try {
    reservation = context.budget.reserve(
      { ...reserved, usd: costOf(reserved, pricing), calls: 1 },
      { model, operator: 'thread', axis: 'depth' },
    );
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return skipped('skipped (budget)');
  }
  if (inputTokens < wanted.inputTokens || outputTokens < wanted.outputTokens)
    context.trace.event(context.stepId, 'note', {
      what: `kv thread capped at ${inputTokens} input / ${outputTokens} output tokens (its worst case: ${wanted.inputTokens} / ${wanted.outputTokens})`,
    });
  let metered: Usage | undefined;
  const conclusions: Array<{ conclusion: string; depth: number }> = [];
  // Seconds are a deadline, as for fleet calls (whose timeouts it caps): the thread is aborted when it passes.
  const deadline = new AbortController();
  const remainingMs = context.budget.remainingMs();
  const cancelTimer = Number.isFinite(remainingMs)
    ? context.fleet.clock.setTimer(remainingMs, () =>
        deadline.abort(new TimeoutError("The run's time budget ran out during the embedded thread.")),
      )
    : undefined;
  const signal = context.signal ? AbortSignal.any([context.signal, deadline.signal]) : deadline.signal;
  const settle = (usage: Usage): void => {
    reservation.settle({ ...usage, usd: costOf(usage, pricing), calls: 1 });
  };
  try {
    const result = await kv.run({
      question: question(params, inputs),
      maxTasks,
      limits: reserved,
      // The run's --seed, per step: reproducible, and a different seed samples a different thread.
      seed: hash32(`${context.fleet.seed}:${context.stepId}`),
      onUsage: (usage) => (metered = usage),
      onConclusion: (conclusion, depth) => conclusions.push({ conclusion, depth }),
      ...(params.maxDepth !== undefined ? { maxDepth: params.maxDepth } : {}),
      ...(params.buffer !== undefined ? { bufferSize: Math.max(1, params.buffer) } : {}),
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      abortSignal: signal,
    });
    settle(result.usage);
    const nodeId = context.trace.addNode(context.stepId, 'answer', result.text);
    return {
      answer: result.answer,
      confidence: undefined,
      text: result.text,
      nodeId,
      calls: 1,
      degraded,
      budgetExhausted: false,
      simulated: false,
      details: { ...result.details, kvPruning: true, reserved },
    };
  } catch (error) {
    // The engine ran: what it evaluated is spent, whatever stopped it (a cap, an abort, a malformed piece).
    // (A cast: TypeScript does not see the onUsage callback's assignment.)
    const spent = metered;
    const ran = spent !== undefined && spent.inputTokens + spent.outputTokens > 0;
    if (ran) settle(spent);
    else reservation.release();
    // The node's call count agrees with the ledger: 1 when the engine evaluated anything, else 0.
    const calls = ran ? 1 : 0;
    const timedOut = deadline.signal.aborted && !context.signal?.aborted;
    if (!(error instanceof BudgetExhaustedError) && !timedOut) throw error;
    if (!ran)
      return {
        ...skipped(
          timedOut ? 'skipped (its time budget ran out before it started)' : 'skipped (budget: its caps stopped it before it started)',
        ),
        calls,
      };
    note(`stopped part-way: its ${timedOut ? 'time' : 'token'} budget ran out; answer from the last conclusion`);
    // The best partial answer: the last top-level conclusion, else the last conclusion at any depth.
    const last = [...conclusions].reverse().find((entry) => entry.depth === 1) ?? conclusions.at(-1);
    // A conclusion is free text, like the document's answer: its stated answer, else the conclusion itself.
    const answer = last === undefined ? undefined : (extractAnswer(last.conclusion) ?? (last.conclusion.trim() || undefined));
    const nodeId = last === undefined ? undefined : context.trace.addNode(context.stepId, 'answer', last.conclusion);
    return {
      answer,
      confidence: undefined,
      text: last?.conclusion ?? '',
      nodeId,
      calls,
      degraded,
      budgetExhausted: true,
      simulated: false,
      details: { kvPruning: true, reserved, stopReason: timedOut ? 'time' : 'budget', conclusions: conclusions.length, usage: spent },
    };
  } finally {
    cancelTimer?.();
  }
}

const threadOp: OperatorFn<'thread'> = (context, params, inputs) => {
  const model = context.model;
  // A provider that prunes its KV cache for real (the embedded engine) runs the thread in one sequence.
  const { kvThread } = context.fleet.model(model).provider;
  if (kvThread) return kvThreadOp(context, params, inputs, model, kvThread);
  return thread(context, {
    question: question(params, inputs),
    maxSteps: params.maxSteps ?? DEFAULT_THREAD_STEPS,
    ...(params.maxDepth !== undefined ? { maxDepth: params.maxDepth } : {}),
    ...(params.buffer !== undefined ? { bufferSize: Math.max(1, params.buffer) } : {}),
    ...(params.maxOutputTokens !== undefined ? { maxStepTokens: params.maxOutputTokens, maxAnswerTokens: params.maxOutputTokens } : {}),
    calculator: params.tools === undefined || params.tools.includes('calculator'),
    ...(params.system !== undefined ? { system: params.system } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });
};

const debateOp: OperatorFn<'debate'> = (context, params, inputs) =>
  debate(context, {
    question: question(params, inputs),
    agents: params.agents,
    rounds: params.rounds,
    topology: params.topology,
    ...(params.mode !== undefined ? { mode: params.mode } : {}),
    ...(params.system !== undefined ? { system: params.system } : {}),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });

const soloOp: OperatorFn<'solo'> = (context, params, inputs) =>
  solo(context, {
    question: question(params, inputs),
    ...(params.personas !== undefined ? { personas: params.personas } : {}),
    ...(params.system !== undefined ? { system: params.system } : {}),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });

const SIGNALS: Record<'confidence' | 'agreement' | 'verifier', CascadeSignal> = {
  confidence: 'self',
  agreement: 'agreement',
  verifier: 'verifier',
};

const cascadeOp: OperatorFn<'cascade'> = (context, params, inputs) =>
  cascade(context, {
    messages: buildMessages(params, inputs.query, templateValues(inputs)),
    stages: params.stages.map((stage) => ({
      model: stage.model,
      threshold: stage.threshold,
      signal: SIGNALS[stage.signal],
      ...(stage.samples !== undefined ? { samples: stage.samples } : {}),
    })),
    ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
  });

function searchOp(retriever: Retriever): OperatorFn<'search'> {
  return (context, params, inputs) =>
    search(context, {
      question: question(params, inputs),
      retriever,
      maxSteps: params.maxSteps,
      k: params.k,
      ...(params.maxOutputTokens !== undefined ? { maxOutputTokens: params.maxOutputTokens } : {}),
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    });
}

/** The operators from src/ops, as workflow operators. `search` is present only when a retriever is given. */
export function computeOperators(environment: OperatorEnvironment = {}): OperatorRegistry {
  return {
    sample: sampleOp,
    verify: verifyOp,
    refine: refineOp,
    thread: threadOp,
    debate: debateOp,
    solo: soloOp,
    cascade: cascadeOp,
    ...(environment.retriever ? { search: searchOp(environment.retriever) } : {}),
  };
}
