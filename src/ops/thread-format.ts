/**
 * The TIM thread format (thread-solo.md; Thread Inference Model, arXiv 2507.16784): the document schema
 * with recursion unrolled to a fixed depth, the per-step schemas the thread operator decodes on chat APIs,
 * the rendering of the working memory (with finished subtask lists pruned), and the built-in calculator.
 *
 * Schemas follow the strict structured-output rules (OpenAI strict mode, llama.cpp grammars): every
 * property required, `additionalProperties: false`, optional parts nullable instead of absent, no recursion
 * (`$ref` cycles) — the deepest level simply has no `subtasks`, as in TIM's own grammar.
 */
import { normalizeAnswer } from '../core/index.ts';
import { parseArithmetic, type JsonSchema } from '../models/index.ts';

export interface TimToolUse {
  tool_name: string;
  parameters: Record<string, unknown>;
  /** Filled by the runtime after calling the tool, never by the model. */
  tool_result: string;
}

export interface TimTask {
  thought: string;
  /** Present (possibly null) when the thread was given tools. */
  tooluse?: TimToolUse | null;
  /** Present (possibly null) above the deepest level. */
  subtasks?: TimTask[] | null;
  conclusion: string;
}

export interface TimDocument {
  reasoning: TimTask[];
  answer: string;
}

export type ThreadToolFn = (parameters: Record<string, unknown>) => Promise<string>;
export interface ThreadTool {
  run: ThreadToolFn;
  description?: string;
  /** JSON Schema of the parameters object (default: `{ input: string }`). */
  parameters?: JsonSchema;
}
export type ThreadTools = Record<string, ThreadToolFn | ThreadTool>;

export type ThreadUnion = 'anyOf' | 'oneOf';

export interface ThreadSchemaOptions {
  /** Task levels (default 3): level-1 tasks may have subtasks … the deepest level has none. */
  depth?: number;
  tools?: ThreadTools;
  /** How nullable objects are spelled: `anyOf` (OpenAI strict) or `oneOf` (node-llama-cpp grammars). */
  union?: ThreadUnion;
}

export const DEFAULT_THREAD_DEPTH = 3;

const STRING = { type: 'string' } as const;
const GENERIC_PARAMETERS: JsonSchema = { type: 'object', properties: { input: STRING }, required: ['input'], additionalProperties: false };

/** Evaluates + - * / and parentheses exactly (no eval): the sim's arithmetic parser, reused. */
export function calculate(expression: string): string {
  const trimmed = expression.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(trimmed)) return normalizeAnswer(trimmed);
  const parsed = parseArithmetic(trimmed);
  if (!parsed) return `error: not an arithmetic expression: ${trimmed.slice(0, 80)}`;
  const { num, den } = parsed.value;
  return den === 1 ? String(num) : normalizeAnswer((num / den).toFixed(6));
}

export const CALCULATOR_TOOL: ThreadTool = {
  description: 'evaluates an arithmetic expression (+ - * / and parentheses) exactly',
  parameters: { type: 'object', properties: { expression: STRING }, required: ['expression'], additionalProperties: false },
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the schema above makes `expression` a string
  run: async (parameters) => calculate(String(parameters['expression'] ?? '')),
};

export function normalizeTool(tool: ThreadToolFn | ThreadTool): ThreadTool {
  return typeof tool === 'function' ? { run: tool } : tool;
}

function nullable(schema: JsonSchema, union: ThreadUnion): JsonSchema {
  return { [union]: [schema, { type: 'null' }] };
}

