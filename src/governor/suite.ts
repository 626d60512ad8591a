/**
 * A generated, checkable task suite for `governor calibrate` on the simulated fleet: arithmetic chains in
 * three difficulty bands (1–2, 3–4 and 5–7 operations), equal thirds, deterministic by seed. The prompts are
 * plain `What is <expression>?` questions, so the sim's arithmetic oracle grades them without registration
 * (and the same prompts work with real models); the checker compares normalised answers.
 */
import { createRng, normalizeAnswer } from '../core/index.ts';
import { generateArithmeticChain, makeArithmeticTask, type SimTask } from '../models/index.ts';
import type { CalibrationItem } from './calibrate.ts';

export const DIFFICULTY_BANDS: ReadonlyArray<readonly [number, number]> = [
  [1, 2],
  [3, 4],
  [5, 7],
];

/** `count` tasks, a third per band (the remainder goes to the first bands). */
export function mixedArithmeticSuite(options: { count: number; seed?: number; prefix?: string }): SimTask[] {
  const rng = createRng(options.seed ?? 2024);
  const tasks: SimTask[] = [];
  const seen = new Set<string>();
  const prefix = options.prefix ?? 'mixed';
  for (let index = 0; tasks.length < options.count; index++) {
    const [low, high] = DIFFICULTY_BANDS[tasks.length % DIFFICULTY_BANDS.length]!;
    const expression = generateArithmeticChain(rng, { operations: low + rng.int(high - low + 1) });
    if (seen.has(expression)) {
      if (index > options.count * 100) throw new RangeError('could not generate enough distinct tasks');
      continue;
    }
    seen.add(expression);
    tasks.push(makeArithmeticTask(`${prefix}-${tasks.length}`, expression));
  }
  return tasks;
}

/** Calibration items for tasks: the checker accepts the task's canonical answer (after normalisation). */
export function calibrationItems(tasks: readonly SimTask[], options: { registered?: boolean } = {}): CalibrationItem[] {
  return tasks.map((task) => ({
    id: task.id,
    prompt: task.prompt,
    checker: (answer: string) => normalizeAnswer(answer) === normalizeAnswer(task.answer),
    ...(options.registered ? { taskId: task.id } : {}),
  }));
}
