/**
 * The built-in scorers. Each takes the extracted answer (undefined when the system gave none: always 0) and
 * the item, and returns a score in [0, 1]. Normalisation follows the two conventions users compare against:
 * Thicket's `normalizeAnswer` (numbers, LaTeX, `x = 5`) and SQuAD's (case, punctuation, articles, spaces); an
 * answer matches when either agrees.
 */
import { Ajv } from 'ajv';
import { extractAnswer, normalizeAnswer } from '../../core/index.ts';
import type { DatasetItem } from '../datasets/load.ts';
import { ScorerError } from './errors.ts';

export interface Scorer {
  /** As written in --scorer (`numeric:0.01`). */
  name: string;
  /** Every score is 0 or 1 (McNemar's test applies to paired comparisons). */
  binary: boolean;
  /** `reply`: the model's raw text the answer was extracted from, when known (the json scorer reads the object in it). */
  score(answer: string | undefined, item: DatasetItem, reply?: string): number | Promise<number>;
}

/** SQuAD's answer normalisation: lower case, punctuation and articles (a, an, the) removed, spaces collapsed. */
export function squadNormalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export const sameAnswer = (answer: string, expected: string): boolean =>
  normalizeAnswer(answer) === normalizeAnswer(expected) ||
  (squadNormalize(answer) !== '' && squadNormalize(answer) === squadNormalize(expected));

/** Normalised exact match against the canonical answer. */
export const exactScorer: Scorer = {
  name: 'exact',
  binary: true,
  score: (answer, item) => (answer !== undefined && sameAnswer(answer, item.answer) ? 1 : 0),
};

/** Normalised exact match against any alias. */
export const anyOfScorer: Scorer = {
  name: 'any-of',
  binary: true,
  score: (answer, item) => (answer !== undefined && item.aliases.some((alias) => sameAnswer(answer, alias)) ? 1 : 0),
};

/** A number in an answer: `1,234.5`, `$12`, `45%`, `-3/4`, `2e3`; with several, the last one. */
export function parseNumber(text: string): number | undefined {
  const cleaned = text.replace(/(\d),(?=\d{3}\b)/g, '$1').replace(/[−–]/g, '-');
  const matches = [...cleaned.matchAll(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:\s*\/\s*-?\d+(?:\.\d+)?)?|-?\.\d+/gi)];
  const last = matches.at(-1)?.[0];
  if (last === undefined) return undefined;
  const [numerator, denominator] = last.split('/').map((part) => Number(part.trim()));
  if (denominator !== undefined) return denominator === 0 ? undefined : numerator! / denominator;
  return numerator;
}

/**
 * Numeric match: `numeric` (equal up to 1e-9 relative, so 0.1+0.2 = 0.3), `numeric:0.01` (absolute
 * tolerance), `numeric:1%` (relative).
 */
export function numericScorer(option?: string): Scorer {
  let absolute = 0;
  let relative = 1e-9;
  if (option !== undefined) {
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(option);
    const value = Number(percent ? percent[1] : option);
    if (option === '' || !Number.isFinite(value) || value < 0)
      throw new ScorerError(`numeric:${option}`, 'the tolerance is a non-negative number (numeric:0.01) or a percentage (numeric:1%)');
    if (percent) relative = value / 100;
    else absolute = value;
  }
  return {
    name: option === undefined ? 'numeric' : `numeric:${option}`,
    binary: true,
    score(answer, item) {
      const got = answer === undefined ? undefined : parseNumber(answer);
      if (got === undefined) return 0;
      return item.aliases.some((alias) => {
        const expected = parseNumber(alias);
        return expected !== undefined && Math.abs(got - expected) <= Math.max(absolute, relative * Math.abs(expected));
      })
        ? 1
        : 0;
    },
  };
}

/**
 * Regular expressions: `regex` treats each item's answer as a pattern the whole answer must match
 * (case-insensitive); `regex:<pattern>` uses one pattern for every item, where `{answer}` stands for the
 * item's answer (escaped), e.g. `regex:\b{answer}\b`.
 */
export function regexScorer(pattern?: string): Scorer {
  const compile = (source: string, where: string): RegExp => {
    try {
      return new RegExp(source, 'i');
    } catch (error) {
      throw new ScorerError(pattern === undefined ? 'regex' : `regex:${pattern}`, `${where}: ${(error as Error).message}`);
    }
  };
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (pattern !== undefined) compile(pattern.replaceAll('{answer}', 'x'), 'invalid pattern');
  const cache = new Map<string, RegExp>();
  return {
    name: pattern === undefined ? 'regex' : `regex:${pattern}`,
    binary: true,
    score(answer, item) {
      if (answer === undefined) return 0;
      const source = pattern === undefined ? `^(?:${item.answer})$` : pattern.replaceAll('{answer}', escape(item.answer));
      let regex = cache.get(source);
      if (!regex) cache.set(source, (regex = compile(source, `item ${item.id}`)));
      return regex.test(answer.trim()) ? 1 : 0;
    },
  };
}

