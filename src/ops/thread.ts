/**
 * thread — a recursive subtask tree in one model context, after TIM/TIMRUN (thread-solo.md; arXiv 2507.16784).
 *
 * On chat APIs the TIM document (thread-format.ts) is decoded *step by step* under per-step JSON schemas:
 * each call writes the next task (thought; then a tool call, subtasks, or a direct conclusion), or the
 * conclusion of a task whose tool result or subtasks are done, or finally the answer. The runtime owns the
 * tree: it runs tools and fills `tool_result`, bounds depth (the schema has no `subtasks` at the deepest
 * level), items per list and total steps.
 *
 * Pruning (the point of TIM): a task only needs the thoughts and conclusions of earlier tasks at its own or
 * a higher level. A finished subtask list is pushed on a FIFO buffer (size 2 by default); when the buffer
 * overflows, the oldest list is collapsed in every later prompt — its parent's thought and conclusion stay.
 * Both what was resent and what an unpruned run would have resent are counted with the real tokenizer.
 *
 * Budget: before every step the slice must cover that step's worst case plus the final answer's; when it
 * cannot, the tree stops growing and the answer is asked from the partial tree (recorded in `degraded`).
 */
import { BudgetExhaustedError, ThicketError, countMessageTokens, countTokens, extractAnswer } from '../core/index.ts';
import { CALCULATOR_TOOL_NAME, CALL_PURPOSE, formatPositionLine, formatStepResult } from '../formats/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext, OpResult } from './context.ts';
import { generate, type GenerateOutcome } from './generate.ts';
import { addAmounts, budgetCovers, callWorstCase, degrade } from './solo.ts';
import {
  CALCULATOR_TOOL,
  DEFAULT_THREAD_DEPTH,
  normalizeTool,
  pathLabel,
  renderThread,
  threadStepSchema,
  toDocument,
  type ThreadNode,
  type ThreadStepKind,
  type ThreadTool,
  type ThreadTools,
  type ThreadUnion,
  type TimToolUse,
} from './thread-format.ts';

export interface ThreadOptions {
  question: string;
  model?: string;
  /** Extra system instructions (appended to the thread instructions). */
  system?: string;
  /** Task levels (default 3). */
  maxDepth?: number;
  /** Finished subtask lists kept in view before the oldest is collapsed (default 2, min 1). */
  bufferSize?: number;
  /** Model calls, the final answer included (default 48). */
  maxSteps?: number;
  /** Items per list, top level included (default 8). */
  maxSubtasks?: number;
  maxStepTokens?: number;
  maxAnswerTokens?: number;
  tools?: ThreadTools;
  /** Offer the built-in calculator (default true). */
  calculator?: boolean;
  /** Collapse finished lists (default true); false runs the unpruned baseline. */
  prune?: boolean;
  union?: ThreadUnion;
  temperature?: number;
}

export const THREAD_DEFAULTS = {
  maxDepth: DEFAULT_THREAD_DEPTH,
  bufferSize: 2,
  maxSteps: 48,
  maxSubtasks: 8,
  maxStepTokens: 320,
  maxAnswerTokens: 96,
} as const;

const THREAD_SYSTEM =
  'You reason as a thread: a JSON tree of tasks. A task has a thought, an optional tool use, optional subtasks (a list of tasks) and a ' +
  `conclusion that states everything later tasks need from it (write results as "${formatStepResult('N', '<value>')}" when steps are ` +
  'numbered). You write the tree one step at a time, as asked:\n' +
  '- a task: give its thought, then either call a tool, open subtasks, or conclude it directly (leave the conclusion empty when a tool or ' +
  'subtasks come first); set "more" to true when another task should follow in the same list;\n' +
  `- a conclusion: conclude the task from its tool result or its subtasks, and set "more";
- the answer: the final answer alone.
Finished subtask lists are removed from the thread you are shown; only their parent's thought and conclusion stay.`;

interface TaskStep {
  thought: string;
  tooluse?: { tool_name: string; parameters: Record<string, unknown> } | null;
  subtasks?: boolean;
  conclusion: string;
  more: boolean;
}

interface ConcludeStep {
  conclusion: string;
  more: boolean;
}

type StopReason = 'answered' | 'max-steps' | 'budget' | 'error';

export async function thread(context: OpContext, options: ThreadOptions): Promise<OpResult> {
  return new ThreadRun(context, options).run();
}

