/**
 * The task tree of a KV thread (kv-thread.ts): the recursive walk that decodes `{"reasoning":[…]}`'s lists,
 * tasks and tool calls into the sequence, and applies the pruning rule — each closed subtask list goes on
 * the FIFO, the oldest is erased on overflow. Apart from runKvThread because it is the thread's algorithm,
 * while runKvThread is the plumbing around it (engine and sequence, settings, prompt, metrics).
 */
import { ThicketError } from '../../core/index.ts';
import type { JsonSchema } from '../spec.ts';
import type { KvDecoder, TokenRange, TrackedPosition } from './kv-decoder.ts';

export interface KvThreadTool {
  run: (parameters: Record<string, unknown>) => Promise<string>;
  /** JSON Schema of the parameters object (default `{ input: string ≤ 64 chars }`). Bound its strings. */
  parameters?: JsonSchema;
}

/** A fixed structure: one entry per task of a list; `subtasks` opens a list, `tool` calls that tool. */
export interface TreeShape {
  subtasks?: TreeShape[];
  tool?: string;
}

/** A balanced tree: widths [3, 3, 3] → 3 tasks, each with 3 subtasks, each with 3 leaves (39 tasks). */
export function balancedTree(...widths: number[]): TreeShape[] {
  const [width, ...rest] = widths;
  return Array.from({ length: width ?? 0 }, () => (rest.length > 0 ? { subtasks: balancedTree(...rest) } : {}));
}

export interface KvToolUse {
  tool_name: string;
  parameters: Record<string, unknown>;
  /** Filled by the runtime (the tool's output), injected into the sequence as tokens. */
  tool_result: string;
}

export interface KvTask {
  thought: string;
  tooluse?: KvToolUse | null;
  subtasks?: KvTask[] | null;
  conclusion: string;
}

/** Taken each time a task concludes. */
export interface KvThreadSample {
  finishedTasks: number;
  /** Level of the task that just concluded (1 = top). */
  depth: number;
  kvTokens: number;
  /** KV cells attention spans (estimated used_max_p1, before llama.cpp's 256-cell padding). */
  cellSpan: number;
  unprunedTokens: number;
  elapsedMs: number;
  /** Decode rate (tokens/s, prefill excluded) over the pieces since the previous sample. */
  decodeTokensPerSecond: number;
  /** The decode steps and their wall time behind that rate (to pool samples without averaging rates). */
  decodeSteps: number;
  decodeMs: number;
  /** Process CPU time of those steps: the rate's work without the waits for a core on a loaded machine. */
  decodeCpuMs: number;
}

const GENERIC_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: { input: { type: 'string', maxLength: 64 } },
  required: ['input'],
  additionalProperties: false,
};

/** The run's bounds, resolved by runKvThread from its options and KV_THREAD_DEFAULTS. */
export interface ThreadSettings {
  maxDepth: number;
  bufferSize: number;
  maxSubtasks: number;
  maxTasks: number;
  maxThoughtChars: number;
  maxConclusionChars: number;
  maxAnswerChars: number;
  prune: boolean;
}

/** One run: state shared by the recursive task decoder. */
export class ThreadRun {
  /** Finished subtask lists still in the working memory, oldest first (content ranges, kept current across erasures). */
  private readonly fifo: Array<{ start: TrackedPosition; end: TrackedPosition }> = [];
  readonly samples: KvThreadSample[] = [];
  finishedTasks = 0;
  finishedLists = 0;
  private tasksStarted = 0;
  private lastSample = { steps: 0, ms: 0, cpuMs: 0 };
  private readonly started = performance.now();

  constructor(
    private readonly decoder: KvDecoder,
    private readonly settings: ThreadSettings,
    private readonly tools: Record<string, KvThreadTool>,
    private readonly onSample?: (sample: KvThreadSample) => void,
    private readonly onConclusion?: (conclusion: string, depth: number) => void,
  ) {}

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /**
   * A list of tasks at `depth`, after its `[` has been written; ends after its `]`.
   */
  async list(depth: number, shape: TreeShape[] | undefined): Promise<KvTask[]> {
    const tasks: KvTask[] = [];
    for (;;) {
      tasks.push(await this.task(depth, shape?.[tasks.length]));
      const mustClose = tasks.length >= this.settings.maxSubtasks || this.tasksStarted >= this.settings.maxTasks;
      let next: string;
      if (shape || mustClose) {
        next = shape ? (tasks.length < shape.length ? ',' : ']') : ']';
        this.decoder.append(next);
      } else {
        next = await this.decoder.choose([',', ']']);
      }
      if (next === ']') return tasks;
    }
  }

