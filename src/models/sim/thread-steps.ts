/**
 * Simulated thread steps (`purpose: 'thread-step'` with a response schema): the sim's side of the thread
 * operator's step-by-step TIM protocol (see ops/thread.ts). The step kind comes from the schema — `answer`
 * → final answer, `thought` → open the task at the given position, otherwise → conclude it — and the
 * position from the prompt's `Position: reasoning[i].subtasks[j] (depth d of D)` line.
 *
 * For arithmetic the simulated model decomposes the expression into its single operations (s1…sK, in
 * evaluation order) and groups them into a tree that fits the depth limit; each leaf computes one operation
 * from the operand values it can *see* in the thread (earlier conclusions `sK result: V`), so a wrong step
 * propagates and pruned-away values must be recomputed. Per-step accuracy is the usual accuracy model on the
 * step's own difficulty plus a bookkeeping overhead, with the task's instance offset (hard items stay hard
 * at every step) and the context bonus from the conclusions in view. Harder steps often go to the
 * calculator tool (when offered); its result is copied into the conclusion. The answer step answers what
 * the tree concluded. Other tasks get a short generic tree.
 * Everything derives from the call's Rng, so it is deterministic by seed and call identity.
 */
import { normalizeAnswer, type Rng } from '../../core/index.ts';
import { CALCULATOR_TOOL_NAME, formatStepResult, readPositionLine, readStepResults, readTreeLine } from '../../formats/index.ts';
import type { ChatMessage, JsonSchema } from '../spec.ts';
import { contextBonus, drawAnswer, instanceNoise, probabilityCorrect, scanContext } from './accuracy.ts';
import { arithmeticDifficulty, arithmeticSteps, findArithmetic, type ArithmeticStep, type StepOperand } from './arithmetic.ts';
import { PLACEHOLDER_PREFIX } from './output.ts';
import type { SimProfile } from './profiles.ts';
import { resolveDistractors, type ResolvedTask } from './tasks.ts';

export interface ThreadStepInput {
  profile: SimProfile;
  seed: number;
  rng: Rng;
  task: ResolvedTask | undefined;
  messages: readonly ChatMessage[];
  schema: JsonSchema;
  effort: number;
}

export interface ThreadStepOutput {
  fields: Record<string, unknown>;
  /** Output tokens the step stands for (before the limit is applied). */
  plannedTokens: number;
  correct?: boolean;
  raw: Record<string, unknown>;
}

type Kind = 'task' | 'conclude' | 'answer';
interface Segment {
  from: number;
  to: number;
}

const SYMBOL = { '+': '+', '-': '-', '*': '*', '/': '/' } as const;
const WORD = { '+': 'plus', '-': 'minus', '*': 'times', '/': 'divided by' } as const;
/** Faithfulness of the final answer to the tree's own conclusion. */
const FAITHFUL = 0.95;
/**
 * Extra difficulty of a step done inside a thread rather than as a question of its own: the model reads the
 * tree, finds its operands and keeps the bookkeeping straight. Tuned so a thread beats a single answer on
 * 3–4 step chains by about as much as self-consistency does (anchors.md), not by the raw step-vs-chain gap.
 */
const THREAD_STEP_OVERHEAD = 1.2;

export function threadStep(input: ThreadStepInput): ThreadStepOutput {
  const properties = (input.schema['properties'] ?? {}) as Record<string, unknown>;
  const kind: Kind = 'answer' in properties ? 'answer' : 'thought' in properties ? 'task' : 'conclude';
  const prompt = lastUser(input.messages);
  const position = readPositionLine(prompt);
  const treeText = readTreeLine(prompt);
  const steps = input.task ? stepsOf(input.task) : undefined;
  const tokens = (scale: number): number =>
    Math.max(8, Math.round(input.profile.verbosity * scale * input.effort * Math.exp(0.3 * input.rng.normal()))) + 8;
  if (!steps || steps.length === 0) return generic(input, kind, position.path, tokens);

  const sim = new StepSimulator(input, steps, treeText);
  if (kind === 'answer') return sim.answer(tokens(0.05));
  const located = locate(position.path, steps.length, position.maxDepth);
  const canNest = 'subtasks' in properties;
  if (!located)
    return {
      fields: {
        thought: '[simulated] Nothing left to work out.',
        tooluse: null,
        subtasks: false,
        conclusion: 'Nothing further.',
        more: false,
      },
      plannedTokens: tokens(0.1),
      raw: { kind: 'thread-step', step: kind, offPlan: true },
    };
  const { segment, more } = located;
  if (kind === 'conclude') return sim.conclude(segment, more, position.path, tokens(0.15));
  if (segment.to > segment.from && canNest) {
    return {
      fields: { thought: `Work out steps s${segment.from} to s${segment.to}.`, tooluse: null, subtasks: true, conclusion: '', more },
      plannedTokens: tokens(0.2),
      raw: { kind: 'thread-step', step: 'open', segment },
    };
  }
  return sim.leaf(segment, more, offersCalculator(properties['tooluse']), tokens(0.35 * (segment.to - segment.from + 1)));
}

