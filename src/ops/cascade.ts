/**
 * cascade — models cheapest first (FrugalGPT-style): each stage answers (one or more samples, majority vote),
 * a confidence signal is computed — vote agreement over the stage's samples, a verifier's score, or the
 * model's self-reported confidence — and the answer is accepted when the signal reaches the stage's threshold;
 * otherwise the query escalates to the next stage. The last stage always answers.
 *
 * Budget behaviour: while a cheaper stage runs, one worst-case call of the last stage is kept in reserve (the
 * cheaper stage's child budget excludes it), so a low-confidence answer can still be escalated. When an
 * escalation cannot be afforded anyway, the cascade returns the best answer so far (the latest stage that
 * answered) with a `degraded` note instead of failing. Per-stage spend comes from each stage's child budget.
 *
 * Signals: `agreement` needs samples ≥ 2 to mean anything (one sample always agrees with itself); `verifier`
 * costs one judge call per non-final stage (the last stage's answer is final, so it is not judged); `self` is
 * free but small models are over-confident, so their thresholds should be higher.
 */
import { InvalidInputError, normalizeAnswer, type UsageTotals } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import {
  NO_COST,
  addCosts,
  affordableUnits,
  callCost,
  fitOutputCap,
  limitsLeavingAside,
  noteDegrade,
  type CallCost,
} from './budget-plan.ts';
import { childContext, type OpContext, type OpResult } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './generate.ts';
import { sample, type SampleResult } from './sample.ts';
import { verify, verifyMessages, type Checker } from './verify.ts';

export type CascadeSignal = 'agreement' | 'verifier' | 'self';

export interface CascadeStage {
  model: string;
  /** Samples at this stage (default 1). */
  samples?: number;
  /** Accept the stage's answer when its signal is ≥ this. */
  threshold: number;
  signal: CascadeSignal;
  /** Judge for the `verifier` signal (default: the cascade's verifierModel, else the stage's model). */
  verifierModel?: string;
  maxOutputTokens?: number;
}

export interface CascadeOptions {
  prompt?: string;
  system?: string;
  messages?: ChatMessage[];
  stages: CascadeStage[];
  verifierModel?: string;
  /** Programmatic checker for the `verifier` signal (no judge calls). */
  checker?: Checker;
  temperature?: number;
  maxOutputTokens?: number;
  derivedFrom?: string[];
}

export type CascadeStageReport = {
  model: string;
  signal: CascadeSignal;
  threshold: number;
  samples: number;
  answer: string | undefined;
  /** The signal's value; undefined when it could not be computed (no answer, judge refused by the budget). */
  confidence: number | undefined;
  accepted: boolean;
  escalated: boolean;
  spend: UsageTotals;
  degraded: string[];
};

export type CascadeDetails = {
  stagesTried: number;
  escalations: number;
  /** Stage whose answer was accepted by its signal (the last stage counts as accepting). */
  acceptedAt: number | undefined;
  /** Stage whose answer is returned. */
  answeredBy: number | undefined;
  stages: CascadeStageReport[];
};

export interface CascadeResult extends OpResult {
  details: CascadeDetails;
}

