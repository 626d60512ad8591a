/**
 * Arithmetic chains: generated multi-step expressions such as `(12+7)*3 - 4`, with difficulty knobs
 * (operations per chain, operand sizes, a difficulty band). Difficulty and distractors come from the sim's
 * arithmetic oracle, so the simulated fleet and the lab agree on how hard an item is; a real model just sees
 * the question. Verifiable by construction: the answer is computed exactly.
 */
import { createRng, normalizeAnswer, rngFor } from '../../core/index.ts';
import { generateArithmeticChain, makeArithmeticTask } from '../../models/index.ts';
import type { LabTask, SuiteInstance } from '../types.ts';

export interface ArithmeticSuiteOptions {
  name: string;
  items: number;
  seed: number;
  /** Operations per chain, inclusive range (default [2, 6]). */
  operations?: [number, number];
  /** Largest operand of + and − (default 40) and of × (default 12). */
  maxOperand?: number;
  maxFactor?: number;
  /** Keep only items whose oracle difficulty is in this band. */
  minDifficulty?: number;
  maxDifficulty?: number;
}

export const exactMatch = (task: LabTask, answer: string | undefined): number =>
  answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(task.answer) ? 1 : 0;

export function arithmeticSuite(options: ArithmeticSuiteOptions): SuiteInstance {
  // The generator seed mixes in the suite name, so two arithmetic suites in one study draw different items.
  const rng = createRng(rngFor(options.seed, 'lab-suite', options.name).int(2 ** 31));
  const [minOps, maxOps] = options.operations ?? [2, 6];
  const low = options.minDifficulty ?? -Infinity;
  const high = options.maxDifficulty ?? Infinity;
  const tasks: LabTask[] = [];
  const seen = new Set<string>();
  for (let attempts = 0; tasks.length < options.items; attempts++) {
    if (attempts > options.items * 2000 + 10_000)
      throw new RangeError(`Could not generate ${options.items} arithmetic items with difficulty in [${low}, ${high}]`);
    // Spread items evenly over the operation range, so difficulty is balanced rather than random.
    const operations = minOps + (tasks.length % (maxOps - minOps + 1));
    const expression = generateArithmeticChain(rng, {
      operations,
      ...(options.maxOperand !== undefined ? { maxOperand: options.maxOperand } : {}),
      ...(options.maxFactor !== undefined ? { maxFactor: options.maxFactor } : {}),
    });
    if (seen.has(expression)) continue;
    const task = makeArithmeticTask(`${options.name}/s${options.seed}/${tasks.length}`, expression);
    if (task.difficulty < low || task.difficulty > high) continue;
    seen.add(expression);
    tasks.push({ ...task, suite: options.name, meta: { operations, expression } });
  }
  return {
    name: options.name,
    kind: 'arithmetic',
    seed: options.seed,
    tasks,
    check: exactMatch,
    description: `${tasks.length} arithmetic chains, ${minOps}–${maxOps} operations`,
  };
}
