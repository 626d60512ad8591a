/**
 * Built-in arithmetic oracle: lets the sim grade free-form prompts such as `What is 17*23?` or
 * `Compute (12+7)*3 - 4` without a registered task. A small recursive-descent parser (no eval) over integers,
 * + - * / (also `x`, `×`, `÷`) and parentheses, evaluated exactly as fractions.
 *
 * Difficulty comes from what makes mental arithmetic hard — number of operations, digits per operand, carries
 * and borrows, multi-digit multiplication, inexact division, holding intermediate results — compressed
 * logarithmically so long chains are hard but not hopeless. Scale anchors: `3+4` ≈ −1.6 (trivial),
 * `17*23` ≈ 0.2 (medium-easy), `(12+7)*3 - 4` ≈ 0.9, 3–4 step chains of two-digit numbers ≈ 1–2.5, 8+ steps ≥ 4.
 */
import { normalizeAnswer, type Rng } from '../../core/index.ts';
import { resolveDistractors, type ResolvedTask, type SimTask } from './tasks.ts';

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'neg'; operand: Node }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: Node; right: Node; parens: boolean };

interface Fraction {
  num: number;
  den: number;
}

/** Beyond this, products lose integer precision in doubles: the prompt is not treated as checkable. */
const LIMIT = 1e12;

const gcd = (a: number, b: number): number => {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a || 1;
};

function fraction(num: number, den: number): Fraction {
  if (den === 0) throw new RangeError('division by zero');
  const sign = den < 0 ? -1 : 1;
  const divisor = gcd(num, den);
  const result = { num: (sign * num) / divisor, den: Math.abs(den) / divisor };
  if (Math.abs(result.num) > LIMIT || result.den > LIMIT) throw new RangeError('number too large');
  return result;
}

function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  for (let index = 0; index < text.length;) {
    const char = text[index] as string;
    if (char === ' ' || char === '\t' || char === '\n') index++;
    else if (char >= '0' && char <= '9') {
      let end = index;
      while (end < text.length && (text[end] as string) >= '0' && (text[end] as string) <= '9') end++;
      tokens.push(text.slice(index, end));
      index = end;
    } else if ('+-*/()'.includes(char)) tokens.push(text[index++] as string);
    else if (char === 'x' || char === 'X' || char === '×' || char === '·') {
      tokens.push('*');
      index++;
    } else if (char === '÷') {
      tokens.push('/');
      index++;
    } else if (char === '−' || char === '–') {
      tokens.push('-');
      index++;
    } else return undefined;
  }
  return tokens;
}

/** Parses an arithmetic expression; undefined when it is not one (or has no operator at all). */
export function parseArithmetic(expression: string): { node: Node; value: Fraction } | undefined {
  const tokens = tokenize(expression);
  if (!tokens || tokens.length < 3) return undefined;
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const factor = (): Node => {
    const token = tokens[position++];
    if (token === '-') return { kind: 'neg', operand: factor() };
    if (token === '(') {
      const inner = sum();
      if (tokens[position++] !== ')') throw new SyntaxError('missing )');
      return inner.kind === 'bin' ? { ...inner, parens: true } : inner;
    }
    if (token !== undefined && /^\d+$/.test(token)) return { kind: 'num', value: Number(token) };
    throw new SyntaxError(`unexpected ${token ?? 'end'}`);
  };
  const product = (): Node => {
    let left = factor();
    for (let op = peek(); op === '*' || op === '/'; op = peek()) {
      position++;
      left = { kind: 'bin', op, left, right: factor(), parens: false };
    }
    return left;
  };
  const sum = (): Node => {
    let left = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      position++;
      left = { kind: 'bin', op, left, right: product(), parens: false };
    }
    return left;
  };
  try {
    const node = sum();
    if (position !== tokens.length || countOps(node) === 0) return undefined;
    return { node, value: evaluate(node) };
  } catch {
    return undefined;
  }
}

function countOps(node: Node): number {
  return node.kind === 'num' ? 0 : node.kind === 'neg' ? countOps(node.operand) : 1 + countOps(node.left) + countOps(node.right);
}

