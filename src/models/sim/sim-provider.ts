/**
 * `SimProvider`: one simulated model (`sim:<profile>`) behind the real provider interface, so the fleet's
 * budget, retry, journal and timeout code runs unchanged against it.
 *
 * Determinism: every random decision comes from `rngFor(seed, purpose, callIdentity)`, where the identity is
 * a canonical hash of (model, messages, stepId, taskId, temperature, request seed, purpose, candidate) — never
 * from a shared stream — so responses are byte-identical whatever the concurrency or call order. At
 * temperature 0 the identity leaves out stepId (greedy decoding answers the same every time). Faults add the
 * attempt number, so a retry can succeed; answers deliberately do not, so the answer a retry returns is the
 * one an unfaulted call would have returned and fault rates cannot bias measured accuracy.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  CancelledError,
  ContextOverflowError,
  ThicketError,
  canonicalJson,
  countMessageTokens,
  extractAnswer,
  hashValue,
  PrefixHasher,
  messageFields,
  sameMessage,
  rngFor,
  type Clock,
} from '../../core/index.ts';
import {
  MODEL_SPEC_VERSION,
  type ChatMessage,
  type FinishReason,
  type GenerateRequest,
  type GenerateResponse,
  type ModelProvider,
} from '../spec.ts';
import { CALL_PURPOSE } from '../../formats/index.ts';
import { contextBonus, drawAnswer, instanceNoise, probabilityCorrect, scanContext, selfConfidence, verifyCandidate } from './accuracy.ts';
import { arithmeticTask } from './arithmetic.ts';
import { drawFaults, faultDelayMs, faultError } from './faults.ts';
import {
  CLOSING_TOKENS,
  JSON_CLOSING_TOKENS,
  answerText,
  malformedJsonText,
  placeholderText,
  structuredText,
  truncatedText,
  verdictText,
} from './output.ts';
import type { SimProfile } from './profiles.ts';
import { soloTranscript } from './solo.ts';
import { threadStep } from './thread-steps.ts';
import { searchStepDraft } from './search-policy.ts';
import { simPlanDraft } from './planner-policy.ts';
import { agentsNetDraft } from './agent-policy.ts';
import type { ResolvedTask, TaskOracleRegistry } from './tasks.ts';

export interface SimProviderOptions {
  /** Profile name; becomes the modelId (`small` for `sim:small`). */
  profileName: string;
  profile: SimProfile;
  /** Fleet seed: with the call identity, determines every simulated outcome. */
  seed: number;
  clock: Clock;
  tasks: TaskOracleRegistry;
}

/**
 * Requested reasoning effort (`metadata.tags.reasoningEffort`) as a multiplier on the profile's verbosity:
 * a named level, or a number. More effort = more output tokens; only reasoners turn them into accuracy.
 */
const EFFORT: Record<string, number> = { minimal: 0.25, low: 0.5, medium: 1, high: 2.5, xhigh: 5, max: 5 };

export function effortMultiplier(value: string | undefined): number {
  if (value === undefined) return 1;
  const named = EFFORT[value.trim().toLowerCase()];
  if (named !== undefined) return named;
  const numeric = Number(value);
  return Number.isFinite(numeric) && numeric > 0 ? Math.min(20, Math.max(0.05, numeric)) : 1;
}

/**
 * Prompt tokens as a real provider would count them. The counting itself is memoised per message text in
 * the tokenizer's cache (src/core/tokenizer.ts), which is bounded by memory rather than by entry count: an
 * entry cap (this file used to keep its own 8,192-entry map, keyed by role + content) evicts at 1,000-agent
 * scale, where a persistent history re-sends tens of thousands of distinct messages every round, and building
 * a role + content key per message per call copied the whole history each time (O(R²) characters per agent).
 * Looking the content string itself up is O(1) once V8 has hashed it, so a call costs one lookup per message.
 */
export function promptTokens(messages: readonly ChatMessage[]): number {
  return countMessageTokens(messages);
}