/** Multiple choice: the letter an answer names (`B`, `(b)`, `B) Paris`, `Answer: B`, or an option's text). */
export const mcScorer: Scorer = {
  name: 'mc',
  binary: true,
  score(answer, item) {
    if (answer === undefined || !item.choices) return 0;
    const letters = item.choices.map((_choice, index) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[index]!);
    const direct = /^\(?([A-Za-z])\)?(?:[.):\s]|$)/.exec(answer.trim())?.[1]?.toUpperCase();
    const letter =
      direct !== undefined && letters.includes(direct)
        ? direct
        : (extractAnswer(answer, { question: item.prompt, choices: letters }) ?? '').toUpperCase();
    if (letter === item.answer) return 1;
    // An answer that is the option's text (not its letter).
    const index = letters.indexOf(item.answer);
    return index >= 0 && sameAnswer(answer, item.choices[index]!) ? 1 : 0;
  },
};

const tokens = (text: string): string[] =>
  squadNormalize(text)
    .split(' ')
    .filter((token) => token !== '');

/** SQuAD token F1 between two texts. */
export function tokenF1(answer: string, expected: string): number {
  const got = tokens(answer);
  const want = tokens(expected);
  if (got.length === 0 || want.length === 0) return got.length === want.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of want) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of got) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      common++;
      counts.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / got.length;
  const recall = common / want.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Token F1, the best over the aliases. */
export const f1Scorer: Scorer = {
  name: 'f1',
  binary: false,
  score: (answer, item) => (answer === undefined ? 0 : Math.max(...item.aliases.map((alias) => tokenF1(answer, alias)))),
};

/** The first JSON object or array in a text (models wrap JSON in prose or code fences). */
export function firstJson(text: string): unknown {
  const start = text.search(/[{[]/);
  if (start < 0) return undefined;
  const close = text[start] === '{' ? '}' : ']';
  // The longest span from the first opening bracket to a closing one that parses (prose may follow the JSON).
  for (let end = text.lastIndexOf(close); end > start; end = text.lastIndexOf(close, end - 1)) {
    try {
      return JSON.parse(text.slice(start, end + 1));
    } catch {
      // try a shorter span
    }
  }
  return undefined;
}

const canonical = (value: unknown): string =>
  typeof value === 'string'
    ? normalizeAnswer(value)
    : typeof value === 'object' && value !== null
      ? JSON.stringify(sortKeys(value))
      : String(value);

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  return value;
}

/**
 * JSON field match: the answer must be JSON valid against `schema` (when given; else 0), and scores the share
 * of the expected object's fields it has equal (strings compared normalised). The item's answer is the
 * expected object (or its JSON text).
 */
export function jsonScorer(schema: object | undefined, name = 'json'): Scorer {
  let validate: ((value: unknown) => boolean) | undefined;
  if (schema !== undefined) {
    try {
      validate = new Ajv({ allErrors: false, strict: false }).compile(schema);
    } catch (error) {
      throw new ScorerError(name, `the schema does not compile (${(error as Error).message})`);
    }
  }
  return {
    name,
    binary: false,
    score(answer, item, reply) {
      // The short answer when it holds the object (an `Answer: {…}` line), else the object in the raw reply: the
      // extractor reduces a fenced JSON block to its last number, which is no object.
      const got = (answer === undefined ? undefined : firstJson(answer)) ?? (reply === undefined ? undefined : firstJson(reply));
      if (got === undefined || (validate && !validate(got))) return 0;
      const expected = typeof item.expected === 'object' && item.expected !== null ? item.expected : firstJson(item.answer);
      if (typeof expected !== 'object' || expected === null || Array.isArray(expected))
        return canonical(got) === canonical(expected) ? 1 : 0;
      const fields = Object.entries(expected as Record<string, unknown>);
      if (fields.length === 0) return 1;
      if (typeof got !== 'object' || got === null) return 0;
      const matched = fields.filter(([key, value]) => canonical((got as Record<string, unknown>)[key]) === canonical(value)).length;
      return matched / fields.length;
    },
  };
}