class ThreadRun {
  private readonly model: string;
  private readonly stepId: string;
  private readonly maxDepth: number;
  private readonly bufferSize: number;
  private readonly maxSteps: number;
  private readonly maxSubtasks: number;
  private readonly maxStepTokens: number;
  private readonly maxAnswerTokens: number;
  private readonly prune: boolean;
  private readonly tools: Record<string, ThreadTool>;
  private readonly system: string;
  private readonly reasoning: ThreadNode[] = [];
  /** Parents whose finished subtask lists are still in view, oldest first. */
  private readonly buffer: ThreadNode[] = [];
  private readonly degraded: string[] = [];
  private readonly pruneEvents: Array<{ step: number; parent: string; items: number; tokens: number }> = [];
  private readonly toolCalls: TimToolUse[] = [];
  private calls = 0;
  private tokensResent = 0;
  private tokensUnpruned = 0;
  private listsFinished = 0;
  private tasksConcluded = 0;
  private depthReached = 0;
  private budgetExhausted = false;
  private simulated = false;
  private stopReason: StopReason = 'answered';
  private error: string | undefined;

  constructor(
    private readonly context: OpContext,
    private readonly options: ThreadOptions,
  ) {
    this.model = options.model ?? context.model;
    this.stepId = `${context.stepId}/thread`;
    this.maxDepth = Math.max(1, Math.floor(options.maxDepth ?? THREAD_DEFAULTS.maxDepth));
    this.bufferSize = Math.max(1, Math.floor(options.bufferSize ?? THREAD_DEFAULTS.bufferSize));
    this.maxSteps = Math.max(1, Math.floor(options.maxSteps ?? THREAD_DEFAULTS.maxSteps));
    this.maxSubtasks = Math.max(1, Math.floor(options.maxSubtasks ?? THREAD_DEFAULTS.maxSubtasks));
    this.maxStepTokens = options.maxStepTokens ?? THREAD_DEFAULTS.maxStepTokens;
    this.maxAnswerTokens = options.maxAnswerTokens ?? THREAD_DEFAULTS.maxAnswerTokens;
    this.prune = options.prune ?? true;
    this.tools = Object.fromEntries(Object.entries(options.tools ?? {}).map(([name, tool]) => [name, normalizeTool(tool)]));
    if ((options.calculator ?? true) && !this.tools[CALCULATOR_TOOL_NAME]) this.tools[CALCULATOR_TOOL_NAME] = CALCULATOR_TOOL;
    const toolLines = Object.entries(this.tools).map(
      ([name, tool]) => `- ${name}: ${tool.description ?? 'a tool'}; parameters ${JSON.stringify(tool.parameters ?? { input: 'string' })}`,
    );
    this.system = [THREAD_SYSTEM, toolLines.length > 0 ? `Tools:\n${toolLines.join('\n')}` : '', options.system ?? '']
      .filter((part) => part)
      .join('\n\n');
  }

  async run(): Promise<OpResult> {
    const { trace } = this.context;
    trace.event(this.stepId, 'op-start', {
      operator: 'thread',
      model: this.model,
      maxDepth: this.maxDepth,
      bufferSize: this.bufferSize,
      maxSteps: this.maxSteps,
      prune: this.prune,
    });
    const query = trace.addNode(this.stepId, 'query', this.options.question);
    await this.grow();
    const top = this.reasoning.filter((node) => node.nodeId !== undefined).map((node) => node.nodeId as string);
    const final = await this.answer(top.length > 0 ? top : [query]);
    const result: OpResult = {
      answer: final.answer,
      confidence: undefined,
      text: final.text,
      nodeId: final.nodeId,
      calls: this.calls,
      degraded: this.degraded,
      budgetExhausted: this.budgetExhausted,
      simulated: this.simulated,
      details: {
        operator: 'thread',
        stopReason: this.stopReason,
        steps: this.calls,
        tokensResent: this.tokensResent,
        tokensUnpruned: this.tokensUnpruned,
        prunedShare: this.tokensUnpruned === 0 ? 0 : 1 - this.tokensResent / this.tokensUnpruned,
        pruneEvents: this.pruneEvents.length,
        prunes: this.pruneEvents,
        maxDepth: this.depthReached,
        subtasksFinished: this.listsFinished,
        tasksConcluded: this.tasksConcluded,
        toolCalls: this.toolCalls,
        tree: toDocument(this.reasoning, final.answer ?? '', { withTools: this.hasTools, maxDepth: this.maxDepth }),
        ...(this.error !== undefined ? { error: this.error } : {}),
      },
    };
    trace.event(this.stepId, 'op-end', {
      operator: 'thread',
      answer: result.answer,
      calls: this.calls,
      tokensResent: this.tokensResent,
      tokensUnpruned: this.tokensUnpruned,
    });
    return result;
  }

  private get hasTools(): boolean {
    return Object.keys(this.tools).length > 0;
  }

