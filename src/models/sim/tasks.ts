/**
 * The task oracle: verifiable tasks the simulated fleet can grade itself. Lab suites register tasks here
 * (id, prompt, canonical answer, difficulty, optional distractors) and the sim looks them up by the id in
 * request metadata — never by prompt text, so a prompt template change cannot silently change a task.
 *
 * Wrong answers come from a *concentrated* distractor distribution (one dominant wrong answer, a runner-up,
 * a thin tail). That concentration is what makes majority voting saturate and even hurt on items where a
 * model is more often wrong in the same way than right, as real models are.
 */
import { InvalidInputError, normalizeAnswer, rngFor, type InputIssue, type Rng } from '../../core/index.ts';

export interface SimDistractor {
  answer: string;
  /** Relative share of the wrong-answer mass (normalised on registration). */
  weight: number;
}

export interface SimTask {
  id: string;
  prompt: string;
  /** Canonical answer; compared after normalizeAnswer. */
  answer: string;
  /** On the same logit scale as profile skill: ~0 easy for a small model, ~2 medium, ≥4 hard for everyone. */
  difficulty: number;
  /** Wrong answers and their relative weights; generated deterministically from the id when absent. */
  distractors?: SimDistractor[];
}

export interface WeightedAnswer {
  answer: string;
  normalized: string;
  /** Share of the wrong-answer mass; a resolved list sums to 1 and is sorted, dominant first. */
  weight: number;
}

/** A task ready for sampling: the sim's internal view of either a registered task or a recognised prompt. */
export interface ResolvedTask {
  /** Stable identity for per-instance randomness (`task:<id>` or `arith:<expression>`). */
  key: string;
  id: string | undefined;
  source: 'registry' | 'arithmetic';
  prompt: string;
  answer: string;
  normalizedAnswer: string;
  difficulty: number;
  distractors: readonly WeightedAnswer[];
  /** Numeric canonical answer: claims in the context are then compared as numbers. */
  numeric: boolean;
  /** Correct intermediate results (normalised), when the oracle knows them: claimed in a prompt they help. */
  intermediates?: ReadonlySet<string>;
}

const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Plausible numeric slips: carry errors (±10, ±100), off-by-one, a mistyped digit, swapped digits, sign. */
function numericCandidates(value: string, rng: Rng): Array<{ answer: string; kind: number }> {
  const out: Array<{ answer: string; kind: number }> = [];
  const number = Number(value);
  const decimals = value.includes('.') ? (value.split('.')[1] ?? '').length : 0;
  const format = (x: number): string => normalizeAnswer(decimals > 0 ? x.toFixed(decimals) : String(x));
  const unit = decimals > 0 ? 10 ** -decimals : 1;
  // kind: 0 carry, 1 off-by-one, 2 digit slip, 3 digit swap, 4 magnitude/sign — used to pick a dominant error type.
  out.push({ answer: format(number + 10 * unit), kind: 0 }, { answer: format(number - 10 * unit), kind: 0 });
  out.push({ answer: format(number + unit), kind: 1 }, { answer: format(number - unit), kind: 1 });
  const digits = value.replace('-', '');
  const positions = [...digits].map((char, index) => (char >= '0' && char <= '9' ? index : -1)).filter((index) => index >= 0);
  if (positions.length > 0) {
    const position = positions[rng.int(positions.length)] as number;
    const digit = Number(digits[position]);
    const slipped = digits.slice(0, position) + String((digit + (rng.next() < 0.5 ? 1 : 9)) % 10) + digits.slice(position + 1);
    out.push({ answer: normalizeAnswer((value.startsWith('-') ? '-' : '') + slipped), kind: 2 });
  }
  for (let index = 0; index + 1 < digits.length; index++) {
    const a = digits[index] as string;
    const b = digits[index + 1] as string;
    if (a !== b && a !== '.' && b !== '.' && !(index === 0 && b === '0')) {
      out.push({
        answer: normalizeAnswer((value.startsWith('-') ? '-' : '') + digits.slice(0, index) + b + a + digits.slice(index + 2)),
        kind: 3,
      });
      break;
    }
  }
  if (Math.abs(number) >= 100) out.push({ answer: format(number + 100 * unit), kind: 0 }, { answer: format(number - 100 * unit), kind: 0 });
  if (number !== 0) out.push({ answer: format(-number), kind: 4 });
  out.push({ answer: format(number * 10), kind: 4 });
  return out;
}

