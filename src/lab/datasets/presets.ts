/**
 * Presets: the common shapes of public evaluation sets, as field names plus how to read the answer. Every
 * field can be renamed with --input/--answer/--choices/--context/--id; the preset's answer reading still
 * applies (GSM8K's text after `####`, MATH's last `\boxed{}`). A row the preset cannot read gives a reason,
 * which the loader reports with the row's line and the field.
 */

export const PRESET_NAMES = ['gsm8k', 'math', 'mc', 'hotpot', 'trivia', 'none'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The scorers a preset picks when --scorer is not given. */
export type DefaultScorer = 'exact' | 'numeric' | 'mc' | 'any-of';

export interface Preset {
  name: PresetName;
  description: string;
  /** Field names tried in order (the first present wins); a --flag replaces the list. */
  input: string[];
  answer: string[];
  choices?: string[];
  context?: string[];
  scorer: DefaultScorer;
}

export const PRESETS: Record<PresetName, Preset> = {
  gsm8k: {
    name: 'gsm8k',
    description: 'GSM8K: question, and a worked answer ending in "#### <number>"',
    input: ['question'],
    answer: ['answer'],
    scorer: 'numeric',
  },
  math: {
    name: 'math',
    description: 'MATH: problem, and a solution whose last \\boxed{…} is the answer',
    input: ['problem', 'question'],
    answer: ['solution', 'answer'],
    scorer: 'exact',
  },
  mc: {
    name: 'mc',
    description: 'multiple choice (MMLU, ARC): question, choices, and the answer as a letter or a 0-based index',
    input: ['question', 'stem'],
    answer: ['answer', 'answerKey', 'label'],
    choices: ['choices', 'options'],
    scorer: 'mc',
  },
  hotpot: {
    name: 'hotpot',
    description: 'multi-hop QA (HotpotQA): question, answer, and context paragraphs that become the search corpus',
    input: ['question'],
    answer: ['answer'],
    context: ['context', 'paragraphs'],
    scorer: 'exact',
  },
  trivia: {
    name: 'trivia',
    description: 'alias lists (TriviaQA): question, and an answer with aliases (any one counts)',
    input: ['question'],
    answer: ['answer', 'answers', 'aliases'],
    scorer: 'any-of',
  },
  none: {
    name: 'none',
    description: 'no preset: input and answer fields as named (default input/question/prompt and answer/target/output)',
    input: ['input', 'question', 'prompt'],
    answer: ['answer', 'target', 'output', 'expected'],
    choices: ['choices'],
    context: ['context'],
    scorer: 'exact',
  },
};

export type Reading<T> = { value: T } | { problem: string };

/** GSM8K: the text after the last `####`, thousands separators dropped (`#### 1,234` → `1234`). */
export function gsm8kAnswer(text: string): Reading<string> {
  const at = text.lastIndexOf('####');
  if (at < 0) return { problem: 'no "####" marker before the final answer' };
  const value = text
    .slice(at + 4)
    .trim()
    .replace(/(\d),(?=\d{3}\b)/g, '$1');
  return value === '' ? { problem: 'nothing after "####"' } : { value };
}

/** MATH: the content of the last `\boxed{…}` (or `\fbox{…}`), nested braces balanced. */
export function boxedAnswer(text: string): Reading<string> {
  const pattern = /\\(?:boxed|fbox)\s*\{/g;
  let last: number | undefined;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) last = match.index + match[0].length;
  if (last === undefined) {
    // `\boxed 5` (no braces) is valid LaTeX for a one-token argument.
    const bare = /\\boxed\s+([^\s$]+)/.exec(text);
    return bare ? { value: bare[1]! } : { problem: 'no \\boxed{…} answer in the solution' };
  }
  let depth = 1;
  for (let index = last; index < text.length; index++) {
    const char = text[index];
    if (char === '\\') {
      index++; // an escaped brace (`\{`) does not open or close
      continue;
    }
    if (char === '{') depth++;
    else if (char === '}' && --depth === 0) {
      const value = text.slice(last, index).trim();
      return value === '' ? { problem: 'an empty \\boxed{}' } : { value };
    }
  }
  return { problem: 'a \\boxed{ whose braces never close' };
}

export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Multiple choice: the choices (an array of texts, ARC's `{ text: [...], label: [...] }`, a JSON array in a
 * CSV cell, or `a | b | c`), and the answer as a letter (`B`), a label of the choices (ARC's `"1"`), or a
 * 0-based index (MMLU's `1`). The canonical answer is the letter.
 */
export function readChoices(value: unknown): Reading<{ texts: string[]; labels?: string[] }> {
  if (Array.isArray(value)) {
    if (value.length < 2) return { problem: 'fewer than two choices' };
    return { value: { texts: value.map((choice) => (typeof choice === 'string' ? choice : JSON.stringify(choice))) } };
  }
  if (typeof value === 'object' && value !== null) {
    const { text, label } = value as { text?: unknown; label?: unknown };
    if (Array.isArray(text) && text.length >= 2) {
      const texts = text.map(String);
      return { value: { texts, ...(Array.isArray(label) && label.length === text.length ? { labels: label.map(String) } : {}) } };
    }
    return { problem: 'choices object without a "text" list of at least two' };
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        return readChoices(JSON.parse(trimmed));
      } catch {
        return { problem: 'choices look like a JSON array but do not parse' };
      }
    }
    if (trimmed.includes('|')) return readChoices(trimmed.split('|').map((part) => part.trim()));
  }
  return { problem: 'choices must be a list (or "a | b | c")' };
}

export function choiceLetter(answer: unknown, choices: { texts: string[]; labels?: string[] }): Reading<string> {
  const count = choices.texts.length;
  if (count > LETTERS.length) return { problem: `more than ${LETTERS.length} choices` };
  const text = typeof answer === 'number' ? String(answer) : typeof answer === 'string' ? answer.trim() : undefined;
  if (text === undefined || text === '') return { problem: 'missing (a letter or an index is expected)' };
  const labelled = choices.labels?.indexOf(text);
  if (labelled !== undefined && labelled >= 0) return { value: LETTERS[labelled]! };
  if (/^[A-Za-z]$/.test(text)) {
    const index = LETTERS.indexOf(text.toUpperCase());
    return index < count ? { value: LETTERS[index]! } : { problem: `letter ${text} but only ${count} choices` };
  }
  if (/^\d+$/.test(text)) {
    const index = Number(text);
    return index < count ? { value: LETTERS[index]! } : { problem: `index ${index} but only ${count} choices (indexes start at 0)` };
  }
  const byText = choices.texts.findIndex((choice) => choice.trim().toLowerCase() === text.toLowerCase());
  return byText >= 0 ? { value: LETTERS[byText]! } : { problem: `"${text}" is neither a letter, an index nor one of the choices` };
}

export function mcPrompt(question: string, texts: readonly string[]): string {
  return `${question}\n${texts.map((text, index) => `${LETTERS[index]}) ${text}`).join('\n')}\nAnswer with the letter of the correct option.`;
}