  /** Grows the tree depth-first until the top-level list is finished or a bound/budget stops it. */
  private async grow(): Promise<void> {
    const open: ThreadNode[] = [];
    let list = this.reasoning;
    for (;;) {
      const path = [...(open.at(-1)?.path ?? []), list.length];
      const head = await this.step<TaskStep>('task', path);
      if (!head) return;
      const node: ThreadNode = {
        thought: head.thought,
        tooluse: null,
        subtasks: null,
        conclusion: undefined,
        depth: path.length,
        path,
        collapsed: false,
      };
      list.push(node);
      this.depthReached = Math.max(this.depthReached, node.depth);
      if (head.tooluse) node.tooluse = await this.callTool(head.tooluse, node);
      let more = head.more;
      if (head.subtasks === true && node.depth < this.maxDepth) {
        node.subtasks = [];
        open.push(node);
        list = node.subtasks;
        continue;
      }
      if (head.tooluse || head.conclusion.trim() === '') {
        const concluded = await this.step<ConcludeStep>('conclude', path);
        if (!concluded) return;
        node.conclusion = concluded.conclusion;
        more = concluded.more;
      } else node.conclusion = head.conclusion;
      this.concluded(node, list);
      // A list ends when the model says so or hits the item cap; its parent is then concluded.
      while (!more || list.length >= this.maxSubtasks) {
        const parent = open.pop();
        if (!parent) return;
        this.finishList(parent);
        list = open.at(-1)?.subtasks ?? this.reasoning;
        const concluded = await this.step<ConcludeStep>('conclude', parent.path);
        if (!concluded) return;
        parent.conclusion = concluded.conclusion;
        more = concluded.more;
        this.concluded(parent, list);
      }
    }
  }

  /** One structured step, or undefined when a bound, the budget or an error ends the growth. */
  private async step<T>(kind: Exclude<ThreadStepKind, 'answer'>, path: number[]): Promise<T | undefined> {
    if (this.calls >= this.maxSteps - 1) {
      // The last allowed call is kept for the answer.
      this.stopReason = 'max-steps';
      this.context.trace.event(this.stepId, 'note', { what: `maxSteps ${this.maxSteps} reached; answering from the partial tree` });
      return undefined;
    }
    const messages = this.messages(kind, path, this.prune);
    const schema = threadStepSchema(kind, {
      depth: path.length,
      maxDepth: this.maxDepth,
      tools: this.tools,
      ...(this.options.union ? { union: this.options.union } : {}),
    });
    const stepCost = callWorstCase(this.context, this.model, messages, this.maxStepTokens, schema);
    // The answer prompt is at most this one plus one step's output longer.
    const answerCost = callWorstCase(this.context, this.model, messages, this.maxAnswerTokens);
    answerCost.inputTokens +=
      this.maxStepTokens + countTokens(JSON.stringify(threadStepSchema('answer', { depth: 1, maxDepth: 1, tools: {} })));
    if (!budgetCovers(this.context.budget, addAmounts(stepCost, answerCost))) {
      this.stopReason = 'budget';
      degrade(this.context, this.stepId, this.degraded, `thread stopped after ${this.calls} steps (budget): answer from the partial tree`);
      return undefined;
    }
    const outcome = await this.call(`step-${this.calls}`, kind, path, messages, { name: `thread_${kind}`, schema }, this.maxStepTokens);
    return outcome ? (outcome.call.object as T) : undefined;
  }

  private async answer(derivedFrom: string[]): Promise<{ answer: string | undefined; text: string; nodeId: string | undefined }> {
    const messages = this.messages('answer', [], this.prune);
    const schema = threadStepSchema('answer', { depth: 1, maxDepth: 1, tools: {} });
    const outcome = await this.call('answer', 'answer', [], messages, { name: 'thread_answer', schema }, this.maxAnswerTokens, derivedFrom);
    if (outcome && outcome.answer !== undefined) return { answer: outcome.answer, text: outcome.text, nodeId: outcome.nodeId };
    // No answer call: fall back on what the tree concluded last at the top level.
    const last = [...this.reasoning].reverse().find((node) => node.conclusion !== undefined);
    const fallback = last?.conclusion === undefined ? undefined : extractAnswer(last.conclusion);
    degrade(
      this.context,
      this.stepId,
      this.degraded,
      `no answer call: answer from the last top-level conclusion${fallback === undefined ? ' (none)' : ''}`,
    );
    return { answer: fallback, text: last?.conclusion ?? '', nodeId: last?.nodeId };
  }