  private async task(depth: number, shape: TreeShape | undefined): Promise<KvTask> {
    this.tasksStarted++;
    const decoder = this.decoder;
    decoder.append('{"thought":');
    const task: KvTask = { thought: await decoder.generateString(this.settings.maxThoughtChars), conclusion: '' };
    const toolNames = Object.keys(this.tools);
    if (toolNames.length > 0) {
      decoder.append(',"tooluse":');
      task.tooluse = await this.toolUse(toolNames, shape);
    }
    if (depth < this.settings.maxDepth) {
      // Tracked: erasures of earlier lists while this one is open move it left.
      const memberStart = decoder.track(decoder.position);
      decoder.append(',"subtasks":');
      const room = this.tasksStarted < this.settings.maxTasks;
      const open = shape ? (shape.subtasks?.length ? '[' : 'null') : room ? await decoder.choose(['null', '[']) : 'null';
      if (shape || !room) decoder.append(open);
      if (open === '[') {
        task.subtasks = await this.subtaskList(depth + 1, shape?.subtasks, memberStart);
      } else {
        task.subtasks = null;
        decoder.untrack(memberStart);
      }
    }
    decoder.append(',"conclusion":');
    task.conclusion = await decoder.generateString(this.settings.maxConclusionChars);
    this.onConclusion?.(task.conclusion, depth);
    decoder.append('}');
    this.finishedTasks++;
    this.sample(depth);
    return task;
  }

  /**
   * A subtask list, its `,"subtasks":[` member opened at `start`: decoded, then pushed on the FIFO; the oldest
   * list is erased when the FIFO overflows.
   */
  private async subtaskList(depth: number, shape: TreeShape[] | undefined, start: TrackedPosition): Promise<KvTask[]> {
    const tasks = await this.list(depth, shape);
    // After the closing `]`; tracked, because erasures of earlier lists move it left.
    const end = this.decoder.track(this.decoder.position);
    this.finishedLists++;
    if (!this.settings.prune) {
      this.decoder.untrack(start);
      this.decoder.untrack(end);
      return tasks;
    }
    this.fifo.push({ start, end });
    while (this.fifo.length > this.settings.bufferSize) {
      const oldest = this.fifo.shift()!;
      const range: TokenRange = { start: oldest.start.value, end: oldest.end.value };
      this.decoder.untrack(oldest.start);
      this.decoder.untrack(oldest.end);
      await this.decoder.erase(range);
    }
    return tasks;
  }

  private async toolUse(toolNames: string[], shape: TreeShape | undefined): Promise<KvToolUse | null> {
    const decoder = this.decoder;
    const openers = toolNames.map((name) => `{"tool_name":${JSON.stringify(name)}`);
    let chosen: string;
    if (shape) {
      chosen = shape.tool !== undefined ? (openers[toolNames.indexOf(shape.tool)] ?? 'null') : 'null';
      decoder.append(chosen);
    } else {
      chosen = await decoder.choose(['null', ...openers]);
    }
    if (chosen === 'null') return null;
    const name = toolNames[openers.indexOf(chosen)]!;
    const tool = this.tools[name]!;
    decoder.append(',"parameters":');
    const parameters = (await decoder.generateJson(tool.parameters ?? GENERIC_PARAMETERS, 256)) as Record<string, unknown>;
    let result: string;
    try {
      result = await tool.run(parameters);
    } catch (error) {
      if (ThicketError.isInstance(error) && error.code === 'CANCELLED') throw error;
      result = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
    decoder.append(`,"tool_result":${JSON.stringify(result)}}`);
    return { tool_name: name, parameters, tool_result: result };
  }

  private sample(depth: number): void {
    const { decoder, onSample } = this;
    const steps = decoder.decodeSteps - this.lastSample.steps;
    const ms = decoder.decodeMs - this.lastSample.ms;
    const cpuMs = decoder.decodeCpuMs - this.lastSample.cpuMs;
    this.lastSample = { steps: decoder.decodeSteps, ms: decoder.decodeMs, cpuMs: decoder.decodeCpuMs };
    this.samples.push({
      finishedTasks: this.finishedTasks,
      depth,
      kvTokens: decoder.kvTokens,
      cellSpan: decoder.cellSpan,
      unprunedTokens: decoder.unprunedTokens,
      elapsedMs: this.elapsedMs,
      decodeTokensPerSecond: ms > 0 ? (steps * 1000) / ms : 0,
      decodeSteps: steps,
      decodeMs: ms,
      decodeCpuMs: cpuMs,
    });
    onSample?.(this.samples.at(-1)!);
  }
}
