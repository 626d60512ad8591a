/**
 * The difficulty probe: a few samples of the starting (cheapest) tier, and what they say about the query —
 * how much they agree and how confident the majority says it is. That is the whole difficulty estimate: no
 * extra classifier call, and the samples are not thrown away afterwards (the vote arm counts them as its
 * first votes, the cascade router uses them as its first stage, the stop arm returns their majority).
 *
 * With `earlyExit` the probe draws fewer samples first and stops there when they agree at a high mean
 * confidence (easy, and the cheapest possible outcome); otherwise it draws the rest — unless `decided` says
 * that every bin the rest could still lead to gets the same arm (e.g. the policy escalates both medium and
 * hard queries: two disagreeing samples already rule out easy, and a third would only refine a number nobody
 * acts on). That is the cheapest probe that still decides the allocation.
 *
 * Bins (thresholds in the policy's `difficulty` section):
 *   easy    agreement ≥ easyAgreement AND the majority's mean self-reported confidence ≥ easyConfidence
 *   hard    agreement ≤ hardAgreement, or no sample produced an answer
 *   medium  everything else
 * Self-reported confidence is biased upwards for small models, but it still separates the items a small
 * model gets right unanimously from those where it repeats a dominant wrong answer unanimously — which
 * agreement alone cannot (correlated errors).
 */
import { normalizeAnswer } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import { childContext, majority, sample, type Candidate, type OpContext } from '../ops/index.ts';
import type { DifficultyBin, GovernorPolicy } from './policy.ts';

export interface ProbeResult {
  model: string;
  /** The samples, reusable as votes (index order). */
  candidates: Candidate[];
  /** Samples requested and drawn (fewer when the budget refused some). */
  requested: number;
  drawn: number;
  answer: string | undefined;
  /** Share of answered samples agreeing with the majority (0 when none answered). */
  agreement: number;
  /** Mean self-reported confidence of the samples that gave the majority answer. */
  confidence: number | undefined;
  bin: DifficultyBin;
  /** A difficulty score in [0, 1] (1 = hardest): 1 − the mean of agreement and confidence. */
  score: number;
  /** Why the probe drew fewer than `requested`: settled easy early, or the rest could not change the arm. */
  stoppedEarly?: 'easy' | 'decided';
  budgetExhausted: boolean;
  simulated: boolean;
  calls: number;
  degraded: string[];
}

export interface ProbeOptions {
  model: string;
  messages: ChatMessage[];
  samples: number;
  /** Draw these first; stop there when they agree at this mean confidence (easy). */
  earlyExit?: { samples: number; confidence: number };
  /**
   * After the first (early-exit) draw: stop probing when this says the bins the remaining samples could still
   * lead to do not matter (the caller's policy maps them all to the same arm). Without it the probe always
   * draws its full sample when the early exit does not settle it.
   */
  decided?: (reachable: ReadonlySet<DifficultyBin>) => boolean;
  maxOutputTokens: number;
  difficulty: GovernorPolicy['difficulty'];
}

/** Temperature of the probe and of every vote sample: the same distribution, so probe samples are valid votes. */
export const VOTE_TEMPERATURE = 0.7;

export async function probeDifficulty(context: OpContext, options: ProbeOptions): Promise<ProbeResult> {
  const draw = async (step: OpContext, samples: number, offset: number) => {
    const result = await sample(step, {
      samples,
      messages: options.messages,
      model: options.model,
      maxOutputTokens: options.maxOutputTokens,
      temperature: VOTE_TEMPERATURE,
      aggregator: 'majority',
      // The probe measures agreement of short answers; a free-text pick would only cost a call.
      freeText: false,
      operator: 'probe',
      axis: 'probe',
    });
    const candidates: Candidate[] = result.details.samples.map((entry) => ({
      index: offset + entry.index,
      answer: entry.answer,
      normalized: entry.answer === undefined ? undefined : normalizeAnswer(entry.answer),
      confidence: entry.confidence,
      text: '',
      nodeId: undefined,
    }));
    return { result, candidates };
  };
  const early = options.earlyExit !== undefined && options.earlyExit.samples < options.samples ? options.earlyExit : undefined;
  const first = await draw(context, early?.samples ?? options.samples, 0);
  let candidates = first.candidates;
  let { budgetExhausted, simulated, calls } = first.result;
  let failed = first.result.details.failed;
  const degraded = [...first.result.degraded];
  let summary = summarise(candidates);
  const settled =
    early !== undefined &&
    summary.answered === candidates.length &&
    summary.answered >= 2 &&
    summary.agreement === 1 &&
    (summary.confidence ?? 0) >= early.confidence;
  // Not settled, but whichever way the remaining samples fall the caller would do the same thing: they would
  // only refine a difficulty estimate nobody acts on, so they are not drawn (the cheapest probe that decides).
  const decided =
    early !== undefined &&
    !settled &&
    options.decided !== undefined &&
    options.decided(reachableBins(summary, candidates, options.samples - early.samples, options.difficulty));
  if (early !== undefined && !settled && !decided && !budgetExhausted) {
    // The first samples leave doubt: draw the rest of the probe; together they are the probe's sample.
    const rest = await draw(childContext(context, 'more'), options.samples - early.samples, candidates.length + failed);
    candidates = [...candidates, ...rest.candidates];
    budgetExhausted ||= rest.result.budgetExhausted;
    simulated ||= rest.result.simulated;
    calls += rest.result.calls;
    failed += rest.result.details.failed;
    degraded.push(...rest.result.degraded);
    summary = summarise(candidates);
  }
  const bin = settled ? 'easy' : binOf(summary.agreement, summary.confidence, summary.answered, options.difficulty);
  return {
    model: options.model,
    candidates,
    requested: options.samples,
    drawn: candidates.length + failed,
    answer: summary.answer,
    agreement: summary.agreement,
    confidence: summary.confidence,
    bin,
    score: Math.round((1 - (summary.agreement + (summary.confidence ?? summary.agreement)) / 2) * 1000) / 1000,
    budgetExhausted,
    simulated,
    calls,
    degraded,
    ...(settled ? { stoppedEarly: 'easy' as const } : decided ? { stoppedEarly: 'decided' as const } : {}),
  };
}

