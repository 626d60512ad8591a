/**
 * Running what a chat completion planned: each run registered as live (events, cancel), traced and metered;
 * the runs' results as OpenAI choices, or the HTTP error a request that got no answer is refused with.
 */
import type { Span } from '@opentelemetry/api';
import { InvalidInputError } from '../core/index.ts';
import type { SolveResult, ThicketEvent } from '../runtime/index.ts';
import { finishReason, truncateAtStop, type ChatRequest } from './chat.ts';
import type { ChatPlan, PlannedRun } from './chat-plan.ts';
import type { Caller, GatewayContext } from './context.ts';
import { GatewayError, runError, toGatewayError } from './errors.ts';

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
export function resultError(result: SolveResult): GatewayError | undefined {
  if (result.answer !== null && result.status !== 'cancelled') return undefined;
  if (result.error) return runError(result.error, result.runId);
  return runError({ code: 'INTERNAL', message: `The run ended ${result.status} without an answer.` }, result.runId);
}

export function completionId(runId: string): string {
  return `chatcmpl-${runId}`;
}

export function choiceOf(result: SolveResult, index: number, request: ChatRequest): Record<string, unknown> {
  const { text, stopped } = truncateAtStop(result.answer ?? '', request.stop);
  return {
    index,
    message: { role: 'assistant', content: text, refusal: null },
    logprobs: null,
    finish_reason: stopped ? 'stop' : finishReason(result),
  };
}

/** Solves every planned run (n choices at once); a refusal of the whole request is thrown as a GatewayError. */
export async function solveAll(
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