  private async call(
    step: string,
    kind: ThreadStepKind,
    path: number[],
    messages: ChatMessage[],
    schema: { name: string; schema: Record<string, unknown> },
    maxOutputTokens: number,
    derivedFrom?: string[],
  ): Promise<GenerateOutcome | undefined> {
    try {
      const outcome = await generate(this.context, {
        step,
        model: this.model,
        messages,
        maxOutputTokens,
        schema,
        ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
        purpose: CALL_PURPOSE.threadStep,
        operator: 'thread',
        axis: 'depth',
        node: derivedFrom ? 'answer' : null,
        ...(derivedFrom ? { derivedFrom } : {}),
      });
      this.calls++;
      this.simulated ||= outcome.call.simulated;
      // Counted per call actually sent: the pruned prompt, and the same step's prompt without pruning.
      this.tokensResent += countMessageTokens(messages);
      this.tokensUnpruned += this.prune ? countMessageTokens(this.messages(kind, path, false)) : countMessageTokens(messages);
      return outcome;
    } catch (error) {
      if (ThicketError.isInstance(error) && error.category === 'cancelled') throw error;
      if (error instanceof BudgetExhaustedError) {
        this.budgetExhausted = true;
        this.stopReason = 'budget';
        degrade(this.context, this.stepId, this.degraded, `${step} refused by the budget`);
      } else {
        this.stopReason = 'error';
        this.error = ThicketError.isInstance(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return undefined;
    }
  }

  private messages(kind: ThreadStepKind, path: number[], prune: boolean): ChatMessage[] {
    const tree = renderThread(this.reasoning, { prune, withTools: this.hasTools, maxDepth: this.maxDepth });
    const position = formatPositionLine(path, this.maxDepth);
    const next =
      kind === 'task'
        ? `write the task at ${position}: its thought, then call a tool, open subtasks, or conclude it directly.`
        : kind === 'conclude'
          ? `conclude the task at ${position} from its tool result or its subtasks.`
          : `the reasoning is ${this.stopReason === 'answered' ? 'finished' : 'stopped early'}; give the final answer.`;
    return [
      { role: 'system', content: this.system },
      {
        role: 'user',
        content:
          `Thread so far (JSON; finished subtask lists are pruned to their parent's thought and conclusion):\n${tree}\n\nNext: ` +
          `${next}\n\nQuestion: ${this.options.question}`,
      },
    ];
  }

  private async callTool(request: { tool_name: string; parameters: Record<string, unknown> }, node: ThreadNode): Promise<TimToolUse> {
    const tool = this.tools[request.tool_name];
    let result: string;
    try {
      result = tool ? String(await tool.run(request.parameters ?? {})) : `error: unknown tool ${request.tool_name}`;
    } catch (error) {
      result = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
    const use: TimToolUse = { tool_name: request.tool_name, parameters: request.parameters ?? {}, tool_result: result };
    this.toolCalls.push(use);
    this.context.trace.event(this.stepId, 'tool', {
      tool: request.tool_name,
      parameters: use.parameters,
      result,
      path: pathLabel(node.path),
    });
    node.nodeId = this.context.trace.addNode(
      this.stepId,
      'evidence',
      `${request.tool_name}(${JSON.stringify(use.parameters)}) = ${result}`,
    );
    return use;
  }

  /** Graph: the conclusion derives from the task's subtasks' conclusions (or its tool evidence) and the previous sibling. */
  private concluded(node: ThreadNode, list: readonly ThreadNode[]): void {
    this.tasksConcluded++;
    const sources = [...(node.subtasks ?? []).map((child) => child.nodeId), node.nodeId, list[list.indexOf(node) - 1]?.nodeId].filter(
      (id): id is string => id !== undefined,
    );
    node.nodeId = this.context.trace.addNode(this.stepId, 'conclusion', node.conclusion ?? '');
    if (sources.length > 0) this.context.trace.derive(node.nodeId, sources);
  }

  /** TIM's rule: push the finished list; on overflow the oldest list leaves the working memory. */
  private finishList(parent: ThreadNode): void {
    this.listsFinished++;
    this.buffer.push(parent);
    if (this.buffer.length <= this.bufferSize) return;
    const oldest = this.buffer.shift() as ThreadNode;
    if (!this.prune) return;
    oldest.collapsed = true;
    const tokens = countTokens(renderThread(oldest.subtasks ?? [], { prune: false, withTools: this.hasTools, maxDepth: this.maxDepth }));
    this.pruneEvents.push({ step: this.calls, parent: pathLabel(oldest.path), items: oldest.subtasks?.length ?? 0, tokens });
    this.context.trace.event(this.stepId, 'note', {
      what: 'prune',
      parent: pathLabel(oldest.path),
      items: oldest.subtasks?.length ?? 0,
      tokens,
    });
  }
}
