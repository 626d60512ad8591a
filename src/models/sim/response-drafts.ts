/**
 * What a simulated model writes: the draft (text, output tokens, finish reason, confidence, raw trace) of an
 * answer to a known task, of a verification of a candidate, of a thread step, or of a clearly marked
 * placeholder when no task is known — and how a stop sequence cuts a draft short. Which draft a call gets,
 * its faults and its latency are decided in sim-provider.ts; the accuracy model itself is accuracy.ts.
 */
import { CALL_PURPOSE } from '../../formats/index.ts';
import { extractAnswer, hashValue, type Rng } from '../../core/index.ts';
import type { FinishReason, GenerateRequest } from '../spec.ts';
import { contextBonus, drawAnswer, instanceNoise, probabilityCorrect, scanContext, selfConfidence, verifyCandidate } from './accuracy.ts';
import type { OutputFaults } from './faults.ts';
import { answerText, placeholderText, structuredText, truncatedText, verdictText } from './output.ts';
import type { SimProfile } from './profiles.ts';
import { searchStepDraft } from './search-policy.ts';
import type { ResolvedTask, TaskOracleRegistry } from './tasks.ts';
import { threadStep } from './thread-steps.ts';
import { plannedOutputTokens } from './usage-model.ts';

export interface Draft {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

export interface TaskDraftInput {
  profile: SimProfile;
  /** Fleet seed (the task's instance noise derives from it). */
  seed: number;
  /** `sim:<profile>`, as the raw trace names it. */
  model: string;
  rng: Rng;
  request: GenerateRequest;
  task: ResolvedTask;
  purpose: 'answer' | 'verify';
  /** The candidate a verifier call was tagged with, if any. */
  candidate: string | undefined;
  effort: number;
  /** Tokens of the closing lines (answer/verdict, or the JSON wrapper). */
  closing: number;
  outputFaults: OutputFaults;
  /** Registered tasks: a search-tool step reads its task's spec. */
  tasks: TaskOracleRegistry;
}

/** A call about a known task: cut short (output limit or fault), a search step, a verification, or an answer. */
export function taskDraft(input: TaskDraftInput): Draft {
  const { profile, seed, model, rng, request, task, purpose, candidate, effort, closing, outputFaults: faults } = input;
  const structured = request.responseSchema !== undefined;
  const noise = instanceNoise(seed, task.key);
  const evidence = scanContext(request.messages, task);
  const bonus = contextBonus(evidence);
  const scale = purpose === 'verify' ? 0.6 : 1;
  const planned = plannedOutputTokens(profile, scale, effort, task.difficulty, rng);
  const needed = planned + closing;
  const cutByLimit = needed > request.maxOutputTokens;
  const cutByFault = !cutByLimit && faults.truncated;
  const outputTokens = cutByLimit ? request.maxOutputTokens : cutByFault ? Math.max(1, Math.floor(needed * faults.truncateAt)) : needed;
  const base = {
    simulated: true,
    kind: purpose,
    model,
    taskId: task.id,
    taskKey: task.key,
    source: task.source,
    difficulty: task.difficulty,
    instanceNoise: round(noise),
    contextBonus: round(bonus),
    effort,
    reasoningTokens: outputTokens,
  };
  // Search-tool loop steps (ops `search`): answer from the evidence or ask for another search; see search-policy.ts.
  if (request.metadata?.tags?.['purpose'] === CALL_PURPOSE.searchStep) {
    return searchStepDraft({
      rng,
      profile,
      task,
      spec: task.id === undefined ? undefined : input.tasks.getTask(task.id),
      messages: request.messages,
      instanceNoise: noise,
      plannedTokens: planned,
      maxOutputTokens: request.maxOutputTokens,
      truncateAt: faults.truncated ? faults.truncateAt : undefined,
      responseSchema: request.responseSchema?.schema,
      base,
    });
  }
  if (cutByLimit || cutByFault) {
    const full = structured ? JSON.stringify({ reasoning: truncatedText(subjectOf(task)) }) : truncatedText(subjectOf(task));
    return {
      text: structured ? full.slice(0, Math.floor(full.length / 2)) : full,
      outputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...base, truncated: cutByLimit ? 'maxOutputTokens' : 'fault', answered: false },
    };
  }
  if (purpose === 'verify') return verifyDraft(rng, profile, request, task, candidate, noise, bonus, outputTokens, base);
  const pCorrect = probabilityCorrect({
    profile,
    difficulty: task.difficulty,
    instanceNoise: noise,
    reasoningTokens: outputTokens,
    contextBonus: bonus,
  });
  const drawn = drawAnswer(rng, task, pCorrect, evidence);
  const confidence = selfConfidence(rng, profile, pCorrect, drawn.correct);
  const text = structured
    ? structuredText(request.responseSchema?.schema ?? {}, {
        answer: drawn.answer,
        confidence,
        reasoning: '[simulated] Simulated reasoning; not real model output.',
      })
    : answerText({ subject: subjectOf(task), answer: drawn.answer, confidence });
  return {
    text,
    outputTokens,
    finishReason: 'stop',
    confidence,
    raw: {
      ...base,
      answer: drawn.answer,
      correct: drawn.correct,
      pCorrect: round(pCorrect),
      propagated: drawn.propagated,
      dominantDistractorShare: round(task.distractors[0]?.weight ?? 0),
    },
  };
}

/**
 * One step of a thread (ops/thread.ts): JSON restricted to the step schema, or — over the output limit or
 * under a truncation fault — half of it with finishReason 'length', as a real provider would cut it off.
 */