export async function cascade(context: OpContext, options: CascadeOptions): Promise<CascadeResult> {
  if (options.stages.length === 0)
    throw new InvalidInputError('Invalid cascade options', [{ path: 'stages', message: 'must list at least one stage' }]);
  options.stages.forEach((stage, index) => {
    if (!Number.isFinite(stage.threshold))
      throw new InvalidInputError('Invalid cascade options', [{ path: `stages[${index}].threshold`, message: 'must be a finite number' }]);
  });
  const messages = options.messages ?? [
    ...(options.system ? [{ role: 'system' as const, content: options.system }] : []),
    { role: 'user' as const, content: options.prompt ?? '' },
  ];
  const question = options.prompt ?? [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const last = options.stages.length - 1;
  const capOf = (stage: CascadeStage): number => stage.maxOutputTokens ?? options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const lastStage = options.stages[last] as CascadeStage;
  const finalReserve = callCost(context, lastStage.model, messages, capOf(lastStage));
  const degraded: string[] = [];
  const reports: CascadeStageReport[] = [];
  const results: SampleResult[] = [];
  let calls = 0;
  let simulated = false;
  let budgetExhausted = false;
  let acceptedAt: number | undefined;
  context.trace.event(context.stepId, 'op-start', { operator: 'cascade', stages: options.stages.map((stage) => stage.model) });

  for (let index = 0; index <= last; index++) {
    const stage = options.stages[index] as CascadeStage;
    const cap = capOf(stage);
    if (index > 0 && fitOutputCap(context, stage.model, messages, cap) === 0) {
      noteDegrade(context, degraded, `escalation to ${stage.model} skipped (budget)`);
      budgetExhausted = true;
      break;
    }
    const judged = index < last && stage.signal === 'verifier';
    const judgeModel = stage.verifierModel ?? options.verifierModel ?? stage.model;
    const judgeCost: CallCost =
      judged && !options.checker ? callCost(context, judgeModel, verifyMessages(question, ''), DEFAULT_MAX_OUTPUT_TOKENS, 32) : NO_COST;
    // Keep one last-stage call in reserve while a cheaper stage runs, when the slice allows both.
    const reserve =
      index < last &&
      affordableUnits(context.budget, callCost(context, stage.model, messages, cap), addCosts(finalReserve, judgeCost)) >= 1;
    const stageBudget = context.budget.child(`stage-${index}`, reserve ? { limits: limitsLeavingAside(context.budget, finalReserve) } : {});
    const stageContext = childContext(context, `stage-${index}`, { budget: stageBudget, model: stage.model });
    const result = await sample(stageContext, {
      samples: stage.samples ?? 1,
      messages,
      model: stage.model,
      maxOutputTokens: cap,
      aggregator: 'majority',
      operator: 'cascade',
      axis: 'cascade',
      reserve: judgeCost,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.derivedFrom ? { derivedFrom: options.derivedFrom } : {}),
    });
    results.push(result);
    calls += result.calls;
    simulated ||= result.simulated;
    budgetExhausted ||= result.budgetExhausted;
    const stageDegraded = [...result.degraded];

    let confidence: number | undefined;
    if (result.answer !== undefined) {
      if (stage.signal === 'agreement') confidence = result.details.agreement;
      else if (stage.signal === 'self') confidence = selfConfidence(result);
      else if (judged) {
        const verdict = await verify(stageContext, {
          question,
          candidate: result.answer,
          model: judgeModel,
          ...(options.checker ? { checker: options.checker } : {}),
          ...(result.nodeId !== undefined ? { candidateNode: result.nodeId } : {}),
          operator: 'cascade',
          axis: 'cascade',
        });
        calls += verdict.calls;
        simulated ||= verdict.simulated;
        budgetExhausted ||= verdict.budgetExhausted;
        stageDegraded.push(...verdict.degraded);
        if (verdict.judged) confidence = verdict.score;
      }
    }
    for (const reason of stageDegraded) noteDegrade(context, degraded, `stage ${index} (${stage.model}): ${reason}`);
    const accepted = result.answer !== undefined && (index === last || (confidence !== undefined && confidence >= stage.threshold));
    const spent = stageBudget.spent();
    reports.push({
      model: stage.model,
      signal: stage.signal,
      threshold: stage.threshold,
      samples: result.details.completed + result.details.failed,
      answer: result.answer,
      confidence,
      accepted,
      escalated: !accepted && index < last,
      spend: {
        inputTokens: spent.inputTokens,
        outputTokens: spent.outputTokens,
        totalTokens: spent.totalTokens,
        usd: spent.usd,
        calls: spent.calls,
      },
      degraded: stageDegraded,
    });
    context.trace.event(context.stepId, 'note', {
      stage: index,
      model: stage.model,
      signal: stage.signal,
      confidence: confidence ?? null,
      threshold: stage.threshold,
      accepted,
    });
    if (accepted) {
      acceptedAt = index;
      break;
    }
  }

  // The accepted stage, else the latest stage that answered (the most capable model reached).
  let answeredBy = acceptedAt;
  if (answeredBy === undefined)
    for (let index = results.length - 1; index >= 0 && answeredBy === undefined; index--)
      if (results[index]?.answer !== undefined) answeredBy = index;
  const final = answeredBy === undefined ? undefined : (results[answeredBy] as SampleResult);
  const escalations = reports.filter((report) => report.escalated).length;
  context.trace.event(context.stepId, 'op-end', {
    operator: 'cascade',
    answer: final?.answer ?? null,
    calls,
    escalations,
    answeredBy: answeredBy ?? null,
  });
  return {
    answer: final?.answer,
    confidence: answeredBy === undefined ? undefined : reports[answeredBy]?.confidence,
    text: final?.text ?? '',
    nodeId: final?.nodeId,
    calls,
    degraded,
    budgetExhausted,
    simulated,
    details: { stagesTried: reports.length, escalations, acceptedAt, answeredBy, stages: reports },
  };
}

/** Mean self-reported confidence of the samples that gave the stage's answer. */
function selfConfidence(result: SampleResult): number | undefined {
  const chosen = result.answer === undefined ? undefined : normalizeAnswer(result.answer);
  const agreeing = result.details.samples.filter(
    (entry) => entry.answer !== undefined && normalizeAnswer(entry.answer) === chosen && entry.confidence !== undefined,
  );
  if (agreeing.length === 0) return undefined;
  return agreeing.reduce((sum, entry) => sum + (entry.confidence as number), 0) / agreeing.length;
}
