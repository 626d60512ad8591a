/**
 * The cascade router: mostly small, larger tiers only when the confidence signal says the cheaper answer is
 * not good enough. Stages come from the policy (fitted thresholds), models from the capability binder.
 *
 * Reuse: when the probe ran on the first stage's model, its samples ARE the first stage (topped up if the
 * stage wants more), so a query the probe already settled costs nothing more here.
 *
 * Budget: like `ops/cascade`, while a cheaper stage runs, one worst-case call of the last stage is kept out
 * of its child budget (when the budget can hold both), so a low-confidence answer can still be escalated. An
 * escalation the budget cannot cover is skipped (noted in `degraded`) and the best answer so far is returned.
 * Every call goes through child budgets of the context's budget: the router cannot spend past it.
 */
import { normalizeAnswer } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import {
  DEFAULT_MAX_OUTPUT_TOKENS,
  NO_COST,
  addCosts,
  affordableUnits,
  callCost,
  childContext,
  fitOutputCap,
  limitsLeavingAside,
  noteDegrade,
  sample,
  verify,
  verifyMessages,
  type CallCost,
  type Candidate,
  type Checker,
  type OpContext,
} from '../ops/index.ts';
import type { Tier } from '../workflow/index.ts';
import { VOTE_TEMPERATURE, summarise, type ProbeResult } from './probe.ts';
import type { ConfidenceSignal } from './policy.ts';

export interface RouterStage {
  model: string;
  tier: Tier;
  samples: number;
  signal: ConfidenceSignal;
  threshold: number;
}

export interface RouterOptions {
  messages: ChatMessage[];
  question: string;
  stages: RouterStage[];
  probe?: ProbeResult;
  /** Never accept the first stage: escalate at least once (when the caller already knows it is not enough). */
  escalate?: boolean;
  maxOutputTokens?: number;
  /** Judge for the `verifier` signal (default: the stage's model). */
  verifierModel?: string;
  checker?: Checker;
}

export interface Escalation {
  from: string;
  to: string;
  signal: ConfidenceSignal;
  value: number | undefined;
  threshold: number;
}

export interface RouterStageReport {
  model: string;
  tier: Tier;
  samples: number;
  reusedProbeSamples: number;
  answer: string | undefined;
  signals: Partial<Record<ConfidenceSignal, number>>;
  accepted: boolean;
}

export interface RouterResult {
  answer: string | undefined;
  confidence: number | undefined;
  answeredBy: number | undefined;
  stages: RouterStageReport[];
  escalations: Escalation[];
  reusedProbeSamples: number;
  calls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
}

