/**
 * Depth: draft → verify → critique → revise, for up to K rounds, stopping as soon as the verifier passes.
 *
 * Each round (critique, revision, and the revision's verification) runs in its own child budget: an equal
 * share of what is left over the rounds still planned, so an early round cannot starve the later ones unless
 * the share cannot cover a round at all (then the round may use everything left). When even that cannot
 * cover a round's worst case, refining stops there (recorded in `degraded`) and the best draft so far is
 * returned — the operator never throws BudgetExhaustedError.
 *
 * Graph: draft and revisions are `answer` nodes, critiques `critique` nodes, verifier verdicts `verdict` nodes;
 * each revision is derived from the previous draft and the critique, each critique from the draft it reviews.
 */
import { BudgetExhaustedError, InvalidInputError } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import { childContext, type OpContext, type OpResult } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate, type GenerateOutcome } from './generate.ts';
import { NO_COST, addCosts, affordableUnits, callCost, fitOutputCap, noteDegrade, type CallCost } from './budget-plan.ts';
import { verify, verifyMessages, type Checker } from './verify.ts';

export interface RefineOptions {
  prompt: string;
  system?: string;
  /** Critique-and-revise rounds after the draft (0 = draft and verify only). */
  rounds: number;
  model?: string;
  /** Model for critiques (default: the answering model — self-refinement). */
  critiqueModel?: string;
  /** Judge (default: the answering model); ignored when `checker` is given. */
  verifierModel?: string;
  checker?: Checker;
  /** Verify drafts at all (default true). Without verification every round runs. */
  verify?: boolean;
  /** Stop as soon as a draft passes verification (default true). */
  stopWhenVerified?: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  derivedFrom?: string[];
}

export type RefineDetails = {
  roundsPlanned: number;
  roundsRun: number;
  stoppedBecause: 'verified' | 'rounds' | 'budget' | 'no-draft';
  verified: boolean;
  /** Draft 0 and each revision, with its verdict when it was judged. */
  drafts: Array<{ round: number; answer: string | undefined; verdict?: boolean; score?: number }>;
  /** Index into `drafts` of the returned answer. */
  chosen: number | undefined;
};

export interface RefineResult extends OpResult {
  details: RefineDetails;
}

export const REFINE_SYSTEM_PROMPT =
  "You are a careful problem solver. Reason step by step, then give the final answer alone on the last line as 'Answer: <value>'.";
export const CRITIQUE_SYSTEM_PROMPT =
  'You review a draft solution. Check every step, name each error precisely and say how to fix it; if the draft is right, say so. ' +
  "End with the final value you believe is right on the last line as 'Answer: <value>'.";

function critiqueMessages(question: string, draft: string, feedback: string | undefined): ChatMessage[] {
  return [
    { role: 'system', content: CRITIQUE_SYSTEM_PROMPT },
    { role: 'user', content: `Question:\n${question}\n\nDraft:\n${draft}${feedback ? `\n\n${feedback}` : ''}\n\nCritique the draft.` },
  ];
}

function reviseMessages(system: string, question: string, draft: string, critique: string): ChatMessage[] {
  return [
    { role: 'system', content: system },
    {
      role: 'user',
      content:
        `Question:\n${question}\n\nPrevious draft:\n${draft}\n\nCritique of the draft:\n${critique}\n\nWrite an improved, complete solution ` +
        `that fixes the problems the critique found.`,
    },
  ];
}

interface Draft {
  round: number;
  outcome: GenerateOutcome;
  /** Where the draft's verification is charged: the round that produced it. */
  context: OpContext;
  verdict?: boolean;
  score?: number;
}

