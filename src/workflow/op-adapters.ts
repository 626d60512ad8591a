/**
 * Adapters from workflow nodes (spec params + wired inputs) to the compute operators in src/ops. Each adapter
 * passes the node's task as the operator expects it (messages, a question or a prompt) and maps the spec's
 * parameter names onto the operator's. Caps that bound cost (maxSteps, output caps) are always passed
 * explicitly, so an operator never runs past the call plan the estimator priced (plan.ts).
 */
import { BudgetExhaustedError, InvalidInputError, TimeoutError, hash32 } from '../core/index.ts';
import { KV_THREAD_DEFAULTS, LlamaProvider, runKvThread } from '../models/index.ts';
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
  if (!candidate?.available || candidate.answer === undefined) {
    throw new InvalidInputError('verify node', [
      { path: `nodes.${inputs.nodeId}.inputs.candidate`, message: 'needs an upstream answer to judge' },
    ]);
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
 * A thread on the embedded engine: the TIM tree is decoded in ONE llama.cpp sequence whose KV cache is pruned
 * for real (finished subtask lists erased), instead of resending pruned messages. It bypasses the fleet's
 * per-call path, so it books its tokens itself: it reserves the worst case of a full tree — output: every
 * string at its character bound in the costliest encoding (a JSON \u escape, six byte tokens per character);
 * input: a context of prompt and syntax plus, per erasure, at most a context of shifted KV cells (which the meter
 * counts as input; a 3×3×3 tree shifts ~9k) — or whatever less the node's budget slice has left, hands
 * exactly that to the thread as hard caps on its token meter, and settles what the meter counted, however
 * the thread ends. A thread the caps stop part-way is budget-exhausted (no answer); it never spends past
 * its reservation.
 */
async function kvThreadOp(
  context: Parameters<OperatorFn<'thread'>>[0],
  params: Parameters<OperatorFn<'thread'>>[1],
  inputs: Parameters<OperatorFn<'thread'>>[2],
  model: string,
  modelPath: string,
): Promise<OpResult> {
  const maxTasks = params.maxSteps ?? DEFAULT_THREAD_STEPS;
  const contextSize = 8192;
  const stringTokens = (chars: number): number => chars * 6 + 8;
  const wantedOutput =
    maxTasks * (stringTokens(KV_THREAD_DEFAULTS.maxThoughtChars) + stringTokens(KV_THREAD_DEFAULTS.maxConclusionChars) + 16) +
    stringTokens(KV_THREAD_DEFAULTS.maxAnswerChars);
  const wantedInput = contextSize * (maxTasks + 1);
  const room = context.budget.remaining();
  const inputTokens = Math.floor(Math.min(wantedInput, room.inputTokens, room.totalTokens));
  const outputTokens = Math.floor(Math.min(wantedOutput, room.outputTokens, room.totalTokens - inputTokens));
  const degraded: string[] = [];
  const skipped = (note: string): OpResult => {
    context.trace.event(context.stepId, 'degrade', { reason: `kv thread: ${note}` });
    return {
      answer: undefined,
      confidence: undefined,
      text: '',
      nodeId: undefined,
      calls: 0,
      degraded: [`thread ${note}`],
      budgetExhausted: true,
      simulated: false,
      details: {},
    };
  };
  // Less than a prompt's worth of input or a few strings' worth of output cannot finish even a one-task tree.
  if (inputTokens < 256 || outputTokens < 64) return skipped('skipped (budget)');
  let reservation;
  try {
    reservation = context.budget.reserve({ inputTokens, outputTokens, usd: 0, calls: 1 }, { model, operator: 'thread', axis: 'depth' });
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return skipped('skipped (budget)');
  }
  let metered: { inputTokens: number; outputTokens: number } | undefined;
  // Seconds are a deadline, as for fleet calls (whose timeouts it caps): the thread is aborted when it passes.
  const deadline = new AbortController();
  const remainingMs = context.budget.remainingMs();
  const cancelTimer = Number.isFinite(remainingMs)
    ? context.fleet.clock.setTimer(remainingMs, () =>
        deadline.abort(new TimeoutError("The run's time budget ran out during the embedded thread.")),
      )
    : undefined;
  const signal = context.signal ? AbortSignal.any([context.signal, deadline.signal]) : deadline.signal;
  try {
    const result = await runKvThread({
      model: modelPath,
      contextSize,
      question: question(params, inputs),
      maxTasks,
      limits: { inputTokens, outputTokens },
      // The run's --seed, per step: reproducible, and a different seed samples a different thread.
      seed: hash32(`${context.fleet.seed}:${context.stepId}`),
      onUsage: (usage) => (metered = usage),
      ...(params.maxDepth !== undefined ? { maxDepth: params.maxDepth } : {}),
      ...(params.buffer !== undefined ? { bufferSize: Math.max(1, params.buffer) } : {}),
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      signal,
    });
    reservation.settle({ inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, usd: 0, calls: 1 });
    const nodeId = context.trace.addNode(context.stepId, 'answer', result.text);
    return {
      answer: result.document.answer,
      confidence: undefined,
      text: result.text,
      nodeId,
      calls: 1,
      degraded,
      budgetExhausted: false,
      simulated: false,
      details: { engine: 'llama.cpp', kvPruning: true, metrics: result.metrics },
    };
  } catch (error) {
    // The engine ran: what it evaluated is spent, whatever stopped it (a cap, an abort, a malformed piece).
    // (A cast: TypeScript does not see the onUsage callback's assignment.)
    const spent = metered as { inputTokens: number; outputTokens: number } | undefined;
    const ran = spent !== undefined && spent.inputTokens + spent.outputTokens > 0;
    if (ran) reservation.settle({ ...spent, usd: 0, calls: 1 });
    else reservation.release();
    // The node's call count agrees with the ledger: 1 when the engine evaluated anything, else 0.
    if (error instanceof BudgetExhaustedError) return { ...skipped('stopped part-way: its token budget ran out'), calls: ran ? 1 : 0 };
    if (deadline.signal.aborted && !context.signal?.aborted)
      return {
        ...skipped(ran ? 'stopped part-way: its time budget ran out' : 'skipped (its time budget ran out before it started)'),
        calls: ran ? 1 : 0,
      };
    throw error;
  } finally {
    cancelTimer?.();
  }
}

const threadOp: OperatorFn<'thread'> = (context, params, inputs) => {
  const model = context.model;
  const { provider } = context.fleet.model(model);
  // The provider knows the file: `gguf:default` and config aliases are references, not paths.
  if (provider instanceof LlamaProvider) return kvThreadOp(context, params, inputs, model, provider.modelPath);
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
