/**
 * Planning a chat completion: every check that can refuse the request, in order — schema extras, the model and
 * the key's permission for it, draining, rate, concurrency, the key's remaining budget — and the runs to start,
 * each with its budget (the request's, capped by the key's remainder; n choices split it).
 */
import type { Context } from 'hono';
import { randomBytes } from 'node:crypto';
import type { InputIssue, UsageTotals } from '../core/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import type { SolveOptions } from '../runtime/index.ts';
import { capToRemaining, headerBudget, queryOf, refusedFields, requestBudget, type ChatRequest } from './chat.ts';
import type { Caller, GatewayContext, GatewayEnv } from './context.ts';
import { GatewayError, invalidRequest } from './errors.ts';
import { keyAllowsModel, keyLimits } from './keys.ts';
import { parseModelName } from './model-names.ts';

export interface PlannedRun {
  runId: string;
  query: string;
  options: SolveOptions;
}

export interface ChatPlan {
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
      `This key already has ${key!.settings.concurrency} requests in flight.`,
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
    // With Redis configured, the key's period budget also holds across gateway processes.
    const sharedLedger = key ? gateway.budgets.sharedFor(key) : undefined;
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
            `(limit ${limit}, spent ${spend.spent[dimension as keyof UsageTotals]}, ` +
            `reserved ${spend.reserved[dimension as keyof UsageTotals]}).`,
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
          ...(options.optimize !== undefined ? { optimize: options.optimize } : {}),
          ...(options.family !== undefined ? { family: options.family } : {}),
          ...(Object.keys(policy).length > 0 ? { policy } : {}),
          ...(shared ? { sharedBudget: shared } : {}),
          ...(sharedLedger ? { sharedLedger } : {}),
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

/**
 * What a run of this key already spent per the journal (its calls, and attempts left unresolved by a crash);
 * undefined when there is no such run.
 */
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
