/**
 * Answer extraction and normalisation, shared by the simulated fleet (which writes answers) and the
 * operators (which vote on them), so both agree on what "the same answer" means.
 */

/** The value after the last `Answer:` line; else the last number in the text; else undefined. */
export function extractAnswer(text: string): string | undefined {
  const lines = [...text.matchAll(/(?:^|\n)\s*(?:final\s+)?answer\s*[:=]\s*(.+)/gi)];
  const last = lines.at(-1)?.[1]?.trim();
  if (last) return last;
  const numbers = text.match(/-?\d[\d,]*(?:\.\d+)?/g);
  return numbers?.at(-1);
}

/** Canonical form for comparing answers: lower-case, no surrounding punctuation, numbers without separators or trailing `.0`. */
export function normalizeAnswer(answer: string): string {
  let value = answer
    .trim()
    .toLowerCase()
    .replace(/^[\s"'`*([{]+|[\s"'`*.)\]},;:!?]+$/g, '');
  const numeric = value.replace(/,/g, '');
  if (/^-?\d+(?:\.\d+)?$/.test(numeric)) {
    value = String(Number(numeric));
  }
  return value.replace(/\s+/g, ' ');
}
