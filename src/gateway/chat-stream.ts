/**
 * A streamed chat completion: Server-Sent Events in OpenAI's chunk format, with the run's progress as SSE
 * comments in between.
 */
import type { Span } from '@opentelemetry/api';
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { SolveResult, ThicketEvent } from '../runtime/index.ts';
import { finishReason, openAIUsage, sumUsage, thicketExtension, truncateAtStop } from './chat.ts';
import type { ChatPlan } from './chat-plan.ts';
import { completionId, resultError, solveAll } from './chat-run.ts';
import type { GatewayContext, GatewayEnv } from './context.ts';
import { toGatewayError } from './errors.ts';

/**
 * The streamed answer. The HTTP status is decided before the first byte: the runs are started and the stream
 * opens when each has begun — sent its first model call, or finished with an answer without one (replayed) — so
 * a request the runtime rejects, or whose runs the key's budget refuses before anything is sent, is still a
 * plain HTTP error (429 `insufficient_quota`, as without `stream`). Then progress goes out as SSE comments
 * (`: thicket {json}`, which OpenAI clients skip), the answer as content chunks, the usage chunk when
 * `stream_options.include_usage` asks for it, and `data: [DONE]`.
 */
export async function streamChat(
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