/**
 * The bins the probe could still end in if `remaining` more samples were drawn (conservative: a bin is left
 * out only when no outcome of the remaining samples reaches it; self-reported confidences are at most 1).
 */
export function reachableBins(
  summary: ReturnType<typeof summarise>,
  candidates: readonly Candidate[],
  remaining: number,
  thresholds: GovernorPolicy['difficulty'],
): Set<DifficultyBin> {
  const reachable = new Set<DifficultyBin>();
  const leader = Math.round(summary.agreement * summary.answered);
  const final = (agreement: number, confidence: number | undefined, answered: number): DifficultyBin =>
    binOf(agreement, confidence, answered, thresholds);
  reachable.add(final(summary.agreement, summary.confidence, summary.answered));
  if (remaining <= 0) return reachable;
  // Hard: every remaining sample answers something else (or nothing).
  if (summary.answered === 0 || leader / (summary.answered + remaining) <= thresholds.hardAgreement) reachable.add('hard');
  // Easy: every remaining sample agrees with a unanimous majority, reporting full confidence.
  const agreeing = candidates.filter((candidate) => candidate.normalized !== undefined && candidate.normalized === summary.normalized);
  const sum = agreeing.reduce((total, candidate) => total + (candidate.confidence ?? 0), 0);
  if (
    (summary.answered === 0 || summary.agreement === 1) &&
    (sum + remaining) / (agreeing.length + remaining) >= thresholds.easyConfidence &&
    thresholds.easyAgreement <= 1
  )
    reachable.add('easy');
  // Medium: one more vote for a runner-up lands strictly between the hard and easy thresholds in all but edge cases; assume it can.
  reachable.add('medium');
  return reachable;
}

/** Majority, its agreement and its mean confidence over any list of vote candidates. */
export function summarise(candidates: readonly Candidate[]): {
  answer: string | undefined;
  normalized: string | undefined;
  agreement: number;
  confidence: number | undefined;
  answered: number;
  votes: Record<string, number>;
} {
  const decision = majority(candidates);
  const answered = candidates.filter((candidate) => candidate.normalized !== undefined).length;
  const agreeing = candidates.filter((candidate) => candidate.normalized !== undefined && candidate.normalized === decision.normalized);
  const confidences = agreeing.flatMap((candidate) => (candidate.confidence === undefined ? [] : [candidate.confidence]));
  const votes: Record<string, number> = {};
  for (const candidate of candidates)
    if (candidate.normalized !== undefined) votes[candidate.normalized] = (votes[candidate.normalized] ?? 0) + 1;
  return {
    answer: decision.answer,
    normalized: decision.normalized,
    agreement: answered === 0 ? 0 : agreeing.length / answered,
    confidence: confidences.length === 0 ? undefined : confidences.reduce((sum, value) => sum + value, 0) / confidences.length,
    answered,
    votes,
  };
}

export function binOf(
  agreement: number,
  confidence: number | undefined,
  answered: number,
  thresholds: GovernorPolicy['difficulty'],
): DifficultyBin {
  if (answered === 0 || agreement <= thresholds.hardAgreement) return 'hard';
  // One answered sample "agrees with itself": it cannot make a query easy on agreement alone.
  if (answered >= 2 && agreement >= thresholds.easyAgreement && (confidence ?? 0) >= thresholds.easyConfidence) return 'easy';
  return 'medium';
}
