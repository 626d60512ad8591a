/**
 * Aggregators for width: how N sampled answers become one.
 *
 * - `majority`: plurality over normalised answers; ties go to the answer seen first (lowest sample index),
 *   so the result never depends on completion order.
 * - `confidence-weighted`: each sample votes with its self-reported confidence (0.5 when it reported none).
 * - `verifier`: best-of-N — each *distinct* answer is judged once (by the verify operator: an LLM judge or a
 *   programmatic checker) and the highest score wins; judging distinct answers rather than samples is the
 *   same decision for fewer calls.
 * - `usc`: universal self-consistency — one extra call lists the sampled responses and asks which is most
 *   consistent with the others; its choice is parsed (a response number or the chosen final answer) and
 *   mapped back to a candidate, falling back to majority when it cannot be.
 *
 *
 * Free text (freetext.ts): when most samples carry no explicit short answer (an open-ended question: no
 * `Answer:` label, box, JSON, …; a last number alone does not count), majority, confidence-weighted and USC
 * vote over the replies themselves: identical replies win outright, else one USC call picks the most
 * consistent reply, else (budget refused it, or its choice did not parse) the reply most similar to the others.
 *
 * Budget behaviour: aggregation calls that the budget refuses degrade to majority (recorded), never throw.
 */
import { BudgetExhaustedError, extractAnswer, normalizeAnswer, type AnswerExtractor } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate } from './generate.ts';
import { verify, type Checker, type VerifyResult } from './verify.ts';
import { chooseFreeText, isFreeText, type FreeTextVia } from './freetext.ts';

export type AggregatorKind = 'majority' | 'confidence-weighted' | 'verifier' | 'usc';

/** One sampled response, as the aggregators see it. */
export interface Candidate {
  index: number;
  answer: string | undefined;
  normalized: string | undefined;
  confidence: number | undefined;
  text: string;
  nodeId: string | undefined;
  /** Which extractor read `answer` (undefined: unknown, e.g. a structured answer or a recorded one — counted as explicit). */
  extractor?: AnswerExtractor | undefined;
  /** The reply was cut off at the output cap. */
  truncated?: boolean;
}

/** A distinct answer with its support. */
export interface Ballot {
  normalized: string;
  /** The answer as first written (for display). */
  answer: string;
  votes: number;
  /** Sum of self-reported confidences (0.5 where a sample reported none). */
  weight: number;
  firstIndex: number;
  /** Graph nodes of the samples that gave it. */
  nodeIds: string[];
}

export interface Decision {
  normalized: string | undefined;
  answer: string | undefined;
  /** Agreement, weight share or verifier score, depending on the method. */
  confidence: number | undefined;
  method: AggregatorKind;
}

/** Weight of a vote whose sample reported no confidence: neither trusted nor ignored. */
export const DEFAULT_VOTE_WEIGHT = 0.5;

/** Distinct answers, most votes first, then first seen: a deterministic order whatever finished first. */
export function ballots(candidates: readonly Candidate[]): Ballot[] {
  const byAnswer = new Map<string, Ballot>();
  for (const candidate of [...candidates].sort((a, b) => a.index - b.index)) {
    if (candidate.normalized === undefined || candidate.answer === undefined) continue;
    let ballot = byAnswer.get(candidate.normalized);
    if (!ballot)
      byAnswer.set(
        candidate.normalized,
        (ballot = {
          normalized: candidate.normalized,
          answer: candidate.answer,
          votes: 0,
          weight: 0,
          firstIndex: candidate.index,
          nodeIds: [],
        }),
      );
    ballot.votes++;
    ballot.weight += candidate.confidence ?? DEFAULT_VOTE_WEIGHT;
    if (candidate.nodeId !== undefined) ballot.nodeIds.push(candidate.nodeId);
  }
  return [...byAnswer.values()].sort((a, b) => b.votes - a.votes || a.firstIndex - b.firstIndex);
}

const answeredCount = (list: readonly Ballot[]): number => list.reduce((sum, ballot) => sum + ballot.votes, 0);

export function majority(candidates: readonly Candidate[]): Decision {
  const list = ballots(candidates);
  const winner = list[0];
  if (!winner) return { normalized: undefined, answer: undefined, confidence: undefined, method: 'majority' };
  return { normalized: winner.normalized, answer: winner.answer, confidence: winner.votes / answeredCount(list), method: 'majority' };
}

export function confidenceWeighted(candidates: readonly Candidate[]): Decision {
  const list = ballots(candidates);
  let winner: Ballot | undefined;
  // `list` is already in (votes, first seen) order, so a strict comparison keeps that as the tie-break.
  for (const ballot of list) if (!winner || ballot.weight > winner.weight + 1e-12) winner = ballot;
  if (!winner) return { normalized: undefined, answer: undefined, confidence: undefined, method: 'confidence-weighted' };
  const total = list.reduce((sum, ballot) => sum + ballot.weight, 0);
  return {
    normalized: winner.normalized,
    answer: winner.answer,
    confidence: total > 0 ? winner.weight / total : 0,
    method: 'confidence-weighted',
  };
}

