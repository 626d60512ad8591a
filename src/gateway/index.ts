/**
 * gateway — `thicket serve`: an OpenAI-compatible endpoint answered by Thicket's strategies under hard per-key
 * budgets, with REST for runs, studies and the registry, Prometheus metrics, OpenTelemetry spans and an
 * OpenAPI document. A thin caller of the runtime: every run is assembled there. Above lab, below cli.
 */
export { createGateway, type Gateway, type GatewayOptions } from './app.ts';
export { startGateway, type RunningGateway, type ServeOptions } from './server.ts';
export {
  KeyStore,
  KeyBudgets,
  KeyLimiter,
  KEY_PERIODS,
  hashToken,
  keyAllowsModel,
  keyLimits,
  keySettingsSchema,
  parseKeySettings,
  periodStart,
  periodEnd,
  type ApiKey,
  type CreatedKey,
  type KeyPeriod,
  type KeySettings,
  type KeySpend,
} from './keys.ts';
export { GatewayError, httpStatusForCode, type OpenAIErrorBody, type OpenAIErrorType } from './errors.ts';
export type { Caller, GatewayApp, GatewayContext, GatewayEnv } from './context.ts';
export { StudyJobs, type StudyJob, type StudyJobStatus, type StudyJobsOptions } from './study-jobs.ts';
export { GatewayTelemetry, type RunTracing, type TelemetryOptions } from './telemetry.ts';
export { parseModelName, type ModelSelection } from './model-names.ts';
export { GATEWAY_LIMITS } from './chat.ts';
export { LiveRuns, type LiveRun } from './live-runs.ts';
export { GatewayMetrics } from './metrics.ts';
