/**
 * Argument checks for the Journal's methods. Each check collects every problem as an InputIssue (with the
 * argument's path) and throws one InvalidInputError listing them all, before any SQL runs; the checks that
 * also encode JSON columns return the encoded text, so a value is stringified once.
 */
import { InvalidInputError, RUN_STATUSES, type InputIssue } from '../core/index.ts';
import type { RecordedCall } from './call-recorder.ts';
import { encodeJson, serialiseError } from './rows.ts';
import type { EncodedRequest, ListNode } from './message-store.ts';
import type { Migration } from './schema.ts';
import { LEDGER_KINDS, type FinishRun, type JournalOptions, type LedgerEntryInput, type NewRun, type StepInput } from './types.ts';

// ---------------------------------------------------------------------------------------------------------
// Single values

function isNonBlank(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function checkId(value: unknown, path: string, issues: InputIssue[]): void {
  if (!isNonBlank(value)) issues.push({ path, message: 'must be a non-empty string' });
}

export function requireId(value: unknown, path: string, what: string): void {
  if (!isNonBlank(value)) throw new InvalidInputError(what, [{ path, message: 'must be a non-empty string' }]);
}

function checkCount(value: unknown, path: string, issues: InputIssue[]): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    issues.push({ path, message: 'must be a non-negative integer' });
}

function checkAmount(value: unknown, path: string, issues: InputIssue[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    issues.push({ path, message: 'must be a finite non-negative number' });
}

// ---------------------------------------------------------------------------------------------------------
// Opening and migrating

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Checks `Journal.open`'s arguments and settles its defaults. */
/** See JournalOptions.simulatedCommitWindowMs. */
const DEFAULT_SIMULATED_COMMIT_WINDOW_MS = 20;

export function openValues(path: string, options: JournalOptions): { busyTimeoutMs: number; simulatedCommitWindowMs: number } {
  if (!isNonBlank(path)) throw new InvalidInputError('Cannot open journal', [{ path: 'path', message: 'must be a non-empty file path' }]);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidInputError('Cannot open journal', [{ path: 'busyTimeoutMs', message: 'must be a non-negative integer' }]);
  }
  const simulatedCommitWindowMs = options.simulatedCommitWindowMs ?? DEFAULT_SIMULATED_COMMIT_WINDOW_MS;
  if (!Number.isInteger(simulatedCommitWindowMs) || simulatedCommitWindowMs < 0 || simulatedCommitWindowMs >= 2 ** 31) {
    throw new InvalidInputError('Cannot open journal', [
      { path: 'simulatedCommitWindowMs', message: 'must be a non-negative integer (ms)' },
    ]);
  }
  return { busyTimeoutMs, simulatedCommitWindowMs };
}

export function checkMigrations(component: string, migrations: readonly Migration[]): void {
  const issues: InputIssue[] = [];
  checkId(component, 'component', issues);
  let previous = 0;
  migrations.forEach((migration, index) => {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      issues.push({ path: `migrations[${index}].version`, message: `must be an integer greater than ${previous}` });
    } else previous = migration.version;
    if (typeof migration.name !== 'string' || migration.name === '')
      issues.push({ path: `migrations[${index}].name`, message: 'must be a non-empty string' });
    const up = migration.up as unknown;
    const perEngine =
      typeof up === 'object' &&
      up !== null &&
      typeof (up as { sqlite?: unknown }).sqlite === 'string' &&
      typeof (up as { postgres?: unknown }).postgres === 'string';
    if (typeof up !== 'string' && typeof up !== 'function' && !perEngine)
      issues.push({ path: `migrations[${index}].up`, message: 'must be SQL text, { sqlite, postgres } SQL texts or a function' });
  });
  if (issues.length > 0) throw new InvalidInputError('Invalid migrations', issues);
}

// ---------------------------------------------------------------------------------------------------------
// Runs and steps

/** A NewRun checked and encoded for the `runs` columns. */
export interface RunValues {
  id: string;
  command: string;
  query: string;
  argsJson: string | null;
  seed: number | null;
  simulated: 0 | 1;
  budgetJson: string | null;
  owner: string | null;
}

