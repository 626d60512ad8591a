/**
 * The machine-readable parts of the chat-API thread's step prompts (src/ops/thread.ts), read by the simulated
 * fleet (src/models/sim/thread-steps.ts): the position line `Position: reasoning[i].subtasks[j] (depth d of D)`
 * the tree, one line of JSON starting `{"reasoning":`, and numbered steps' results in conclusions (`sK result: V`).
 */

/** `reasoning[0].subtasks[2]`: how a position is named in prompts. */
export function pathLabel(path: readonly number[]): string {
  return `reasoning${path.map((index, level) => (level === 0 ? `[${index}]` : `.subtasks[${index}]`)).join('')}`;
}

export const formatPositionLine = (path: readonly number[], maxDepth: number): string =>
  `Position: ${pathLabel(path)} (depth ${path.length} of ${maxDepth})`;

/** The position a prompt names (`[0]`, depth 3 when it names none). */
export function readPositionLine(prompt: string): { path: number[]; maxDepth: number } {
  const match = /Position:\s*reasoning((?:\[\d+\])(?:\.subtasks\[\d+\])*)(?:\s*\(depth \d+ of (\d+)\))?/.exec(prompt);
  if (!match) return { path: [0], maxDepth: 3 };
  return { path: [...(match[1] as string).matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])), maxDepth: Number(match[2] ?? 3) };
}

/** The tree's line starts with this (the thread JSON, compact). */
export const THREAD_TREE_PREFIX = '{"reasoning":';

/** The prompt's tree line, '' when it has none. */
export const readTreeLine = (prompt: string): string => prompt.split('\n').find((line) => line.startsWith(THREAD_TREE_PREFIX)) ?? '';

/** The calculator tool's name, as step schemas offer it (`"tool_name": {"const": "calculator"}`). */
export const CALCULATOR_TOOL_NAME = 'calculator';

/** A numbered step's result in a conclusion (`s3 result: 42`), as the thread's instructions ask for it. */
export const formatStepResult = (step: number | string, value: string): string => `s${step} result: ${value}`;

/** Every `sK result: V` with a numeric V in a text, in order. */
export function readStepResults(text: string): Array<{ step: number; value: string }> {
  return [...text.matchAll(/\bs(\d+) result: (-?\d+(?:\.\d+)?)/g)].map((match) => ({ step: Number(match[1]), value: match[2] as string }));
}
