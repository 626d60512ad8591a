/**
 * `POST /v1/chat/completions`: an OpenAI chat completion answered by a Thicket run under the caller's key. Every
 * check that can refuse the request runs before anything is sent to a model (schema, model, permissions, rate,
 * concurrency, the key's remaining budget); the run itself reserves from the key's budget before each call.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { randomBytes } from 'node:crypto';
import { InvalidInputError, type InputIssue, type UsageTotals } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { SolveOptions, SolveResult, ThicketEvent } from '../runtime/index.ts';
import {
  capToRemaining,
  finishReason,
  chatRequestSchema,
  headerBudget,
  openAIUsage,
  queryOf,
  refusedFields,
  requestBudget,
  sumUsage,
  thicketExtension,
  truncateAtStop,
  type ChatRequest,
} from './chat.ts';
import type { Caller, GatewayApp, GatewayContext, GatewayEnv } from './context.ts';
import { GatewayError, invalidRequest, runError, toGatewayError } from './errors.ts';
import { keyAllowsModel, keyLimits } from './keys.ts';
import { parseModelName } from './model-names.ts';
import type { Span } from '@opentelemetry/api';

const errorSchema = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }).passthrough(),
  })
  .openapi('Error');

export const chatRoute = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  tags: ['OpenAI-compatible'],
  summary: 'A chat completion answered by a Thicket strategy under a hard budget',
  request: { body: { content: { 'application/json': { schema: chatRequestSchema } }, required: true } },
  responses: {
    200: {
      description: 'The completion (JSON), or Server-Sent Events in OpenAI chunk format when `stream: true`.',
      content: {
        'application/json': { schema: z.object({}).passthrough().openapi('ChatCompletion') },
        'text/event-stream': { schema: z.string() },
      },
    },
    401: { description: 'Missing or unknown API key', content: { 'application/json': { schema: errorSchema } } },
    403: { description: 'The key may not use this model', content: { 'application/json': { schema: errorSchema } } },
    404: { description: 'Unknown model', content: { 'application/json': { schema: errorSchema } } },
    413: { description: 'Body too large', content: { 'application/json': { schema: errorSchema } } },
    422: {
      description: 'Invalid request (every problem listed in `error.issues`)',
      content: { 'application/json': { schema: errorSchema } },
    },
    429: {
      description: 'Over the key budget (`insufficient_quota`, nothing was sent to a model), rate or concurrency limit',
      content: { 'application/json': { schema: errorSchema } },
    },
  },
});

export { errorSchema };

interface PlannedRun {
  runId: string;
  query: string;
  options: SolveOptions;
}

interface ChatPlan {
  request: ChatRequest;
  runs: PlannedRun[];
  ignored: string[];
  release: () => void;
  caller: Caller;
  strategy: string;
  model: string;
}

const IGNORED_FIELDS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs'] as const;

/** Everything that can refuse the request, in order; returns the runs to start and the slot to release after. */
export function planChat(gateway: GatewayContext, c: Context<GatewayEnv>, request: ChatRequest): ChatPlan {
  const caller = c.get('caller');
  const issues: InputIssue[] = [...refusedFields(request)];
  const { query, issues: queryIssues } = queryOf(request.messages);
  issues.push(...queryIssues);
  const fromHeaders = headerBudget((name) => c.req.header(name));
  issues.push(...fromHeaders.issues);
  const headerRunId = c.req.header('x-thicket-run-id');
  if (headerRunId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(headerRunId))
    issues.push({ path: 'header x-thicket-run-id', message: 'use 1–101 letters, digits, ".", "_" or "-"' });
  if (issues.length > 0) throw invalidRequest('Invalid chat completion request', issues);

  const selection = parseModelName(request.model, gateway.defaultModel);
  const key = caller.key;
  if (key && !keyAllowsModel(key, selection.model))
    throw new GatewayError(403, 'permission_error', 'model_not_allowed', `This key may not use the model "${selection.model}".`, {
      param: 'model',
    });
  if (gateway.draining)
    throw new GatewayError(503, 'service_unavailable', 'draining', 'The gateway is shutting down; retry on another instance.');

  if (key) {
    const wait = gateway.limiter.admit(key);
    if (wait !== undefined) {
      gateway.metrics.refusals.inc({ reason: 'rate' });
      throw new GatewayError(
        429,
        'rate_limit_error',
        'rate_limit_exceeded',
        `Rate limit: ${key.settings.rpm} requests per minute for this key.`,
        {
          retryAfterSeconds: wait,
        },
      );
    }
  }
  const release = key ? gateway.limiter.acquire(key) : () => {};
  if (!release) {
    gateway.metrics.refusals.inc({ reason: 'concurrency' });
    throw new GatewayError(
      429,
      'rate_limit_error',
      'concurrency_limit_exceeded',
      `This key already has ${key!.settings.concurrency} runs in flight.`,
    );
  }
  try {
    const options = request.thicket ?? {};
    const n = request.n ?? 1;
    const givenRunId = options.runId ?? headerRunId;
    const baseRunId = givenRunId ?? `chat-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const runIds = Array.from({ length: n }, (_, index) => (n === 1 ? baseRunId : `${baseRunId}.${index}`));
    // A repeated run id resumes its run: what it already spent was counted by its key when it was paid (and is
    // read back from the journal), so replaying it costs the key nothing — its budget may cover it on top.
    const prior = runIds.map((runId) => (givenRunId !== undefined && key ? priorSpend(gateway, runId, key.id) : undefined));
    const limits: BudgetLimits = requestBudget(request.thicket, fromHeaders.limits);
    // Every keyed run draws from its key's period budget — also an unlimited one, which then only counts.
    const shared = key ? gateway.budgets.budgetFor(key) : undefined;
    let remaining: Partial<UsageTotals> | undefined;
    if (shared && key && Object.keys(keyLimits(key.settings)).length > 0) {
      const spend = gateway.budgets.spend(key);
      remaining = spend.remaining;
      // Nothing left on a limited dimension (or less than one call): refused before anything is sent — unless
      // the request resumes runs of this key, whose journaled calls replay for free.
      const exhausted = Object.entries(spend.remaining).find(([dimension, left]) => (dimension === 'usd' ? left <= 0 : left < 1));
      if (exhausted && prior.every((spent) => spent === undefined)) {
        gateway.metrics.refusals.inc({ reason: 'budget' });
        const [dimension] = exhausted;
        const limit = spend.limits[dimension as keyof BudgetLimits];
        throw new GatewayError(
          429,
          'insufficient_quota',
          'BUDGET_EXHAUSTED',
          `The key "${key.name}" has no ${dimension} left for this ${spend.period === 'total' ? 'key' : spend.period} ` +
            `(limit ${limit}, spent ${spend.spent[dimension as keyof UsageTotals]}, reserved ${spend.reserved[dimension as keyof UsageTotals]}).`,
          { param: `key.budget.${dimension}` },
        );
      }
    }
    // n choices share the request's budget: each gets its 1/n share, so together they stay inside it; each is
    // capped at what the key has left (plus, for a resumed run, what that run already spent).
    const budgetOf = (index: number): BudgetLimits => {
      const share = n === 1 ? limits : splitLimits(limits, n);
      return remaining ? capToRemaining(share, addPrior(remaining, prior[index])) : share;
    };
    const maxOutputTokens = request.max_completion_tokens ?? request.max_tokens;
    const policy = {
      ...(options.require ? { require: options.require } : {}),
      ...(options.forbid ? { forbid: options.forbid } : {}),
      ...(options.providers ? { providers: options.providers } : {}),
      ...(options.maxCostPerCall !== undefined ? { maxCostPerCall: options.maxCostPerCall } : {}),
    };
    const runs: PlannedRun[] = [];
    for (const [index, runId] of runIds.entries()) {
      const inFlight = gateway.live.get(runId);
      // Another key's run answers as a finished one of another key does: not yours (nothing more about it).
      if (inFlight && inFlight.owner !== key?.id)
        throw new GatewayError(403, 'permission_error', 'run_not_owned', 'This run id belongs to another key; use a new run id.', {
          param: 'thicket.runId',
        });
      if (inFlight)
        throw new GatewayError(
          409,
          'invalid_request_error',
          'run_in_flight',
          `Run "${runId}" is already in flight; wait for it before resuming it.`,
          {
            param: 'thicket.runId',
          },
        );
      runs.push({
        runId,
        query,
        options: {
          strategy: selection.strategy,
          model: selection.model,
          budget: budgetOf(index),
          runId,
          ...(request.seed !== undefined ? { seed: request.seed + index } : index > 0 ? { seed: index } : {}),
          ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
          ...(options.samples !== undefined ? { samples: options.samples } : {}),
          ...(options.rounds !== undefined ? { rounds: options.rounds } : {}),
          ...(options.agents !== undefined ? { agents: options.agents } : {}),
          ...(options.steps !== undefined ? { steps: options.steps } : {}),
          ...(options.budgetPolicy !== undefined ? { budgetPolicy: options.budgetPolicy } : {}),
          ...(options.planning !== undefined ? { planning: options.planning } : {}),
          ...(Object.keys(policy).length > 0 ? { policy } : {}),
          ...(shared ? { sharedBudget: shared } : {}),
          ...(key ? { owner: key.id } : {}),
        },
      });
    }
    const ignored = IGNORED_FIELDS.filter((field) => (request as Record<string, unknown>)[field] !== undefined);
    return { request, runs, ignored, release, caller, strategy: selection.strategy, model: selection.model };
  } catch (error) {
    release();
    throw error;
  }
}

/** What a run of this key already spent per the journal (its calls, and attempts left unresolved by a crash); undefined when there is no such run. */
function priorSpend(gateway: GatewayContext, runId: string, owner: string): UsageTotals | undefined {
  const journal = gateway.thicket.openJournal();
  const run = journal.getRun(runId);
  if (!run || run.owner !== owner) return undefined;
  const spent = { ...journal.runTotals(runId) };
  for (const intent of journal.callIntents(runId)) {
    spent.inputTokens += intent.inputTokens;
    spent.outputTokens += intent.outputTokens;
    spent.totalTokens += intent.inputTokens + intent.outputTokens;
    spent.usd = Math.round((spent.usd + intent.costUsd) * 1e9) / 1e9;
    spent.calls += 1;
  }
  return spent;
}

function addPrior(remaining: Partial<UsageTotals>, prior: UsageTotals | undefined): Partial<UsageTotals> {
  if (!prior) return remaining;
  const sum: Partial<UsageTotals> = {};
  for (const [dimension, left] of Object.entries(remaining) as Array<[keyof UsageTotals, number]>)
    sum[dimension] = dimension === 'usd' ? Math.round((left + prior.usd) * 1e9) / 1e9 : left + prior[dimension];
  return sum;
}

function splitLimits(limits: BudgetLimits, n: number): BudgetLimits {
  const split: BudgetLimits = {};
  for (const [dimension, value] of Object.entries(limits) as Array<[keyof BudgetLimits, number]>) {
    split[dimension] = dimension === 'seconds' ? value : dimension === 'usd' ? Math.floor((value / n) * 1e9) / 1e9 : Math.floor(value / n);
  }
  return split;
}

/** A run started through the gateway: registered as live, traced, metered; resolves with its result or throws. */
export function startRun(
  gateway: GatewayContext,
  planned: PlannedRun,
  caller: Caller,
  signal: AbortSignal | undefined,
  parentSpan: Span | undefined,
  onEvent?: (event: ThicketEvent) => void,
): Promise<SolveResult> {
  const live = gateway.live.start(planned.runId, caller.key?.id, signal);
  const tracing = gateway.telemetry.traceRun(parentSpan, {
    runId: planned.runId,
    strategy: String(planned.options.strategy ?? 'auto'),
    model: planned.options.model ?? gateway.defaultModel,
    ...(caller.key ? { key: caller.key.name } : {}),
  });
  gateway.metrics.runsInFlight.inc();
  const logger = gateway.logger.child({ runId: planned.runId, key: caller.key?.name ?? 'local' });
  return gateway.thicket
    .solve(planned.query, {
      ...planned.options,
      signal: live.run.controller.signal,
      onEvent: (event) => {
        live.publish(event);
        tracing.onEvent(event);
        onEvent?.(event);
      },
    })
    .then(
      (result) => {
        tracing.end(result);
        gateway.metrics.runs.inc({ strategy: result.strategy, status: result.status, simulated: String(result.simulated) });
        gateway.metrics.recordSpend(caller.key?.name ?? 'local', result.newUsage);
        logger.info(
          {
            status: result.status,
            strategy: result.strategy,
            tokens: result.usage.totalTokens,
            usd: result.usage.usd,
            calls: result.usage.calls,
          },
          'run finished',
        );
        return result;
      },
      (error: unknown) => {
        tracing.end(undefined, error);
        throw error;
      },
    )
    .finally(() => {
      gateway.metrics.runsInFlight.dec();
      live.end();
    });
}

/** The HTTP error a finished run answers with, or undefined when it has an answer to return. */
function resultError(result: SolveResult): GatewayError | undefined {
  if (result.answer !== null && result.status !== 'cancelled') return undefined;
  if (result.error) return runError(result.error, result.runId);
  return runError({ code: 'INTERNAL', message: `The run ended ${result.status} without an answer.` }, result.runId);
}

function completionId(runId: string): string {
  return `chatcmpl-${runId}`;
}

function choiceOf(result: SolveResult, index: number, request: ChatRequest): Record<string, unknown> {
  const { text, stopped } = truncateAtStop(result.answer ?? '', request.stop);
  return {
    index,
    message: { role: 'assistant', content: text, refusal: null },
    logprobs: null,
    finish_reason: stopped ? 'stop' : finishReason(result),
  };
}

/** Solves every planned run (n choices at once); a refusal of the whole request is thrown as a GatewayError. */
async function solveAll(
  gateway: GatewayContext,
  plan: ChatPlan,
  signal: AbortSignal,
  span: Span | undefined,
  onEvent?: (event: ThicketEvent, index: number) => void,
) {
  const settled = await Promise.allSettled(
    plan.runs.map((planned, index) =>
      startRun(gateway, planned, plan.caller, signal, span, onEvent && ((event: ThicketEvent) => onEvent(event, index))),
    ),
  );
  const rejected = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (rejected) throw ownerConflict(rejected.reason) ?? toGatewayError(rejected.reason);
  const results = settled.map((outcome) => (outcome as PromiseFulfilledResult<SolveResult>).value);
  if (results.every((result) => resultError(result) !== undefined)) throw resultError(results[0]!)!;
  return results;
}

/** A run id that belongs to another key: 403, not a validation error. */
function ownerConflict(error: unknown): GatewayError | undefined {
  if (!(error instanceof InvalidInputError) || !error.issues.some((issue) => issue.path === 'owner')) return undefined;
  return new GatewayError(403, 'permission_error', 'run_not_owned', 'This run id belongs to another key; use a new run id.', {
    param: 'thicket.runId',
  });
}

export function registerChatRoute(app: GatewayApp, gateway: GatewayContext): void {
  app.openapi(chatRoute, async (c) => {
    const request = c.req.valid('json');
    const plan = planChat(gateway, c, request);
    const created = Math.floor(Date.now() / 1000);
    const span = c.get('span');
    c.header('x-thicket-run-id', plan.runs[0]!.runId);
    if (!request.stream) {
      try {
        const results = await solveAll(gateway, plan, c.req.raw.signal, span);
        const usage = sumUsage(results.map((result) => result.usage));
        c.header('x-thicket-simulated', String(results.every((result) => result.simulated)));
        return c.json(
          {
            id: completionId(plan.runs[0]!.runId),
            object: 'chat.completion',
            created,
            model: request.model,
            system_fingerprint: 'thicket-0.1.0',
            choices: results.map((result, index) => choiceOf(result, index, request)),
            usage: openAIUsage(usage),
            thicket: thicketExtension(results, plan.ignored),
          },
          200,
        );
      } finally {
        plan.release();
      }
    }
    return streamChat(c, gateway, plan, created, span);
  });
}

/**
 * The streamed answer. The HTTP status is decided before the first byte: the runs are started and the stream
 * opens when each has begun — sent its first model call, or finished with an answer without one (replayed) — so
 * a request the runtime rejects, or whose runs the key's budget refuses before anything is sent, is still a
 * plain HTTP error (429 `insufficient_quota`, as without `stream`). Then progress goes out as SSE comments
 * (`: thicket {json}`, which OpenAI clients skip), the answer as content chunks, the usage chunk when
 * `stream_options.include_usage` asks for it, and `data: [DONE]`.
 */
async function streamChat(
  c: Context<GatewayEnv>,
  gateway: GatewayContext,
  plan: ChatPlan,
  created: number,
  span: Span | undefined,
): Promise<Response> {
  const request = plan.request;
  const id = completionId(plan.runs[0]!.runId);
  const pending: ThicketEvent[] = [];
  let forward: ((event: ThicketEvent) => void) | undefined;
  const begun = new Set<number>();
  let onStarted: () => void = () => {};
  const allStarted = new Promise<void>((resolve) => (onStarted = resolve));
  const disconnect = new AbortController();
  const signal = AbortSignal.any([c.req.raw.signal, disconnect.signal]);
  let simulated = true;
  const outcome = solveAll(gateway, plan, signal, span, (event, index) => {
    if (event.type === 'run-started') simulated &&= event.simulated;
    const begins = event.type === 'call-started' || (event.type === 'run-finished' && resultError(event.result) === undefined);
    if (begins && !begun.has(index)) {
      begun.add(index);
      if (begun.size === plan.runs.length) onStarted();
    }
    if (forward) forward(event);
    else pending.push(event);
  }).finally(() => plan.release());
  // Refused before any run started: a plain HTTP error (outcome rejects first).
  const first = await Promise.race([
    allStarted.then(() => 'started' as const),
    outcome.then(
      () => 'done' as const,
      () => 'failed' as const,
    ),
  ]);
  if (first === 'failed') await outcome; // rethrows the GatewayError to the app's error handler
  const chunk = (delta: Record<string, unknown>, finish: string | null, index = 0): string =>
    JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: request.model,
      system_fingerprint: 'thicket-0.1.0',
      choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    });
  c.header('x-thicket-simulated', String(simulated));
  return streamSSE(c, async (stream: SSEStreamingApi) => {
    stream.onAbort(() => disconnect.abort());
    const progress = async (event: ThicketEvent): Promise<void> => {
      if (event.type === 'run-finished') return;
      // Progress for people and consoles; OpenAI clients ignore SSE comments.
      await stream.write(`: thicket ${JSON.stringify(event)}\n\n`);
    };
    for (let index = 0; index < plan.runs.length; index++)
      await stream.writeSSE({ data: chunk({ role: 'assistant', content: '' }, null, index) });
    for (const event of pending.splice(0)) await progress(event);
    let queue = Promise.resolve();
    forward = (event) => {
      queue = queue.then(() => progress(event)).catch(() => {});
    };
    let results: SolveResult[];
    try {
      results = await outcome;
    } catch (error) {
      await queue;
      // The run failed after the stream opened: an error event, as OpenAI sends one (clients raise APIError).
      await stream.writeSSE({ data: JSON.stringify(toGatewayError(error).body()) });
      await stream.writeSSE({ data: '[DONE]' });
      return;
    }
    await queue;
    for (const [index, result] of results.entries()) {
      const failure = resultError(result);
      if (failure) {
        await stream.writeSSE({ data: JSON.stringify(failure.body()) });
        continue;
      }
      const { text, stopped } = truncateAtStop(result.answer ?? '', request.stop);
      // The answer in pieces of a few words, as a model's tokens would arrive.
      for (const piece of text.match(/\S+\s*|\s+/g) ?? []) await stream.writeSSE({ data: chunk({ content: piece }, null, index) });
      await stream.writeSSE({ data: chunk({}, stopped ? 'stop' : finishReason(result), index) });
    }
    if (request.stream_options?.include_usage) {
      await stream.writeSSE({
        data: JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model: request.model,
          system_fingerprint: 'thicket-0.1.0',
          choices: [],
          usage: openAIUsage(sumUsage(results.map((result) => result.usage))),
          thicket: thicketExtension(results, plan.ignored),
        }),
      });
    }
    await stream.writeSSE({ data: '[DONE]' });
  });
}