/** Highest score among scored ballots; ties go to more votes, then first seen. Undefined when none is scored. */
export function bestScored(list: readonly Ballot[], scores: ReadonlyMap<string, number>): Decision | undefined {
  let winner: Ballot | undefined;
  for (const ballot of list) {
    const score = scores.get(ballot.normalized);
    if (score !== undefined && (!winner || score > (scores.get(winner.normalized) as number))) winner = ballot;
  }
  return winner
    ? { normalized: winner.normalized, answer: winner.answer, confidence: scores.get(winner.normalized) as number, method: 'verifier' }
    : undefined;
}

export const USC_SYSTEM_PROMPT =
  'You compare candidate responses to the same question. Select the response whose final answer is most consistent with ' +
  "the others (majority consensus). End with 'The most consistent response is Response <k>.' and, on the last line, " +
  "'Answer: <that response's final answer>'.";

/**
 * The USC prompt lists the responses verbatim, final `Answer:` lines included: that is what a model needs to
 * judge consistency, and it is what lets the simulated fleet's context bonus see the claimed answers.
 */
export function uscMessages(question: string, responses: readonly Candidate[]): ChatMessage[] {
  const listed = responses.map((candidate, position) => `Response ${position + 1}:\n${candidate.text.trim()}`).join('\n\n');
  return [
    { role: 'system', content: USC_SYSTEM_PROMPT },
    {
      role: 'user',
      content:
        `I sampled several responses to the question below.\n\nQuestion:\n${question}\n\n${listed}\n\nEvaluate these responses and select ` +
        `the most consistent one.`,
    },
  ];
}

/**
 * The USC reply's choice as a normalised candidate answer: "most consistent response is Response k", an
 * `Answer: Response k` line, or a final answer equal to one of the listed responses' answers.
 */