/** The parts of a simulated call that decide its outcome (see the file comment). */
interface CallIdentity {
  model: string;
  messages: readonly ChatMessage[];
  stepId: string | undefined;
  taskId: string | undefined;
  temperature: number | undefined;
  seed: number | undefined;
  purpose: string | undefined;
  candidate: string | undefined;
}

/** A message's canonical JSON (sorted keys): the fast form for plain { role, content } messages. */
function messageJson(message: ChatMessage): string {
  const keys = Object.keys(message);
  const plain =
    keys.length === 2 &&
    typeof message.role === 'string' &&
    typeof message.content === 'string' &&
    keys.includes('role') &&
    keys.includes('content');
  return plain ? `{"content":${JSON.stringify(message.content)},"role":${JSON.stringify(message.role)}}` : canonicalJson(message);
}

/**
 * The hash state after `{"messages":[m0,…,mi` for a chat prefix, cached per message object by the shared
 * incremental hasher (core `PrefixHasher`): a chat re-sends its whole history every turn, so only what is new
 * since the previous call is hashed (O(R) instead of O(R²) per agent).
 */
const messagesPrefix = new PrefixHasher<ChatMessage>(messageJson, messageFields, ',', sameMessage);
const MESSAGES_ROOT = '{"messages":[';

function messagesPrefixState(messages: readonly ChatMessage[]): Hash {
  return messagesPrefix.stateAfter(MESSAGES_ROOT, messages);
}

/**
 * `hashValue(identity)`, byte for byte (keys in sorted order, undefined fields left out; a test holds the
 * two equal), without canonicalJson's per-node replacer and without re-hashing a chat's earlier messages.
 */
export function callIdentityHash(identity: CallIdentity): string {
  let state: Hash;
  if (identity.candidate === undefined) state = messagesPrefixState(identity.messages);
  else {
    // Verifier calls (a candidate sorts before the messages): rare and short, hashed whole.
    state = createHash('sha256').update(
      `{"candidate":${JSON.stringify(identity.candidate)},"messages":[${identity.messages.map(messageJson).join(',')}`,
    );
  }
  let tail = `],"model":${JSON.stringify(identity.model)}`;
  if (identity.purpose !== undefined) tail += `,"purpose":${JSON.stringify(identity.purpose)}`;
  if (identity.seed !== undefined) tail += `,"seed":${JSON.stringify(identity.seed)}`;
  if (identity.stepId !== undefined) tail += `,"stepId":${JSON.stringify(identity.stepId)}`;
  if (identity.taskId !== undefined) tail += `,"taskId":${JSON.stringify(identity.taskId)}`;
  if (identity.temperature !== undefined) tail += `,"temperature":${JSON.stringify(identity.temperature)}`;
  return state.update(`${tail}}`).digest('hex');
}

/** The error an aborted call rejects with: the signal's own Cancelled/Timeout error when it carries one. */
function abortError(signal: AbortSignal): ThicketError {
  const reason: unknown = signal.reason;
  if (ThicketError.isInstance(reason) && (reason.code === 'TIMEOUT' || reason.code === 'CANCELLED')) return reason;
  return new CancelledError('The simulated call was cancelled.', { cause: reason });
}

interface Draft {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

export class SimProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'sim';
  readonly modelId: string;
  readonly profile: SimProfile;
  private readonly seed: number;
  private readonly clock: Clock;
  private readonly tasks: TaskOracleRegistry;

  constructor(options: SimProviderOptions) {
    this.modelId = options.profileName;
    this.profile = options.profile;
    this.seed = options.seed;
    this.clock = options.clock;
    this.tasks = options.tasks;
  }

  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    const signal = request.abortSignal;
    if (signal?.aborted) throw abortError(signal);
    const profile = this.profile;
    const model = `sim:${this.modelId}`;

    const inputTokens = promptTokens(request.messages);
    if (inputTokens + request.maxOutputTokens > profile.contextWindow)
      throw new ContextOverflowError(model, inputTokens, profile.contextWindow);

