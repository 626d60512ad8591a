/**
 * Numbers typed by a user (flags, list overrides). `Number(text)` accepts far more than anyone means to
 * type — `0x10` (16), `" 100 "`, `1e23` (past the integers a double holds exactly), `Infinity` — so a typo
 * or a pasted value can silently become a different budget. Here: plain decimal digits only (an optional
 * leading minus, so "-5" is refused for being negative rather than for its form), and nothing past
 * Number.MAX_SAFE_INTEGER.
 */

export type NumberForm = 'integer' | 'decimal';

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

export type ParsedNumber = { ok: true; value: number } | { ok: false; message: string };

/** Parses `text` as a decimal integer or decimal number; the failure message reads after the flag's name. */
export function parseDecimalText(text: string, form: NumberForm): ParsedNumber {
  if (!DECIMAL_TEXT.test(text)) {
    const example = form === 'integer' ? '100' : '0.5';
    return { ok: false, message: `must be a number written in plain decimal digits (e.g. ${example}), got "${text}"` };
  }
  if (form === 'integer' && !INTEGER_TEXT.test(text)) return { ok: false, message: `must be a whole number, got ${text}` };
  const value = Number(text);
  const problem = numberRangeProblem(value);
  return problem === undefined ? { ok: true, value } : { ok: false, message: `${problem}, got ${text}` };
}

/** For numbers that arrive as numbers (library options): finite and within the safe integer range. */
export function numberRangeProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'must be a finite number';
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return `must be at most ${Number.MAX_SAFE_INTEGER}`;
  return undefined;
}