export function runValues(run: NewRun): RunValues {
  const issues: InputIssue[] = [];
  if (typeof run !== 'object' || run === null) throw new InvalidInputError('Invalid run', [{ path: '', message: 'must be an object' }]);
  checkId(run.id, 'id', issues);
  if (typeof run.command !== 'string' || run.command === '') issues.push({ path: 'command', message: 'must be a non-empty string' });
  if (typeof run.query !== 'string') issues.push({ path: 'query', message: 'must be a string' });
  if (run.seed !== undefined && run.seed !== null && !Number.isSafeInteger(run.seed))
    issues.push({ path: 'seed', message: 'must be an integer' });
  if (typeof run.simulated !== 'boolean') issues.push({ path: 'simulated', message: 'must be a boolean' });
  if (run.owner !== undefined && run.owner !== null && (typeof run.owner !== 'string' || run.owner === ''))
    issues.push({ path: 'owner', message: 'must be a non-empty string or null' });
  const argsJson = encodeJson(run.args, 'args', issues);
  const budgetJson = encodeJson(run.budget, 'budget', issues);
  if (issues.length > 0) throw new InvalidInputError('Invalid run', issues);
  return {
    id: run.id,
    command: run.command,
    query: run.query,
    argsJson,
    seed: run.seed ?? null,
    simulated: run.simulated ? 1 : 0,
    budgetJson,
    owner: run.owner ?? null,
  };
}

export function finishValues(id: string, outcome: FinishRun): { errorJson: string | null; usageJson: string | null } {
  const issues: InputIssue[] = [];
  checkId(id, 'id', issues);
  if (!(RUN_STATUSES as readonly string[]).includes(outcome?.status)) {
    issues.push({ path: 'status', message: `must be one of ${RUN_STATUSES.join(', ')}` });
  }
  if (outcome?.answer !== undefined && outcome.answer !== null && typeof outcome.answer !== 'string')
    issues.push({ path: 'answer', message: 'must be a string or null' });
  const errorJson = encodeJson(serialiseError(outcome?.error), 'error', issues);
  const usageJson = encodeJson(outcome?.usage, 'usage', issues);
  if (issues.length > 0) throw new InvalidInputError(`Cannot finish run "${String(id)}"`, issues);
  return { errorJson, usageJson };
}

export function stepValues(runId: string, step: StepInput): { input: string | null; output: string | null; usage: string | null } {
  const issues: InputIssue[] = [];
  checkId(runId, 'runId', issues);
  checkId(step?.stepId, 'stepId', issues);
  checkId(step?.kind, 'kind', issues);
  checkId(step?.status, 'status', issues);
  if (step?.startedAt !== undefined && typeof step.startedAt !== 'string')
    issues.push({ path: 'startedAt', message: 'must be an ISO timestamp string' });
  if (step?.endedAt !== undefined && typeof step.endedAt !== 'string')
    issues.push({ path: 'endedAt', message: 'must be an ISO timestamp string' });
  const input = encodeJson(step?.input, 'input', issues);
  const output = encodeJson(step?.output, 'output', issues);
  const usage = encodeJson(step?.usage, 'usage', issues);
  if (issues.length > 0) throw new InvalidInputError('Cannot record step', issues);
  return { input, output, usage };
}

// ---------------------------------------------------------------------------------------------------------
// Calls and the ledger

/** The JSON columns of a checked call; the response is stored without its text, which has a column of its own. */
export interface CallJson {
  /** The request as stored: with `"messages":null` when `messages` holds them by reference. */
  requestJson: string;
  /** The request's message list (its last node), stored by reference; undefined when stored inline. */
  messages: ListNode | undefined;
  responseJson: string;
  tagsJson: string;
  /** The error of a failed call (NULL for a success). */
  errorJson: string | null;
}

/** `encodeRequest` stores the request's messages by reference (MessageStore); undefined means inline. */
export function callValues(runId: string, call: RecordedCall, encodeRequest: (request: unknown) => EncodedRequest | undefined): CallJson {
  const issues = callIssues(runId, call);
  let requestJson = '';
  let messages: ListNode | undefined;
  let responseJson = '';
  let tagsJson = '';
  let errorJson: string | null = null;
  if (issues.length === 0) {
    const { text: _text, ...response } = call.response;
    const encoded = encodeRequest(call.request);
    if (encoded) ({ requestJson, list: messages } = encoded);
    else requestJson = encodeJson(call.request, 'request', issues) ?? 'null';
    responseJson = encodeJson(response, 'response', issues) ?? '{}';
    tagsJson = encodeJson(call.tags, 'tags', issues) ?? '{}';
    errorJson = encodeJson(call.error, 'error', issues);
  }
  if (issues.length > 0) throw new InvalidInputError('Cannot record call', issues);
  return { requestJson, messages, responseJson, tagsJson, errorJson };
}

