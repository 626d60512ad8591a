/**
 * Width: N independent samples of the same prompt, aggregated by majority vote over normalised answers.
 *
 * Budget behaviour: samples run concurrently, each reserving its own worst case through the fleet. When the
 * budget refuses a sample, no further samples are started and the vote is taken over what finished — the
 * result says how many were refused, so callers can report `budget_exhausted` honestly.
 */
import { BudgetExhaustedError, ThicketError, extractAnswer, normalizeAnswer } from '../core/index.ts';
import type { Budget } from '../budget/index.ts';
import type { CallRecorder, CallResult, ChatMessage, Fleet } from '../models/index.ts';

export interface SampleOptions {
  fleet: Fleet;
  model: string;
  budget: Budget;
  messages: ChatMessage[];
  samples: number;
  maxOutputTokens: number;
  temperature?: number;
  recorder?: CallRecorder;
  signal?: AbortSignal;
  taskId?: string;
  stepPrefix?: string;
  /** How many samples may be in flight at once (the fleet's per-model limit applies too). */
  concurrency?: number;
}

export interface SampleOutcome {
  index: number;
  answer: string | undefined;
  normalized: string | undefined;
  call?: CallResult;
  error?: ThicketError;
}

export interface VoteResult {
  answer: string | undefined;
  /** Share of answered samples that agree with the winner. */
  agreement: number;
  votes: Record<string, number>;
  samples: SampleOutcome[];
  completed: number;
  refusedByBudget: number;
  failed: number;
  simulated: boolean;
}

export async function sampleAndVote(options: SampleOptions): Promise<VoteResult> {
  const outcomes: SampleOutcome[] = [];
  let budgetRefused = false;
  let next = 0;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, options.samples));
  const worker = async (): Promise<void> => {
    while (next < options.samples && !budgetRefused && !options.signal?.aborted) {
      const index = next++;
      try {
        const call = await options.fleet.call(
          options.model,
          {
            messages: options.messages,
            maxOutputTokens: options.maxOutputTokens,
            temperature: options.temperature ?? (options.samples > 1 ? 0.7 : 0),
            metadata: { stepId: `${options.stepPrefix ?? 'sample'}-${index}`, ...(options.taskId ? { taskId: options.taskId } : {}), tags: { operator: 'sample', axis: 'width' } },
          },
          { budget: options.budget, tags: { operator: 'sample', axis: 'width' }, ...(options.recorder ? { recorder: options.recorder } : {}), ...(options.signal ? { signal: options.signal } : {}) },
        );
        const answer = call.finishReason === 'length' && !/answer\s*[:=]/i.test(call.text) ? undefined : extractAnswer(call.text);
        outcomes.push({ index, answer, normalized: answer === undefined ? undefined : normalizeAnswer(answer), call });
      } catch (caught) {
        const error = ThicketError.isInstance(caught) ? caught : new ThicketError('INTERNAL', String(caught), 'other');
        if (error instanceof BudgetExhaustedError) budgetRefused = true;
        outcomes.push({ index, answer: undefined, normalized: undefined, error });
        if (error.category === 'cancelled') return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  outcomes.sort((a, b) => a.index - b.index);
  return tally(outcomes, options.samples);
}

/** Majority vote; ties go to the answer seen first (lowest sample index), so the result is deterministic. */
export function tally(outcomes: SampleOutcome[], requested: number): VoteResult {
  const votes: Record<string, number> = {};
  const firstSeen = new Map<string, { index: number; answer: string }>();
  for (const outcome of outcomes) {
    if (outcome.normalized === undefined || outcome.answer === undefined) continue;
    votes[outcome.normalized] = (votes[outcome.normalized] ?? 0) + 1;
    if (!firstSeen.has(outcome.normalized)) firstSeen.set(outcome.normalized, { index: outcome.index, answer: outcome.answer });
  }
  let winner: string | undefined;
  for (const [key, count] of Object.entries(votes)) {
    const best = winner === undefined ? undefined : votes[winner]!;
    if (best === undefined || count > best || (count === best && firstSeen.get(key)!.index < firstSeen.get(winner!)!.index)) winner = key;
  }
  const answered = Object.values(votes).reduce((sum, count) => sum + count, 0);
  const refusedByBudget = outcomes.filter((outcome) => outcome.error instanceof BudgetExhaustedError).length + Math.max(0, requested - outcomes.length);
  return {
    answer: winner === undefined ? undefined : firstSeen.get(winner)!.answer,
    agreement: winner === undefined || answered === 0 ? 0 : votes[winner]! / answered,
    votes,
    samples: outcomes,
    completed: outcomes.filter((outcome) => outcome.call).length,
    refusedByBudget,
    failed: outcomes.filter((outcome) => outcome.error && !(outcome.error instanceof BudgetExhaustedError)).length,
    simulated: outcomes.some((outcome) => outcome.call?.simulated),
  };
}