    const metadata = request.metadata;
    const tags = metadata?.tags;
    const purpose = tags?.['purpose'] === CALL_PURPOSE.verify ? 'verify' : 'answer';
    const candidate = purpose === 'verify' ? tags?.['candidate'] : undefined;
    const identity = callIdentityHash({
      model: this.modelId,
      messages: request.messages,
      stepId: request.temperature === 0 ? undefined : metadata?.stepId,
      taskId: metadata?.taskId,
      temperature: request.temperature,
      seed: request.seed,
      purpose: tags?.['purpose'],
      candidate: tags?.['candidate'],
    });

    const attempt = typeof metadata?.attempt === 'number' ? metadata.attempt : Number(tags?.['attempt'] ?? 0) || 0;
    const faults = drawFaults(rngFor(this.seed, 'fault', identity, attempt), profile.faults);
    if (faults.call) {
      await this.wait(faultDelayMs(faults.call, profile.latency.ttftMs), signal);
      throw faultError(faults.call, model);
    }

    // AgentsNet agents read their own prompt format (agent-policy.ts); the arithmetic oracle is not consulted.
    const task = tags?.['purpose'] === CALL_PURPOSE.agentsnet ? undefined : this.findTask(request);
    const structured = request.responseSchema !== undefined;
    const closing = structured ? JSON_CLOSING_TOKENS : CLOSING_TOKENS;
    const effort = effortMultiplier(tags?.['reasoningEffort']);
    const rng = rngFor(this.seed, 'sample', identity);

