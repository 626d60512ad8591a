/**
 * answerCall — one call that must produce an answer (the `single` strategy's call), with structured output
 * where the model's config says the endpoint supports it (`structuredOutput: true`).
 *
 * Structured: the call asks for `{"reasoning": …, "answer": …}` (`response_format: json_schema`) and reads the
 * `answer` field. Endpoints differ in what they do with that request, and each case still gives an answer:
 *   - they comply: the answer is the JSON's `answer` (extractor `json`);
 *   - they ignore it and write prose (the fleet raises MALFORMED_OUTPUT with the text): the answer is read
 *     from that text by the usual extractors — no second call, the first one was paid for and is journaled
 *     by the fleet as a failed call with its usage;
 *   - they refuse it (an HTTP 4xx such as 400 "response_format is not supported") or fail otherwise: the call
 *     is made again as plain text (the refused attempt is settled in the budget as the fleet settles any failed
 *     attempt), and later answer calls of the run on that model skip the structured attempt.
 * Budget refusals, cancellation, a context overflow and authentication errors end the call as they are.
 *
 * The structured attempt is made once (no retries): a retry of a transient failure is the plain-text call.
 */
import {
  MalformedOutputError,
  ProviderError,
  ThicketError,
  extractAnswerDetailed,
  isSimulatedPlaceholder,
  normalizeAnswer,
} from '../core/index.ts';
import type { Fleet, JsonSchema } from '../models/index.ts';
import type { OpContext } from './context.ts';
import { generate, questionOf, type GenerateOptions, type GenerateOutcome } from './generate.ts';

/** The JSON an answer call asks for: reasoning first (so the model thinks before it answers), then the answer alone. */
export const ANSWER_SCHEMA: { name: string; schema: JsonSchema } = {
  name: 'answer',
  schema: {
    type: 'object',
    properties: {
      reasoning: { type: 'string', description: 'Your reasoning, step by step.' },
      answer: { type: 'string', description: 'The final answer alone: a number, a word, a letter or a short phrase.' },
    },
    required: ['reasoning', 'answer'],
    additionalProperties: false,
  },
};

/**
 * How structured output went: `off` (not asked: the model is not marked `structuredOutput`, or refused it
 * earlier in the run), `used` (JSON with an answer), `not-json` (the reply was prose; read as text),
 * `refused` (the endpoint rejected the request or failed; the call was made again as text).
 */
export type StructuredOutcome = 'off' | 'used' | 'not-json' | 'refused';

export interface AnswerCallOutcome {
  text: string;
  answer: string | undefined;
  extractor: GenerateOutcome['extractor'];
  normalized: string | undefined;
  confidence: number | undefined;
  nodeId: string | undefined;
  /** Calls this answer took (2 when a refused structured attempt was followed by a text call). */
  calls: number;
  simulated: boolean;
  model: string;
  finishReason: GenerateOutcome['call']['finishReason'] | undefined;
  replayed: boolean;
  structured: StructuredOutcome;
  /** Why the structured attempt was not used (the endpoint's error), when it was refused. */
  structuredError?: { code: string; message: string };
}

/**
 * How an operator's answer was read from the model's reply — `OpResult.details.extraction`, which the runtime
 * shows in its result: the extractor that matched, or null when none did (the answer is then the reply's text,
 * or there is none), and the reply itself.
 */
export interface AnswerExtraction {
  extractor: GenerateOutcome['extractor'] | null;
  /** The raw reply the answer was read from. */
  text: string;
  /** Single-answer calls: how structured output went. */
  structured?: StructuredOutcome;
  /** Set when the reply was cut at the output cap (finish reason `length`). */
  truncated?: boolean;
  /** Width: how the samples became one answer when they had no short answers (`usc`, `similarity`). */
  via?: string;
}

/**
 * The answer of a call whose reply may be free text: the extracted short answer, else the reply itself
 * (trimmed) — unless it was cut off at the output cap (then it is no answer) or is empty.
 */
