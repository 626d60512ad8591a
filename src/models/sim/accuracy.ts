/**
 * The accuracy model of the simulated fleet (sim-fleet.md, "Behaviour on verifiable tasks"):
 *
 *   P(correct) = σ(a · (θ + gain(tokens) + contextBonus − difficulty − instanceNoise))
 *
 * - instance noise is drawn once per task instance from (seed, task identity) only, so every sample of every
 *   model sees the same "this item is trickier than its difficulty says" offset — errors are correlated and
 *   majority voting saturates below 100% on hard items;
 * - a wrong answer comes from the task's concentrated distractor distribution (or, under error propagation,
 *   copies a wrong claim supplied in the prompt);
 * - self-reported confidence is informative but noisy and biased upwards for small models;
 * - verifier verdicts have true/false positive rates that improve with skill.
 *
 * Everything here is a pure function of its inputs and the Rng it is handed.
 */
import { normalizeAnswer, rngFor, type ChatLikeMessage, type Rng } from '../../core/index.ts';
import type { SimProfile } from './profiles.ts';
import type { ResolvedTask, WeightedAnswer } from './tasks.ts';

/**
 * Spread (sd, in difficulty units) of the per-instance offset. Large enough that voting gains saturate
 * (errors are shared), small enough that a medium model's self-consistency gain stays ~10–18 points.
 * Tuned together with the default profiles.
 */
export const INSTANCE_NOISE_SD = 1.1;

/** Context bonus ceilings (logits): corroborating final answers, correct sub-results, and wrong claims. */
const SUPPORT_BONUS = 1.6;
const PARTIAL_BONUS = 0.5;
const WRONG_PENALTY = 1.5;
/** When a model errs with wrong claims in its prompt, at most this share of its errors copy such a claim. */
const PROPAGATION = 0.7;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const saturate = (count: number): number => 1 - Math.exp(-count);

/** Accuracy gained from spending `tokens` output tokens: γ·log(1 + tokens/τ). */
export function tokenGain(profile: Pick<SimProfile, 'tokenGain' | 'tokenScale'>, tokens: number): number {
  return profile.tokenGain * Math.log1p(Math.max(0, tokens) / profile.tokenScale);
}

/** The task instance's shared offset: depends on the seed and the task's identity, nothing else. */
export function instanceNoise(seed: number, taskKey: string): number {
  return INSTANCE_NOISE_SD * rngFor(seed, 'instance', taskKey).normal();
}

export interface AccuracyInput {
  profile: Pick<SimProfile, 'skill' | 'discrimination' | 'tokenGain' | 'tokenScale'>;
  difficulty: number;
  instanceNoise: number;
  reasoningTokens: number;
  contextBonus: number;
}

