/**
 * The tiny models' tasks and formats (issue 18), shared by the data generator (make-data.ts), the evaluator
 * (evaluate.ts) and the tests: arithmetic chains from the lab's own generator, asked exactly as the lab asks
 * them (`What is (12+7)*3 - 4?`), answered in one of two trained formats —
 *
 *   direct:     `Answer: 53`
 *   reasoning:  `12+7=19\n19*3=57\n57-4=53\nAnswer: 53` (one line per operation, in evaluation order)
 *
 * The prompt is the embedded engine's plain template without a system message (`user: …\nassistant: `): the
 * tiny models are task-trained, not instruction-tuned, so the `tiny:` provider drops system messages.
 */
import { createRng, rngFor } from '../src/core/index.ts';
import { generateArithmeticChain } from '../src/models/index.ts';
import { TINY_ARITHMETIC, arithmeticSuite, tinyHeldOutItems } from '../src/lab/index.ts';

export type TinyFormat = 'direct' | 'reasoning';

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

export const arithmeticQuestion = (expression: string): string => `What is ${expression}?`;

/** The completion a model of `format` is trained to write for `expression`. */
export function arithmeticCompletion(expression: string, format: TinyFormat): string {
  const { value, steps } = arithmeticSteps(expression);
  const answer = `Answer: ${value}`;
  if (format === 'direct') return answer;
  return [...steps.map((step) => `${step.left}${step.operator}${step.right}=${step.value}`), answer].join('\n');
}

/** Expressions no training example may use: the held-out set and the arithmetic suites of the built-in studies (seeds 1–5). */
export function excludedExpressions(): Set<string> {
  const excluded = new Set(tinyHeldOutItems(1000).map((item) => item.expression));
  for (const seed of [1, 2, 3, 4, 5])
    for (const name of ['arithmetic', 'arith'])
      for (const task of arithmeticSuite({ name, items: 400, seed, ...TINY_ARITHMETIC }).tasks)
        excluded.add((task.meta as { expression: string }).expression);
  return excluded;
}

/** The `index`-th training expression of a seeded stream (operations spread evenly over the range). */
export function trainingExpression(seed: number, index: number): string {
  const [minOps, maxOps] = TINY_ARITHMETIC.operations;
  const rng = createRng(rngFor(seed, 'tiny-train', index).int(2 ** 31));
  return generateArithmeticChain(rng, {
    operations: minOps + (index % (maxOps - minOps + 1)),
    maxOperand: TINY_ARITHMETIC.maxOperand,
    maxFactor: TINY_ARITHMETIC.maxFactor,
  });
}
