/**
 * The chat-completions wire format: the request schema (OpenAI's fields plus the `thicket` extension object),
 * what a request asks the runtime for, and the response / chunk bodies built from a `SolveResult`.
 */
import { z } from '@hono/zod-openapi';
import type { InputIssue, UsageTotals } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { SolveResult } from '../runtime/index.ts';
import { OBJECTIVES } from '../governor/index.ts';

export const GATEWAY_LIMITS = {
  /** Request body, bytes. */
  bodyBytes: 1_000_000,
  messages: 256,
  n: 8,
  samples: 64,
  rounds: 10,
  agents: 32,
  steps: 64,
} as const;

const text = z.string().max(GATEWAY_LIMITS.bodyBytes);
const contentPart = z.object({ type: z.literal('text'), text }).passthrough();
const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([text, z.array(contentPart).max(64), z.null()]),
    name: z.string().max(64).optional(),
  })
  .passthrough();

const budgetSchema = z
  .object({
    tokens: z.number().int().positive().optional().openapi({ description: 'Total tokens (prompt + completion) over every internal call.' }),
    totalTokens: z.number().int().positive().optional(),
    inputTokens: z.number().int().positive().optional(),
    outputTokens: z.number().int().positive().optional(),
    usd: z.number().positive().optional(),
    seconds: z.number().positive().optional(),
    calls: z.number().int().positive().optional(),
  })
  .strict();

export const thicketOptionsSchema = z
  .object({
    budget: budgetSchema.optional(),
    samples: z.number().int().min(1).max(GATEWAY_LIMITS.samples).optional(),
    rounds: z.number().int().min(1).max(GATEWAY_LIMITS.rounds).optional(),
    agents: z.number().int().min(2).max(GATEWAY_LIMITS.agents).optional(),
    steps: z.number().int().min(1).max(GATEWAY_LIMITS.steps).optional(),
    runId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/, 'use 1–101 letters, digits, ".", "_" or "-"')
      .optional(),
    require: z.array(z.string()).max(32).optional(),
    forbid: z.array(z.string()).max(32).optional(),
    providers: z.array(z.string()).max(32).optional(),
    maxCostPerCall: z.number().nonnegative().optional(),
    budgetPolicy: z.enum(['degrade', 'scale', 'reject']).optional(),
    planning: z.enum(['auto', 'always', 'never']).optional(),
    /** Strategy auto: what to spend least of at the accuracy the budget buys (picks the governor's frontier table). */
    optimize: z.enum(OBJECTIVES).optional(),
    /** Strategy auto: the task family (`arithmetic`, `logic`, `multihop`, …); default: inferred from the query. */
    family: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a lower-case name such as arithmetic, logic, multihop')
      .optional(),
  })
  .strict()
  .openapi('ThicketOptions');
export type ThicketRequestOptions = z.infer<typeof thicketOptionsSchema>;

export const chatRequestSchema = z
  .object({
    model: z.string().min(1).max(200),
    messages: z.array(message).min(1).max(GATEWAY_LIMITS.messages),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
    max_completion_tokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    n: z.number().int().min(1).max(GATEWAY_LIMITS.n).optional(),
    stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional(),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
    user: z.string().max(256).optional(),
    thicket: thicketOptionsSchema.optional(),
  })
  // Other OpenAI fields (logprobs, presence_penalty, …) are accepted and have no effect; see `unsupported`.
  .passthrough()
  .openapi('ChatCompletionRequest');
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Fields whose OpenAI meaning Thicket cannot honour: refused rather than silently ignored. */
const REFUSED_FIELDS = ['tools', 'tool_choice', 'functions', 'function_call', 'audio', 'modalities', 'prediction'] as const;

export function refusedFields(body: Record<string, unknown>): InputIssue[] {
  return REFUSED_FIELDS.filter((field) => body[field] !== undefined && body[field] !== null).map((field) => ({
    path: field,
    message: 'not supported by Thicket (strategies answer a question; they do not call tools)',
  }));
}