export async function routeCascade(context: OpContext, options: RouterOptions): Promise<RouterResult> {
  const stages = options.stages;
  if (stages.length === 0) throw new RangeError('routeCascade needs at least one stage');
  const cap = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const last = stages.length - 1;
  const finalReserve = callCost(context, stages[last]!.model, options.messages, cap);
  const reports: RouterStageReport[] = [];
  const escalations: Escalation[] = [];
  const degraded: string[] = [];
  let calls = 0;
  let reused = 0;
  let simulated = options.probe?.simulated ?? false;
  let budgetExhausted = false;
  let answeredBy: number | undefined;

  for (let index = 0; index <= last; index++) {
    const stage = stages[index]!;
    const fromProbe = index === 0 && options.probe !== undefined && options.probe.model === stage.model ? options.probe.candidates : [];
    // A vetoed first stage is not topped up: its answer cannot be accepted, so more samples of it buy nothing.
    const vetoed = index === 0 && index < last && options.escalate === true;
    const missing = vetoed ? 0 : Math.max(0, stage.samples - fromProbe.length);
    if (index > 0 && fitOutputCap(context, stage.model, options.messages, cap) === 0) {
      noteDegrade(context, degraded, `escalation to ${stage.model} skipped (budget)`);
      budgetExhausted = true;
      break;
    }
    let candidates: Candidate[] = [...fromProbe];
    reused += fromProbe.length;
    if (missing > 0) {
      const judged = index < last && stage.signal === 'verifier' && !options.checker;
      const judgeCost: CallCost = judged
        ? callCost(context, options.verifierModel ?? stage.model, verifyMessages(options.question, ''), DEFAULT_MAX_OUTPUT_TOKENS, 32)
        : NO_COST;
      const reserve =
        index < last &&
        affordableUnits(context.budget, callCost(context, stage.model, options.messages, cap), addCosts(finalReserve, judgeCost)) >= 1;
      const stageBudget = context.budget.child(
        `stage-${index}`,
        reserve ? { limits: limitsLeavingAside(context.budget, finalReserve) } : {},
      );
      const result = await sample(childContext(context, `stage-${index}`, { budget: stageBudget, model: stage.model }), {
        samples: missing,
        messages: options.messages,
        model: stage.model,
        maxOutputTokens: cap,
        temperature: VOTE_TEMPERATURE,
        aggregator: 'majority',
        operator: 'router',
        axis: 'cascade',
        reserve: judgeCost,
      });
      calls += result.calls;
      simulated ||= result.simulated;
      budgetExhausted ||= result.budgetExhausted;
      for (const reason of result.degraded) noteDegrade(context, degraded, `stage ${index} (${stage.model}): ${reason}`);
      // Offset the new samples' indexes past the probe's, so ties still go to the earliest sample.
      candidates = [
        ...candidates,
        ...result.details.samples.map((entry) => toCandidate(fromProbe.length + entry.index, entry.answer, entry.confidence)),
      ];
    }
    const summary = summarise(candidates);
    const signals: Partial<Record<ConfidenceSignal, number>> = {};
    if (summary.answered > 0) {
      signals.agreement = summary.agreement;
      if (summary.confidence !== undefined) signals.confidence = summary.confidence;
    }
    if (index < last && stage.signal === 'verifier' && summary.answer !== undefined) {
      const verdict = await verify(childContext(context, `stage-${index}`), {
        question: options.question,
        candidate: summary.answer,
        model: options.verifierModel ?? stage.model,
        ...(options.checker ? { checker: options.checker } : {}),
        operator: 'router',
        axis: 'cascade',
      });
      calls += verdict.calls;
      simulated ||= verdict.simulated;
      budgetExhausted ||= verdict.budgetExhausted;
      if (verdict.judged) signals.verifier = verdict.score;
    }
    const value = signals[stage.signal];
    const accepted = summary.answer !== undefined && (index === last || (!vetoed && value !== undefined && value >= stage.threshold));
    reports.push({
      model: stage.model,
      tier: stage.tier,
      samples: candidates.length,
      reusedProbeSamples: fromProbe.length,
      answer: summary.answer,
      signals,
      accepted,
    });
    context.trace.event(context.stepId, 'note', {
      stage: index,
      model: stage.model,
      signal: stage.signal,
      value: value ?? null,
      threshold: stage.threshold,
      accepted,
      reusedProbeSamples: fromProbe.length,
    });
    if (accepted) {
      answeredBy = index;
      break;
    }
    if (index < last)
      escalations.push({ from: stage.model, to: stages[index + 1]!.model, signal: stage.signal, value, threshold: stage.threshold });
  }

  // Nothing accepted (budget cut the ladder short): the latest stage that answered — the most capable reached.
  if (answeredBy === undefined)
    for (let index = reports.length - 1; index >= 0 && answeredBy === undefined; index--)
      if (reports[index]!.answer !== undefined) answeredBy = index;
  const final = answeredBy === undefined ? undefined : reports[answeredBy]!;
  return {
    answer: final?.answer,
    confidence: final === undefined ? undefined : (final.signals[stages[answeredBy!]!.signal] ?? final.signals.agreement),
    answeredBy,
    stages: reports,
    escalations,
    reusedProbeSamples: reused,
    calls,
    degraded,
    budgetExhausted,
    simulated,
  };
}

export function toCandidate(index: number, answer: string | undefined, confidence: number | undefined): Candidate {
  return { index, answer, normalized: answer === undefined ? undefined : normalizeAnswer(answer), confidence, text: '', nodeId: undefined };
}