export function answerOrText(outcome: Pick<AnswerCallOutcome, 'answer' | 'text' | 'finishReason'>): string | undefined {
  if (outcome.answer !== undefined) return outcome.answer;
  if (outcome.finishReason === 'length') return undefined;
  const text = outcome.text.trim();
  return text === '' || isSimulatedPlaceholder(text) ? undefined : text;
}

/** Models that refused structured output in this fleet (this process), so the run does not ask them again. */
const refusedStructured = new WeakMap<Fleet, Set<string>>();

function fromGenerate(outcome: GenerateOutcome, structured: StructuredOutcome, calls = 1): AnswerCallOutcome {
  return {
    text: outcome.text,
    answer: outcome.answer,
    extractor: outcome.extractor,
    normalized: outcome.normalized,
    confidence: outcome.confidence,
    nodeId: outcome.nodeId,
    calls,
    simulated: outcome.call.simulated,
    model: outcome.call.model,
    finishReason: outcome.call.finishReason,
    replayed: outcome.call.replayed,
    structured,
  };
}

/** Errors after which a plain-text call would fail the same way (or must not be made at all). */
function endsTheCall(error: ThicketError): boolean {
  if (error.category === 'budget' || error.category === 'cancelled' || error.category === 'bad_input') return true;
  if (error.code === 'CONTEXT_OVERFLOW') return true;
  const status = error instanceof ProviderError ? error.status : undefined;
  return status === 401 || status === 403;
}

export async function answerCall(context: OpContext, options: GenerateOptions): Promise<AnswerCallOutcome> {
  const model = options.model ?? context.model;
  const refused = refusedStructured.get(context.fleet);
  const structured = options.schema === undefined && context.fleet.model(model).profile.structuredOutput === true && !refused?.has(model);
  if (!structured) return fromGenerate(await generate(context, options), 'off');
  try {
    const outcome = await generate(context, { ...options, schema: ANSWER_SCHEMA, retry: { maxRetries: 0 } });
    return fromGenerate(outcome, 'used');
  } catch (caught) {
    const error = ThicketError.isInstance(caught) ? caught : undefined;
    if (!error || endsTheCall(error)) throw caught;
    if (error instanceof MalformedOutputError) return fromMalformed(context, options, model, error);
    // Refused (or failed): remember it for the rest of the run, and ask again as plain text.
    let set = refusedStructured.get(context.fleet);
    if (!set) refusedStructured.set(context.fleet, (set = new Set()));
    set.add(model);
    context.trace.event(`${context.stepId}/${options.step}`, 'note', {
      structuredOutput: 'refused',
      error: error.code,
      message: error.message,
    });
    const outcome = await generate(context, { ...options, step: `${options.step}-text` });
    return { ...fromGenerate(outcome, 'refused', 2), structuredError: error.toJSON() };
  }
}

/**
 * The endpoint answered in prose despite the schema: the fleet journaled that call (failed, with its usage);
 * its text is read like any reply.
 */
function fromMalformed(context: OpContext, options: GenerateOptions, model: string, error: MalformedOutputError): AnswerCallOutcome {
  const text = error.rawText;
  const messages = options.messages ?? [{ role: 'user' as const, content: options.prompt ?? '' }];
  const question = questionOf(messages);
  const extracted = extractAnswerDetailed(text, question !== undefined ? { question } : {});
  const normalized = extracted === undefined ? undefined : normalizeAnswer(extracted.value);
  const stepId = `${context.stepId}/${options.step}`;
  context.trace.event(stepId, 'note', { structuredOutput: 'not-json', answer: normalized ?? null });
  const nodeId = context.trace.addNode(stepId, 'answer', text, normalized);
  return {
    text,
    answer: extracted?.value,
    extractor: extracted?.extractor,
    normalized,
    confidence: undefined,
    nodeId,
    calls: 1,
    simulated: context.fleet.model(model).profile.simulated,
    model,
    finishReason: undefined,
    replayed: false,
    structured: 'not-json',
  };
}
