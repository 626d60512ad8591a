/**
 * Answer extraction and normalisation, shared by the simulated fleet (which writes answers) and the
 * operators (which vote on them), so both agree on what "the same answer" means.
 *
 * Real chat models write their final answer in many ways: inline (`Paris is the capital. Answer: Paris`), in
 * markdown (`**Answer:** Paris`, `Answer: **Paris**`, `### Final answer` + a line), LaTeX (`\boxed{\frac{3}{4}}`),
 * GSM8K style (`#### 42`), prose ("the answer is 42"), a choice letter, or JSON when structured output was
 * asked for. `extractAnswerDetailed` tries one extractor after the other, in this documented order, and says
 * which one matched:
 *
 *   1. `json`          the reply is a JSON object (bare, fenced, or closing the reply) with an `answer` field
 *   2. `answer-line`   the last `Answer:` / `Final answer:` label, at a line start or after a sentence, plain or
 *                      markdown (`**Answer:** x`, `**Answer**: x`, `Answer: **x**`), or a `Final answer` heading
 *                      followed by the answer on the next line
 *   3. `boxed`         the last `\boxed{…}` (nested braces kept whole)
 *   4. `hashes`        a last line `#### x`
 *   5. `the-answer-is` the last "the answer is x" (also "final answer is", "answer would be")
 *   6. `choice`        for a multiple-choice question (options `A) …`, `(B) …` in the question): the last
 *                      "(C)", "option C", "C)" the reply names
 *   7. `last-number`   the last number in the text — a last resort, never used on a truncated reply
 *
 * A reply none of them matches has no short answer: callers keep its text (a free-text answer), they do not
 * invent one.
 */

/** The extractors, in the order they are tried. */
export const ANSWER_EXTRACTORS = ['json', 'answer-line', 'boxed', 'hashes', 'the-answer-is', 'choice', 'last-number'] as const;
export type AnswerExtractor = (typeof ANSWER_EXTRACTORS)[number];

export interface ExtractedAnswer {
  /** The answer as written (markup, LaTeX delimiters and a trailing period removed); compare with `normalizeAnswer`. */
  value: string;
  extractor: AnswerExtractor;
}

export interface ExtractOptions {
  /**
   * The question the reply answers. When it lists options (`A) …`, `(B) …`, `C. …` on their own lines, or
   * `(A) … (B) …` inline), choice letters count as answers and an answer equal to an option's text becomes
   * its letter.
   */
  question?: string;
  /** Choice letters, when known otherwise (e.g. `['A','B','C','D']`); overrides what the question lists. */
  choices?: readonly string[];
  /** Skip `last-number` (e.g. for a truncated reply, whose last number is mid-reasoning). */
  noLastNumber?: boolean;
}

/** The text the simulated fleet writes when it has no oracle for a prompt: never an answer. */
export const SIMULATED_PLACEHOLDER = '[simulated placeholder]';

/** True for the simulated fleet's stand-in text (or the stand-in answer a structured call carries). */
export function isSimulatedPlaceholder(text: string | undefined | null): boolean {
  return typeof text === 'string' && text.trimStart().startsWith(SIMULATED_PLACEHOLDER);
}

/**
 * True for any text the simulated fleet writes in place of content (`[simulated placeholder] …`, a thread's
 * generic `[simulated] Worked through it.` conclusion): its real answers are values, never marked text.
 */
export function isSimulatedStandIn(text: string | undefined | null): boolean {
  return typeof text === 'string' && text.trimStart().startsWith('[simulated');
}

/** The answer's value only (see `extractAnswerDetailed`); undefined when no extractor matched. */
export function extractAnswer(text: string, options: ExtractOptions = {}): string | undefined {
  return extractAnswerDetailed(text, options)?.value;
}

/**
 * Answers of replies extracted without a question or choices, by reply text (and `noLastNumber`): the
 * extraction is a pure function of those, and a wide workflow extracts the same few replies thousands of
 * times (a 10,000-node simulated fan-out has ~300 distinct replies). Bounded; cleared when full.
 */
const extracted = new Map<string, ExtractedAnswer | undefined>();
const EXTRACTED_CAP = 4096;
const EXTRACTED_TEXT_LIMIT = 16_384;

