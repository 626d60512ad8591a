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
 *   7. `bold-number`   the last bold number in the reply's last paragraph ("So the total is **$1,200**."), how chat
 *                      models often mark a final value; never used on a truncated reply
 *   8. `last-number`   the last number in the text — a last resort, never used on a truncated reply
 *
 * A reply none of them matches has no short answer: callers keep its text (a free-text answer), they do not
 * invent one.
 */
import { cleanValue, lastBraced, normalizeAnswer } from './answer-values.ts';

export { cleanValue, normalizeAnswer } from './answer-values.ts';

/** The extractors, in the order they are tried. */
export const ANSWER_EXTRACTORS = [
  'json',
  'answer-line',
  'boxed',
  'hashes',
  'the-answer-is',
  'choice',
  'bold-number',
  'last-number',
] as const;
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
    (options.noLastNumber ? undefined : (finish(fromBoldNumber(text), 'bold-number') ?? finish(lastNumber(text), 'last-number')))
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

// Only a number counts: a bolded phrase in an explanation ("because of **Rayleigh scattering**") is emphasis, and
// taking it for an answer would turn an open-ended question's free-text vote into a vote over bold words.
const BOLD_NUMBER = /(\*\*|__)\s*((?:[$€£¥₹]\s*)?-?\s*(?:[$€£¥₹]\s*)?\d[\d,]*(?:\.\d+)?(?:\s*(?:%|[a-zA-Z°µ]{1,12}))?)\s*\1/g;

/** The last bold number in the reply's last paragraph (a bold value earlier on is a step, not the result). */
function fromBoldNumber(text: string): string | undefined {
  const lastParagraph =
    text
      .trim()
      .split(/\n\s*\n/)
      .at(-1) ?? '';
  return [...lastParagraph.matchAll(BOLD_NUMBER)].at(-1)?.[2];
}

const NUMBER_IN_TEXT = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?/g;

function lastNumber(text: string): string | undefined {
  return text.match(NUMBER_IN_TEXT)?.at(-1);
}