class StepSimulator {
  private readonly believed = new Map<number, string>();
  private readonly noise: number;
  private readonly bonus: number;
  /** Values the model had to work out again because they were not in view (pruned or never written). */
  private recomputed = 0;
  private readonly task: ResolvedTask;

  constructor(
    private readonly input: ThreadStepInput,
    private readonly steps: ArithmeticStep[],
    private readonly treeText: string,
  ) {
    // The believed value of step k, as the conclusions in view claim it.
    for (const { step, value } of readStepResults(treeText)) this.believed.set(step, value);
    // Registered tasks do not carry their intermediate values; without them every correct sub-result in
    // the thread would count as a wrong claim. The decomposition knows them.
    const task = input.task as ResolvedTask;
    this.task = task.intermediates
      ? task
      : {
          ...task,
          intermediates: new Set(
            steps
              .slice(0, -1)
              .map((step) => normalizeAnswer(step.value))
              .filter((value) => value !== task.normalizedAnswer),
          ),
        };
    this.noise = instanceNoise(input.seed, task.key);
    this.bonus = contextBonus(scanContext(input.messages, this.task));
  }

  /** A leaf: one operation (maybe via the calculator), or a whole segment at once when it may not nest. */
  leaf(segment: Segment, more: boolean, calculator: boolean, plannedTokens: number): ThreadStepOutput {
    const rng = this.input.rng;
    if (segment.from === segment.to) {
      const step = this.steps[segment.from - 1] as ArithmeticStep;
      const a = this.operand(step.left);
      const b = this.operand(step.right);
      const thought = `s${step.index}: ${a} ${WORD[step.op]} ${b}.`;
      const difficulty = arithmeticDifficulty(`${a}${SYMBOL[step.op]}${b}`) ?? 0.5;
      const toolRoll = rng.next();
      if (calculator && toolRoll < (difficulty >= -0.5 ? 0.7 : 0.2)) {
        return {
          fields: {
            thought,
            tooluse: { tool_name: 'calculator', parameters: { expression: `${a}${SYMBOL[step.op]}${b}` } },
            subtasks: false,
            conclusion: '',
            more,
          },
          plannedTokens,
          raw: { kind: 'thread-step', step: 'tool', index: step.index },
        };
      }
      const { value, correct } = this.compute(step, a, b, 0);
      return {
        fields: { thought, tooluse: null, subtasks: false, conclusion: formatStepResult(step.index, value), more },
        plannedTokens,
        correct,
        raw: { kind: 'thread-step', step: 'leaf', index: step.index, correct },
      };
    }
    // Several operations in one go (at the depth limit): each a bit harder than on its own.
    let allCorrect = true;
    for (let index = segment.from; index <= segment.to; index++) {
      const step = this.steps[index - 1] as ArithmeticStep;
      const { value, correct } = this.compute(step, this.operand(step.left), this.operand(step.right), 0.3 * (index - segment.from + 1));
      this.believed.set(index, value);
      allCorrect &&= correct;
    }
    return {
      fields: {
        thought: `Work out steps s${segment.from} to s${segment.to} in one go.`,
        tooluse: null,
        subtasks: false,
        conclusion: this.summary(segment),
        more,
      },
      plannedTokens,
      correct: allCorrect,
      raw: { kind: 'thread-step', step: 'multi', segment, correct: allCorrect },
    };
  }