/**
 * Spread wrong-answer mass over ordered candidates: dominant 45–75% (mean 60%), runner-up ~25% of the total,
 * the rest thinly over up to four more.
 */
function concentrate(candidates: readonly string[], rng: Rng): SimDistractor[] {
  const dominant = 0.45 + 0.3 * rng.next();
  if (candidates.length === 1) return [{ answer: candidates[0] as string, weight: 1 }];
  const second = (1 - dominant) * (0.55 + 0.2 * rng.next());
  const tail = candidates.slice(2, 6);
  const result: SimDistractor[] = [
    { answer: candidates[0] as string, weight: dominant },
    { answer: candidates[1] as string, weight: tail.length === 0 ? 1 - dominant : second },
  ];
  if (tail.length > 0) {
    const raw = tail.map(() => 0.5 + rng.next());
    const sum = raw.reduce((a, b) => a + b, 0);
    const rest = 1 - dominant - second;
    tail.forEach((answer, index) => result.push({ answer, weight: (rest * (raw[index] as number)) / sum }));
  }
  return result;
}

/**
 * Deterministic distractors for an answer, seeded by `seedKey` (task id or expression): numeric slips for
 * numbers, the other options for a multiple-choice letter, the opposite for yes/no, labelled stand-ins otherwise.
 */
export function defaultDistractors(answer: string, seedKey: string): SimDistractor[] {
  const rng = rngFor(0, 'distractors', seedKey);
  const correct = normalizeAnswer(answer);
  let ordered: string[];
  if (NUMBER.test(correct)) {
    const candidates = numericCandidates(correct, rng);
    // Pick which kind of slip dominates for this item (carry errors most often), then keep candidate order.
    const roll = rng.next();
    const dominantKind = roll < 0.4 ? 0 : roll < 0.65 ? 1 : roll < 0.85 ? 2 : 3;
    const sorted = [...candidates.filter((c) => c.kind === dominantKind), ...candidates.filter((c) => c.kind !== dominantKind)];
    // Shuffle everything after the first so the runner-up varies between items.
    const head = sorted.slice(0, 1);
    const rest = sorted.slice(1);
    for (let index = rest.length - 1; index > 0; index--) {
      const swap = rng.int(index + 1);
      [rest[index], rest[swap]] = [rest[swap] as (typeof rest)[number], rest[index] as (typeof rest)[number]];
    }
    ordered = [...head, ...rest].map((c) => c.answer);
  } else if (/^[a-e]$/.test(correct)) {
    ordered = ['a', 'b', 'c', 'd', 'e'].filter((letter) => letter !== correct);
    for (let index = ordered.length - 1; index > 0; index--) {
      const swap = rng.int(index + 1);
      [ordered[index], ordered[swap]] = [ordered[swap] as string, ordered[index] as string];
    }
    ordered = ordered.map((letter) => (answer.trim() === answer.trim().toUpperCase() ? letter.toUpperCase() : letter));
  } else if (['yes', 'no', 'true', 'false'].includes(correct)) {
    ordered = [{ yes: 'no', no: 'yes', true: 'false', false: 'true' }[correct] as string];
  } else {
    ordered = [1, 2, 3, 4, 5].map((k) => `[distractor ${k}]`);
  }
  const unique: string[] = [];
  for (const candidate of ordered) if (candidate !== correct && !unique.includes(candidate)) unique.push(candidate);
  return concentrate(unique, rng);
}

