/**
 * The journal's public types: what callers pass in (NewRun, FinishRun, StepInput, LedgerEntryInput) and what
 * they get back (RunRow, StepRow, CallRow, LedgerEntryRow, ...), plus the allowed run statuses and ledger
 * kinds. Kept apart from the Journal class so other files here can share them without importing the class.
 */
import { RUN_STATUSES, type RunStatus, type UsageTotals } from '../core/index.ts';
import type { RecordedCall, RecordedFinishReason } from './call-recorder.ts';

/** A journaled run: `running` until it finishes with one of the run statuses every surface shares. */
export type JournalRunStatus = 'running' | RunStatus;
export const JOURNAL_RUN_STATUSES: readonly JournalRunStatus[] = ['running', ...RUN_STATUSES];

export type LedgerKind = 'settle' | 'replay' | 'refuse';
export const LEDGER_KINDS: readonly LedgerKind[] = ['settle', 'replay', 'refuse'];

export interface JournalOptions {
  /** How long a writer waits for another process's lock before failing with SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number | undefined;
  /**
   * PostgreSQL only: how long to wait for a connection before failing with JOURNAL_UNREACHABLE. Default 5000 ms
   * (`THICKET_DATABASE_CONNECT_TIMEOUT_MS` overrides the default).
   */
  connectTimeoutMs?: number | undefined;
  /** Wall-clock source for timestamps, epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
  /**
   * How long the recorded calls of a run journaled as simulated may wait for their group commit (default
   * 20 ms; 0 commits them on the next turn, as every other run's). See `Journal.recordCall`.
   */
  simulatedCommitWindowMs?: number | undefined;
}

export interface NewRun {
  id: string;
  command: string;
  query: string;
  /** The command's arguments/flags (JSON). */
  args?: unknown;
  seed?: number | null | undefined;
  simulated: boolean;
  /** The budget the run was given (JSON). On resume, a given budget replaces the stored one. */
  budget?: unknown;
  /** Who the run is billed to (a gateway key id); null/absent for runs started elsewhere. Must match on resume. */
  owner?: string | null | undefined;
}

/** Which runs `listRuns` returns (all given conditions hold); newest first. */
export interface RunFilter {
  limit?: number | undefined;
  /** Skip this many of the matching runs (paging). */
  offset?: number | undefined;
  status?: JournalRunStatus | undefined;
  owner?: string | undefined;
  command?: string | undefined;
  /** The strategy recorded in the run's args (`auto`, `vote`, `workflow`, …). */
  strategy?: string | undefined;
  /** The model recorded in the run's args. */
  model?: string | undefined;
  /** Created at or after this ISO time. */
  since?: string | undefined;
  /** Created before this ISO time. */
  until?: string | undefined;
  /** Cost at least / at most this many dollars (the run's totals: billed dollars of its calls). */
  minUsd?: number | undefined;
  maxUsd?: number | undefined;
}

/** A gateway API key as stored: never the secret, only its SHA-256. */
export interface ApiKeyRow {
  id: string;
  name: string;
  secretSha256: string;
  role: 'admin' | 'client';
  /** The key's limits (budget, period, models, rate) as the gateway wrote them. */
  settings: unknown;
  createdAt: string;
  revokedAt: string | null;
}

export interface RunRow {
  id: string;
  command: string;
  query: string;
  args: unknown;
  seed: number | null;
  simulated: boolean;
  status: JournalRunStatus;
  answer: string | null;
  /** The error that ended the run, as JSON (`{ name, message, code, ... }` for errors). */
  error: unknown;
  budget: unknown;
  usage: unknown;
  /** Who the run is billed to (a gateway key id), or null. */
  owner: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RunSummary extends RunRow {
  /** Aggregated over the run's recorded calls. */
  totals: UsageTotals;
}

export interface FinishRun {
  status: JournalRunStatus;
  answer?: string | null | undefined;
  /** An Error (serialised as name, message and its own fields) or any JSON value. */
  error?: unknown;
  usage?: unknown;
}

export interface StepInput {
  stepId: string;
  kind: string;
  /** Free-form; 'pending' and 'running' count as open, anything else as ended. */
  status: string;
  /** Omitted fields keep their stored value on update. */
  input?: unknown;
  output?: unknown;
  usage?: unknown;
  /** ISO timestamps. `startedAt` defaults to now on insert; `endedAt` to now once the status is not open. */
  startedAt?: string | undefined;
  endedAt?: string | undefined;
}

export interface StepRow {
  runId: string;
  stepId: string;
  kind: string;
  status: string;
  input: unknown;
  output: unknown;
  usage: unknown;
  startedAt: string;
  endedAt: string | null;
}

/** A recorded call as listings want it: the RecordedCall plus flattened copies of its most used fields. */
export interface CallRow extends RecordedCall {
  runId: string;
  createdAt: string;
  /** `request.metadata.stepId` when the request carried one. */
  stepId: string | null;
  /** What the call was for (`request.metadata.tags.purpose`: answer, plan, verify, critique, …); null when untagged. */
  purpose: string | null;
  text: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  finishReason: RecordedFinishReason;
  simulated: boolean;
  usageEstimated: boolean;
  /** The call spent but failed (truncated or malformed output); `error` says how. Its tokens count in the totals. */
  failed: boolean;
}

export interface LedgerEntryInput {
  kind: LedgerKind;
  callKey?: string | null | undefined;
  budgetPath: string;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  costUsd?: number | undefined;
  detail?: unknown;
}

export interface LedgerEntryRow {
  id: number;
  runId: string;
  callKey: string | null;
  kind: LedgerKind;
  budgetPath: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  detail: unknown;
  at: string;
}

export interface ModelSpend extends UsageTotals {
  model: string;
  provider: string;
}

/**
 * An attempt journaled before it was sent and not resolved by a result: in flight (in a live process), or
 * left by a crash or a cancel — then possibly billed, and counted at its reserved worst case.
 */
export interface CallIntentRow {
  id: number;
  runId: string;
  callKey: string;
  attempt: number;
  model: string;
  purpose: string | null;
  budgetPath: string;
  /** The reservation: the most the provider could bill for this attempt. */
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  createdAt: string;
  /** When a resumed run found it unresolved (and counted it); null while no resume has seen it. */
  orphanedAt: string | null;
}
