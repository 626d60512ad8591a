/**
 * verify — judge one candidate answer: either an LLM judge (a call with purpose `verify` and the candidate as
 * a tag, so the simulated fleet acts as a verifier) or a programmatic checker. Adds a `verdict` node to the
 * reasoning graph with a supports/contradicts edge to the candidate's node.
 *
 * Budget behaviour: one call at most. When the budget refuses it, the operator does not throw — it returns
 * `judged: false` (no verdict could be formed) with `budgetExhausted` set, and callers treat the candidate as
 * unverified. A programmatic checker costs nothing and always judges.
 */
import { CALL_PURPOSE } from '../formats/index.ts';
import { BudgetExhaustedError, InvalidInputError } from '../core/index.ts';
import type { CallResult, ChatMessage } from '../models/index.ts';
import type { OpContext } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate } from './generate.ts';

/** A programmatic check of an answer: pass/fail, or a score in [0, 1]. May be async (run tests, call a solver). */
export type Checker = (answer: string) => boolean | number | Promise<boolean | number>;

export interface VerifyOptions {
  question: string;
  /** The candidate's final answer. */
  candidate: string;
  /** Judge model; defaults to the context's model. Ignored when `checker` is given. */
  model?: string;
  checker?: Checker;
  /** The candidate's reasoning-graph node: the verdict node supports or contradicts it. */
  candidateNode?: string;
  /** Step suffix of the call (default `verify`); must be unique among the caller's calls. */
  step?: string;
  maxOutputTokens?: number;
  /** Score at or above which a numeric checker score passes (default 0.5). */
  threshold?: number;
  /** Spend labels (default operator `verify`, axis `verify`). */
  operator?: string;
  axis?: string;
}

export interface VerifyResult {
  /** The candidate passed. False when it failed or could not be judged. */
  verdict: boolean;
  /** Judged probability that the candidate is correct, in [0, 1]; 0 when not judged. */
  score: number;
  /** A verdict was formed (false when the budget refused the call or the judge's reply did not parse). */
  judged: boolean;
  call?: CallResult;
  /** The verdict node, when a judgement was made. */
  nodeId: string | undefined;
  calls: number;
  budgetExhausted: boolean;
  degraded: string[];
  simulated: boolean;
}

export const VERIFY_SYSTEM_PROMPT =
  'You are a strict verifier. Check whether the candidate is a correct final answer to the question: work the problem ' +
  "independently, then compare. End with two lines: 'VERDICT: correct' or 'VERDICT: incorrect', and 'SCORE: <probability from 0 to 1 that the " +
  "candidate is correct>'.";

/**
 * The judge's messages. The candidate is labelled "Candidate to judge", not "Answer:": a claimed answer in a
 * prompt is evidence *for* it (the simulated fleet's context bonus models exactly that), and a candidate under
 * review is not being asserted.
 */
export function verifyMessages(question: string, candidate: string): ChatMessage[] {
  return [
    { role: 'system', content: VERIFY_SYSTEM_PROMPT },
    { role: 'user', content: `Question:\n${question}\n\nCandidate to judge: ${candidate}` },
  ];
}

const POSITIVE = new Set(['correct', 'right', 'yes', 'true', 'pass', 'passed', 'valid', 'accept', 'accepted']);
const NEGATIVE = new Set(['incorrect', 'wrong', 'no', 'false', 'fail', 'failed', 'invalid', 'reject', 'rejected']);
const WORDS = [...POSITIVE, ...NEGATIVE].join('|');

export interface ParsedVerdict {
  verdict: boolean | undefined;
  score: number | undefined;
}

/**
 * Reads a judge's reply: `VERDICT: correct|incorrect` and `SCORE: x` lines (last ones win); without a verdict
 * line, a last standalone yes/no/correct/incorrect-like word; scores as 0–1, percentages or `x/10`. A score
 * alone implies the verdict (≥ 0.5 passes); a verdict alone implies a certain score (1 or 0).
 */