function evaluate(node: Node): Fraction {
  if (node.kind === 'num') return fraction(node.value, 1);
  if (node.kind === 'neg') {
    const inner = evaluate(node.operand);
    return { num: -inner.num, den: inner.den };
  }
  const a = evaluate(node.left);
  const b = evaluate(node.right);
  switch (node.op) {
    case '+':
      return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
    case '-':
      return fraction(a.num * b.den - b.num * a.den, a.den * b.den);
    case '*':
      return fraction(a.num * b.num, a.den * b.den);
    case '/':
      return fraction(a.num * b.den, a.den * b.num);
  }
}

/** Canonical text of an expression: normalised operators, parentheses only where the source had them. */
function render(node: Node): string {
  if (node.kind === 'num') return String(node.value);
  if (node.kind === 'neg') return `-${render(node.operand)}`;
  const text = `${render(node.left)}${node.op}${render(node.right)}`;
  return node.parens ? `(${text})` : text;
}

/** Integers exactly; other values as a decimal with up to 6 places. */
function formatValue(value: Fraction): string {
  if (value.den === 1) return String(value.num);
  return normalizeAnswer((value.num / value.den).toFixed(6));
}

const digitCount = (x: number): number => String(Math.round(Math.abs(x))).length;

function carries(a: number, b: number): number {
  let count = 0;
  let carry = 0;
  for (a = Math.round(Math.abs(a)), b = Math.round(Math.abs(b)); a > 0 || b > 0; a = Math.floor(a / 10), b = Math.floor(b / 10)) {
    carry = (a % 10) + (b % 10) + carry >= 10 ? 1 : 0;
    count += carry;
  }
  return count;
}

function borrows(a: number, b: number): number {
  let [big, small] = [Math.round(Math.abs(a)), Math.round(Math.abs(b))].sort((x, y) => y - x) as [number, number];
  let count = 0;
  let borrow = 0;
  for (; big > 0 || small > 0; big = Math.floor(big / 10), small = Math.floor(small / 10)) {
    borrow = (big % 10) - (small % 10) - borrow < 0 ? 1 : 0;
    count += borrow;
  }
  return count;
}

const trivialFactor = (x: number): boolean => {
  const n = Math.round(Math.abs(x));
  return n <= 1 || /^10+$/.test(String(n));
};

/** Raw effort of an expression (sum of per-operation costs), before the logarithmic compression. */
function effort(node: Node): { cost: number; value: Fraction; ops: number; parens: number } {
  if (node.kind === 'num') return { cost: 0, value: fraction(node.value, 1), ops: 0, parens: 0 };
  if (node.kind === 'neg') {
    const inner = effort(node.operand);
    return { ...inner, cost: inner.cost + 0.2, value: { num: -inner.value.num, den: inner.value.den } };
  }
  const left = effort(node.left);
  const right = effort(node.right);
  const value = evaluate(node);
  const a = left.value.num / left.value.den;
  const b = right.value.num / right.value.den;
  let cost: number;
  if (node.op === '+' || node.op === '-') {
    // A sum of opposite signs (or a difference of same signs) is a subtraction of magnitudes.
    const subtracting = (node.op === '-') === Math.sign(a) * Math.sign(b) >= 0;
    cost =
      0.7 +
      0.15 * (Math.max(digitCount(a), digitCount(b)) - 1) +
      0.35 * (subtracting ? borrows(a, b) : carries(a, b)) +
      (value.num < 0 && a >= 0 ? 0.4 : 0);
  } else if (node.op === '*') {
    if (trivialFactor(a) || trivialFactor(b)) cost = 0.3;
    else {
      let partialCarries = 0;
      for (const da of String(Math.round(Math.abs(a))))
        for (const db of String(Math.round(Math.abs(b)))) if (Number(da) * Number(db) >= 10) partialCarries++;
      cost = 0.8 + 0.6 * (digitCount(a) * digitCount(b) - 1) + 0.25 * partialCarries;
    }
  } else {
    const exact = value.den === 1;
    cost = Math.abs(b) === 1 ? 0.3 : 0.9 + 0.6 * (digitCount(b) * digitCount(value.num / value.den) - 1) + (exact ? 0 : 1);
  }
  return {
    cost: left.cost + right.cost + cost,
    value,
    ops: left.ops + right.ops + 1,
    parens: left.parens + right.parens + (node.parens ? 1 : 0),
  };
}