/** The reply's short answer and the extractor that found it, trying the extractors in `ANSWER_EXTRACTORS` order. */
export function extractAnswerDetailed(text: string, options: ExtractOptions = {}): ExtractedAnswer | undefined {
  if (typeof text !== 'string' || text.trim() === '' || isSimulatedPlaceholder(text)) return undefined;
  if (options.question !== undefined || options.choices !== undefined || text.length > EXTRACTED_TEXT_LIMIT)
    return extractUncached(text, options);
  const key = `${options.noLastNumber ? '1' : '0'}${text}`;
  let found = extracted.get(key);
  if (found === undefined && !extracted.has(key)) {
    found = extractUncached(text, options);
    if (extracted.size >= EXTRACTED_CAP) extracted.clear();
    extracted.set(key, found);
  }
  // A copy: callers own what they are given.
  return found === undefined ? undefined : { ...found };
}

function extractUncached(text: string, options: ExtractOptions): ExtractedAnswer | undefined {
  const choices = choicesOf(options);
  const finish = (value: string | undefined, extractor: AnswerExtractor): ExtractedAnswer | undefined => {
    if (value === undefined) return undefined;
    const cleaned = toChoice(cleanValue(value), choices);
    return cleaned === '' || isSimulatedPlaceholder(cleaned) ? undefined : { value: cleaned, extractor };
  };
  return (
    finish(fromJson(text), 'json') ??
    finish(fromAnswerLine(text), 'answer-line') ??
    finish(fromBoxed(text), 'boxed') ??
    finish(fromHashes(text), 'hashes') ??
    finish(fromTheAnswerIs(text), 'the-answer-is') ??
    (choices ? finish(fromChoice(text, choices), 'choice') : undefined) ??
    (options.noLastNumber ? undefined : finish(lastNumber(text), 'last-number'))
  );
}

// ------------------------------------------------------------------------------------------- extractors

const ANSWER_KEYS = ['answer', 'final_answer', 'finalAnswer', 'Answer', 'final answer'];

function answerField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const key of ANSWER_KEYS) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === 'string' || typeof field === 'number' || typeof field === 'boolean') return String(field);
  }
  return undefined;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON object with an answer field: the whole reply, the last fenced block, or an object closing the reply. */
function fromJson(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const whole = answerField(tryJson(trimmed));
    if (whole !== undefined) return whole;
  }
  const fences = [...trimmed.matchAll(/```(?:json|JSON)?\s*\n([\s\S]*?)```/g)];
  for (const fence of fences.reverse()) {
    const inner = fence[1]?.trim() ?? '';
    if (inner.startsWith('{')) {
      const found = answerField(tryJson(inner));
      if (found !== undefined) return found;
    }
  }
  if (!trimmed.endsWith('}')) return undefined;
  // An object closing a chatty reply: try the last few `{` positions (bounded, so a long reply stays cheap).
  let position = trimmed.length;
  for (let attempt = 0; attempt < 16; attempt++) {
    position = trimmed.lastIndexOf('{', position - 1);
    if (position < 0) break;
    const found = answerField(tryJson(trimmed.slice(position)));
    if (found !== undefined) return found;
  }
  return undefined;
}

// `answer` (optionally `final`/`correct`), with markdown emphasis around the label, then `:`/`=` and the value.
const ANSWER_LABEL =
  /(\*\*|__|\*|_)?\b(final\s+answer|correct\s+answer|answer)\b(?:\s*\([^)\n]{0,30}\))?\s*(\*\*|__|\*|_)?\s*([:=：])(?:\s*(?:\*\*|__)(?=\s|$))?/gi;