    let draft: Draft;
    const purposeTag = tags?.['purpose'];
    if (purposeTag === CALL_PURPOSE.agentsnet) {
      draft = agentsNetDraft({
        profile,
        seed: this.seed,
        rng,
        messages: request.messages,
        maxOutputTokens: request.maxOutputTokens,
        effort,
        model,
      });
    } else if (purposeTag === CALL_PURPOSE.threadStep && request.responseSchema) {
      draft = this.threadStep(rng, request, task, effort, faults.output.truncated ? faults.output.truncateAt : undefined);
    } else if (purposeTag === CALL_PURPOSE.solo) {
      const solo = soloTranscript({
        profile,
        seed: this.seed,
        rng,
        task,
        messages: request.messages,
        schema: request.responseSchema?.schema,
        effort,
        maxOutputTokens: request.maxOutputTokens,
        closingTokens: closing,
      });
      draft = { ...solo, raw: { ...solo.raw, model } };
    } else if (purposeTag === CALL_PURPOSE.plan) {
      // Governor planner calls: a workflow spec chosen by the task's difficulty (planner-policy.ts).
      draft = simPlanDraft({
        profile,
        model,
        seed: this.seed,
        identity,
        task,
        messages: request.messages,
        maxOutputTokens: request.maxOutputTokens,
      });
    } else if (!task) {
      draft = this.placeholder(purpose, request, closing);
    } else {
      const noise = instanceNoise(this.seed, task.key);
      const evidence = scanContext(request.messages, task);
      const bonus = contextBonus(evidence);
      // Output length: noisy around verbosity, longer on hard items (much longer for reasoners).
      const scale = purpose === 'verify' ? 0.6 : 1;
      const planned = Math.max(
        8,
        Math.round(
          profile.verbosity * scale * effort * (1 + profile.verbosityGrowth * Math.max(0, task.difficulty)) * Math.exp(0.3 * rng.normal()),
        ),
      );
      const needed = planned + closing;
      const cutByLimit = needed > request.maxOutputTokens;
      const cutByFault = !cutByLimit && faults.output.truncated;
      const outputTokens = cutByLimit
        ? request.maxOutputTokens
        : cutByFault
          ? Math.max(1, Math.floor(needed * faults.output.truncateAt))
          : needed;
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
      if (tags?.['purpose'] === CALL_PURPOSE.searchStep) {
        draft = searchStepDraft({
          rng,
          profile,
          task,
          spec: task.id === undefined ? undefined : this.tasks.getTask(task.id),
          messages: request.messages,
          instanceNoise: noise,
          plannedTokens: planned,
          maxOutputTokens: request.maxOutputTokens,
          truncateAt: faults.output.truncated ? faults.output.truncateAt : undefined,
          responseSchema: request.responseSchema?.schema,
          base,
        });
      } else if (cutByLimit || cutByFault) {
        const full = structured ? JSON.stringify({ reasoning: truncatedText(subjectOf(task)) }) : truncatedText(subjectOf(task));
        draft = {
          text: structured ? full.slice(0, Math.floor(full.length / 2)) : full,
          outputTokens,
          finishReason: 'length',
          confidence: 0,
          raw: { ...base, truncated: cutByLimit ? 'maxOutputTokens' : 'fault', answered: false },
        };
      } else if (purpose === 'verify') {
        draft = this.verify(rng, request, task, candidate, noise, bonus, outputTokens, base);
      } else {
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
        draft = {
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
    }

    if (structured && faults.output.malformedJson && draft.finishReason === 'stop') {
      draft = { ...draft, text: malformedJsonText(draft.text), raw: { ...draft.raw, malformedJson: true } };
    }
    if (request.stop && request.stop.length > 0 && draft.finishReason === 'stop') draft = applyStop(draft, request.stop, closing);

    // Reported latency is the simulated one, not a clock difference: byte-identical across clocks and schedules.
    const latencyMs = Math.round(profile.latency.ttftMs + profile.latency.perTokenMs * draft.outputTokens);
    await this.wait(latencyMs, signal);
    return {
      text: draft.text,
      usage: { inputTokens, outputTokens: draft.outputTokens },
      usageEstimated: false,
      finishReason: draft.finishReason,
      latencyMs,
      simulated: true,
      raw: draft.raw,
      confidence: draft.confidence,
    };
  }

  /**
   * One step of a thread (ops/thread.ts): JSON restricted to the step schema, or — over the output limit or
   * under a truncation fault — half of it with finishReason 'length', as a real provider would cut it off.
   */
  private threadStep(
    rng: ReturnType<typeof rngFor>,
    request: GenerateRequest,
    task: ResolvedTask | undefined,
    effort: number,
    truncateAt: number | undefined,
  ): Draft {
    const schema = request.responseSchema?.schema ?? {};
    const step = threadStep({ profile: this.profile, seed: this.seed, rng, task, messages: request.messages, schema, effort });
    const text = structuredText(schema, step.fields);
    const raw = {
      ...step.raw,
      simulated: true,
      model: `sim:${this.modelId}`,
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

  /** Registered task by metadata id first; else the arithmetic oracle over the last user message. */
  private findTask(request: GenerateRequest): ResolvedTask | undefined {
    const taskId = request.metadata?.taskId;
    if (taskId !== undefined) {
      const registered = this.tasks.resolve(taskId);
      if (registered) return registered;
    }
    for (let index = request.messages.length - 1; index >= 0; index--) {
      const message = request.messages[index] as ChatMessage;
      if (message.role === 'user') return arithmeticTask(message.content);
    }
    return undefined;
  }

  private verify(
    rng: ReturnType<typeof rngFor>,
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
      profile: this.profile,
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
  private placeholder(purpose: 'answer' | 'verify', request: GenerateRequest, closing: number): Draft {
    const needed = 24 + closing;
    const raw = { simulated: true, kind: 'placeholder', purpose, model: `sim:${this.modelId}` };
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

  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.clock.sleep(ms, signal);
    } catch (error) {
      throw signal?.aborted ? abortError(signal) : error;
    }
  }
}

/**
 * Stop sequences end the text early (finishReason stays 'stop'). Usage shrinks with it: cutting inside the
 * closing lines saves their tokens, cutting inside the reasoning saves that share of the reasoning tokens.
 */
function applyStop(draft: Draft, stop: readonly string[], closingTokens: number): Draft {
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
