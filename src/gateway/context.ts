/**
 * What every route of the gateway shares: the runtime instance, keys and their budgets, the runs in flight,
 * the studies in the background, metrics, the logger and the tracer. One per gateway (tests start several in one process).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Span } from '@opentelemetry/api';
import type { JSONValue } from 'hono/utils/types';
import type { Logger } from 'pino';
import type { Thicket } from '../lab/index.ts';
import type { ApiKey, KeyBudgets, KeyLimiter, KeyStore } from './keys.ts';
import type { LiveRuns } from './live-runs.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { EvalJobs, StudyJobs } from './study-jobs.ts';
import type { GatewayTelemetry } from './telemetry.ts';

export interface GatewayContext {
  thicket: Thicket;
  /** The model `thicket/<strategy>` runs on. */
  defaultModel: string;
  keys: KeyStore;
  budgets: KeyBudgets;
  limiter: KeyLimiter;
  live: LiveRuns;
  /** Studies running in the background (POST /v1/studies) and those finished lately. */
  studies: StudyJobs;
  /** Evaluations on client-sent datasets running in the background (POST /v1/evals). */
  evals: EvalJobs;
  metrics: GatewayMetrics;
  logger: Logger;
  telemetry: GatewayTelemetry;
  /** Set once SIGTERM (or `close`) started draining: new runs are refused with 503. */
  draining: boolean;
}

/**
 * The caller of a request. With no live key configured the gateway is open (bound to 127.0.0.1 only) and
 * every caller is the local operator: unlimited, admin — `key` is then undefined.
 */
export interface Caller {
  key: ApiKey | undefined;
  admin: boolean;
}

/** Per-request variables: the caller, a request id (also in logs) and the request's span (tracing on). */
export type GatewayEnv = { Variables: { caller: Caller; requestId: string; span: Span | undefined } };
export type GatewayApp = OpenAPIHono<GatewayEnv>;

/**
 * A value the gateway built as plain JSON (ledger limits have optional fields, which Hono's JSON typing cannot
 * tell from `undefined`): typed for `c.json` without a deep copy.
 */
export const asJson = <T>(value: T): { [key: string]: JSONValue } => value as unknown as { [key: string]: JSONValue };
