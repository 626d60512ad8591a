/**
 * Width over free text: how N replies to an open-ended question become one, when most of them carry no short
 * answer to vote on ("Explain why the sky is blue", "Summarise …"). Voting must not need a short answer.
 *
 *   1. identical replies (after normalisation) held by more than half of the samples win, with no call;
 *   2. else universal self-consistency (USC; Chen et al., arXiv 2311.17311): ONE extra call, through the same
 *      budgeted and journaled call path as every other, shows the model every reply and asks which is the most
 *      consistent with the others; its choice ("Response 3", "the most consistent response is Response 3",
 *      `Answer: 3`, JSON) is parsed and mapped back to a reply;
 *   3. else — the budget refused that call, or its choice could not be read — the reply most similar to all the
 *      others (the medoid under cosine similarity of word counts: a weight-free stand-in for an embedder, which
 *      would need its own budgeted path), recorded as a degradation.
 *
 * Ties go to the lowest sample index, so the choice never depends on completion order.
 */
import {
  BudgetExhaustedError,
  extractAnswerDetailed,
  isSimulatedPlaceholder,
  normalizeAnswer,
  type AnswerExtractor,
} from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate } from './generate.ts';

/** What the free-text vote sees of a sample. */
export interface FreeTextSample {
  index: number;
  text: string;
  answer: string | undefined;
  extractor?: AnswerExtractor | undefined;
  truncated?: boolean;
  nodeId: string | undefined;
}

/** How the reply was chosen: `identical` replies, `usc` (the model picked), `similarity` (fallback), `only-reply`. */
export type FreeTextVia = 'identical' | 'usc' | 'similarity' | 'only-reply';

export interface FreeTextChoice {
  /** The chosen sample. */
  index: number;
  text: string;
  via: FreeTextVia;
  /** Share of samples with the same reply (`identical`), else the chosen reply's mean similarity to the others. */
  confidence: number;
  calls: number;
  simulated: boolean;
  budgetExhausted: boolean;
  degraded: string[];
  details: Record<string, unknown>;
}

/** Replies that can be chosen: not cut off, not empty, not the simulated fleet's stand-in. */
function usable(samples: readonly FreeTextSample[]): FreeTextSample[] {
  return samples
    .filter((sample) => !sample.truncated && sample.text.trim() !== '' && !isSimulatedPlaceholder(sample.text))
    .sort((a, b) => a.index - b.index);
}

/**
 * True when most samples carry no explicit short answer (a last number alone is not one), and at least one
 * reply can be chosen. A sample whose extractor is unknown but that has an answer counts as explicit.
 */
export function isFreeText(samples: readonly FreeTextSample[]): boolean {
  if (usable(samples).length === 0) return false;
  const explicit = samples.filter((sample) => sample.answer !== undefined && sample.extractor !== 'last-number').length;
  return explicit * 2 < samples.length;
}

export const FREE_TEXT_USC_SYSTEM_PROMPT =
  'You compare several responses to the same question. Select the response that is most consistent with the others ' +
  '(the majority consensus: what most of them say, however they phrase it). End with exactly: ' +
  "'The most consistent response is Response <k>.'";

/** The USC prompt of the paper's free-form variant: the question, then every response verbatim, numbered. */
export function freeTextUscMessages(question: string, replies: readonly FreeTextSample[]): ChatMessage[] {
  const listed = replies.map((reply, position) => `Response ${position + 1}:\n${reply.text.trim()}`).join('\n\n');
  return [
    { role: 'system', content: FREE_TEXT_USC_SYSTEM_PROMPT },
    {
      role: 'user',
      content:
        `I have generated the following responses to the question below.\n\nQuestion:\n${question}\n\n${listed}\n\n` +
        'Evaluate these responses. Select the most consistent response based on majority consensus. Start your answer with ' +
        '"The most consistent response is Response X" (without quotes).',
    },
  ];
}

/**
 * The response number a USC reply chose (1-based, within 1..count): "most consistent response is Response k"
 * (last such statement), else an extracted answer naming it ("Response k", "k", JSON), else the only response
 * number the reply mentions. Undefined when it cannot be read.
 */
