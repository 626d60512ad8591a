/**
 * The thread model's task and formats (issue 18, TIM; trained by training/make-thread-data.ts): long arithmetic
 * sums of parenthesised groups, written in Thicket's thread format exactly as the embedded KV thread
 * (src/models/llama/kv-thread.ts) decodes it, and seen through its KV pruning exactly as the engine's cache holds it.
 *
 * A problem `What is (12+7*3)+(40-8*2)-(9*4+5)?` is reasoned as a running total, one top-level task per group:
 *
 *   {"reasoning":[
 *     {"thought":"12+7*3","subtasks":[{"thought":"7*3","subtasks":null,"conclusion":"21"},
 *                                      {"thought":"12+21","subtasks":null,"conclusion":"33"}],"conclusion":"33"},
 *     {"thought":"33+(40-8*2)","subtasks":[
 *        {"thought":"40-8*2","subtasks":[{"thought":"8*2","conclusion":"16"},{"thought":"40-16","conclusion":"24"}],
 *         "conclusion":"24"},
 *        {"thought":"33+24","subtasks":null,"conclusion":"57"}],"conclusion":"57"}, …],"answer":"16"}
 *
 * A group of one operation is a single leaf (`"subtasks":null`); a longer one is its own task with a subtask per
 * operation (level 3, where the thread's default depth of 3 writes no `subtasks` member). So the model decides
 * the tree's shape from the group in front of it.
 *
 * The same problems in the reasoning model's chain-of-thought format (one `a op b=c` line per operation, then
 * `Answer: n`) are the CoT baseline; the thread model is trained on both, the CoT prompt marked by ` Think step
 * by step.` so the format is the prompt's choice, not a coin flip.
 */
import { createRng, rngFor } from '../core/index.ts';

export interface ArithmeticStep {
  left: number;
  operator: string;
  right: number;
  value: number;
}

/**
 * Evaluates an expression of integers, + − × / and parentheses with the usual precedence, returning its
 * operations in evaluation order (left operand first). Throws on anything else.
 */
export function arithmeticSteps(expression: string): { value: number; steps: ArithmeticStep[] } {
  const tokens = expression.match(/\d+|[-+*/()]/g) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) throw new RangeError(`Not an arithmetic expression: ${expression}`);
  const steps: ArithmeticStep[] = [];
  let index = 0;
  const apply = (left: number, operator: string, right: number): number => {
    const value = operator === '+' ? left + right : operator === '-' ? left - right : operator === '*' ? left * right : left / right;
    steps.push({ left, operator, right, value });
    return value;
  };
  const primary = (): number => {
    const token = tokens[index++];
    if (token === '(') {
      const value = sum();
      if (tokens[index++] !== ')') throw new RangeError(`Unbalanced parentheses in ${expression}`);
      return value;
    }
    if (token === undefined || !/^\d+$/.test(token)) throw new RangeError(`Expected a number in ${expression}`);
    return Number(token);
  };
  const product = (): number => {
    let value = primary();
    while (tokens[index] === '*' || tokens[index] === '/') {
      const operator = tokens[index++]!;
      value = apply(value, operator, primary());
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (tokens[index] === '+' || tokens[index] === '-') {
      const operator = tokens[index++]!;
      value = apply(value, operator, product());
    }
    return value;
  };
  const value = sum();
  if (index !== tokens.length) throw new RangeError(`Unexpected ${tokens[index]} in ${expression}`);
  return { value, steps };
}

export interface ThreadGroup {
  expression: string;
  value: number;
  steps: ArithmeticStep[];
}

export interface ThreadProblem {
  groups: ThreadGroup[];
  /** `+` or `-` before each group after the first. */
  joiners: Array<'+' | '-'>;
  expression: string;
  value: number;
  /** Tasks in the thread's tree (what `maxTasks` must allow). */
  tasks: number;
  /** Operations in all (group operations plus the joins). */
  operations: number;
}

/** The held-out TIM items: 4-group problems (their full trace exceeds the thread model's context) at a seed training skips. */
export const TINY_THREAD = { heldOutSeed: 9002, heldOutItems: 60, groups: 4 } as const;

export const THREAD_TASK = {
  /** Groups per problem. */
  groups: [2, 4] as [number, number],
  maxOperand: 40,
  maxFactor: 12,
  /** The thread's default limits (src/workflow/strategies.ts): 16 tasks, 4 per list, 3 levels. */
  maxTasks: 16,
  maxSubtasks: 4,
  maxDepth: 3,
} as const;