function callIssues(runId: string, call: RecordedCall): InputIssue[] {
  const issues: InputIssue[] = [];
  checkId(runId, 'runId', issues);
  if (typeof call !== 'object' || call === null) {
    issues.push({ path: 'call', message: 'must be an object' });
    return issues;
  }
  checkId(call.callKey, 'callKey', issues);
  checkId(call.requestHash, 'requestHash', issues);
  checkId(call.model, 'model', issues);
  if (typeof call.provider !== 'string') issues.push({ path: 'provider', message: 'must be a string' });
  if (typeof call.budgetPath !== 'string') issues.push({ path: 'budgetPath', message: 'must be a string' });
  checkAmount(call.costUsd, 'costUsd', issues);
  checkCount(call.attempts, 'attempts', issues);
  if (typeof call.tags !== 'object' || call.tags === null) issues.push({ path: 'tags', message: 'must be an object of strings' });
  if (call.error !== undefined && (typeof call.error !== 'object' || call.error === null || typeof call.error.code !== 'string'))
    issues.push({ path: 'error', message: 'must be an object with a string code' });
  const response = call.response;
  if (typeof response !== 'object' || response === null) {
    issues.push({ path: 'response', message: 'must be an object' });
    return issues;
  }
  if (typeof response.text !== 'string') issues.push({ path: 'response.text', message: 'must be a string' });
  if (typeof response.usage !== 'object' || response.usage === null) issues.push({ path: 'response.usage', message: 'must be an object' });
  else {
    checkCount(response.usage.inputTokens, 'response.usage.inputTokens', issues);
    checkCount(response.usage.outputTokens, 'response.usage.outputTokens', issues);
  }
  if (typeof response.latencyMs !== 'number' || !Number.isFinite(response.latencyMs))
    issues.push({ path: 'response.latencyMs', message: 'must be a finite number' });
  if (typeof response.simulated !== 'boolean') issues.push({ path: 'response.simulated', message: 'must be a boolean' });
  if (typeof response.usageEstimated !== 'boolean') issues.push({ path: 'response.usageEstimated', message: 'must be a boolean' });
  if (typeof response.finishReason !== 'string') issues.push({ path: 'response.finishReason', message: 'must be a string' });
  return issues;
}

/** `lookup` runs on every model call: one cheap test, and the issue list only when it fails. */
export function checkLookup(runId: string, callKey: string): void {
  if (typeof callKey !== 'string' || callKey === '' || typeof runId !== 'string' || runId === '') {
    const issues: InputIssue[] = [];
    checkId(runId, 'runId', issues);
    checkId(callKey, 'callKey', issues);
    throw new InvalidInputError('Cannot look up call', issues);
  }
}

export function ledgerEntryValues(runId: string, entry: LedgerEntryInput): { detailJson: string | null } {
  const issues: InputIssue[] = [];
  checkId(runId, 'runId', issues);
  if (!LEDGER_KINDS.includes(entry?.kind)) issues.push({ path: 'kind', message: `must be one of ${LEDGER_KINDS.join(', ')}` });
  if (entry?.callKey !== undefined && entry.callKey !== null) checkId(entry.callKey, 'callKey', issues);
  if (typeof entry?.budgetPath !== 'string') issues.push({ path: 'budgetPath', message: 'must be a string' });
  checkCount(entry?.inputTokens ?? 0, 'inputTokens', issues);
  checkCount(entry?.outputTokens ?? 0, 'outputTokens', issues);
  checkAmount(entry?.costUsd ?? 0, 'costUsd', issues);
  const detailJson = encodeJson(entry?.detail, 'detail', issues);
  if (issues.length > 0) throw new InvalidInputError('Cannot record ledger entry', issues);
  return { detailJson };
}