function contentText(content: ChatRequest['messages'][number]['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text).join('');
}

/**
 * The query a conversation asks: the last user message, preceded by the instructions (system/developer) and,
 * for a multi-turn conversation, the earlier turns as a transcript.
 */
export function queryOf(messages: ChatRequest['messages']): { query: string; issues: InputIssue[] } {
  let lastUser = -1;
  messages.forEach((entry, index) => {
    if (entry.role === 'user') lastUser = index;
  });
  if (lastUser < 0) return { query: '', issues: [{ path: 'messages', message: 'must contain a user message' }] };
  const question = contentText(messages[lastUser]!.content).trim();
  if (question === '') return { query: '', issues: [{ path: `messages.${lastUser}.content`, message: 'must not be empty' }] };
  const instructions = messages
    .filter((entry) => entry.role === 'system' || entry.role === 'developer')
    .map((entry) => contentText(entry.content).trim())
    .filter((line) => line !== '');
  const turns = messages
    .slice(0, lastUser)
    .filter((entry) => entry.role === 'user' || entry.role === 'assistant')
    .map((entry) => `${entry.role === 'user' ? 'User' : 'Assistant'}: ${contentText(entry.content).trim()}`);
  const parts = [...instructions, ...(turns.length > 0 ? [`Conversation so far:\n${turns.join('\n')}`] : []), question];
  return { query: parts.join('\n\n'), issues: [] };
}

/** The request's budget in ledger limits (`tokens` is the total-token limit). */
export function requestBudget(options: ThicketRequestOptions | undefined, headerBudget: BudgetLimits): BudgetLimits {
  const given = options?.budget ?? {};
  const limits: BudgetLimits = { ...headerBudget };
  const total = given.totalTokens ?? given.tokens;
  if (total !== undefined) limits.totalTokens = total;
  for (const key of ['inputTokens', 'outputTokens', 'usd', 'seconds', 'calls'] as const) {
    const value = given[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** Reads `x-thicket-budget-*` headers; each must be a positive number. */
export function headerBudget(header: (name: string) => string | undefined): { limits: BudgetLimits; issues: InputIssue[] } {
  const limits: BudgetLimits = {};
  const issues: InputIssue[] = [];
  const fields: Array<[string, keyof BudgetLimits, boolean]> = [
    ['x-thicket-budget-tokens', 'totalTokens', true],
    ['x-thicket-budget-usd', 'usd', false],
    ['x-thicket-budget-seconds', 'seconds', false],
    ['x-thicket-budget-calls', 'calls', true],
  ];
  for (const [name, key, integer] of fields) {
    const raw = header(name);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
      issues.push({ path: `header ${name}`, message: `must be a ${integer ? 'whole ' : ''}number greater than 0, got "${raw}"` });
    else limits[key] = value;
  }
  return { limits, issues };
}

/** Caps each limit at what the key has left (a request never plans past its key's remainder). */
export function capToRemaining(limits: BudgetLimits, remaining: Partial<UsageTotals>): BudgetLimits {
  const capped: BudgetLimits = { ...limits };
  for (const key of ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const) {
    const room = remaining[key];
    if (room === undefined) continue;
    capped[key] = capped[key] === undefined ? room : Math.min(capped[key], room);
  }
  return capped;
}

export function truncateAtStop(text: string, stop: ChatRequest['stop']): { text: string; stopped: boolean } {
  const stops = stop === undefined ? [] : typeof stop === 'string' ? [stop] : stop;
  let cut = text.length;
  for (const sequence of stops) {
    const at = text.indexOf(sequence);
    if (at >= 0 && at < cut) cut = at;
  }
  return { text: text.slice(0, cut), stopped: cut < text.length };
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function openAIUsage(usage: UsageTotals): OpenAIUsage {
  return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.totalTokens };
}

export function sumUsage(lines: readonly UsageTotals[]): UsageTotals {
  const total: UsageTotals = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
  for (const line of lines) {
    total.inputTokens += line.inputTokens;
    total.outputTokens += line.outputTokens;
    total.totalTokens += line.totalTokens;
    total.usd = Math.round((total.usd + line.usd) * 1e9) / 1e9;
    total.calls += line.calls;
  }
  return total;
}

/** The `thicket` extension object of a response: what ran and what it cost, beyond OpenAI's `usage`. */
export function thicketExtension(results: readonly SolveResult[], ignored: readonly string[]): Record<string, unknown> {
  const first = results[0]!;
  return {
    run_id: first.runId,
    ...(results.length > 1 ? { run_ids: results.map((result) => result.runId) } : {}),
    strategy: first.strategy,
    status: first.status,
    simulated: results.every((result) => result.simulated),
    usage: sumUsage(results.map((result) => result.usage)),
    new_usage: sumUsage(results.map((result) => result.newUsage)),
    replayed_calls: results.reduce((sum, result) => sum + result.replayedCalls, 0),
    budget: first.budget,
    spend_by_axis: first.spendByAxis,
    spend_by_model: first.spendByModel,
    degraded: [...new Set(results.flatMap((result) => result.degraded))],
    ...(first.governor ? { governor: first.governor } : {}),
    ...(first.vote ? { vote: first.vote } : {}),
    ...(first.extraction ? { extraction: first.extraction } : {}),
    ...(first.inFlightAtCrash ? { in_flight_at_crash: first.inFlightAtCrash } : {}),
    resumed: first.resumed,
    ...(ignored.length > 0 ? { ignored } : {}),
    ...(first.warnings ? { warnings: first.warnings } : {}),
  };
}

/**
 * A choice's finish reason in OpenAI's terms: `length` when a limit cut the run short, else `stop` (also when
 * a stop sequence cut the text).
 */
export function finishReason(result: SolveResult): 'stop' | 'length' {
  return result.status === 'budget_exhausted' ? 'length' : 'stop';
}
