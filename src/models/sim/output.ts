/**
 * The text a simulated model returns. Kept deliberately short and marked `[simulated]`: the token counts
 * reported in usage come from the verbosity model, not from this text, so nobody should mistake the text
 * for real reasoning. Answers end with the `Answer:` / `Confidence:` lines that `extractAnswer` reads;
 * verifier calls end with `VERDICT:` / `SCORE:`; structured output is JSON restricted to the schema.
 */
import { SIMULATED_PLACEHOLDER } from '../../core/index.ts';
import type { JsonSchema } from '../spec.ts';

/** The marker of the sim's stand-in text; core's `isSimulatedPlaceholder` knows it, so no extractor reads it as an answer. */
export const PLACEHOLDER_PREFIX = SIMULATED_PLACEHOLDER;

/** Output tokens the closing lines cost (`Answer: …` + `Confidence: …`, or the verdict lines). */
export const CLOSING_TOKENS = 12;
/** Output tokens the JSON wrapper costs in structured mode. */
export const JSON_CLOSING_TOKENS = 24;

export interface AnswerText {
  subject: string;
  answer: string;
  confidence: number;
}

/**
 * The stand-in for reasoning. It carries no digits on purpose: `extractAnswer` falls back to the last number in
 * a text, and a stop sequence or truncation must not leave a number there that voters would count as an answer.
 */
function reasoningLines(subject: string): string {
  return (
    `[simulated] Simulated reasoning about ${subject} (see usage for the tokens it stands for; not real model output).\n[simulated] Worked ` +
    `through the steps and checked the last one.`
  );
}

export function answerText(input: AnswerText): string {
  return `${reasoningLines(input.subject)}\nAnswer: ${input.answer}\nConfidence: ${input.confidence.toFixed(2)}`;
}

/** Output cut off before the answer (finishReason 'length'). */
export function truncatedText(subject: string): string {
  return (
    `[simulated] Simulated reasoning about ${subject} (see usage for the tokens it stands for; not real model output).\n[simulated] Working ` +
    `through the steps, the next one is`
  );
}

export function verdictText(candidate: string, accepted: boolean, score: number): string {
  return (
    `[simulated] Checked the candidate answer "${candidate}" with the simulated verifier (not real model ` +
    `output).\nVERDICT: ${accepted ? 'correct' : 'incorrect'}\nSCORE: ${score.toFixed(2)}`
  );
}

export function placeholderText(kind: 'answer' | 'verify'): string {
  return kind === 'verify'
    ? `${PLACEHOLDER_PREFIX} The simulated fleet has no oracle for this task (no registered taskId, no arithmetic expression), so this verdict is a ` +
        `coin flip, not a judgement.`
    : `${PLACEHOLDER_PREFIX} The simulated fleet has no oracle for this prompt (no registered taskId, no arithmetic expression), so this text ` +
        `stands in for an answer and contains none.`;
}

function defaultFor(schema: unknown): unknown {
  const type = typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>)['type'] : undefined;
  const first: unknown = Array.isArray(type) ? type[0] : type;
  switch (first) {
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    case 'null':
      return null;
    default:
      return '[simulated]';
  }
}

function declaresType(schema: unknown, wanted: string): boolean {
  const type = typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>)['type'] : undefined;
  return type === wanted || (Array.isArray(type) && type.includes(wanted));
}

/**
 * JSON text for structured output. When the schema declares `properties`, only those are emitted (ours where
 * we have a value, type-appropriate stand-ins for other required ones); numbers are emitted as numbers where
 * the schema asks for a number. Without `properties`, every field we have is emitted.
 */
export function structuredText(schema: JsonSchema, fields: Record<string, unknown>): string {
  const properties = schema['properties'];
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return JSON.stringify(fields);
  const declared = properties as Record<string, unknown>;
  const required = Array.isArray(schema['required'])
    ? (schema['required'] as unknown[]).filter((key): key is string => typeof key === 'string')
    : [];
  const out: Record<string, unknown> = {};
  for (const [key, propertySchema] of Object.entries(declared)) {
    if (key in fields && fields[key] !== undefined) {
      let value = fields[key];
      if (
        typeof value === 'string' &&
        (declaresType(propertySchema, 'number') || declaresType(propertySchema, 'integer')) &&
        /^-?\d+(?:\.\d+)?$/.test(value)
      )
        value = Number(value);
      else if (typeof value === 'number' && declaresType(propertySchema, 'string') && !declaresType(propertySchema, 'number'))
        value = String(value);
      out[key] = value;
    } else if (required.includes(key)) out[key] = defaultFor(propertySchema);
  }
  return JSON.stringify(out);
}

/** Structured output that will not parse: chatty prose around an unterminated object, as real models produce. */
export function malformedJsonText(json: string): string {
  return `Sure! Here is the JSON:\n${json.slice(0, Math.max(1, json.length - 1))},`;
}

/**
 * A value shaped to a (nested) schema: objects keep only declared properties and get type-appropriate
 * stand-ins for missing required ones; arrays conform each item. Used where the sim fills nested schemas
 * (solo transcripts), so its JSON validates like constrained decoding would guarantee.
 */
export function conformToSchema(schema: unknown, value: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return value;
  const node = schema as Record<string, unknown>;
  if (Array.isArray(value)) {
    const items = node['items'];
    return value.map((item) => conformToSchema(items, item));
  }
  const properties = node['properties'];
  if (typeof value !== 'object' || value === null || typeof properties !== 'object' || properties === null) return value;
  const declared = properties as Record<string, unknown>;
  const required = Array.isArray(node['required']) ? (node['required'] as unknown[]) : [];
  const out: Record<string, unknown> = {};
  for (const [key, propertySchema] of Object.entries(declared)) {
    const current = (value as Record<string, unknown>)[key];
    if (current !== undefined) out[key] = conformToSchema(propertySchema, current);
    else if (required.includes(key)) out[key] = defaultFor(propertySchema);
  }
  return out;
}
