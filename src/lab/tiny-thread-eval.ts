/**
 * The TIM experiment on Thicket's thread model (issue 18): held-out problems whose full thread trace exceeds the
 * model's context window, reasoned three ways on the embedded engine —
 *
 *   - `pruned`:   the KV thread (kv-thread.ts) erasing finished subtask lists (FIFO of `bufferSize`), as trained;
 *   - `unpruned`: the same thread with nothing erased, in the same context (it runs out of room part-way);
 *   - `cot`:      chain of thought (one `a op b=c` line per operation), the same model asked to think step by step.
 *
 * Greedy decoding throughout. Reports accuracy, how many runs overflowed the context, and the KV cells each
 * held at its peak (the prompt included) next to what the trace would need unpruned.
 */
import { ContextOverflowError, extractAnswer, normalizeAnswer } from '../core/index.ts';
import {
  getEngineContext,
  resolveTinyModel,
  runKvThread,
  TINY_THREAD_BOUNDS,
  tinyModelFile,
  tinyModelInfo,
  type KvTask,
} from '../models/index.ts';
import { bootstrapMean } from './analysis/index.ts';
import { cotQuestion, threadPieces, threadProblem, threadQuestion, threadText, THREAD_TASK, TINY_THREAD } from './tiny-thread.ts';

export type TimMode = 'pruned' | 'unpruned' | 'cot';

export interface TimModeResult {
  items: number;
  correct: number;
  accuracy: number;
  /** 95% percentile-bootstrap interval of the accuracy over items. */
  ci: { low: number; high: number };
  /** Per item, in order: `1` right, `0` wrong (CI compares a re-run with the card item by item). */
  perItem: string;
  /** Runs stopped because the context had no room left (scored wrong). */
  overflows: number;
  /** KV cells in use at the run's peak: mean and max over items (for overflowed runs, what they reached). */
  peakKv: { mean: number; max: number };
  /**
   * The arithmetic steps the model wrote (leaf tasks `a op b` with their conclusion; CoT lines `a op b=c`), and how
   * many it computed right — whatever it copied into them. Runs that ran out of context leave no document: none
   * of their steps are counted.
   */
  steps: { checked: number; correct: number; accuracy: number };
  /** Tokens generated (mean): the trace's decoded length. */
  generatedTokens: number;
  /** Decode rate over all items (tokens/s, prefill excluded), where the engine reports it. */
  decodeTokensPerSecond?: number;
}

export interface TimExperiment {
  reference: string;
  items: number;
  seed: number;
  groups: number;
  contextSize: number;
  bufferSize: number;
  /** What the correct document's whole trace (prompt + document, nothing erased) takes: mean and min over items. */
  referenceTrace: { mean: number; min: number };
  /** What the model's own pruned runs would have held unpruned (prompt + what they decoded): mean and min over items. */
  unprunedTrace: { mean: number; min: number };
  modes: Partial<Record<TimMode, TimModeResult>>;
}

/** Held-out TIM problems: `groups` groups each, from a seed the training data never draws. */
export function timHeldOutItems(items: number = TINY_THREAD.heldOutItems, seed: number = TINY_THREAD.heldOutSeed) {
  return Array.from({ length: items }, (_, index) => threadProblem(seed, index, TINY_THREAD.groups));
}

const STEP = /^(-?\d+)([-+*])(\d+)$/;

/** Whether `a op b` equals `claimed` (undefined when `expression` is not one binary operation). */
function stepRight(expression: string, claimed: string): boolean | undefined {
  const match = STEP.exec(expression.trim());
  if (!match) return undefined;
  const [left, operator, right] = [Number(match[1]), match[2], Number(match[3])];
  const value = operator === '+' ? left + right : operator === '-' ? left - right : left * right;
  return claimed.trim() === String(value);
}

/** Leaf tasks of a thread document: one arithmetic step each (a thought `a op b`, a conclusion). */
function threadSteps(tasks: readonly KvTask[], into: boolean[]): boolean[] {
  for (const task of tasks) {
    if (task.subtasks && task.subtasks.length > 0) threadSteps(task.subtasks, into);
    else {
      const verdict = stepRight(task.thought, task.conclusion);
      if (verdict !== undefined) into.push(verdict);
    }
  }
  return into;
}

/** CoT lines `a op b=c`. */
function cotSteps(text: string): boolean[] {
  return text.split('\n').flatMap((line) => {
    const at = line.lastIndexOf('=');
    const verdict = at > 0 ? stepRight(line.slice(0, at), line.slice(at + 1)) : undefined;
    return verdict === undefined ? [] : [verdict];
  });
}

const right = (answer: string | undefined, value: number): boolean =>
  answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(String(value));