/** TriviaQA-style answers: `{ value, aliases }`, a list of aliases, or one string. The first is canonical. */
export function aliasList(value: unknown): Reading<string[]> {
  const strings = (list: unknown[]): string[] =>
    list.filter((item): item is string | number => typeof item === 'string' || typeof item === 'number').map(String);
  let aliases: string[] = [];
  if (typeof value === 'string' || typeof value === 'number') {
    const text = String(value).trim();
    aliases = text.startsWith('[') ? (safeJsonList(text) ?? [text]) : [text];
  } else if (Array.isArray(value)) aliases = strings(value);
  else if (typeof value === 'object' && value !== null) {
    const record = value as { value?: unknown; aliases?: unknown; normalized_aliases?: unknown };
    const head = typeof record.value === 'string' ? [record.value] : [];
    aliases = [...head, ...(Array.isArray(record.aliases) ? strings(record.aliases) : [])];
  }
  aliases = [...new Set(aliases.map((alias) => alias.trim()).filter((alias) => alias !== ''))];
  return aliases.length > 0 ? { value: aliases } : { problem: 'no answer or alias' };
}

function safeJsonList(text: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

export interface ContextParagraph {
  title: string;
  text: string;
}

/**
 * Context paragraphs: HotpotQA's `[[title, [sentences…]], …]`, the hub's `{ title: [...], sentences: [[...]] }`,
 * a list of `{ title, text }` objects or a list of strings.
 */
export function contextParagraphs(value: unknown): Reading<ContextParagraph[]> {
  let source = value;
  if (typeof source === 'string' && source.trim().startsWith('[')) {
    try {
      source = JSON.parse(source);
    } catch {
      return { problem: 'context looks like JSON but does not parse' };
    }
  }
  const scalar = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
  const join = (text: unknown): string => (Array.isArray(text) ? text.map(scalar).join(' ') : scalar(text));
  const paragraphs: ContextParagraph[] = [];
  if (Array.isArray(source)) {
    source.forEach((entry, index) => {
      if (typeof entry === 'string') paragraphs.push({ title: `paragraph ${index + 1}`, text: entry });
      else if (Array.isArray(entry) && entry.length === 2) paragraphs.push({ title: String(entry[0]), text: join(entry[1]) });
      else if (typeof entry === 'object' && entry !== null) {
        const { title, text, sentences } = entry as { title?: unknown; text?: unknown; sentences?: unknown };
        paragraphs.push({ title: scalar(title) || `paragraph ${index + 1}`, text: join(text ?? sentences) });
      }
    });
  } else if (typeof source === 'object' && source !== null) {
    const { title, sentences } = source as { title?: unknown; sentences?: unknown };
    if (Array.isArray(title) && Array.isArray(sentences))
      title.forEach((name, index) => paragraphs.push({ title: String(name), text: join(sentences[index]) }));
  } else if (typeof source === 'string' && source.trim() !== '') paragraphs.push({ title: 'context', text: source });
  const kept = paragraphs.filter((paragraph) => paragraph.text.trim() !== '');
  return kept.length > 0 ? { value: kept } : { problem: 'no context paragraph with text' };
}
