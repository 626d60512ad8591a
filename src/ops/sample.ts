/**
 * Width: N independent samples of one prompt, aggregated into one answer (majority, confidence-weighted vote,
 * verifier best-of-N, universal self-consistency — see aggregate.ts), optionally with adaptive width.
 *
 * Budget behaviour: the operator plans with the fleet's worst case per call (`fleet.worstCase`) against its
 * slice's headroom and samples in waves. Each wave is only as wide as the budget can still cover — keeping
 * back the worst case of the aggregation calls still to come — and is re-planned after the previous wave
 * settled, so what earlier waves did not need (actual use is usually far below the worst case) buys later
 * samples. When the plan does not fit, it degrades instead of failing: fewer samples, then a shorter output
 * cap, then a cheaper aggregator; each degradation is listed in `degraded` and traced as a 'degrade' event.
 *
 * Adaptive width stops as soon as the leading answer can no longer be overtaken by the samples left (and,
 * optionally, once its share reaches an agreement threshold after a minimum number of samples).
 *
 * The budget planning it uses (worst-case call costs, what fits in the headroom, the output cap, degradation
 * records) lives in budget-plan.ts, shared with the depth and cascade operators; it is re-exported here for the
 * import paths that already use it.
 */
import { BudgetExhaustedError, InvalidInputError, ThicketError, toThicketError } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import { aggregate, ballots, type AggregatorKind, type Candidate } from './aggregate.ts';
import {
  NO_COST,
  addCosts,
  affordableUnits,
  callCost,
  fitOutputCap,
  inputCost,
  noteDegrade,
  timesCost,
  type CallCost,
} from './budget-plan.ts';
import type { OpContext, OpResult } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate } from './generate.ts';
import { verifyMessages, type Checker } from './verify.ts';

export {
  MIN_USEFUL_OUTPUT_TOKENS,
  NO_COST,
  addCosts,
  affordableUnits,
  callCost,
  fitOutputCap,
  inputCost,
  limitsLeavingAside,
  noteDegrade,
  timesCost,
  type CallCost,
} from './budget-plan.ts';

export interface AdaptiveWidth {
  /** With `agreement`: samples to draw before the agreement rule may stop (default 3). */
  minSamples?: number;
  /** Stop once the leading answer's share of answered samples reaches this (after `minSamples`). */
  agreement?: number;
}

export interface SampleOperatorOptions {
  samples: number;
  prompt?: string;
  system?: string;
  /** Full conversation; overrides prompt/system. */
  messages?: ChatMessage[];
  model?: string;
  maxOutputTokens?: number;
  /** Default 0.7 for several samples, 0 for one. */
  temperature?: number;
  reasoningEffort?: string;
  aggregator?: AggregatorKind;
  adaptive?: boolean | AdaptiveWidth;
  /** Judge for the `verifier` aggregator (default: the sampling model); ignored when `checker` is given. */
  verifierModel?: string;
  checker?: Checker;
  /** Model for the `usc` aggregator (default: the sampling model). */
  uscModel?: string;
  /**
   * When most samples carry no short answer, vote over the replies themselves (aggregate.ts, freetext.ts; may
   * make one USC call). Default true; false keeps short answers only (the governor's probe, which only
   * measures agreement).
   */
  freeText?: boolean;
  /** Samples in flight at once (default 8; the fleet's per-model limit applies too). */
  concurrency?: number;
  /** Cost the caller will spend after sampling (e.g. a cascade's verifier call): kept out of the plan. */
  reserve?: CallCost;
  derivedFrom?: string[];
  /** Spend labels (default operator `sample`, axis `width`). */
  operator?: string;
  axis?: string;
  agent?: string;
}

export type SampleDetails = {
  aggregator: AggregatorKind;
  model: string;
  requested: number;
  /** Sample calls that returned (answered or not). */
  completed: number;
  answered: number;
  failed: number;
  refusedByBudget: number;
  waves: number;
  stoppedEarly: boolean;
  /** Requested samples not drawn because adaptive width had already decided. */
  samplesSaved: number;
  maxOutputTokens: number;
  votes: Record<string, number>;
  /** Share of answered samples that agree with the result. */
  agreement: number;
  samples: Array<{ index: number; answer: string | undefined; confidence: number | undefined }>;
  aggregation: Record<string, unknown>;
  /** Set when the samples were free text (no short answer in most): how the chosen reply was picked. */
  freeText?: string;
  /** The reply the answer came from and the extractor that read it (null for a free-text reply). */
  extraction?: { extractor: string | null; text: string; via?: string };
};

export interface SampleResult extends OpResult {
  details: SampleDetails;
}