export interface ArithmeticProblem {
  /** Canonical expression text (e.g. `(12+7)*3-4`). */
  expression: string;
  /** Values of the sub-expressions (normalised), excluding the final answer and bare operands. */
  intermediates: string[];
  /** Canonical answer (integer, or decimal with ≤ 6 places). */
  answer: string;
  difficulty: number;
  operations: number;
}

function problemOf(node: Node, value: Fraction): ArithmeticProblem {
  const { cost, ops, parens } = effort(node);
  const raw = cost + 0.35 * (ops - 1) + 0.15 * parens;
  const difficulty = Math.round((-2.3 + 6 * Math.log1p(raw / 6)) * 1000) / 1000;
  const answer = formatValue(value);
  const intermediates = new Set<string>();
  const collect = (inner: Node): void => {
    if (inner.kind === 'num') return;
    if (inner.kind === 'neg') return collect(inner.operand);
    intermediates.add(normalizeAnswer(formatValue(evaluate(inner))));
    collect(inner.left);
    collect(inner.right);
  };
  collect(node);
  intermediates.delete(normalizeAnswer(answer));
  return { expression: render(node), intermediates: [...intermediates], answer, difficulty, operations: ops };
}

/** An operand of a decomposed step: a literal number, or the value of an earlier step (1-based). */
export type StepOperand = { kind: 'number'; value: string } | { kind: 'step'; index: number };

/** One binary operation of an expression, in evaluation (post-) order; `index` is 1-based. */
export interface ArithmeticStep {
  index: number;
  op: '+' | '-' | '*' | '/';
  left: StepOperand;
  right: StepOperand;
  /** Exact value of the step (formatted like answers). */
  value: string;
}

/**
 * The expression as a sequence of single operations in evaluation order, each naming the earlier steps it
 * uses: what a model writing a subtask tree (the thread operator) works through one item at a time.
 * A negated sub-expression becomes `0 - x`. Undefined when the text is not an expression.
 */
export function arithmeticSteps(expression: string): ArithmeticStep[] | undefined {
  const parsed = parseArithmetic(expression);
  if (!parsed) return undefined;
  const steps: ArithmeticStep[] = [];
  const push = (op: ArithmeticStep['op'], left: StepOperand, right: StepOperand, node: Node): StepOperand => {
    steps.push({ index: steps.length + 1, op, left, right, value: formatValue(evaluate(node)) });
    return { kind: 'step', index: steps.length };
  };
  const visit = (node: Node): StepOperand => {
    if (node.kind === 'num') return { kind: 'number', value: String(node.value) };
    if (node.kind === 'neg') {
      const inner = visit(node.operand);
      return inner.kind === 'number'
        ? { kind: 'number', value: String(-Number(inner.value)) }
        : push('-', { kind: 'number', value: '0' }, inner, node);
    }
    const left = visit(node.left);
    const right = visit(node.right);
    return push(node.op, left, right, node);
  };
  try {
    visit(parsed.node);
  } catch {
    return undefined;
  }
  return steps;
}

/** Difficulty of an expression on the profile-skill scale; undefined when it does not parse. */
export function arithmeticDifficulty(expression: string): number | undefined {
  const parsed = parseArithmetic(expression);
  return parsed ? problemOf(parsed.node, parsed.value).difficulty : undefined;
}

const CANDIDATE = /-?[\d(][\d\s+\-*/xX×÷·−–()]*[\d)]/g;

/**
 * Finds the arithmetic question in free-form text: the candidate with the most operations (ties: the last
 * one, where questions usually sit). Numbers glued to `.`/`,` (decimals, thousands) and ISO dates are skipped
 * rather than misread.
 */
