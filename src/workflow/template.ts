/**
 * Prompt templates: `{{query}}` and `{{<inputName>}}` placeholders, filled in one pass (a value that itself
 * contains `{{x}}` is never expanded again). Inputs a template does not mention are appended after it under
 * their name, so an operator always sees everything it was wired to. The estimator renders the same way with
 * node inputs left empty, which is what makes its prompt-token bound match the real prompt.
 */
import { countTokens } from '../core/index.ts';
import type { ChatMessage } from '../models/index.ts';

export const DEFAULT_SYSTEM_PROMPT =
  "You are a careful problem solver. Reason step by step, then give the final answer alone on the last line as 'Answer: <value>'.";
export const DEFAULT_PROMPT_TEMPLATE = '{{query}}';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface TemplateValue {
  name: string;
  value: string;
}

/** Placeholder names used in a template, in order of first use. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) if (!names.includes(match[1]!)) names.push(match[1]!);
  return names;
}

/** Fills a template; unreferenced values are appended as `\n\n<name>:\n<value>` when `appendRest` is set. */
export function renderTemplate(
  template: string,
  query: string,
  values: readonly TemplateValue[],
  appendRest = true,
  used = new Set<string>(),
): string {
  const lookup = (name: string): string | undefined => {
    if (name === 'query') return query;
    for (const value of values) if (value.name === name) return value.value;
    return undefined;
  };
  let text =
    template.indexOf('{{') < 0
      ? template
      : template.replace(PLACEHOLDER, (whole, name: string) => {
          const value = lookup(name);
          if (value === undefined) return whole;
          used.add(name);
          return value;
        });
  if (appendRest)
    for (const value of values) if (!used.has(value.name) && value.name !== 'query') text += `\n\n${value.name}:\n${value.value}`;
  return text;
}

/** The chat messages of a model-calling node: system (default careful-solver prompt) + rendered user prompt. */
export function buildMessages(
  params: { system?: string | undefined; prompt?: string | undefined },
  query: string,
  values: readonly TemplateValue[],
): ChatMessage[] {
  const used = new Set<string>();
  const system = params.system === undefined ? DEFAULT_SYSTEM_PROMPT : renderTemplate(params.system, query, values, false, used);
  const user = renderTemplate(params.prompt ?? DEFAULT_PROMPT_TEMPLATE, query, values, true, used);
  return system === ''
    ? [{ role: 'user', content: user }]
    : [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ];
}

/**
 * Truncates `text` to at most `bound` tokens — the bound the estimator assumed for this upstream — so a
 * downstream prompt can never outgrow its worst case. Cheap when it fits: a UTF-16 unit is ≤ 3 UTF-8 bytes
 * and every o200k token covers ≥ 1 byte, so 3 × length ≤ bound needs no tokenizing.
 */
export function clip(text: string, bound: number): string {
  if (text.length * 3 <= bound || countTokens(text) <= bound) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (countTokens(text.slice(0, middle)) <= bound) low = middle;
    else high = middle - 1;
  }
  return text.slice(0, low);
}