export function threadStepDraft(input: {
  profile: SimProfile;
  seed: number;
  model: string;
  rng: Rng;
  request: GenerateRequest;
  task: ResolvedTask | undefined;
  effort: number;
  truncateAt: number | undefined;
}): Draft {
  const { profile, seed, model, rng, request, task, effort, truncateAt } = input;
  const schema = request.responseSchema?.schema ?? {};
  const step = threadStep({ profile, seed, rng, task, messages: request.messages, schema, effort });
  const text = structuredText(schema, step.fields);
  const raw = {
    ...step.raw,
    simulated: true,
    model,
    ...(task ? { taskKey: task.key } : {}),
    ...(step.correct !== undefined ? { correct: step.correct } : {}),
  };
  const needed = step.plannedTokens;
  if (needed > request.maxOutputTokens || truncateAt !== undefined) {
    const outputTokens = needed > request.maxOutputTokens ? request.maxOutputTokens : Math.max(1, Math.floor(needed * (truncateAt ?? 1)));
    return {
      text: text.slice(0, Math.floor(text.length / 2)),
      outputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, truncated: needed > request.maxOutputTokens ? 'maxOutputTokens' : 'fault' },
    };
  }
  return { text, outputTokens: needed, finishReason: 'stop', confidence: 0.5, raw };
}

function verifyDraft(
  rng: Rng,
  profile: SimProfile,
  request: GenerateRequest,
  task: ResolvedTask,
  candidateTag: string | undefined,
  noise: number,
  bonus: number,
  outputTokens: number,
  base: Record<string, unknown>,
): Draft {
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const candidate = candidateTag ?? (lastUser ? extractAnswer(lastUser.content) : undefined) ?? '';
  const decision = verifyCandidate(rng, {
    profile,
    task,
    candidate,
    instanceNoise: noise,
    reasoningTokens: outputTokens,
    contextBonus: bonus,
  });
  const text = request.responseSchema
    ? structuredText(request.responseSchema.schema, {
        verdict: decision.accepted ? 'correct' : 'incorrect',
        correct: decision.accepted,
        score: decision.score,
        confidence: decision.score,
        reasoning: '[simulated] Simulated checking; not real model output.',
      })
    : verdictText(candidate, decision.accepted, decision.score);
  return {
    text,
    outputTokens,
    finishReason: 'stop',
    confidence: decision.score,
    raw: {
      ...base,
      candidate,
      candidateCorrect: decision.candidateCorrect,
      accepted: decision.accepted,
      pRight: round(decision.pRight),
      score: decision.score,
    },
  };
}

/** No oracle: clearly marked stand-in text (a coin-flip verdict for verifier calls, so callers still parse). */
export function placeholderDraft(purpose: 'answer' | 'verify', model: string, request: GenerateRequest, closing: number): Draft {
  const needed = 24 + closing;
  const raw = { simulated: true, kind: 'placeholder', purpose, model };
  if (needed > request.maxOutputTokens) {
    return {
      text: placeholderText(purpose).slice(0, 40),
      outputTokens: request.maxOutputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, truncated: 'maxOutputTokens' },
    };
  }
  let text = placeholderText(purpose);
  if (purpose === 'verify') {
    const accepted = hashValue(request.messages).charCodeAt(0) % 2 === 0;
    text = request.responseSchema
      ? structuredText(request.responseSchema.schema, {
          verdict: accepted ? 'correct' : 'incorrect',
          correct: accepted,
          score: 0.5,
          confidence: 0.5,
          reasoning: text,
        })
      : `${text}\nVERDICT: ${accepted ? 'correct' : 'incorrect'}\nSCORE: 0.50`;
    return { text, outputTokens: needed, finishReason: 'stop', confidence: 0.5, raw };
  }
  if (request.responseSchema)
    text = structuredText(request.responseSchema.schema, { answer: '[simulated placeholder]', confidence: 0, reasoning: text });
  return { text, outputTokens: needed, finishReason: 'stop', confidence: 0, raw };
}

/**
 * Stop sequences end the text early (finishReason stays 'stop'). Usage shrinks with it: cutting inside the
 * closing lines saves their tokens, cutting inside the reasoning saves that share of the reasoning tokens.
 */
export function applyStop(draft: Draft, stop: readonly string[], closingTokens: number): Draft {
  let cut = -1;
  for (const sequence of stop) {
    if (sequence.length === 0) continue;
    const index = draft.text.indexOf(sequence);
    if (index >= 0 && (cut < 0 || index < cut)) cut = index;
  }
  if (cut < 0) return draft;
  const closingStart = Math.max(draft.text.lastIndexOf('\nAnswer:'), draft.text.lastIndexOf('\nVERDICT:'));
  const reasoningTokens = Math.max(0, draft.outputTokens - closingTokens);
  const outputTokens =
    closingStart > 0 && cut >= closingStart
      ? reasoningTokens + Math.round((closingTokens * (cut - closingStart)) / Math.max(1, draft.text.length - closingStart))
      : Math.round(
          ((closingStart > 0 ? reasoningTokens : draft.outputTokens) * cut) /
            Math.max(1, closingStart > 0 ? closingStart : draft.text.length),
        );
  return {
    ...draft,
    text: draft.text.slice(0, cut),
    outputTokens: Math.max(1, Math.min(draft.outputTokens, outputTokens)),
    raw: { ...draft.raw, stopped: true },
  };
}

/** Digit-free on purpose (see output.ts): task ids often contain numbers. */
const subjectOf = (task: ResolvedTask): string => (task.source === 'registry' ? 'the registered task' : 'the arithmetic in the prompt');

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