export function probabilityCorrect(input: AccuracyInput): number {
  const { profile } = input;
  return sigmoid(
    profile.discrimination *
      (profile.skill + tokenGain(profile, input.reasoningTokens) + input.contextBonus - input.difficulty - input.instanceNoise),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Context: claimed results in the prompt.

interface Claim {
  /** First number right after the claim keyword, normalised. */
  number: string | undefined;
  /** Rest of the line, normalised. */
  phrase: string;
  /** First word of the rest of the line, normalised. */
  word: string;
}

/**
 * "Answer: X", "the answer is X", "Result = X", "final answer: X", "solution: X", "total: X". Bare `=` is not a
 * claim: worked steps (`12+7 = 19`) are full of intermediate values that are not answers.
 */
const CLAIM = /\b(?:final answer|answer|result|solution|total)\b[ \t]*(?:is|was|equals)?[ \t]*[:=]?[ \t]*\**[ \t]*([^\n]*)/gi;
const LEADING_NUMBER = /^\$?(-?\d[\d,]*(?:\.\d+)?)/;

const CLAIM_CACHE_LIMIT = 8192;
const claimCache = new Map<string, readonly Claim[]>();

function claimsIn(content: string): readonly Claim[] {
  const cached = claimCache.get(content);
  if (cached) return cached;
  const claims: Claim[] = [];
  if (/answer|result|solution|total/i.test(content)) {
    for (const match of content.matchAll(CLAIM)) {
      const rest = (match[1] ?? '').trim();
      if (rest.length === 0) continue;
      const number = LEADING_NUMBER.exec(rest)?.[1];
      claims.push({
        number: number === undefined ? undefined : normalizeAnswer(number),
        phrase: normalizeAnswer(rest),
        word: normalizeAnswer(rest.split(/\s+/)[0] ?? ''),
      });
    }
  }
  if (claimCache.size >= CLAIM_CACHE_LIMIT) claimCache.clear();
  claimCache.set(content, claims);
  return claims;
}

export interface ContextEvidence {
  /** Claims of the canonical answer. */
  support: number;
  /** Claims of a correct intermediate result (sub-results of the task). */
  partial: number;
  /** Claims of a wrong answer. */
  wrong: number;
  /** Wrong claimed answers, most frequent first (what error propagation copies). */
  wrongClaims: readonly string[];
}

const NO_EVIDENCE: ContextEvidence = Object.freeze({
  support: 0,
  partial: 0,
  wrong: 0,
  wrongClaims: Object.freeze([]),
});

/**
 * Scans the conversation (user and assistant messages) for claimed results about this task (from other
 * agents, subtasks, search, earlier turns). For a registered task its own prompt text is removed first, so a question that happens to contain
 * "answer: …" does not count as evidence.
 */
export function scanContext(messages: readonly ChatLikeMessage[], task: ResolvedTask): ContextEvidence {
  const intermediates = task.intermediates;
  let support = 0;
  let partial = 0;
  let wrong = 0;
  const wrongCounts = new Map<string, number>();
  const distractors = task.numeric ? undefined : new Set(task.distractors.map((entry) => entry.normalized));
  for (const message of messages) {
    // System prompts set format and behaviour ("reply like `Answer: 42`"); claims come from the conversation.
    if (message.role === 'system') continue;
    const content =
      task.source === 'registry' && task.prompt.length > 0 && message.content.includes(task.prompt)
        ? message.content.split(task.prompt).join(' ')
        : message.content;
    for (const claim of claimsIn(content)) {
      let value: string | undefined;
      let verdict: 'support' | 'partial' | 'wrong' | undefined;
      if (task.numeric) {
        value = claim.number;
        if (value === undefined) continue;
        verdict = value === task.normalizedAnswer ? 'support' : intermediates?.has(value) ? 'partial' : 'wrong';
      } else if (claim.phrase === task.normalizedAnswer || claim.word === task.normalizedAnswer) {
        verdict = 'support';
      } else if (distractors?.has(claim.phrase) || distractors?.has(claim.word)) {
        value = distractors.has(claim.phrase) ? claim.phrase : claim.word;
        verdict = 'wrong';
      }
      if (verdict === 'support') support++;
      else if (verdict === 'partial') partial++;
      else if (verdict === 'wrong' && value !== undefined) {
        wrong++;
        wrongCounts.set(value, (wrongCounts.get(value) ?? 0) + 1);
      }
    }
  }
  if (support === 0 && partial === 0 && wrong === 0) return NO_EVIDENCE;
  const wrongClaims = [...wrongCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value]) => value);
  return { support, partial, wrong, wrongClaims };
}

/** Logit shift from the evidence: saturating in the number of claims, support and harm add up. */
export function contextBonus(evidence: ContextEvidence): number {
  return SUPPORT_BONUS * saturate(evidence.support) + PARTIAL_BONUS * saturate(evidence.partial) - WRONG_PENALTY * saturate(evidence.wrong);
}

// ---------------------------------------------------------------------------------------------------------
// Sampling an answer.

export interface DrawnAnswer {
  answer: string;
  normalized: string;
  correct: boolean;
  /** True when the wrong answer was copied from a claim in the prompt. */
  propagated: boolean;
}

