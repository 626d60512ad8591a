/**
 * The allocation arms that are not the router or the planner:
 *
 *   vote    widen the probe's vote to N samples in total: the probe's samples count as the first votes (same
 *           model, prompt and temperature, so they are draws from the same distribution), extra samples are
 *           drawn in waves only as long as the leader can still be overtaken — or, with `lead`, until it is
 *           `lead` votes ahead (adaptive consistency: a clear majority rarely flips, the tail samples are
 *           where width costs most);
 *   thread  decompose: a recursive subtask tree in one context (ops/thread). The probe's answers are NOT put
 *           in its prompt — a claimed answer in a prompt pulls a model towards it (right or wrong), which is
 *           exactly what decomposition is meant to avoid — but the probe's majority stays as the fallback
 *           when the thread produces no answer;
 *   search  the retrieval loop over the query's corpus (ops/search): `steps` retrieval steps of `k` passages.
 *           Offered only when a corpus is available. Like the thread it starts clean (the probe's closed-book
 *           guesses would anchor it) and the probe's majority is only the fallback when it gives no answer.
 *
 * All spend through the context's budget only.
 */
import type { ChatMessage } from '../models/index.ts';
import { ballots, childContext, sample, search, thread, type Candidate, type OpContext, type Retriever } from '../ops/index.ts';
import { VOTE_TEMPERATURE, summarise, type ProbeResult } from './probe.ts';
import { toCandidate } from './router.ts';

export interface VoteArmResult {
  answer: string | undefined;
  agreement: number;
  samples: number;
  reusedProbeSamples: number;
  votes: Record<string, number>;
  waves: number;
  stoppedEarly: boolean;
  calls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
}

export async function extendVote(
  context: OpContext,
  options: {
    probe: ProbeResult | undefined;
    model: string;
    samples: number;
    lead?: number;
    messages: ChatMessage[];
    maxOutputTokens: number;
  },
): Promise<VoteArmResult> {
  const reuse = options.probe !== undefined && options.probe.model === options.model ? options.probe.candidates : [];
  let candidates: Candidate[] = [...reuse];
  let drawn = reuse.length;
  let waves = 0;
  let calls = 0;
  let stoppedEarly = false;
  let budgetExhausted = false;
  let simulated = options.probe?.simulated ?? false;
  const degraded: string[] = [];
  while (drawn < options.samples) {
    const left = options.samples - drawn;
    const list = ballots(candidates);
    const leader = list[0]?.votes ?? 0;
    const second = list[1]?.votes ?? 0;
    // Decided: the runner-up cannot catch up with the samples left, or (adaptive consistency) the leader is
    // `lead` votes ahead — further samples would rarely change the majority, and they cost the most.
    if (drawn > 0 && (leader > second + left || (options.lead !== undefined && leader - second >= options.lead))) {
      stoppedEarly = true;
      break;
    }
    // The smallest wave after which the leader could be safe, if it took every sample of the wave.
    const safe = Math.floor((second + left - leader) / 2) + 1;
    const wave = Math.max(
      1,
      Math.min(left, options.lead === undefined ? safe : Math.min(safe, Math.max(1, options.lead - (leader - second)))),
    );
    const result = await sample(childContext(context, `wave-${waves}`), {
      samples: wave,
      messages: options.messages,
      model: options.model,
      maxOutputTokens: options.maxOutputTokens,
      temperature: VOTE_TEMPERATURE,
      aggregator: 'majority',
      // The arm counts the waves' short answers itself; a free-text pick per wave would only cost calls.
      freeText: false,
      operator: 'vote',
      axis: 'width',
    });
    waves++;
    calls += result.calls;
    simulated ||= result.simulated;
    degraded.push(...result.degraded);
    candidates = [
      ...candidates,
      ...result.details.samples.map((entry) => toCandidate(drawn + entry.index, entry.answer, entry.confidence)),
    ];
    const got = result.details.completed + result.details.failed;
    drawn += got;
    if (result.budgetExhausted || got < wave) {
      budgetExhausted = result.budgetExhausted || got < wave;
      break;
    }
  }
  const summary = summarise(candidates);
  return {
    answer: summary.answer,
    agreement: summary.agreement,
    samples: candidates.length,
    reusedProbeSamples: reuse.length,
    votes: summary.votes,
    waves,
    stoppedEarly,
    calls,
    degraded,
    budgetExhausted,
    simulated,
  };
}

export interface ThreadArmResult {
  answer: string | undefined;
  fromProbe: boolean;
  calls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
}

export async function threadArm(
  context: OpContext,
  options: { query: string; model: string; steps: number; maxOutputTokens: number; probe: ProbeResult | undefined },
): Promise<ThreadArmResult> {
  const result = await thread(childContext(context, 'thread', { model: options.model }), {
    question: options.query,
    model: options.model,
    maxSteps: options.steps,
    maxDepth: 3,
    bufferSize: 2,
    calculator: true,
    maxStepTokens: Math.min(options.maxOutputTokens, 320),
    maxAnswerTokens: Math.min(options.maxOutputTokens, 96),
  });
  const fallback = result.answer === undefined && options.probe?.answer !== undefined;
  return {
    answer: result.answer ?? options.probe?.answer,
    fromProbe: fallback,
    calls: result.calls,
    degraded: fallback ? [...result.degraded, 'thread gave no answer; the probe’s majority stands'] : result.degraded,
    budgetExhausted: result.budgetExhausted,
    simulated: result.simulated || (options.probe?.simulated ?? false),
  };
}

export interface SearchArmResult {
  answer: string | undefined;
  fromProbe: boolean;
  steps: number;
  calls: number;
  degraded: string[];
  budgetExhausted: boolean;
  simulated: boolean;
}

export async function searchArm(
  context: OpContext,
  options: {
    query: string;
    retriever: Retriever;
    model: string;
    steps: number;
    k: number;
    maxOutputTokens: number;
    probe: ProbeResult | undefined;
  },
): Promise<SearchArmResult> {
  const result = await search(childContext(context, 'search', { model: options.model }), {
    question: options.query,
    retriever: options.retriever,
    maxSteps: options.steps,
    k: options.k,
    model: options.model,
    maxOutputTokens: options.maxOutputTokens,
  });
  const fallback = result.answer === undefined && options.probe?.answer !== undefined;
  const steps = typeof result.details['steps'] === 'number' ? result.details['steps'] : options.steps;
  return {
    answer: result.answer ?? options.probe?.answer,
    fromProbe: fallback,
    steps,
    calls: result.calls,
    degraded: fallback ? [...result.degraded, 'search gave no answer; the probe’s majority stands'] : result.degraded,
    budgetExhausted: result.budgetExhausted,
    simulated: result.simulated || (options.probe?.simulated ?? false),
  };
}
