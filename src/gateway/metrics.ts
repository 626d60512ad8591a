/**
 * Prometheus metrics (prom-client) on a registry of the gateway's own, so two gateways in one process (tests)
 * never share counters. Labels are bounded: route patterns, not paths; key names, not tokens.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UsageTotals } from '../core/index.ts';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'thicket_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'thicket_http_request_duration_seconds',
    help: 'HTTP request duration (a stream: until its last byte).',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'thicket_runs_total',
    help: 'Runs finished, by strategy and status.',
    labelNames: ['strategy', 'status', 'simulated'] as const,
    registers: [this.registry],
  });
  readonly runsInFlight = new Gauge({ name: 'thicket_runs_in_flight', help: 'Runs in flight.', registers: [this.registry] });
  readonly tokens = new Counter({
    name: 'thicket_tokens_total',
    help: 'Tokens sent to models (new spend, replays excluded), by key and direction.',
    labelNames: ['key', 'direction'] as const,
    registers: [this.registry],
  });
  readonly usd = new Counter({
    name: 'thicket_spend_usd_total',
    help: 'Dollars spent on models (new spend), by key.',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'thicket_refusals_total',
    help: 'Requests refused before any model call, by reason (budget, rate, concurrency, auth, invalid).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'thicket_' });
  }

  recordSpend(keyName: string, usage: UsageTotals): void {
    if (usage.inputTokens > 0) this.tokens.inc({ key: keyName, direction: 'input' }, usage.inputTokens);
    if (usage.outputTokens > 0) this.tokens.inc({ key: keyName, direction: 'output' }, usage.outputTokens);
    if (usage.usd > 0) this.usd.inc({ key: keyName }, usage.usd);
  }
}