function pickWeighted(distractors: readonly WeightedAnswer[], u: number): WeightedAnswer | undefined {
  let acc = 0;
  for (const entry of distractors) {
    acc += entry.weight;
    if (u < acc) return entry;
  }
  return distractors.at(-1);
}

/**
 * One sampled answer. Draws exactly three uniforms in a fixed order whatever the outcome, so a change in
 * P(correct) (more tokens, more context) moves outcomes monotonically instead of reshuffling the stream.
 */
export function drawAnswer(rng: Rng, task: ResolvedTask, pCorrect: number, evidence: ContextEvidence): DrawnAnswer {
  const u = rng.next();
  const copy = rng.next();
  const pick = rng.next();
  if (u < pCorrect) return { answer: task.answer, normalized: task.normalizedAnswer, correct: true, propagated: false };
  const copied = evidence.wrongClaims[0];
  if (copied !== undefined && copy < PROPAGATION * saturate(evidence.wrong))
    return { answer: copied, normalized: copied, correct: false, propagated: true };
  const entry = pickWeighted(task.distractors, pick);
  if (!entry) return { answer: '[distractor 1]', normalized: normalizeAnswer('[distractor 1]'), correct: false, propagated: false };
  return { answer: entry.answer, normalized: entry.normalized, correct: false, propagated: false };
}

/** Self-reported confidence in [0.01, 0.99], two decimals: tracks the real odds loosely, biased by profile. */
export function selfConfidence(rng: Rng, profile: Pick<SimProfile, 'confidence'>, pCorrect: number, correct: boolean): number {
  const { bias, sharpness, noise } = profile.confidence;
  const p = clamp(pCorrect, 1e-4, 1 - 1e-4);
  const z = bias + sharpness * logit(p) + (correct ? 0.4 : -0.4) + noise * rng.normal();
  return Math.round(clamp(sigmoid(z), 0.01, 0.99) * 100) / 100;
}

// ---------------------------------------------------------------------------------------------------------
// Verifying a candidate answer.

export interface VerifierInput {
  profile: Pick<SimProfile, 'skill' | 'discrimination' | 'tokenGain' | 'tokenScale' | 'verifierQuality'>;
  task: ResolvedTask;
  candidate: string;
  instanceNoise: number;
  reasoningTokens: number;
  contextBonus: number;
}

export interface VerifierDecision {
  candidateCorrect: boolean;
  /** The verifier says "correct". */
  accepted: boolean;
  /** Probability of the verdict it should give (TPR for correct candidates, TNR for wrong ones). */
  pRight: number;
  /** Reported score in (0, 1): > 0.5 for accepted, < 0.5 for rejected, more extreme when the verdict is right. */
  score: number;
}

/**
 * Verification is easier than solving (half the difficulty and instance offset count) and lenient: correct
 * candidates are accepted more readily than wrong ones are caught, and the task's dominant distractor — the
 * plausible mistake — slips through more often than an odd one.
 */
export function verifyCandidate(rng: Rng, input: VerifierInput): VerifierDecision {
  const { profile, task } = input;
  const normalized = normalizeAnswer(input.candidate);
  const candidateCorrect = normalized === task.normalizedAnswer;
  const margin =
    profile.skill +
    profile.verifierQuality +
    0.5 * tokenGain(profile, input.reasoningTokens) +
    0.5 * input.contextBonus -
    0.5 * task.difficulty -
    0.5 * input.instanceNoise;
  const plausible = task.distractors[0]?.normalized === normalized ? 0.6 : 0;
  const pRight = candidateCorrect
    ? sigmoid(profile.discrimination * (margin + 1.0))
    : sigmoid(profile.discrimination * (margin - 0.3 - plausible));
  const right = rng.next() < pRight;
  const accepted = candidateCorrect === right;
  const magnitude = 0.2 + (right ? 1.8 : 0.9) * rng.next();
  const score = Math.round(clamp(sigmoid(accepted ? magnitude : -magnitude), 0.01, 0.99) * 100) / 100;
  return { candidateCorrect, accepted, pRight, score };
}
