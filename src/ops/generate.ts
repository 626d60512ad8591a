/**
 * generate — one model call: a system/persona prompt, a model reference, optional structured output. Every
 * other operator makes its calls through `generate`, so tags, call identity, trace events and answer
 * extraction are done the same way everywhere.
 */
import {
  BudgetExhaustedError,
  ThicketError,
  extractAnswerDetailed,
  normalizeAnswer,
  type AnswerExtractor,
  type ExtractedAnswer,
} from '../core/index.ts';
import type { CallResult, ChatMessage, JsonSchema, RetryPolicy } from '../models/index.ts';
import type { OpContext } from './context.ts';
import type { GraphNodeKind } from './trace.ts';

export interface GenerateOptions {
  /** Appended to the context's step id; must be unique among this operator's calls. */
  step: string;
  /** Model reference; defaults to the context's model. */
  model?: string;
  system?: string;
  /** The user turn; ignored when `messages` is given. */
  prompt?: string;
  messages?: ChatMessage[];
  maxOutputTokens?: number;
  temperature?: number;
  schema?: { name: string; schema: JsonSchema };
  /** What kind of call this is (`answer`, `verify`, `critique`, …); the simulated fleet reads it. */
  purpose?: string;
  /** For verify calls: the candidate answer being judged. */
  candidate?: string;
  /** Reasoning effort hint (`low` | `medium` | `high` | a multiplier); providers may ignore it. */
  reasoningEffort?: string;
  operator: string;
  axis: string;
  agent?: string;
  /** Kind of reasoning-graph node to add for the output (default `answer`); `null` adds none. */
  node?: GraphNodeKind | null;
  /** Graph nodes this output was derived from. */
  derivedFrom?: string[];
  /** Retry policy for this call (default: the fleet's). */
  retry?: Partial<RetryPolicy>;
}

export interface GenerateOutcome {
  call: CallResult;
  text: string;
  /** Extracted final answer (the schema's `answer` field, else the first extractor of core/answer.ts that matches). */
  answer: string | undefined;
  /** Which extractor found `answer` (`json` also for a structured call's `answer` field); undefined when none did. */
  extractor: AnswerExtractor | undefined;
  normalized: string | undefined;
  confidence: number | undefined;
  nodeId: string | undefined;
}

export const DEFAULT_MAX_OUTPUT_TOKENS = 512;

export async function generate(context: OpContext, options: GenerateOptions): Promise<GenerateOutcome> {
  const messages: ChatMessage[] = options.messages ?? [
    ...(options.system ? [{ role: 'system' as const, content: options.system }] : []),
    { role: 'user', content: options.prompt ?? '' },
  ];
  const stepId = `${context.stepId}/${options.step}`;
  const tags: Record<string, string> = { operator: options.operator, axis: options.axis, purpose: options.purpose ?? 'answer' };
  if (options.agent !== undefined) tags['agent'] = options.agent;
  if (options.candidate !== undefined) tags['candidate'] = options.candidate;
  if (options.reasoningEffort !== undefined) tags['reasoningEffort'] = options.reasoningEffort;
  const spendTags = { operator: options.operator, axis: options.axis, ...(options.agent !== undefined ? { agent: options.agent } : {}) };
  let call: CallResult;
  try {
    call = await context.fleet.call(
      options.model ?? context.model,
      {
        messages,
        maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        ...(options.schema ? { responseSchema: options.schema } : {}),
        metadata: { stepId, ...(context.taskId !== undefined ? { taskId: context.taskId } : {}), tags },
      },
      {
        budget: context.budget,
        tags: spendTags,
        ...(context.recorder ? { recorder: context.recorder } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
      },
    );
  } catch (error) {
    context.trace.event(stepId, 'call', {
      model: options.model ?? context.model,
      error: ThicketError.isInstance(error) ? error.code : String(error),
      budgetExhausted: error instanceof BudgetExhaustedError,
    });
    throw error;
  }
  const extracted = answerOf(call, questionOf(messages));
  const answer = extracted?.value;
  const normalized = answer === undefined ? undefined : normalizeAnswer(answer);
  const confidence = call.confidence ?? confidenceOf(call);
  context.trace.event(stepId, 'call', {
    model: call.model,
    inputTokens: call.usage.inputTokens,
    outputTokens: call.usage.outputTokens,
    costUsd: call.costUsd,
    latencyMs: call.latencyMs,
    replayed: call.replayed,
    simulated: call.simulated,
    finishReason: call.finishReason,
    answer: normalized,
  });
  let nodeId: string | undefined;
  if (options.node !== null) {
    nodeId = context.trace.addNode(stepId, options.node ?? 'answer', call.text, normalized);
    if (options.derivedFrom && options.derivedFrom.length > 0) context.trace.derive(nodeId, options.derivedFrom);
  }
  return { call, text: call.text, answer, extractor: extracted?.extractor, normalized, confidence, nodeId };
}

/** The question a call answers (its last user turn): its listed options make choice letters answers. */
export function questionOf(messages: readonly ChatMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index--) if (messages[index]?.role === 'user') return messages[index]!.content;
  return undefined;
}

function answerOf(call: CallResult, question: string | undefined): ExtractedAnswer | undefined {
  if (call.object && typeof call.object === 'object' && 'answer' in call.object) {
    const value = call.object.answer;
    // (The simulated fleet's stand-in answer is passed on as it is: the runtime refuses it as an answer.)
    if ((typeof value === 'string' || typeof value === 'number') && String(value).trim() !== '')
      return { value: String(value), extractor: 'json' };
  }
  // A truncated response has no last-number or bold-number answer (its last number is mid-reasoning); an explicit
  // one still counts.
  return extractAnswerDetailed(call.text, {
    ...(question !== undefined ? { question } : {}),
    ...(call.finishReason === 'length' ? { noLastNumber: true } : {}),
  });
}

function confidenceOf(call: CallResult): number | undefined {
  if (call.object && typeof call.object === 'object' && 'confidence' in call.object) {
    const value = Number(call.object.confidence);
    if (Number.isFinite(value)) return Math.min(1, Math.max(0, value));
  }
  const match = call.text.match(/confidence\s*[:=]\s*([01](?:\.\d+)?)/i);
  return match ? Math.min(1, Math.max(0, Number(match[1]))) : undefined;
}
