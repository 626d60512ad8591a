/**
 * The tiny models' held-out evaluation (issue 18): the lab's arithmetic suite at a seed no training example
 * draws from, answered greedily through the model's own provider (`tiny:` resolution: tiny prompt, the
 * engine's sampling at temperature 0). Model cards record its result; CI re-runs it and checks each shipped
 * model within ±3 points of its card.
 */
import { extractAnswer, normalizeAnswer } from '../core/index.ts';
import { resolveTinyModel } from '../models/index.ts';
import { arithmeticSuite } from './suites/index.ts';

/** The arithmetic knobs every tiny model is trained and evaluated on (the tiny quick study uses the same). */
export const TINY_ARITHMETIC = { operations: [1, 4] as [number, number], maxOperand: 40, maxFactor: 12 };
export const TINY_HELDOUT_SEED = 9001;
export const TINY_HELDOUT_ITEMS = 400;
export const TINY_MAX_OUTPUT_TOKENS = 96;

export interface HeldOutItem {
  expression: string;
  question: string;
  answer: string;
  operations: number;
}

/** Held-out items: the lab's arithmetic suite at `seed` (training data excludes these expressions). */
export function tinyHeldOutItems(items = TINY_HELDOUT_ITEMS, seed = TINY_HELDOUT_SEED): HeldOutItem[] {
  const suite = arithmeticSuite({ name: 'tiny-heldout', items, seed, ...TINY_ARITHMETIC });
  return suite.tasks.map((task) => {
    const meta = task.meta as { expression: string; operations: number };
    return { expression: meta.expression, question: task.prompt, answer: task.answer, operations: meta.operations };
  });
}

export interface HeldOutAccuracy {
  items: number;
  seed: number;
  maxOutputTokens: number;
  accuracy: number;
  byOperations: Record<string, { items: number; correct: number; accuracy: number }>;
}

/** Greedy held-out accuracy of a `tiny:` model, overall and by operations per item (the difficulty knob). */
export async function evaluateTinyModel(
  reference: string,
  options: { items?: number; seed?: number; dir?: string; maxOutputTokens?: number } = {},
): Promise<HeldOutAccuracy> {
  const seed = options.seed ?? TINY_HELDOUT_SEED;
  const maxOutputTokens = options.maxOutputTokens ?? TINY_MAX_OUTPUT_TOKENS;
  const items = tinyHeldOutItems(options.items ?? TINY_HELDOUT_ITEMS, seed);
  const { provider } = resolveTinyModel(reference, { ...(options.dir !== undefined ? { dir: options.dir } : {}) });
  const groups = new Map<number, { items: number; correct: number }>();
  let correct = 0;
  // Sequentially: greedy decoding is deterministic, and one sequence reuses the shared `user: What is ` prefix.
  for (const item of items) {
    const response = await provider.doGenerate({
      messages: [{ role: 'user', content: item.question }],
      maxOutputTokens,
      temperature: 0,
    });
    const answer = extractAnswer(response.text);
    const right = answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(item.answer);
    const group = groups.get(item.operations) ?? { items: 0, correct: 0 };
    group.items++;
    if (right) {
      group.correct++;
      correct++;
    }
    groups.set(item.operations, group);
  }
  const round = (value: number): number => Math.round(value * 10_000) / 10_000;
  return {
    items: items.length,
    seed,
    maxOutputTokens,
    accuracy: round(correct / items.length),
    byOperations: Object.fromEntries(
      [...groups.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([operations, group]) => [String(operations), { ...group, accuracy: round(group.correct / group.items) }]),
    ),
  };
}
