/**
 * OpenTelemetry spans for requests, runs, workflow nodes and model calls, with the GenAI semantic conventions
 * (`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, …), through
 * `@opentelemetry/api`. Off by default: no tracer provider is built and no event is looked at, so a gateway
 * without tracing pays nothing. On with an OTLP endpoint (`--otlp`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_ENDPOINT`) or a span processor handed in (tests use a SimpleSpanProcessor over an
 * InMemorySpanExporter). The gateway keeps its own provider rather than registering a global one, so two gateways in one process (and the
 * host application's own tracing) do not interfere.
 */
import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { SolveResult, ThicketEvent } from '../runtime/index.ts';

export interface TelemetryOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint?: string;
  /** A span processor to export through (e.g. a SimpleSpanProcessor over an InMemorySpanExporter). */
  spanProcessor?: SpanProcessor;
  serviceName?: string;
}

/** What a run's span needs: the events of the run, then its result. */
export interface RunTracing {
  onEvent(event: ThicketEvent): void;
  end(result: SolveResult | undefined, error?: unknown): void;
}

const NO_RUN_TRACING: RunTracing = { onEvent: () => {}, end: () => {} };

export class GatewayTelemetry {
  private constructor(
    private readonly tracer: Tracer | undefined,
    private readonly shutdownProvider: () => Promise<void>,
  ) {}

  /** Tracing off: nothing is recorded. */
  static off(): GatewayTelemetry {
    return new GatewayTelemetry(undefined, async () => {});
  }

  static async create(options: TelemetryOptions = {}): Promise<GatewayTelemetry> {
    const endpoint = options.otlpEndpoint ?? otlpEndpointFromEnv();
    if (endpoint === undefined && options.spanProcessor === undefined) return GatewayTelemetry.off();
    const { TracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const processors: SpanProcessor[] = [];
    if (options.spanProcessor) processors.push(options.spanProcessor);
    if (endpoint !== undefined) {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: endpoint }) }));
    }
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'thicket-gateway' }),
      spanProcessors: processors,
    });
    return new GatewayTelemetry(provider.getTracer('thicket', '0.1.0'), () => provider.shutdown());
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  /** A server span for one HTTP request; undefined when tracing is off. */
  startRequest(method: string, route: string, attributes: Attributes = {}): Span | undefined {
    return this.tracer?.startSpan(`${method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'http.route': route, ...attributes },
    });
  }

  /**
   * Spans for one run under `parent`: the run (`invoke_agent`), each workflow node, each model call (`chat`),
   * opened and closed from the run's events.
   */
  traceRun(parent: Span | undefined, attributes: { runId: string; strategy: string; model: string; key?: string }): RunTracing {
    const tracer = this.tracer;
    if (!tracer) return NO_RUN_TRACING;
    const parentContext = parent ? trace.setSpan(context.active(), parent) : context.active();
    const run = tracer.startSpan(
      `invoke_agent thicket ${attributes.strategy}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': `thicket/${attributes.strategy}`,
          'gen_ai.request.model': attributes.model,
          'gen_ai.conversation.id': attributes.runId,
          'thicket.run_id': attributes.runId,
          'thicket.strategy': attributes.strategy,
          ...(attributes.key !== undefined ? { 'thicket.key': attributes.key } : {}),
        },
      },
      parentContext,
    );
    const runContext = trace.setSpan(parentContext, run);
    const nodes = new Map<string, Span>();
    const calls = new Map<string, Span>();
    return {
      onEvent: (event) => {
        switch (event.type) {
          case 'node-started':
            nodes.set(
              event.nodeId,
              tracer.startSpan(
                `node ${event.nodeId}`,
                { attributes: { 'thicket.node': event.nodeId, 'thicket.op': event.op } },
                runContext,
              ),
            );
            break;
          case 'node-finished': {
            const span = nodes.get(event.nodeId);
            if (!span) break;
            span.setAttributes({ 'thicket.status': event.status, 'thicket.calls': event.calls, 'thicket.replayed': event.replayed });
            if (event.status !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: event.status });
            span.end();
            nodes.delete(event.nodeId);
            break;
          }
          case 'call-started': {
            const span = tracer.startSpan(
              `chat ${event.model}`,
              {
                kind: SpanKind.CLIENT,
                attributes: {
                  'gen_ai.operation.name': 'chat',
                  'gen_ai.request.model': event.model,
                  'thicket.call_key': event.callKey,
                  'thicket.attempt': event.attempt,
                },
              },
              runContext,
            );
            calls.get(event.callKey)?.end();
            calls.set(event.callKey, span);
            break;
          }
          case 'call-finished': {
            // A replayed call has no start event: it is recorded as a zero-length span marked replayed.
            const span =
              calls.get(event.callKey) ??
              tracer.startSpan(
                `chat ${event.model}`,
                { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat' } },
                runContext,
              );
            span.setAttributes({
              'gen_ai.request.model': event.model,
              'gen_ai.usage.input_tokens': event.usage.inputTokens,
              'gen_ai.usage.output_tokens': event.usage.outputTokens,
              'thicket.usd': event.usd,
              'thicket.replayed': event.replayed,
              'thicket.simulated': event.simulated,
              'thicket.call_key': event.callKey,
            });
            span.end();
            calls.delete(event.callKey);
            break;
          }
          case 'call-failed': {
            const span = calls.get(event.callKey);
            if (!span) break;
            span.setAttribute('error.type', event.error.code);
            span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
            span.end();
            calls.delete(event.callKey);
            break;
          }
          default:
            break;
        }
      },
      end: (result, error) => {
        for (const span of [...calls.values(), ...nodes.values()]) span.end();
        if (result) {
          run.setAttributes({
            // What this run sent (its chat spans add up to it); calls replayed from the journal are counted apart,
            // so summing the run spans of a resumed run never counts a call twice.
            'gen_ai.usage.input_tokens': result.newUsage.inputTokens,
            'gen_ai.usage.output_tokens': result.newUsage.outputTokens,
            'thicket.usd': result.newUsage.usd,
            'thicket.calls': result.newUsage.calls,
            'thicket.replayed_calls': result.replayedCalls,
            'thicket.run_total_tokens': result.usage.totalTokens,
            'thicket.status': result.status,
            'thicket.simulated': result.simulated,
          });
          if (result.status !== 'ok') run.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? result.status });
          if (result.error) run.setAttribute('error.type', result.error.code);
        } else if (error !== undefined) {
          run.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : JSON.stringify(error) });
        }
        run.end();
      },
    };
  }

  async shutdown(): Promise<void> {
    await this.shutdownProvider();
  }
}

function otlpEndpointFromEnv(): string | undefined {
  const traces = process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  if (traces) return traces;
  const base = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return base ? `${base.replace(/\/$/, '')}/v1/traces` : undefined;
}