export const threadQuestion = (problem: ThreadProblem): string => `What is ${problem.expression}?`;
export const cotQuestion = (problem: ThreadProblem): string => `What is ${problem.expression}? Think step by step.`;

function group(rng: ReturnType<typeof createRng>): ThreadGroup {
  const operand = (): number => 1 + rng.int(THREAD_TASK.maxOperand);
  const factor = (): number => 2 + rng.int(THREAD_TASK.maxFactor - 1);
  const [a, b, f] = [operand(), operand(), factor()];
  const [high, low] = a >= b ? [a, b] : [b, a];
  const forms = [
    `${a}+${b}`,
    `${high}-${low}`,
    `${a}*${f}`,
    `${a}+${b}*${f}`,
    `${a}*${f}+${b}`,
    `${a}*${f}-${Math.min(b, a * f)}`,
    `(${a}+${b})*${f}`,
    `(${high}-${low})*${f}`,
    `${a}+${b}-${Math.min(operand(), a + b)}`,
  ];
  const expression = rng.pick(forms);
  const { value, steps } = arithmeticSteps(expression);
  return { expression, value, steps };
}

/**
 * Tasks a problem's tree holds: the first group's task and its leaves, then per group a task, its group task if
 * any, its leaves and the join.
 */
function countTasks(groups: ThreadGroup[]): number {
  return groups.reduce((sum, g, index) => sum + (index === 0 ? 1 + g.steps.length : 2 + (g.steps.length > 1 ? 1 + g.steps.length : 1)), 0);
}

/** The `index`-th problem of a seeded stream with `groups` groups (problems over THREAD_TASK.maxTasks are redrawn). */
export function threadProblem(seed: number, index: number, groups: number): ThreadProblem {
  const rng = createRng(rngFor(seed, 'tiny-thread', index).int(2 ** 31));
  for (;;) {
    const drawn = Array.from({ length: groups }, () => group(rng));
    const joiners = drawn.slice(1).map(() => (rng.next() < 0.5 ? '+' : '-'));
    const tasks = countTasks(drawn);
    if (tasks > THREAD_TASK.maxTasks) continue;
    let value = drawn[0]!.value;
    drawn.slice(1).forEach((g, i) => (value = joiners[i] === '+' ? value + g.value : value - g.value));
    const expression = drawn.map((g, i) => `${i === 0 ? '' : joiners[i - 1]}(${g.expression})`).join('');
    const operations = drawn.reduce((sum, g) => sum + g.steps.length, 0) + joiners.length;
    return { groups: drawn, joiners, expression, value, tasks, operations };
  }
}

/** The chain-of-thought completion: every operation in order, the joins included, then `Answer: n`. */
export function cotCompletion(problem: ThreadProblem): string {
  const lines: string[] = [];
  let total = 0;
  problem.groups.forEach((g, index) => {
    for (const step of g.steps) lines.push(`${step.left}${step.operator}${step.right}=${step.value}`);
    if (index === 0) total = g.value;
    else {
      const joiner = problem.joiners[index - 1]!;
      const next = joiner === '+' ? total + g.value : total - g.value;
      lines.push(`${total}${joiner}${g.value}=${next}`);
      total = next;
    }
  });
  return [...lines, `Answer: ${total}`].join('\n');
}

/**
 * One piece of the decoded document, as the KV thread produces it: `syntax` the runtime writes, `model` what
 * the model decodes (every JSON string with its quotes, and each structural choice), and the pruning marks —
 * `open` where a `,"subtasks":[…]` member starts, `close` after its `]` (the range the FIFO may erase).
 */
export type ThreadPiece = { kind: 'syntax' | 'model'; text: string } | { kind: 'open' } | { kind: 'close' };

