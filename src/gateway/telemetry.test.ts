/**
 * What the gateway reports about itself: OpenTelemetry spans (a server span per request, an `invoke_agent`
 * span per run, node spans, `chat <model>` spans per model call with the GenAI attributes) and the
 * Prometheus counters of /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { GatewayTelemetry } from './telemetry.ts';
import { chatBody, postJson, startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

describe('gateway telemetry', () => {
  const exporter = new InMemorySpanExporter();
  let test: TestGateway;

  before(async () => {
    const telemetry = await GatewayTelemetry.create({ spanProcessor: new SimpleSpanProcessor({ exporter }) });
    assert.ok(telemetry.enabled);
    test = await startTestGateway({ telemetry });
  });
  after(() => test.close());

  it('traces a request: server span, invoke_agent run span, node spans and chat spans whose tokens sum to the usage', async () => {
    exporter.reset();
    const response = await postJson(
      `${test.url}/v1/chat/completions`,
      chatBody('vote@sim:small', { thicket: { samples: 4, runId: 'traced' } }),
    );
    assert.equal(response.status, 200);
    const usage = response.body['usage'] as { prompt_tokens: number; completion_tokens: number };
    const spans = exporter.getFinishedSpans();
    const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
    assert.equal(traceIds.size, 1, 'one trace for the request');
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan): ReadableSpan | undefined =>
      span.parentSpanContext ? byId.get(span.parentSpanContext.spanId) : undefined;

    const server = spans.filter((span) => span.kind === SpanKind.SERVER);
    assert.equal(server.length, 1);
    assert.equal(server[0]!.name, 'POST /v1/chat/completions');
    assert.equal(server[0]!.attributes['http.response.status_code'], 200);
    assert.equal(server[0]!.attributes['http.request.method'], 'POST');

    const runs = spans.filter((span) => span.attributes['gen_ai.operation.name'] === 'invoke_agent');
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.name, 'invoke_agent thicket vote');
    assert.equal(parentOf(run), server[0]);
    assert.equal(run.attributes['thicket.run_id'], 'traced');
    assert.equal(run.attributes['gen_ai.request.model'], 'sim:small');
    assert.equal(run.attributes['thicket.status'], 'ok');
    assert.equal(run.attributes['gen_ai.usage.input_tokens'], usage.prompt_tokens);
    assert.equal(run.attributes['gen_ai.usage.output_tokens'], usage.completion_tokens);

    const nodes = spans.filter((span) => span.name.startsWith('node '));
    assert.ok(nodes.length >= 1);
    for (const node of nodes) {
      assert.equal(parentOf(node), run);
      assert.equal(typeof node.attributes['thicket.op'], 'string');
      assert.equal(node.attributes['thicket.status'], 'ok');
    }

    const chats = spans.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    assert.equal(chats.length, 4, 'one chat span per sample');
    for (const chat of chats) {
      assert.equal(chat.name, 'chat sim:small');
      assert.equal(chat.kind, SpanKind.CLIENT);
      assert.equal(chat.attributes['gen_ai.request.model'], 'sim:small');
      assert.equal(chat.attributes['thicket.replayed'], false);
      assert.equal(parentOf(chat), run);
    }
    const sum = (name: string): number => chats.reduce((total, chat) => total + Number(chat.attributes[name]), 0);
    assert.equal(sum('gen_ai.usage.input_tokens'), usage.prompt_tokens);
    assert.equal(sum('gen_ai.usage.output_tokens'), usage.completion_tokens);
    // And the journal agrees.
    const calls = test.thicket.runs.get('traced')!.calls;
    assert.deepEqual(chats.map((chat) => chat.attributes['thicket.call_key']).sort(), calls.map((call) => call.callKey).sort());
  });

  it('sends nothing for a resumed finished run: a run span, no chat span', async () => {
    exporter.reset();
    const response = await postJson(
      `${test.url}/v1/chat/completions`,
      chatBody('vote@sim:small', { thicket: { samples: 4, runId: 'traced' } }),
    );
    assert.equal(response.status, 200);
    const extension = response.body['thicket'] as { resumed: boolean; replayed_calls: number; new_usage: { calls: number } };
    assert.equal(extension.resumed, true);
    assert.equal(extension.new_usage.calls, 0);
    const run = exporter.getFinishedSpans().find((span) => span.attributes['gen_ai.operation.name'] === 'invoke_agent');
    assert.ok(run);
    const chats = exporter.getFinishedSpans().filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    // The finished run is reused whole from the journal: nothing is sent, so no chat span, and the run span's
    // usage is what was sent (nothing) — summing run spans never counts a call twice; the replays are named.
    assert.equal(extension.replayed_calls, 4);
    assert.deepEqual(chats, []);
    assert.equal(run.attributes['thicket.calls'], 0);
    assert.equal(run.attributes['gen_ai.usage.input_tokens'], 0);
    assert.equal(run.attributes['thicket.replayed_calls'], 4);
    assert.equal(run.attributes['thicket.status'], 'ok');
  });

  it('traces a refused request as a server span with its status, and no run', async () => {
    exporter.reset();
    const response = await postJson(`${test.url}/v1/chat/completions`, chatBody('nope@sim:small'));
    assert.equal(response.status, 404);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.attributes['http.response.status_code'], 404);
  });

  it('exposes request and run counters on /metrics', async () => {
    const response = await fetch(`${test.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    const value = (pattern: RegExp): number => Number(text.match(pattern)?.[1] ?? NaN);
    assert.equal(value(/^thicket_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} (\d+)$/m), 2);
    assert.equal(value(/^thicket_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="404"\} (\d+)$/m), 1);
    assert.equal(value(/^thicket_runs_total\{strategy="vote",status="ok",simulated="true"\} (\d+)$/m), 2);
    assert.equal(value(/^thicket_runs_in_flight (\d+)$/m), 0);
    // Tokens count new spend only: the replayed second run added nothing.
    const firstRun = test.thicket.runs.get('traced')!.calls;
    const input = firstRun.reduce((sum, call) => sum + call.inputTokens, 0);
    assert.equal(value(/^thicket_tokens_total\{key="local",direction="input"\} (\d+)$/m), input);
    assert.doesNotMatch(text, /process_cpu|nodejs_/, 'process metrics are off');
  });
});