export function parseUscChoice(text: string, responses: readonly Candidate[]): { normalized: string; via: 'index' | 'answer' } | undefined {
  const byIndex = (k: number): { normalized: string; via: 'index' } | undefined => {
    const chosen = responses[k - 1]?.normalized;
    return chosen === undefined ? undefined : { normalized: chosen, via: 'index' };
  };
  const named = [...text.matchAll(/(?:most consistent|selected|chosen|choose|pick)\D{0,40}?(?:response|candidate)\s*#?\s*(\d+)/gi)].at(-1);
  if (named) return byIndex(Number(named[1]));
  const answer = extractAnswer(text);
  if (answer === undefined) return undefined;
  const indexed = /^(?:response|candidate)?\s*#?\s*(\d+)$/i.exec(answer.trim());
  const normalized = normalizeAnswer(answer);
  if (responses.some((candidate) => candidate.normalized === normalized)) return { normalized, via: 'answer' };
  return indexed && /^(?:response|candidate)/i.test(answer.trim()) ? byIndex(Number(indexed[1])) : undefined;
}

export interface AggregateOptions {
  kind: AggregatorKind;
  /** The question (the user prompt), for the judge and the USC prompt. */
  question: string;
  verifierModel?: string;
  checker?: Checker;
  uscModel?: string;
  /** Vote over free-text replies when most samples have no short answer (default true). */
  freeText?: boolean;
  maxOutputTokens?: number;
  operator: string;
  axis: string;
}

export interface AggregateOutcome {
  decision: Decision;
  calls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
  /** Aggregator-specific details: verdict scores, the USC choice and how it was read, fallbacks. */
  details: Record<string, unknown>;
  /** Set when the samples were free text: how the chosen reply was picked, and which sample it is. */
  freeText?: { via: FreeTextVia; index: number };
}

export async function aggregate(
  context: OpContext,
  candidates: readonly Candidate[],
  options: AggregateOptions,
): Promise<AggregateOutcome> {
  const outcome: AggregateOutcome = {
    decision: majority(candidates),
    calls: 0,
    degraded: [],
    budgetExhausted: false,
    simulated: false,
    details: {},
  };
  if (options.kind !== 'verifier' && options.freeText !== false && isFreeText(candidates))
    return freeTextConsensus(context, candidates, options);
  const list = ballots(candidates);
  if (options.kind === 'majority' || list.length === 0) return outcome;
  if (options.kind === 'confidence-weighted') return { ...outcome, decision: confidenceWeighted(candidates) };
  if (options.kind === 'verifier') return verifierBestOfN(context, list, options, outcome);
  return universalSelfConsistency(context, candidates, list, options, outcome);
}

/** Free-text samples: one reply chosen as a whole (freetext.ts); its text is the answer. */
async function freeTextConsensus(
  context: OpContext,
  candidates: readonly Candidate[],
  options: AggregateOptions,
): Promise<AggregateOutcome> {
  const choice = await chooseFreeText(context, candidates, {
    question: options.question,
    ...(options.uscModel !== undefined ? { uscModel: options.uscModel } : {}),
    ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
    operator: options.operator,
    axis: options.axis,
  });
  const none: Decision = { normalized: undefined, answer: undefined, confidence: undefined, method: options.kind };
  if (!choice) return { decision: none, calls: 0, degraded: [], budgetExhausted: false, simulated: false, details: {} };
  return {
    decision: {
      normalized: normalizeAnswer(choice.text),
      answer: choice.text,
      confidence: choice.confidence,
      method: choice.via === 'usc' ? 'usc' : options.kind,
    },
    calls: choice.calls,
    degraded: choice.degraded,
    budgetExhausted: choice.budgetExhausted,
    simulated: choice.simulated,
    details: choice.details,
    freeText: { via: choice.via, index: choice.index },
  };
}

async function verifierBestOfN(
  context: OpContext,
  list: readonly Ballot[],
  options: AggregateOptions,
  outcome: AggregateOutcome,
): Promise<AggregateOutcome> {
  const verdicts: VerifyResult[] = await Promise.all(
    list.map((ballot, k) =>
      verify(context, {
        question: options.question,
        candidate: ballot.answer,
        step: `verify-${k}`,
        ...(options.verifierModel !== undefined ? { model: options.verifierModel } : {}),
        ...(options.checker ? { checker: options.checker } : {}),
        ...(ballot.nodeIds[0] !== undefined ? { candidateNode: ballot.nodeIds[0] } : {}),
        operator: options.operator,
        axis: options.axis,
      }),
    ),
  );
  const scores = new Map<string, number>();
  verdicts.forEach((result, k) => {
    if (result.judged) scores.set((list[k] as Ballot).normalized, result.score);
  });
  outcome.calls = verdicts.reduce((sum, result) => sum + result.calls, 0);
  outcome.simulated = verdicts.some((result) => result.simulated);
  outcome.budgetExhausted = verdicts.some((result) => result.budgetExhausted);
  outcome.details = { scores: Object.fromEntries(scores), judged: scores.size, distinct: list.length };
  const unjudged = list.length - scores.size;
  if (unjudged > 0)
    outcome.degraded.push(`verifier: ${unjudged} of ${list.length} answers unjudged${outcome.budgetExhausted ? ' (budget)' : ''}`);
  const best = bestScored(list, scores);
  if (best) outcome.decision = best;
  else outcome.degraded.push(`verifier → majority (no verdicts${outcome.budgetExhausted ? ', budget' : ''})`);
  return outcome;
}

async function universalSelfConsistency(
  context: OpContext,
  candidates: readonly Candidate[],
  list: readonly Ballot[],
  options: AggregateOptions,
  outcome: AggregateOutcome,
): Promise<AggregateOutcome> {
  // One distinct answer: every response is consistent with every other; asking a model adds cost, not information.
  if (list.length === 1) return { ...outcome, details: { usc: 'unanimous (no call)' } };
  const responses = [...candidates].filter((candidate) => candidate.normalized !== undefined).sort((a, b) => a.index - b.index);
  let reply;
  try {
    reply = await generate(context, {
      step: 'usc',
      ...(options.uscModel !== undefined ? { model: options.uscModel } : {}),
      messages: uscMessages(options.question, responses),
      maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      purpose: 'usc',
      operator: options.operator,
      axis: options.axis,
      derivedFrom: responses.flatMap((candidate) => (candidate.nodeId === undefined ? [] : [candidate.nodeId])),
    });
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    outcome.budgetExhausted = true;
    outcome.degraded.push('usc → majority (budget)');
    return { ...outcome, details: { usc: 'refused by budget' } };
  }
  outcome.calls = 1;
  outcome.simulated = reply.call.simulated;
  const choice = parseUscChoice(reply.text, responses);
  if (!choice) {
    outcome.degraded.push('usc → majority (choice not parsed)');
    return { ...outcome, details: { usc: 'unparsed', reply: reply.answer ?? null } };
  }
  const chosen = list.find((ballot) => ballot.normalized === choice.normalized) as Ballot;
  const answered = answeredCount(list);
  return {
    ...outcome,
    decision: { normalized: chosen.normalized, answer: chosen.answer, confidence: chosen.votes / answered, method: 'usc' },
    details: { usc: 'parsed', via: choice.via, choice: chosen.answer },
  };
}