const HEADING_LABEL = /^\s*(?:#{1,6}\s*|\*\*|__)?\s*(?:the\s+)?(?:final\s+answer|answer)\s*:?\s*(?:\*\*|__)?\s*:?\s*$/i;

/** Whether the label at `index` reads as a label: at a line start (after markdown), after a sentence, or capitalised. */
function isLabelPosition(text: string, index: number, label: string): boolean {
  const before = text.slice(Math.max(0, index - 40), index);
  const lineStart = before.lastIndexOf('\n');
  const onLine = lineStart >= 0 ? before.slice(lineStart + 1) : index <= 40 ? before : undefined;
  // Only list markers, quote marks, heading hashes and emphasis before it on its line.
  if (onLine !== undefined && /^[\s>#*_\-+•]*(?:\d+[.)]\s*)?$/.test(onLine)) return true;
  if (/(?:[.!?;)\]]|[.!?]\*\*)\s*$/.test(before)) return true;
  if (/[([]\s*$/.test(before)) return true;
  if (/\b(?:the|my|our)\s+$/i.test(before)) return true;
  if (/^final\s/i.test(label)) return /(?:^|[^A-Za-z])$/.test(before);
  // `Answer`/`ANSWER` mid-line is a label; lower-case "answer:" mid-sentence is prose ("to answer: first…").
  return /^[A-Z]/.test(label) && /\s$/.test(before);
}

function nextNonEmptyLine(text: string, from: number): string | undefined {
  const rest = text.slice(from).split('\n');
  for (const line of rest.slice(1, 4)) if (line.trim() !== '') return line;
  return undefined;
}

function fromAnswerLine(text: string): string | undefined {
  // The label written last wins, whichever form it takes.
  let found: { at: number; value: string } | undefined;
  for (const match of text.matchAll(ANSWER_LABEL)) {
    if (!isLabelPosition(text, match.index, match[2] ?? '')) continue;
    const start = match.index + match[0].length;
    const lineEnd = text.indexOf('\n', start);
    let value = text.slice(start, lineEnd < 0 ? text.length : lineEnd);
    // `**Answer:**` alone on its line: the answer is on the next one.
    if (cleanValue(value) === '') value = nextNonEmptyLine(text, start) ?? '';
    if (cleanValue(value) !== '') found = { at: match.index, value };
  }
  // A `Final answer` heading (or bold line) with the answer on the next line.
  let offset = 0;
  for (const line of text.split('\n')) {
    if (HEADING_LABEL.test(line) && offset >= (found?.at ?? -1)) {
      const value = nextNonEmptyLine(text, offset);
      if (value !== undefined && cleanValue(value) !== '') found = { at: offset, value };
    }
    offset += line.length + 1;
  }
  return found?.value;
}

/** The content of the last `\boxed{…}` / `\fbox{…}`, nested braces kept. */
function fromBoxed(text: string): string | undefined {
  return lastBraced(text, /\\(?:boxed|fbox)\s*\{/g);
}

function lastBraced(text: string, opener: RegExp): string | undefined {
  let result: string | undefined;
  for (const match of text.matchAll(opener)) {
    const start = match.index + match[0].length;
    let depth = 1;
    let index = start;
    for (; index < text.length && depth > 0; index++) {
      if (text[index] === '{') depth++;
      else if (text[index] === '}') depth--;
    }
    if (depth === 0) result = text.slice(start, index - 1);
  }
  return result;
}

/** GSM8K style: the reply's last non-empty line is `#### x`. */
function fromHashes(text: string): string | undefined {
  const lines = text.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  const match = /^\s*####\s*(.+?)\s*$/.exec(last);
  if (!match?.[1] || /answer/i.test(match[1])) return undefined;
  return match[1];
}

const THE_ANSWER_IS =
  /\b(?:final\s+|correct\s+|right\s+)?answer(?:\s+to\s+[^.\n]{1,80}?)?\s+(?:is|would\s+be|will\s+be|should\s+be)\b\s*:?\s*/gi;

function fromTheAnswerIs(text: string): string | undefined {
  let found: string | undefined;
  for (const match of text.matchAll(THE_ANSWER_IS)) {
    const start = match.index + match[0].length;
    const lineEnd = text.indexOf('\n', start);
    const value = text.slice(start, lineEnd < 0 ? text.length : lineEnd);
    // "the answer is not …", "the answer is that it depends": not a short answer.
    if (/^(?:not|unclear|unknown|that|because|as follows|below)\b/i.test(value.trim())) continue;
    if (cleanValue(value) !== '') found = value;
  }
  return found;
}

interface Choices {
  letters: readonly string[];
  /** Normalised option text → letter, when the question listed the options. */
  byText: ReadonlyMap<string, string>;
}

/** The choices of a multiple-choice question: explicit letters, or the options the question lists (≥ 2, from A). */
function choicesOf(options: ExtractOptions): Choices | undefined {
  const byText = new Map<string, string>();
  let letters: string[] = [];
  if (options.question !== undefined) {
    const found = new Map<string, string>();
    for (const match of options.question.matchAll(/^\s*(?:\(([A-J])\)|([A-J])[).:])\s+(\S[^\n]*)$/gm)) {
      const letter = (match[1] ?? match[2]) as string;
      if (!found.has(letter)) found.set(letter, match[3] as string);
    }
    if (found.size < 2)
      for (const match of options.question.matchAll(/\(([A-J])\)\s*([^()\n]+?)(?=\s*\([A-J]\)|\s*$|\n)/g))
        if (!found.has(match[1] as string)) found.set(match[1] as string, match[2] as string);
    if (found.has('A') && found.has('B')) {
      letters = [...found.keys()].sort();
      for (const [letter, option] of found) byText.set(normalizeAnswer(option), letter);
    }
  }
  if (options.choices && options.choices.length > 0) letters = options.choices.map((letter) => letter.toUpperCase());
  return letters.length > 0 ? { letters, byText } : undefined;
}

/** For a multiple-choice question, an answer naming an option ("(B)", "B) Paris", "Paris") becomes its letter. */
function toChoice(value: string, choices: Choices | undefined): string {
  if (!choices || value === '') return value;
  const letter = /^\(?([A-Ja-j])\)?(?:[.):]|\s|$)/.exec(value)?.[1]?.toUpperCase();
  if (letter !== undefined && choices.letters.includes(letter) && (value.length <= 3 || /^\(?[A-Ja-j][.):]|^\([A-Ja-j]\)/.test(value)))
    return letter;
  const option = /^(?:option|choice)\s+\(?([A-Ja-j])\)?$/i.exec(value)?.[1]?.toUpperCase();
  if (option !== undefined && choices.letters.includes(option)) return option;
  return choices.byText.get(normalizeAnswer(value)) ?? value;
}

function fromChoice(text: string, choices: Choices): string | undefined {
  const letters = choices.letters.join('');
  const patterns = [
    new RegExp(`\\(([${letters}])\\)`, 'g'),
    new RegExp(`\\b(?:option|choice)\\s+\\(?([${letters}])\\b`, 'gi'),
    new RegExp(`(?:^|\\n)\\s*(?:\\*\\*)?([${letters}])[).:](?:\\*\\*)?(?:\\s|$)`, 'g'),
  ];
  let best: { index: number; letter: string } | undefined;
  for (const pattern of patterns)
    for (const match of text.matchAll(pattern)) {
      const letter = (match[1] as string).toUpperCase();
      if (!best || match.index > best.index) best = { index: match.index, letter };
    }
  if (best) return best.letter;
  const bare = /^\W*([A-J])\W*$/.exec(text.trim())?.[1];
  return bare !== undefined && choices.letters.includes(bare) ? bare : undefined;
}

const NUMBER_IN_TEXT = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?/g;

function lastNumber(text: string): string | undefined {
  return text.match(NUMBER_IN_TEXT)?.at(-1);
}

// ------------------------------------------------------------------------------------------ cleaning

/** The first sentence of a value that goes on ("Paris. It is also…" → "Paris"); short tails stay ("U.S. Route 66"). */
function firstSentence(value: string): string {
  const match = /^(.+?[^\s.])[.!?]\s+(?=[A-Z(])(.*)$/s.exec(value.trim());
  return match && (match[2] ?? '').length >= 15 ? (match[1] as string) : value;
}

/** Unwraps `\boxed{…}`, `\text{…}`, `\mathrm{…}` (nested braces kept). */
function unwrapCommand(value: string, command: string): string {
  const opener = new RegExp(`\\\\${command}\\s*\\{`);
  for (let guard = 0; guard < 8; guard++) {
    const match = opener.exec(value);
    if (!match) break;
    const start = match.index + match[0].length;
    let depth = 1;
    let index = start;
    for (; index < value.length && depth > 0; index++) {
      if (value[index] === '{') depth++;
      else if (value[index] === '}') depth--;
    }
    if (depth !== 0) break;
    value = value.slice(0, match.index) + value.slice(start, index - 1) + value.slice(index);
  }
  return value;
}

/** An extracted value as written, without markup: emphasis, code ticks, math delimiters, `\boxed`, a trailing period. */
export function cleanValue(raw: string): string {
  let value = raw.trim();
  const boxed = lastBraced(value, /\\(?:boxed|fbox)\s*\{/g);
  if (boxed !== undefined) value = boxed;
  value = firstSentence(value);
  for (let pass = 0; pass < 3; pass++) {
    const before = value;
    value = value
      .trim()
      // A value that starts in bold: the bold part is the answer ("**B** because …").
      .replace(/^(\*\*|__)(.+?)\1.*$/s, '$2')
      .replace(/^\*(?!\*)(.*?)\*(?=[\s.,;:!?]*$)/s, '$1')
      .replace(/^`+([^`]*)`+/, '$1')
      .replace(/^\$\$([\s\S]*?)\$\$/, '$1')
      .replace(/^\$([^$]+)\$(?=[\s.,;:!?]*$)/, '$1')
      .replace(/^\\\(([\s\S]*?)\\\)/, '$1')
      .replace(/^\\\[([\s\S]*?)\\\]/, '$1')
      .replace(/^[*_]+(?=\S)|(?<=\S)[*_]+$/g, '')
      .replace(/\s*[.,;:]+$/, '')
      .trim();
    if (value === before) break;
  }
  value = stripLatex(value);
  // A closing bracket the value never opened belongs to the surrounding prose: "(Answer: 42)".
  if (/[)\]]$/.test(value) && !/[([]/.test(value)) value = value.slice(0, -1).trim();
  return value.replace(/\s*[.,;:]+$/, '').trim();
}

// -------------------------------------------------------------------------------------- normalisation

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** `a/b` as a decimal when it terminates (3/4 → 0.75), else reduced (2/6 → 1/3). */
function fraction(numerator: number, denominator: number): string | undefined {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator === 0) return undefined;
  const divisor = gcd(Math.abs(numerator), Math.abs(denominator)) || 1;
  let rest = denominator / divisor;
  while (rest % 2 === 0) rest /= 2;
  while (rest % 5 === 0) rest /= 5;
  if (Math.abs(rest) === 1) return String(Number((numerator / denominator).toPrecision(15)));
  const sign = numerator * denominator < 0 ? '-' : '';
  return `${sign}${Math.abs(numerator) / divisor}/${Math.abs(denominator) / divisor}`;
}

/** LaTeX an answer may carry: fractions → a/b, `\text{}` unwrapped, spacing and `\left`/`\right` dropped. */
function stripLatex(value: string): string {
  if (!value.includes('\\') && !value.includes('$')) return value;
  let text = unwrapCommand(value, '(?:boxed|fbox)');
  text = unwrapCommand(unwrapCommand(unwrapCommand(unwrapCommand(text, 'text'), 'mathrm'), 'textbf'), 'mbox');
  for (let guard = 0; guard < 8; guard++) {
    const next = text.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/, '$1/$2').replace(/\\[dt]?frac\s*(\d)\s*(\d)/, '$1/$2');
    if (next === text) break;
    text = next;
  }
  return text
    .replace(/\\left|\\right/g, '')
    .replace(/\^\s*\{?\\circ\}?/g, '°')
    .replace(/\\[,!;: ]|~/g, '')
    .replace(/\\%/g, '%')
    .replace(/\\\$/g, '$')
    .replace(/\\(?:cdot|times)/g, '*')
    .replace(/^\$+([\s\S]*?)\$+$/, '$1')
    .trim();
}

const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;
// Currency before, then a number with optional thousands separators, then an optional unit of one or two words.
const CURRENCY = '(?:usd|eur|gbp|us\\$|[$€£¥₹])';
const UNIT = '(?:%|percent|[a-z°µ][a-z°µ/^²³0-9]*\\.?(?:\\s+[a-z][a-z/]*)?)';
const NUMBER_WITH_UNIT = new RegExp(
  `^(?:${CURRENCY}\\s*)?(-)?\\s*(?:${CURRENCY}\\s*)?(\\d{1,3}(?:[,\\u00a0\\u202f ]\\d{3})+|\\d+)(\\.\\d+)?\\s*${UNIT}?$`,
);

/** The canonical number of a numeric answer (`$1,200` → 1200, `42 cm` → 42, `15%` → 15, `\frac{3}{4}` → 0.75), else undefined. */
function numericForm(value: string): string | undefined {
  if (PLAIN_NUMBER.test(value)) return String(Number(value));
  const ratio = /^(-?\d+)\s*\/\s*(-?\d+)$/.exec(value);
  if (ratio) return fraction(Number(ratio[1]), Number(ratio[2]));
  const match = NUMBER_WITH_UNIT.exec(value);
  if (!match) return undefined;
  const digits = (match[2] as string).replace(/[,\u00a0\u202f ]/g, '');
  const number = Number(`${match[1] ?? ''}${digits}${match[3] ?? ''}`);
  return Number.isFinite(number) ? String(number) : undefined;
}

/**
 * Canonical form for comparing answers: lower-case, no markup or surrounding punctuation, `x = 5` → `5`;
 * numbers without thousands separators, currency, units or a trailing `.0` (`$1,200` → `1200`, `42 cm` → `42`,
 * `15%` → `15`); LaTeX fractions as terminating decimals or reduced ratios (`\dfrac{3}{4}` → `0.75`).
 */
export function normalizeAnswer(answer: string): string {
  const plain = answer.trim();
  if (PLAIN_NUMBER.test(plain)) return String(Number(plain));
  let value = stripLatex(plain.replace(/[−–]/g, '-'))
    .toLowerCase()
    .replace(/^[\s"'`*([{]+|[\s"'`*.)\]},;:!?]+$/g, '');
  // `x = 5`, `n=12`: the value after a single-letter variable.
  const assigned = /^[a-z]\s*=\s*(.+)$/.exec(value);
  if (assigned?.[1]) value = assigned[1].trim();
  const numeric = numericForm(value);
  if (numeric !== undefined) return numeric;
  return value.replace(/\s+/g, ' ');
}