  /** Conclusion after a tool result (copied) or after subtasks (their results, as far as they are in view). */
  conclude(segment: Segment, more: boolean, path: number[], plannedTokens: number): ThreadStepOutput {
    if (segment.from === segment.to) {
      const step = this.steps[segment.from - 1] as ArithmeticStep;
      const result = toolResultAt(this.treeText, path);
      if (result !== undefined && /^-?\d+(?:\.\d+)?$/.test(result.trim())) {
        // A tool result is copied; a rare slip when transcribing it.
        const value = this.input.rng.next() < 0.99 ? normalizeAnswer(result) : this.slip(normalizeAnswer(result), step.index);
        return {
          fields: { conclusion: formatStepResult(step.index, value), more },
          plannedTokens,
          raw: { kind: 'thread-step', step: 'conclude-tool', index: step.index },
        };
      }
      const { value, correct } = this.compute(step, this.operand(step.left), this.operand(step.right), 0);
      return {
        fields: { conclusion: formatStepResult(step.index, value), more },
        plannedTokens,
        correct,
        raw: { kind: 'thread-step', step: 'conclude-leaf', index: step.index, correct },
      };
    }
    const before = this.recomputed;
    const conclusion = this.summary(segment);
    return {
      fields: { conclusion, more },
      plannedTokens,
      raw: { kind: 'thread-step', step: 'conclude-list', segment, recomputed: this.recomputed - before },
    };
  }

  answer(plannedTokens: number): ThreadStepOutput {
    const task = this.task;
    const concluded = this.believed.get(this.steps.length);
    const rng = this.input.rng;
    const faithful = rng.next() < FAITHFUL;
    if (concluded !== undefined && faithful) {
      return {
        fields: { answer: concluded },
        plannedTokens,
        correct: normalizeAnswer(concluded) === task.normalizedAnswer,
        raw: { kind: 'thread-step', step: 'answer', fromTree: true },
      };
    }
    const evidence = scanContext(this.input.messages, task);
    const pCorrect = probabilityCorrect({
      profile: this.input.profile,
      difficulty: task.difficulty,
      instanceNoise: this.noise,
      reasoningTokens: plannedTokens,
      contextBonus: contextBonus(evidence),
    });
    const drawn = drawAnswer(rng, task, pCorrect, evidence);
    return {
      fields: { answer: drawn.answer },
      plannedTokens,
      correct: drawn.correct,
      raw: { kind: 'thread-step', step: 'answer', fromTree: false, pCorrect: Math.round(pCorrect * 1e4) / 1e4 },
    };
  }

  /** The value an operand has for the model: a literal, or the conclusion in view (else recomputed). */
  private operand(operand: StepOperand): string {
    if (operand.kind === 'number') return operand.value;
    const seen = this.believed.get(operand.index);
    if (seen !== undefined) return seen;
    const step = this.steps[operand.index - 1] as ArithmeticStep;
    const value = this.compute(step, this.operand(step.left), this.operand(step.right), 0.2).value;
    this.believed.set(operand.index, value);
    this.recomputed++;
    return value;
  }

  private compute(step: ArithmeticStep, a: string, b: string, extraDifficulty: number): { value: string; correct: boolean } {
    const exact = applyOp(a, step.op, b);
    const difficulty = (arithmeticDifficulty(`${a}${SYMBOL[step.op]}${b}`) ?? 0.5) + THREAD_STEP_OVERHEAD + extraDifficulty;
    const p = probabilityCorrect({
      profile: this.input.profile,
      difficulty,
      instanceNoise: this.noise,
      reasoningTokens: this.input.profile.verbosity * 0.35,
      contextBonus: this.bonus,
    });
    const right = this.input.rng.next() < p;
    const value = exact === undefined ? step.value : right ? exact : this.slip(exact, step.index);
    return { value, correct: value === step.value };
  }

  private slip(value: string, index: number): string {
    const options = resolveDistractors(value, undefined, `thread:${index}:${value}`);
    const u = this.input.rng.next();
    let acc = 0;
    for (const option of options) if (u < (acc += option.weight)) return option.normalized;
    return options.at(-1)?.normalized ?? value;
  }

  /** A segment's conclusion: its last value, plus any value inside it that later steps still need. */
  private summary(segment: Segment): string {
    const needed = new Set<number>([segment.to]);
    for (const step of this.steps.slice(segment.to)) {
      for (const operand of [step.left, step.right])
        if (operand.kind === 'step' && operand.index >= segment.from && operand.index <= segment.to) needed.add(operand.index);
    }
    return [...needed]
      .sort((x, y) => x - y)
      .map((index) => formatStepResult(index, this.operand({ kind: 'step', index })))
      .join('; ');
  }
}