export async function refine(context: OpContext, options: RefineOptions): Promise<RefineResult> {
  if (!Number.isInteger(options.rounds) || options.rounds < 0)
    throw new InvalidInputError('Invalid refine options', [
      { path: 'rounds', message: `must be a non-negative integer, got ${String(options.rounds)}` },
    ]);
  const model = options.model ?? context.model;
  const critiqueModel = options.critiqueModel ?? model;
  const verifying = options.verify ?? true;
  const stopWhenVerified = options.stopWhenVerified ?? true;
  const system = options.system ?? REFINE_SYSTEM_PROMPT;
  const requestedCap = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const degraded: string[] = [];
  const common = { operator: 'refine', axis: 'depth', ...(options.temperature !== undefined ? { temperature: options.temperature } : {}) };
  context.trace.event(context.stepId, 'op-start', { operator: 'refine', model, rounds: options.rounds });

  // Worst cases: critique and revision prompts quote earlier outputs, each at most `cap` tokens long.
  const draftMessages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: options.prompt },
  ];
  const verifyCost: CallCost =
    verifying && !options.checker
      ? callCost(context, options.verifierModel ?? model, verifyMessages(options.prompt, ''), DEFAULT_MAX_OUTPUT_TOKENS, 32)
      : NO_COST;
  // Prefer a draft that can also be verified; else at least a draft.
  const cap =
    fitOutputCap(context, model, draftMessages, requestedCap, verifyCost) || fitOutputCap(context, model, draftMessages, requestedCap);
  const roundCost = (tokens: number): CallCost =>
    addCosts(
      callCost(context, critiqueModel, critiqueMessages(options.prompt, '', 'x'), tokens, tokens + 32),
      callCost(context, model, reviseMessages(system, options.prompt, '', ''), tokens, 2 * tokens),
      verifyCost,
    );

  const drafts: Draft[] = [];
  let calls = 0;
  let simulated = false;
  let budgetExhausted = false;
  let stoppedBecause: RefineDetails['stoppedBecause'] = 'rounds';
  const stop = (reason: string): void => {
    budgetExhausted = true;
    noteDegrade(context, degraded, reason);
  };

  if (cap === 0) stop('no draft (budget)');
  else {
    if (cap !== requestedCap) noteDegrade(context, degraded, `maxOutputTokens ${requestedCap} → ${cap} (budget)`);
    try {
      const outcome = await generate(context, {
        step: 'draft',
        model,
        messages: draftMessages,
        maxOutputTokens: cap,
        purpose: 'answer',
        ...common,
        ...(options.derivedFrom ? { derivedFrom: options.derivedFrom } : {}),
      });
      drafts.push({ round: 0, outcome, context });
      calls++;
      simulated ||= outcome.call.simulated;
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      stop('no draft (budget)');
    }
  }
  if (drafts.length === 0) stoppedBecause = 'no-draft';

  for (let round = 1; drafts.length > 0; round++) {
    const current = drafts.at(-1) as Draft;
    let feedback: string | undefined;
    if (verifying && current.outcome.answer !== undefined) {
      const verdict = await verify(current.context, {
        question: options.prompt,
        candidate: current.outcome.answer,
        step: 'verify',
        ...(options.verifierModel !== undefined ? { model: options.verifierModel } : { model }),
        ...(options.checker ? { checker: options.checker } : {}),
        ...(current.outcome.nodeId !== undefined ? { candidateNode: current.outcome.nodeId } : {}),
        operator: 'refine',
        axis: 'depth',
      });
      calls += verdict.calls;
      simulated ||= verdict.simulated;
      if (verdict.judged) {
        current.verdict = verdict.verdict;
        current.score = verdict.score;
        feedback = `A verifier judged the draft ${verdict.verdict ? 'correct' : 'incorrect'} (score ${verdict.score.toFixed(2)}).`;
      }
      if (verdict.budgetExhausted) {
        stop(`verification of round ${current.round} skipped (budget)`);
        stoppedBecause = 'budget';
        break;
      }
      if (verdict.verdict && stopWhenVerified) {
        stoppedBecause = 'verified';
        break;
      }
    }
    if (round > options.rounds) break;
    // Each round gets an equal share of what is left over the remaining rounds, or everything if a share is too small.
    const left = options.rounds - round + 1;
    const cost = roundCost(cap);
    const share =
      affordableUnits(context.budget, cost, NO_COST, 1 / left) >= 1 ? 1 / left : affordableUnits(context.budget, cost) >= 1 ? 1 : 0;
    if (share === 0) {
      stop(`rounds ${options.rounds} → ${round - 1} (budget)`);
      stoppedBecause = 'budget';
      break;
    }
    const roundContext = childContext(context, `round-${round}`, { budget: context.budget.child(`round-${round}`, { share }) });
    try {
      const critique = await generate(roundContext, {
        step: 'critique',
        model: critiqueModel,
        messages: critiqueMessages(options.prompt, current.outcome.text, feedback),
        maxOutputTokens: cap,
        purpose: 'critique',
        node: 'critique',
        ...common,
        ...(current.outcome.nodeId !== undefined ? { derivedFrom: [current.outcome.nodeId] } : {}),
      });
      calls++;
      const revision = await generate(roundContext, {
        step: 'revise',
        model,
        messages: reviseMessages(system, options.prompt, current.outcome.text, critique.text),
        maxOutputTokens: cap,
        purpose: 'answer',
        ...common,
        derivedFrom: [current.outcome.nodeId, critique.nodeId].filter((id): id is string => id !== undefined),
      });
      calls++;
      simulated ||= revision.call.simulated;
      drafts.push({ round, outcome: revision, context: roundContext });
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      stop(`round ${round} cut short (budget)`);
      stoppedBecause = 'budget';
      break;
    }
  }

  // The verified draft if any; otherwise the best-scored judged draft (later wins ties); otherwise the latest.
  let chosen: number | undefined;
  drafts.forEach((draft, index) => {
    if (draft.outcome.answer === undefined) return;
    const best = chosen === undefined ? undefined : (drafts[chosen] as Draft);
    if (!best || (draft.score ?? -1) >= (best.score ?? -1)) chosen = index;
  });
  const final = chosen === undefined ? undefined : (drafts[chosen] as Draft);
  const verified = final?.verdict === true;
  const roundsRun = Math.max(0, drafts.length - 1);
  context.trace.event(context.stepId, 'op-end', {
    operator: 'refine',
    answer: final?.outcome.normalized ?? null,
    calls,
    roundsRun,
    stoppedBecause,
  });
  return {
    answer: final?.outcome.answer,
    confidence: final?.score ?? final?.outcome.confidence,
    text: final?.outcome.text ?? '',
    nodeId: final?.outcome.nodeId,
    calls,
    degraded,
    budgetExhausted,
    simulated,
    details: {
      roundsPlanned: options.rounds,
      roundsRun,
      stoppedBecause,
      verified,
      drafts: drafts.map((draft) => ({
        round: draft.round,
        answer: draft.outcome.answer,
        ...(draft.verdict !== undefined ? { verdict: draft.verdict } : {}),
        ...(draft.score !== undefined ? { score: draft.score } : {}),
      })),
      chosen,
    },
  };
}