function object(properties: Record<string, unknown>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** One tool call per tool (tool_name is a constant), as in TIM's grammar; `withResult` for the document. */
function toolUse(tools: ThreadTools, union: ThreadUnion, withResult: boolean): JsonSchema | undefined {
  const variants = Object.entries(tools).map(([name, tool]) =>
    object({
      tool_name: { type: 'string', const: name },
      parameters: normalizeTool(tool).parameters ?? GENERIC_PARAMETERS,
      ...(withResult ? { tool_result: STRING } : {}),
    }),
  );
  if (variants.length === 0) return undefined;
  return { [union]: [...variants, { type: 'null' }] };
}

/** The whole TIM document: `{ reasoning: task[], answer }`, tasks unrolled to `depth` levels. */
export function threadSchema(options: ThreadSchemaOptions = {}): JsonSchema {
  const depth = Math.max(1, Math.floor(options.depth ?? DEFAULT_THREAD_DEPTH));
  const union = options.union ?? 'anyOf';
  const tooluse = toolUse(options.tools ?? {}, union, true);
  let level: JsonSchema | undefined;
  for (let current = depth; current >= 1; current--) {
    level = object({
      thought: STRING,
      ...(tooluse ? { tooluse } : {}),
      ...(level ? { subtasks: nullable({ type: 'array', items: level }, union) } : {}),
      conclusion: STRING,
    });
  }
  return object({ reasoning: { type: 'array', items: level }, answer: STRING });
}

export type ThreadStepKind = 'task' | 'conclude' | 'answer';

export interface ThreadStepSchemaOptions {
  /** Level of the task the step is about (1 = top level). */
  depth: number;
  maxDepth: number;
  tools: ThreadTools;
  union?: ThreadUnion;
}

/**
 * Schemas of the chat-API steps. `task`: thought, tool call (no result), whether to open subtasks (absent at
 * the deepest level), a direct conclusion (empty when a tool or subtasks come first) and whether another
 * task follows in the same list. `conclude`: conclusion + more. `answer`: the final answer.
 */
export function threadStepSchema(kind: ThreadStepKind, options: ThreadStepSchemaOptions): JsonSchema {
  if (kind === 'answer') return object({ answer: STRING });
  if (kind === 'conclude') return object({ conclusion: STRING, more: { type: 'boolean' } });
  const tooluse = toolUse(options.tools, options.union ?? 'anyOf', false);
  return object({
    thought: STRING,
    ...(tooluse ? { tooluse } : {}),
    ...(options.depth < options.maxDepth ? { subtasks: { type: 'boolean' } } : {}),
    conclusion: STRING,
    more: { type: 'boolean' },
  });
}

/** A task in the operator's working memory. */
export interface ThreadNode {
  thought: string;
  tooluse: TimToolUse | null;
  subtasks: ThreadNode[] | null;
  /** Undefined while the task is open. */
  conclusion: string | undefined;
  /** Level (1 = top) and position (indices from the top-level list down). */
  depth: number;
  path: number[];
  /** Its finished subtask list was popped from the FIFO buffer: only thought and conclusion stay in view. */
  collapsed: boolean;
  /** Reasoning-graph node of its conclusion. */
  nodeId?: string;
}

export interface RenderOptions {
  /** Leave collapsed subtask lists out (the pruned working memory) or keep everything (the counterfactual). */
  prune: boolean;
  withTools: boolean;
  maxDepth: number;
}

function renderTask(node: ThreadNode, options: RenderOptions, final: boolean): TimTask {
  // Built key by key so the JSON keeps TIM's order: thought, tooluse, subtasks, conclusion.
  const out: Record<string, unknown> = { thought: node.thought };
  if (options.withTools) out['tooluse'] = node.tooluse;
  if (node.depth < options.maxDepth && !(options.prune && node.collapsed))
    out['subtasks'] = node.subtasks === null ? null : node.subtasks.map((child) => renderTask(child, options, final));
  // An open task has no conclusion yet; in the final document it is an empty string (the schema needs one).
  if (node.conclusion !== undefined || final) out['conclusion'] = node.conclusion ?? '';
  return out as unknown as TimTask;
}

/** The working memory as compact JSON (one line): what the model is shown before each step. */
export function renderThread(reasoning: readonly ThreadNode[], options: RenderOptions): string {
  return JSON.stringify({ reasoning: reasoning.map((node) => renderTask(node, options, false)) });
}

/** The finished (or stopped) thread as a TIM document, nothing pruned. */
export function toDocument(reasoning: readonly ThreadNode[], answer: string, options: Omit<RenderOptions, 'prune'>): TimDocument {
  return { reasoning: reasoning.map((node) => renderTask(node, { ...options, prune: false }, true)), answer };
}

/** `reasoning[0].subtasks[2]`: how a position is named in prompts (defined in src/formats/thread.ts, which the sim parses it with). */
export { pathLabel } from '../formats/index.ts';
