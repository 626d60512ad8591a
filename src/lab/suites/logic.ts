/**
 * Boolean logic chains: `p1 is true. p2 is NOT p1. p3 is p2 OR p1. … What is p6?` — each statement depends
 * on earlier ones, so the chain must be followed step by step. Difficulty grows with the number of steps
 * and with the share of operators that flip values (NOT, XOR), which is where people and models slip.
 * The only wrong answer is the opposite one, so guessing scores 50%: a floor the analyses should expect.
 */
import { rngFor } from '../../core/index.ts';
import { exactMatch } from './arithmetic.ts';
import type { LabTask, SuiteInstance } from '../types.ts';

export interface LogicSuiteOptions {
  name: string;
  items: number;
  seed: number;
  /** Derived statements per chain, inclusive range (default [2, 8]). */
  steps?: [number, number];
}

type Operator = 'not' | 'and' | 'or' | 'xor' | 'same';

/** Difficulty per statement by operator: flips and two-input operators cost more than a copy. */
const COST: Record<Operator, number> = { same: 0.2, and: 0.45, or: 0.45, not: 0.55, xor: 0.75 };

export function logicSuite(options: LogicSuiteOptions): SuiteInstance {
  const [minSteps, maxSteps] = options.steps ?? [2, 8];
  const tasks: LabTask[] = [];
  for (let index = 0; index < options.items; index++) {
    const rng = rngFor(options.seed, 'lab-logic', options.name, index);
    const steps = minSteps + (index % (maxSteps - minSteps + 1));
    const values: boolean[] = [rng.next() < 0.5];
    const lines = [`p1 is ${values[0] ? 'true' : 'false'}.`];
    let cost = 0;
    for (let step = 1; step <= steps; step++) {
      const operators: Operator[] = ['not', 'and', 'or', 'xor', 'same'];
      const operator = operators[rng.int(operators.length)]!;
      // Mostly refer to the previous statement, so the chain is sequential rather than a flat lookup.
      const a = step - 1;
      const b = rng.int(step);
      const va = values[a]!;
      const vb = values[b]!;
      const name = (i: number): string => `p${i + 1}`;
      let value: boolean;
      let text: string;
      switch (operator) {
        case 'not':
          value = !va;
          text = `NOT ${name(a)}`;
          break;
        case 'and':
          value = va && vb;
          text = `${name(a)} AND ${name(b)}`;
          break;
        case 'or':
          value = va || vb;
          text = `${name(a)} OR ${name(b)}`;
          break;
        case 'xor':
          value = va !== vb;
          text = `${name(a)} XOR ${name(b)}`;
          break;
        case 'same':
          value = va;
          text = `the same as ${name(a)}`;
          break;
      }
      values.push(value);
      lines.push(`p${step + 1} is ${text}.`);
      cost += COST[operator];
    }
    const answer = values[steps]! ? 'true' : 'false';
    const prompt = `${lines.join(' ')} What is the value of p${steps + 1}? Answer true or false.`;
    // Calibrated so 2-step chains sit near the small sim model's skill and 8-step chains well above it.
    const difficulty = Math.round((-0.9 + 0.3 * steps + 0.45 * cost) * 1000) / 1000;
    tasks.push({
      id: `${options.name}/s${options.seed}/${index}`,
      prompt,
      answer,
      difficulty,
      distractors: [{ answer: answer === 'true' ? 'false' : 'true', weight: 1 }],
      suite: options.name,
      meta: { steps },
    });
  }
  return {
    name: options.name,
    kind: 'logic',
    seed: options.seed,
    tasks,
    check: exactMatch,
    description: `${tasks.length} boolean chains, ${minSteps}–${maxSteps} steps`,
  };
}