/** Unknown (or non-arithmetic) tasks: two generic top-level tasks, then an answer (placeholder without an oracle). */
function generic(input: ThreadStepInput, kind: Kind, path: number[], tokens: (scale: number) => number): ThreadStepOutput {
  const raw = { kind: 'thread-step', step: kind, generic: true, simulated: true };
  if (kind === 'answer') {
    const task = input.task;
    if (!task) return { fields: { answer: PLACEHOLDER_PREFIX }, plannedTokens: tokens(0.05), raw };
    const evidence = scanContext(input.messages, task);
    const pCorrect = probabilityCorrect({
      profile: input.profile,
      difficulty: task.difficulty,
      instanceNoise: instanceNoise(input.seed, task.key),
      reasoningTokens: input.profile.verbosity,
      contextBonus: contextBonus(evidence),
    });
    const drawn = drawAnswer(input.rng, task, pCorrect, evidence);
    return { fields: { answer: drawn.answer }, plannedTokens: tokens(0.05), correct: drawn.correct, raw };
  }
  const first = path.length === 1 && path[0] === 0;
  const more = first;
  const conclusion = first ? '[simulated] The question is understood.' : '[simulated] Worked through it.';
  if (kind === 'conclude') return { fields: { conclusion, more }, plannedTokens: tokens(0.1), raw };
  const thought = first
    ? '[simulated] Work out what the question asks (not real model output).'
    : '[simulated] Work through the question (not real model output).';
  return { fields: { thought, tooluse: null, subtasks: false, conclusion, more }, plannedTokens: tokens(0.25), raw };
}

/** Operations of the task's expression: from the arithmetic oracle, or a registered task's prompt. */
function stepsOf(task: ResolvedTask): ArithmeticStep[] | undefined {
  if (task.source === 'arithmetic') return arithmeticSteps(task.key.slice('arith:'.length));
  const problem = findArithmetic(task.prompt);
  return problem && normalizeAnswer(problem.answer) === task.normalizedAnswer ? arithmeticSteps(problem.expression) : undefined;
}

/**
 * Groups operations from..to into a list whose items may nest `levels` deep: chunks of about
 * size^((levels−1)/levels), so the tree uses the depth it has; a list always splits into ≥ 2 items.
 */
function split(segment: Segment, levels: number): Segment[] {
  const size = segment.to - segment.from + 1;
  let chunk = levels <= 1 ? 1 : Math.max(1, Math.ceil(size ** ((levels - 1) / levels) - 1e-9));
  if (size > 1) chunk = Math.min(chunk, size - 1);
  const out: Segment[] = [];
  for (let from = segment.from; from <= segment.to; from += chunk) out.push({ from, to: Math.min(segment.to, from + chunk - 1) });
  return out;
}

function locate(path: number[], count: number, maxDepth: number): { segment: Segment; more: boolean } | undefined {
  let list = split({ from: 1, to: count }, maxDepth);
  let segment: Segment | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    segment = list[path[depth] as number];
    if (!segment) return undefined;
    if (depth < path.length - 1) list = split(segment, maxDepth - depth - 1);
  }
  return segment ? { segment, more: (path.at(-1) as number) < list.length - 1 } : undefined;
}

/** The tool result recorded for the task at `path` in the thread JSON, if it is in view. */
function toolResultAt(treeText: string, path: number[]): string | undefined {
  try {
    let list = (JSON.parse(treeText) as { reasoning?: unknown }).reasoning;
    let task: Record<string, unknown> | undefined;
    for (const index of path) {
      task = Array.isArray(list) ? (list[index] as Record<string, unknown> | undefined) : undefined;
      list = task?.['subtasks'];
    }
    const result = (task?.['tooluse'] as { tool_result?: unknown } | null | undefined)?.tool_result;
    return typeof result === 'string' || typeof result === 'number' ? String(result) : undefined;
  } catch {
    return undefined;
  }
}

function offersCalculator(schema: unknown): boolean {
  const text = JSON.stringify(schema ?? null);
  return text.includes(`"const":${JSON.stringify(CALCULATOR_TOOL_NAME)}`);
}

function applyOp(a: string, op: ArithmeticStep['op'], b: string): string | undefined {
  const x = Number(a);
  const y = Number(b);
  if (!Number.isFinite(x) || !Number.isFinite(y) || (op === '/' && y === 0)) return undefined;
  const value = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
  return Number.isInteger(value) ? String(value) : normalizeAnswer(value.toFixed(6));
}

function lastUser(messages: readonly ChatMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index--)
    if (messages[index]?.role === 'user') return (messages[index] as ChatMessage).content;
  return '';
}