export function parseVerdict(text: string): ParsedVerdict {
  const verdictLines = [...text.matchAll(new RegExp(`verdict\\s*[:=]\\s*[*_"'\`]*\\s*(${WORDS})\\b`, 'gi'))];
  let word = verdictLines.at(-1)?.[1]?.toLowerCase();
  if (word === undefined) {
    // No verdict line: the last judgement word that stands on its own (not inside "incorrectly", "yesterday", …).
    const words = [...text.matchAll(new RegExp(`(?:^|[^\\w-])(${WORDS})(?![\\w-])`, 'gi'))];
    word = words.at(-1)?.[1]?.toLowerCase();
  }
  let verdict = word === undefined ? undefined : POSITIVE.has(word);
  let score: number | undefined;
  const scoreLine = [...text.matchAll(/(?:score|confidence|probability)\s*[:=]\s*(\d+(?:\.\d+)?)\s*(%|\/\s*(\d+))?/gi)].at(-1);
  if (scoreLine) {
    let value = Number(scoreLine[1]);
    if (scoreLine[2] === '%') value /= 100;
    else if (scoreLine[3] !== undefined && Number(scoreLine[3]) > 0) value /= Number(scoreLine[3]);
    else if (value > 1 && value <= 10) value /= 10;
    else if (value > 10 && value <= 100) value /= 100;
    if (Number.isFinite(value) && value >= 0 && value <= 1) score = value;
  }
  if (verdict === undefined && score !== undefined) verdict = score >= 0.5;
  if (score === undefined && verdict !== undefined) score = verdict ? 1 : 0;
  return { verdict, score };
}

export async function verify(context: OpContext, options: VerifyOptions): Promise<VerifyResult> {
  const step = options.step ?? 'verify';
  const stepId = `${context.stepId}/${step}`;
  const base: VerifyResult = {
    verdict: false,
    score: 0,
    judged: false,
    nodeId: undefined,
    calls: 0,
    budgetExhausted: false,
    degraded: [],
    simulated: false,
  };
  if (options.checker) {
    const raw = await options.checker(options.candidate);
    const score = typeof raw === 'boolean' ? (raw ? 1 : 0) : Number(raw);
    if (!Number.isFinite(score))
      throw new InvalidInputError('Invalid checker result', [
        { path: 'checker', message: `must return a boolean or a number in [0, 1], got ${String(raw)}` },
      ]);
    const clamped = Math.min(1, Math.max(0, score));
    const verdict = clamped >= (options.threshold ?? 0.5);
    const nodeId = addVerdictNode(
      context,
      stepId,
      `checker: ${verdict ? 'pass' : 'fail'} (score ${clamped.toFixed(2)}) for "${options.candidate}"`,
      verdict,
      options.candidateNode,
    );
    return { ...base, verdict, score: clamped, judged: true, nodeId };
  }
  let outcome;
  try {
    outcome = await generate(context, {
      step,
      ...(options.model !== undefined ? { model: options.model } : {}),
      messages: verifyMessages(options.question, options.candidate),
      maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      purpose: CALL_PURPOSE.verify,
      candidate: options.candidate,
      operator: options.operator ?? 'verify',
      axis: options.axis ?? 'verify',
      // The verdict node is added below: generate's node would carry the last number of the reply as an "answer".
      node: null,
    });
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    const reason = `verify "${options.candidate}" skipped (budget)`;
    context.trace.event(stepId, 'degrade', { reason });
    return { ...base, budgetExhausted: true, degraded: [reason] };
  }
  const parsed = parseVerdict(outcome.text);
  const common = { call: outcome.call, calls: 1, simulated: outcome.call.simulated };
  if (parsed.verdict === undefined || parsed.score === undefined) return { ...base, ...common };
  const nodeId = addVerdictNode(context, stepId, outcome.text, parsed.verdict, options.candidateNode);
  return { ...base, ...common, verdict: parsed.verdict, score: parsed.score, judged: true, nodeId };
}

function addVerdictNode(context: OpContext, stepId: string, text: string, verdict: boolean, candidateNode: string | undefined): string {
  const nodeId = context.trace.addNode(stepId, 'verdict', text);
  if (candidateNode !== undefined) context.trace.addEdge(nodeId, candidateNode, verdict ? 'supports' : 'contradicts');
  return nodeId;
}