/** The thread document of a problem, piece by piece, in decoding order. */
export function threadPieces(problem: ThreadProblem): ThreadPiece[] {
  const pieces: ThreadPiece[] = [];
  const syntax = (text: string): void => void pieces.push({ kind: 'syntax', text });
  const model = (text: string): void => void pieces.push({ kind: 'model', text });
  const string = (value: string | number): void => model(JSON.stringify(String(value)));
  /** A task at `depth`; `children` undefined = a leaf. Level 3 tasks have no subtasks member at all. */
  const task = (depth: number, thought: string, conclusion: number, children?: () => void): void => {
    syntax('{"thought":');
    string(thought);
    if (depth < THREAD_TASK.maxDepth) {
      pieces.push({ kind: 'open' });
      syntax(',"subtasks":');
      if (children) {
        model('[');
        children();
        pieces.push({ kind: 'close' });
      } else {
        model('null'); // no list: the `open` mark before it is dropped (a null member never reaches the FIFO)
      }
    }
    syntax(',"conclusion":');
    string(conclusion);
    syntax('}');
  };
  /** A list of tasks: the model chooses `,` between them and `]` after the last. */
  const list = (items: Array<() => void>): void => {
    items.forEach((item, index) => {
      item();
      model(index < items.length - 1 ? ',' : ']');
    });
  };
  const leaves = (depth: number, steps: ArithmeticStep[]): Array<() => void> =>
    steps.map((step) => () => task(depth, `${step.left}${step.operator}${step.right}`, step.value));

  syntax('{"reasoning":[');
  let total = 0;
  const top: Array<() => void> = problem.groups.map((g, index) => () => {
    if (index === 0) {
      total = g.value;
      task(1, g.expression, g.value, () => list(leaves(2, g.steps)));
      return;
    }
    const joiner = problem.joiners[index - 1]!;
    const before = total;
    total = joiner === '+' ? before + g.value : before - g.value;
    const join = { left: before, operator: joiner, right: g.value, value: total };
    task(1, `${before}${joiner}(${g.expression})`, total, () =>
      list([
        g.steps.length > 1 ? () => task(2, g.expression, g.value, () => list(leaves(3, g.steps))) : leaves(2, g.steps)[0]!,
        leaves(2, [join])[0]!,
      ]),
    );
  });
  list(top);
  syntax(',"answer":');
  string(total);
  syntax('}');
  return pieces.filter((piece, index, all) => !(piece.kind === 'open' && nextIsNull(all, index)));
}

/** An `open` mark whose member turned out `null` (no list): dropped, it never reaches the FIFO. */
function nextIsNull(pieces: ThreadPiece[], index: number): boolean {
  const member = pieces[index + 2];
  return member !== undefined && member.kind === 'model' && member.text === 'null';
}

/** The document's text (what `runKvThread` returns as `text`). */
export const threadText = (pieces: ThreadPiece[]): string =>
  pieces.map((piece) => (piece.kind === 'syntax' || piece.kind === 'model' ? piece.text : '')).join('');

export interface PrunedSegment<T> {
  /** What the KV cache holds when the segment ends (its context, then the segment). */
  tokens: T[];
  /** Per token: a training target (the model decoded it in this segment). */
  target: boolean[];
}

/**
 * Replays the KV thread's pruning over a tokenized document: finished subtask lists go on a FIFO of
 * `bufferSize`; when it overflows the oldest list's tokens leave the cache. Returns one segment per stretch
 * between erasures — each as the cache holds it when the stretch ends, so a model trained on them sees at
 * every position exactly the (pruned) context the engine shows it. `prune: false` gives the one unpruned segment.
 */
export function prunedSegments<T>(
  prompt: readonly T[],
  pieces: ThreadPiece[],
  tokenize: (text: string) => T[],
  options: { bufferSize: number; prune?: boolean },
): Array<PrunedSegment<T>> {
  type Cell = { token: T; serial: number; model: boolean };
  let cells: Cell[] = prompt.map((token, serial) => ({ token, serial, model: false }));
  let serial = cells.length;
  let segmentStart = serial;
  const open: number[] = [];
  const fifo: Array<[number, number]> = [];
  const segments: Array<PrunedSegment<T>> = [];
  const flush = (): void => {
    segments.push({ tokens: cells.map((cell) => cell.token), target: cells.map((cell) => cell.model && cell.serial >= segmentStart) });
    segmentStart = serial;
  };
  for (const piece of pieces) {
    if (piece.kind === 'open') open.push(serial);
    else if (piece.kind === 'close') {
      fifo.push([open.pop()!, serial]);
      if (options.prune === false) continue;
      while (fifo.length > options.bufferSize) {
        const [start, end] = fifo.shift()!;
        flush();
        cells = cells.filter((cell) => cell.serial < start || cell.serial >= end);
      }
    } else for (const token of tokenize(piece.text)) cells.push({ token, serial: serial++, model: piece.kind === 'model' });
  }
  flush();
  return segments.filter((segment) => segment.target.some(Boolean));
}
