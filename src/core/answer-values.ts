/**
 * What an extracted answer is worth once it is found: `cleanValue` strips the markup a reply wrapped it in
 * (emphasis, code ticks, math delimiters, `\boxed`), and `normalizeAnswer` gives the canonical form two answers
 * are compared in (numbers without separators, currency or units; LaTeX fractions as decimals). Kept apart from
 * the extractors (answer.ts), which only decide *where* in a reply the answer stands.
 */

/** The index just past the `}` that closes a brace opened before `start` (nested braces counted), if any. */
function pastClosingBrace(text: string, start: number): number | undefined {
  let depth = 1;
  let index = start;
  for (; index < text.length && depth > 0; index++) {
    if (text[index] === '{') depth++;
    else if (text[index] === '}') depth--;
  }
  return depth === 0 ? index : undefined;
}

/** The content of the last `opener{…}` (e.g. `\boxed{`), nested braces kept whole. */
export function lastBraced(text: string, opener: RegExp): string | undefined {
  let result: string | undefined;
  for (const match of text.matchAll(opener)) {
    const start = match.index + match[0].length;
    const end = pastClosingBrace(text, start);
    if (end !== undefined) result = text.slice(start, end - 1);
  }
  return result;
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
    const end = pastClosingBrace(value, start);
    if (end === undefined) break;
    value = value.slice(0, match.index) + value.slice(start, end - 1) + value.slice(end);
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