/** Allowance for a short final answer quoted in a prompt. */
const ANSWER_TOKENS = 32;
/** "Response k:" and blank lines around each listed response in the USC prompt. */
const RESPONSE_HEADER_TOKENS = 8;
/** The USC instructions around the listed responses. */
const USC_FRAME_TOKENS = 96;

export async function sample(context: OpContext, options: SampleOperatorOptions): Promise<SampleResult> {
  if (!Number.isInteger(options.samples) || options.samples < 1)
    throw new InvalidInputError('Invalid sample options', [
      { path: 'samples', message: `must be a positive integer, got ${String(options.samples)}` },
    ]);
  const model = options.model ?? context.model;
  const messages = options.messages ?? [
    ...(options.system ? [{ role: 'system' as const, content: options.system }] : []),
    { role: 'user' as const, content: options.prompt ?? '' },
  ];
  const question = options.prompt ?? [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const kind = options.aggregator ?? 'majority';
  const operator = options.operator ?? 'sample';
  const axis = options.axis ?? 'width';
  const requested = options.samples;
  const requestedCap = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const adaptive =
    options.adaptive === undefined || options.adaptive === false ? undefined : options.adaptive === true ? {} : options.adaptive;
  const degraded: string[] = [];
  context.trace.event(context.stepId, 'op-start', {
    operator,
    model,
    samples: requested,
    aggregator: kind,
    adaptive: adaptive !== undefined,
  });

  // What aggregation will cost later, per sample and once, so sampling does not eat the aggregator's share.
  let aggregationUnit = NO_COST;
  let aggregationFixed = options.reserve ?? NO_COST;
  if (kind === 'verifier' && !options.checker) {
    aggregationUnit = callCost(
      context,
      options.verifierModel ?? model,
      verifyMessages(question, ''),
      DEFAULT_MAX_OUTPUT_TOKENS,
      ANSWER_TOKENS,
    );
  } else if (kind === 'usc') {
    const uscModel = options.uscModel ?? model;
    aggregationUnit = inputCost(context, uscModel, requestedCap + RESPONSE_HEADER_TOKENS);
    aggregationFixed = addCosts(aggregationFixed, callCost(context, uscModel, messages, requestedCap, USC_FRAME_TOKENS));
  }
  let cap = requestedCap;
  if (affordableUnits(context.budget, addCosts(callCost(context, model, messages, cap), aggregationUnit), aggregationFixed) === 0) {
    // Not even one sample with its aggregation fits: drop the aggregation reserve (it degrades to majority later), then shorten the output cap.
    aggregationUnit = NO_COST;
    aggregationFixed = options.reserve ?? NO_COST;
    cap = fitOutputCap(context, model, messages, cap, aggregationFixed);
    if (cap !== requestedCap && cap > 0) noteDegrade(context, degraded, `maxOutputTokens ${requestedCap} → ${cap} (budget)`);
  }
  const unit = cap > 0 ? addCosts(callCost(context, model, messages, cap), aggregationUnit) : undefined;

  const candidates: Candidate[] = [];
  const failures: ThicketError[] = [];
  let done = 0;
  let waves = 0;
  let refused = 0;
  let stoppedEarly = false;
  let budgetExhausted = cap === 0;
  let simulated = false;
  const temperature = options.temperature ?? (requested > 1 ? 0.7 : 0);
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let nextIndex = 0;

  while (unit && done < requested && !budgetExhausted) {
    let want = requested - done;
    if (adaptive) {
      const list = ballots(candidates);
      const lead = list[0]?.votes ?? 0;
      const second = list[1]?.votes ?? 0;
      const answered = list.reduce((sum, ballot) => sum + ballot.votes, 0);
      const minSamples = adaptive.minSamples ?? 3;
      // Each remaining sample can add at most one vote to the runner-up.
      const decided = lead > second + want;
      const agreed = adaptive.agreement !== undefined && done >= minSamples && answered > 0 && lead / answered >= adaptive.agreement;
      if (done > 0 && (decided || agreed)) {
        stoppedEarly = true;
        break;
      }
      // Smallest wave after which the leader could be safe (if it took every sample of the wave).
      const clinch = Math.min(want, Math.floor((second + want - lead) / 2) + 1);
      want = adaptive.agreement !== undefined && done < minSamples ? Math.min(clinch, minSamples - done) : clinch;
    }
    const fit = affordableUnits(context.budget, unit, addCosts(aggregationFixed, timesCost(aggregationUnit, done)));
    const width = Math.min(want, fit);
    if (width === 0) {
      budgetExhausted = true;
      break;
    }
    waves++;
    const indexes = Array.from({ length: width }, () => nextIndex++);
    let cursor = 0;
    const worker = async (): Promise<void> => {
      while (cursor < indexes.length && refused === 0) {
        const index = indexes[cursor++] as number;
        try {
          const outcome = await generate(context, {
            step: `sample-${index}`,
            model,
            messages,
            maxOutputTokens: cap,
            temperature,
            purpose: 'answer',
            operator,
            axis,
            ...(options.agent !== undefined ? { agent: options.agent } : {}),
            ...(options.reasoningEffort !== undefined ? { reasoningEffort: options.reasoningEffort } : {}),
            ...(options.derivedFrom ? { derivedFrom: options.derivedFrom } : {}),
          });
          simulated ||= outcome.call.simulated;
          candidates.push({
            index,
            answer: outcome.answer,
            normalized: outcome.normalized,
            confidence: outcome.confidence,
            text: outcome.text,
            nodeId: outcome.nodeId,
            extractor: outcome.extractor,
            truncated: outcome.call.finishReason === 'length',
          });
          done++;
        } catch (error) {
          if (error instanceof BudgetExhaustedError) {
            refused++;
            continue;
          }
          const typed = toThicketError(error);
          if (typed.category === 'cancelled') throw typed;
          failures.push(typed);
          done++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, width) }, worker));
    if (refused > 0) budgetExhausted = true;
  }
  candidates.sort((a, b) => a.index - b.index);
  const drawn = candidates.length + failures.length;
  if (drawn < requested && !stoppedEarly) noteDegrade(context, degraded, `samples ${requested} → ${drawn} (budget)`);
  // Every sample failed for a non-budget reason: that is an error to report, not a degradation.
  if (candidates.length === 0 && failures.length > 0) throw failures[0]!;

  const aggregated = await aggregate(context, candidates, {
    kind,
    question,
    maxOutputTokens: cap || requestedCap,
    operator,
    axis,
    ...(options.verifierModel !== undefined ? { verifierModel: options.verifierModel } : {}),
    ...(options.checker ? { checker: options.checker } : {}),
    ...(options.uscModel !== undefined ? { uscModel: options.uscModel } : {}),
    ...(options.freeText === false ? { freeText: false } : {}),
  });
  for (const reason of aggregated.degraded) noteDegrade(context, degraded, reason);
  const { decision, freeText } = aggregated;
  // Free text: the chosen reply is the answer; the short answers some samples had are not votes.
  const list = freeText ? [] : ballots(candidates);
  const answered = list.reduce((sum, ballot) => sum + ballot.votes, 0);
  const winner = list.find((ballot) => ballot.normalized === decision.normalized);
  const source = freeText
    ? candidates.find((candidate) => candidate.index === freeText.index)
    : candidates.find((candidate) => candidate.normalized === decision.normalized);
  let nodeId: string | undefined;
  if (decision.normalized !== undefined) {
    nodeId = context.trace.addNode(context.stepId, 'conclusion', `${kind}: ${decision.answer ?? ''}`, decision.normalized);
    context.trace.derive(
      nodeId,
      candidates.flatMap((candidate) =>
        (freeText || candidate.normalized !== undefined) && candidate.nodeId !== undefined ? [candidate.nodeId] : [],
      ),
    );
  }
  const calls = candidates.length + aggregated.calls;
  const samplesSaved = stoppedEarly ? requested - drawn : 0;
  context.trace.event(context.stepId, 'op-end', {
    operator,
    answer: decision.normalized ?? null,
    calls,
    samples: drawn,
    samplesSaved,
    degraded: degraded.length,
  });
  return {
    answer: decision.answer,
    confidence: decision.confidence,
    text: source?.text ?? '',
    nodeId,
    calls,
    degraded,
    budgetExhausted: budgetExhausted || aggregated.budgetExhausted,
    simulated: simulated || aggregated.simulated,
    details: {
      aggregator: kind,
      model,
      requested,
      completed: candidates.length,
      answered,
      failed: failures.length,
      refusedByBudget: refused,
      waves,
      stoppedEarly,
      samplesSaved,
      maxOutputTokens: cap,
      votes: Object.fromEntries(list.map((ballot) => [ballot.normalized, ballot.votes])),
      agreement: freeText ? (decision.confidence ?? 0) : winner && answered > 0 ? winner.votes / answered : 0,
      ...(freeText ? { freeText: freeText.via } : {}),
      ...(source
        ? {
            extraction: {
              extractor: freeText ? null : (source.extractor ?? null),
              text: source.text,
              ...(freeText ? { via: freeText.via } : {}),
            },
          }
        : {}),
      samples: candidates.map((candidate) => ({ index: candidate.index, answer: candidate.answer, confidence: candidate.confidence })),
      aggregation: aggregated.details,
    },
  };
}
