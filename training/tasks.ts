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
import { TINY_ARITHMETIC, arithmeticSteps, arithmeticSuite, tinyHeldOutItems } from '../src/lab/index.ts';

export { arithmeticSteps, type ArithmeticStep } from '../src/lab/index.ts';

export type TinyFormat = 'direct' | 'reasoning';

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