/** Normalised, de-duplicated, sorted (dominant first) wrong-answer distribution. */
export function resolveDistractors(answer: string, distractors: readonly SimDistractor[] | undefined, seedKey: string): WeightedAnswer[] {
  const correct = normalizeAnswer(answer);
  const merged = new Map<string, WeightedAnswer>();
  for (const entry of distractors && distractors.length > 0 ? distractors : defaultDistractors(answer, seedKey)) {
    const normalized = normalizeAnswer(entry.answer);
    if (normalized === correct || !(entry.weight > 0)) continue;
    const existing = merged.get(normalized);
    if (existing) existing.weight += entry.weight;
    else merged.set(normalized, { answer: entry.answer.trim(), normalized, weight: entry.weight });
  }
  if (merged.size === 0) return distractors && distractors.length > 0 ? resolveDistractors(answer, undefined, seedKey) : [];
  const list = [...merged.values()].sort((a, b) => b.weight - a.weight || (a.normalized < b.normalized ? -1 : 1));
  const total = list.reduce((sum, entry) => sum + entry.weight, 0);
  for (const entry of list) entry.weight /= total;
  return list;
}

function validateTask(task: SimTask): InputIssue[] {
  const issues: InputIssue[] = [];
  if (typeof task.id !== 'string' || task.id.length === 0) issues.push({ path: 'id', message: 'must be a non-empty string' });
  if (typeof task.prompt !== 'string') issues.push({ path: 'prompt', message: 'must be a string' });
  if (typeof task.answer !== 'string' || normalizeAnswer(task.answer).length === 0)
    issues.push({ path: 'answer', message: 'must be a non-empty string' });
  if (typeof task.difficulty !== 'number' || !Number.isFinite(task.difficulty))
    issues.push({ path: 'difficulty', message: 'must be a finite number' });
  task.distractors?.forEach((entry, index) => {
    if (typeof entry.answer !== 'string') issues.push({ path: `distractors[${index}].answer`, message: 'must be a string' });
    if (typeof entry.weight !== 'number' || !Number.isFinite(entry.weight) || entry.weight < 0)
      issues.push({ path: `distractors[${index}].weight`, message: 'must be a finite number ≥ 0' });
  });
  return issues;
}

function sameTask(a: SimTask, b: SimTask): boolean {
  return (
    a.prompt === b.prompt &&
    a.answer === b.answer &&
    a.difficulty === b.difficulty &&
    JSON.stringify(a.distractors ?? null) === JSON.stringify(b.distractors ?? null)
  );
}

/** Registered verifiable tasks, shared by every sim model of a fleet. */
export class TaskOracleRegistry {
  private readonly tasks = new Map<string, SimTask>();
  private readonly resolved = new Map<string, ResolvedTask>();

  /** Adds a task. Registering the same task twice is a no-op; a different task under a taken id is an error. */
  registerTask(task: SimTask): void {
    const issues = validateTask(task);
    if (issues.length > 0) throw new InvalidInputError(`Invalid simulated task "${String(task.id)}"`, issues);
    const existing = this.tasks.get(task.id);
    if (existing) {
      if (sameTask(existing, task)) return;
      throw new InvalidInputError('Conflicting simulated task', [
        { path: 'id', message: `"${task.id}" is already registered with different content` },
      ]);
    }
    this.tasks.set(task.id, { ...task, ...(task.distractors ? { distractors: task.distractors.map((d) => ({ ...d })) } : {}) });
  }

  registerTasks(tasks: Iterable<SimTask>): void {
    for (const task of tasks) this.registerTask(task);
  }

  getTask(id: string): SimTask | undefined {
    return this.tasks.get(id);
  }

  hasTask(id: string): boolean {
    return this.tasks.has(id);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** The sampling view of a task (normalised answer, resolved distractors); computed once per task. */
  resolve(id: string): ResolvedTask | undefined {
    const cached = this.resolved.get(id);
    if (cached) return cached;
    const task = this.tasks.get(id);
    if (!task) return undefined;
    const normalizedAnswer = normalizeAnswer(task.answer);
    const resolved: ResolvedTask = {
      key: `task:${id}`,
      id,
      source: 'registry',
      prompt: task.prompt,
      answer: task.answer.trim(),
      normalizedAnswer,
      difficulty: task.difficulty,
      distractors: resolveDistractors(task.answer, task.distractors, `task:${id}`),
      numeric: NUMBER.test(normalizedAnswer),
    };
    this.resolved.set(id, resolved);
    return resolved;
  }
}