export async function runTimExperiment(
  reference: string,
  options: { items?: number; seed?: number; bufferSize?: number; modes?: TimMode[]; dir?: string } = {},
): Promise<TimExperiment> {
  const info = tinyModelInfo(reference);
  if (info?.format !== 'thread') throw new TypeError(`${reference} is not a thread model`);
  const resolved = resolveTinyModel(reference, options.dir !== undefined ? { dir: options.dir } : {});
  const contextSize = resolved.profile.contextWindow;
  const path = tinyModelFile(info.name, options.dir);
  const seed = options.seed ?? TINY_THREAD.heldOutSeed;
  const bufferSize = options.bufferSize ?? 2;
  const problems = timHeldOutItems(options.items, seed);
  const modes = options.modes ?? ['pruned', 'unpruned', 'cot'];
  // One sequence: the items run one after another (greedy decoding does not depend on what else decodes then).
  const { pool } = await getEngineContext(path, { contextSize, sequences: 1 });
  const result: TimExperiment = {
    reference,
    items: problems.length,
    seed,
    groups: TINY_THREAD.groups,
    contextSize,
    bufferSize,
    referenceTrace: { mean: 0, min: 0 },
    unprunedTrace: { mean: 0, min: Infinity },
    modes: {},
  };
  const references = problems.map(
    (problem) =>
      resolved.countPrompt!([{ role: 'user', content: threadQuestion(problem) }]) + Buffer.byteLength(threadText(threadPieces(problem))),
  );
  result.referenceTrace = {
    mean: Math.round(references.reduce((a, b) => a + b, 0) / references.length),
    min: Math.min(...references),
  };
  for (const mode of modes) {
    let correct = 0;
    let overflows = 0;
    let generated = 0;
    let decodeSteps = 0;
    let decodeMs = 0;
    const peaks: number[] = [];
    const outcomes: number[] = [];
    const steps: boolean[] = [];
    for (const problem of problems) {
      const scored = correct;
      if (mode === 'cot') {
        const response = await resolved.provider.doGenerate({
          messages: [{ role: 'user', content: cotQuestion(problem) }],
          maxOutputTokens: contextSize - resolved.countPrompt!([{ role: 'user', content: cotQuestion(problem) }]),
          temperature: 0,
        });
        if (right(extractAnswer(response.text), problem.value)) correct++;
        steps.push(...cotSteps(response.text));
        peaks.push(response.usage.inputTokens + response.usage.outputTokens);
        outcomes.push(correct - scored);
        generated += response.usage.outputTokens;
        continue;
      }
      const sequence = await pool.acquire(undefined, reference);
      let peak = 0;
      try {
        const run = await runKvThread({
          sequence,
          question: threadQuestion(problem),
          promptStyle: 'tiny',
          ...TINY_THREAD_BOUNDS,
          maxTasks: THREAD_TASK.maxTasks,
          maxDepth: THREAD_TASK.maxDepth,
          bufferSize,
          prune: mode === 'pruned',
          seed: 1,
          onSample: (sample) => (peak = Math.max(peak, sample.kvTokens)),
        });
        peak = Math.max(peak, run.metrics.peakKvTokens);
        generated += run.metrics.tokensGenerated;
        decodeSteps += run.metrics.samples.reduce((sum, sample) => sum + sample.decodeSteps, 0);
        decodeMs += run.metrics.samples.reduce((sum, sample) => sum + sample.decodeMs, 0);
        if (mode === 'pruned') {
          result.unprunedTrace.mean += run.metrics.unprunedTokens / problems.length;
          result.unprunedTrace.min = Math.min(result.unprunedTrace.min, run.metrics.unprunedTokens);
        }
        if (right(extractAnswer(run.document.answer) ?? run.document.answer, problem.value)) correct++;
        threadSteps(run.document.reasoning, steps);
      } catch (error) {
        if (!(error instanceof ContextOverflowError)) throw error;
        overflows++;
        peak = Math.max(peak, sequence.nextTokenIndex);
      } finally {
        pool.release(sequence);
      }
      peaks.push(peak);
      outcomes.push(correct - scored);
    }
    result.modes[mode] = {
      items: problems.length,
      correct,
      accuracy: Math.round((correct / problems.length) * 10_000) / 10_000,
      ci: bootstrapMean(outcomes),
      perItem: outcomes.join(''),
      overflows,
      peakKv: { mean: Math.round(peaks.reduce((a, b) => a + b, 0) / peaks.length), max: Math.max(...peaks) },
      steps: {
        checked: steps.length,
        correct: steps.filter(Boolean).length,
        accuracy: steps.length > 0 ? Math.round((steps.filter(Boolean).length / steps.length) * 10_000) / 10_000 : 0,
      },
      generatedTokens: Math.round(generated / problems.length),
      ...(decodeMs > 0 ? { decodeTokensPerSecond: Math.round((decodeSteps * 1000) / decodeMs) } : {}),
    };
  }
  result.unprunedTrace.mean = Math.round(result.unprunedTrace.mean);
  if (!Number.isFinite(result.unprunedTrace.min)) result.unprunedTrace.min = 0;
  return result;
}