export function findArithmetic(text: string): ArithmeticProblem | undefined {
  let best: ArithmeticProblem | undefined;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const end = start + match[0].length;
    const before = text.slice(Math.max(0, start - 2), start);
    const after = text.slice(end, end + 2);
    if (/\d[.,]$/.test(before) || /^[.,]\d/.test(after) || /\d{4}-\d{2}-\d{2}/.test(match[0])) continue;
    const parsed = parseArithmetic(match[0].trim());
    if (!parsed) continue;
    const problem = problemOf(parsed.node, parsed.value);
    if (!best || problem.operations >= best.operations) best = problem;
  }
  return best;
}

const CACHE_LIMIT = 4096;
const taskCache = new Map<string, ResolvedTask | null>();

/**
 * The sampling view of an arithmetic prompt, cached per prompt text (callers re-send the same prompt for
 * every sample, and parsing is the most expensive part of recognising it).
 */
export function arithmeticTask(text: string): ResolvedTask | undefined {
  const cached = taskCache.get(text);
  if (cached !== undefined) return cached ?? undefined;
  const problem = findArithmetic(text);
  const task: ResolvedTask | null = problem
    ? {
        key: `arith:${problem.expression}`,
        id: undefined,
        source: 'arithmetic',
        prompt: text,
        answer: problem.answer,
        normalizedAnswer: normalizeAnswer(problem.answer),
        difficulty: problem.difficulty,
        distractors: resolveDistractors(problem.answer, undefined, `arith:${problem.expression}`),
        numeric: true,
        intermediates: new Set(problem.intermediates),
      }
    : null;
  if (taskCache.size >= CACHE_LIMIT) taskCache.clear();
  taskCache.set(text, task);
  return task ?? undefined;
}

/** A registrable task for an expression (for lab suites); difficulty and distractors from the oracle. */
export function makeArithmeticTask(id: string, expression: string, prompt = `What is ${expression}?`): SimTask {
  const parsed = parseArithmetic(expression);
  if (!parsed) throw new RangeError(`Not an arithmetic expression: ${expression}`);
  const problem = problemOf(parsed.node, parsed.value);
  const distractors = resolveDistractors(problem.answer, undefined, `arith:${problem.expression}`).map(({ answer, weight }) => ({
    answer,
    weight,
  }));
  return { id, prompt, answer: problem.answer, difficulty: problem.difficulty, distractors };
}

export interface ArithmeticChainOptions {
  /** Number of binary operations (default 3). */
  operations?: number;
  /** Largest operand for + and − (default 40). */
  maxOperand?: number;
  /** Largest operand for × (default 12). */
  maxFactor?: number;
}

/**
 * A random multi-step chain such as `(12+7)*3 - 4`, built left to right; a product applied to a sum
 * parenthesises the sum, so the chain reads as sequential steps. Division appears only when it is exact.
 */
export function generateArithmeticChain(rng: Rng, options: ArithmeticChainOptions = {}): string {
  const operations = options.operations ?? 3;
  const maxOperand = options.maxOperand ?? 40;
  const maxFactor = options.maxFactor ?? 12;
  let value = 2 + rng.int(maxOperand - 1);
  let text = String(value);
  let additive = false;
  for (let step = 0; step < operations; step++) {
    const roll = rng.next();
    if (roll < 0.35) {
      const operand = 2 + rng.int(maxFactor - 1);
      text = `${additive ? `(${text})` : text}*${operand}`;
      value *= operand;
      additive = false;
    } else if (roll < 0.45 && value > 4) {
      const divisors = [2, 3, 4, 5, 6, 7, 8, 9].filter((d) => value % d === 0);
      if (divisors.length === 0) {
        step--;
        continue;
      }
      const divisor = divisors[rng.int(divisors.length)] as number;
      text = `${additive ? `(${text})` : text}/${divisor}`;
      value /= divisor;
      additive = false;
    } else {
      const operand = 2 + rng.int(maxOperand - 1);
      const plus = rng.next() < 0.55 || value - operand < 0;
      text = `${text} ${plus ? '+' : '-'} ${operand}`;
      value += plus ? operand : -operand;
      additive = true;
    }
  }
  return text;
}