export function parseFreeTextChoice(text: string, count: number): number | undefined {
  const valid = (k: number): number | undefined => (Number.isInteger(k) && k >= 1 && k <= count ? k : undefined);
  const stated = [...text.matchAll(/most\s+consistent\s+(?:response|answer|one)?[^\d\n]{0,30}?(?:response|#|number)\s*#?\s*(\d+)/gi)].at(
    -1,
  );
  if (stated) return valid(Number(stated[1]));
  const answer = extractAnswerDetailed(text, { noLastNumber: true })?.value;
  if (answer !== undefined) {
    const named = /^(?:response|candidate|#)?\s*#?\s*(\d+)$/i.exec(answer.trim());
    if (named) return valid(Number(named[1]));
  }
  const mentioned = new Set([...text.matchAll(/\bresponse\s*#?\s*(\d+)/gi)].map((match) => Number(match[1])));
  return mentioned.size === 1 ? valid([...mentioned][0]!) : undefined;
}

const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was were which with'.split(' '),
);

function wordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    if (!STOP_WORDS.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (const [word, count] of a) {
    normA += count * count;
    dot += count * (b.get(word) ?? 0);
  }
  for (const count of b.values()) normB += count * count;
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Each reply's mean similarity to the others (1 for a reply alone). */
export function meanSimilarities(texts: readonly string[]): number[] {
  const vectors = texts.map(wordCounts);
  return vectors.map((vector, index) => {
    if (vectors.length === 1) return 1;
    let sum = 0;
    vectors.forEach((other, otherIndex) => {
      if (otherIndex !== index) sum += cosine(vector, other);
    });
    return sum / (vectors.length - 1);
  });
}

/** The position of the reply most similar to the others (the medoid); ties to the first. */
function medoid(texts: readonly string[]): { position: number; similarity: number } {
  const similarities = meanSimilarities(texts);
  let best = 0;
  similarities.forEach((value, position) => {
    if (value > similarities[best]! + 1e-12) best = position;
  });
  return { position: best, similarity: similarities[best] ?? 0 };
}

export interface FreeTextOptions {
  question: string;
  uscModel?: string;
  maxOutputTokens?: number;
  operator: string;
  axis: string;
}

/** Picks one reply out of free-text samples (see the module doc). Undefined when no reply can be chosen. */
export async function chooseFreeText(
  context: OpContext,
  samples: readonly FreeTextSample[],
  options: FreeTextOptions,
): Promise<FreeTextChoice | undefined> {
  const replies = usable(samples);
  if (replies.length === 0) return undefined;
  const base = { calls: 0, simulated: false, budgetExhausted: false, degraded: [] as string[] };
  const pick = (reply: FreeTextSample, via: FreeTextVia, confidence: number, details: Record<string, unknown> = {}): FreeTextChoice => ({
    ...base,
    index: reply.index,
    text: reply.text.trim(),
    via,
    confidence,
    details: { freeText: via, replies: replies.length, ...details },
  });
  if (replies.length === 1) return pick(replies[0]!, 'only-reply', 1);
  // The same reply from most samples needs no judge.
  const groups = new Map<string, FreeTextSample[]>();
  for (const reply of replies) {
    const key = normalizeAnswer(reply.text);
    groups.set(key, [...(groups.get(key) ?? []), reply]);
  }
  for (const group of groups.values())
    if (group.length * 2 > replies.length) return pick(group[0]!, 'identical', group.length / replies.length);

  const similar = (reason: string, details: Record<string, unknown>): FreeTextChoice => {
    const { position, similarity } = medoid(replies.map((reply) => reply.text));
    base.degraded.push(`free text: usc → similarity (${reason})`);
    return pick(replies[position]!, 'similarity', similarity, details);
  };
  let reply;
  try {
    reply = await generate(context, {
      step: 'usc',
      ...(options.uscModel !== undefined ? { model: options.uscModel } : {}),
      messages: freeTextUscMessages(options.question, replies),
      maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      purpose: 'usc',
      operator: options.operator,
      axis: options.axis,
      derivedFrom: replies.flatMap((candidate) => (candidate.nodeId === undefined ? [] : [candidate.nodeId])),
    });
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    // Not a budget stop of the run: the plan never counted on this call (the vote did not know its replies
    // would be free text), and the similarity pick still answers. It is recorded as a degradation.
    return similar('budget', { usc: 'refused by budget' });
  }
  base.calls = 1;
  base.simulated = reply.call.simulated;
  const chosen = parseFreeTextChoice(reply.text, replies.length);
  if (chosen === undefined) return similar('choice not parsed', { usc: 'unparsed', uscReply: reply.text });
  const similarities = meanSimilarities(replies.map((candidate) => candidate.text));
  return pick(replies[chosen - 1]!, 'usc', similarities[chosen - 1] ?? 0, { usc: 'parsed', choice: chosen });
}
