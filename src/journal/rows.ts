/**
 * The boundary between SQLite rows and the public types: row shapes as better-sqlite3 returns them, their
 * conversion to RunRow/StepRow/CallRow/..., and the JSON text of the `*_json` columns in both directions.
 * Integers 0/1 become booleans and NULL JSON columns become `null` here, so nothing above sees a raw row.
 */
import { ThicketError, type InputIssue, type UsageTotals } from '../core/index.ts';
import type { RecordedCall, RecordedResponse } from './call-recorder.ts';
import type { CallIntentRow, CallRow, LedgerEntryRow, LedgerKind, RunRow, JournalRunStatus, StepRow } from './types.ts';

// ---------------------------------------------------------------------------------------------------------
// Row shapes as SQLite returns them

export interface RunDbRow {
  id: string;
  command: string;
  query: string;
  args_json: string | null;
  seed: number | null;
  simulated: number;
  status: JournalRunStatus;
  answer: string | null;
  error_json: string | null;
  budget_json: string | null;
  usage_json: string | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
}

export interface TotalsDbRow {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface StepDbRow {
  run_id: string;
  step_id: string;
  kind: string;
  status: string;
  input_json: string | null;
  output_json: string | null;
  usage_json: string | null;
  started_at: string;
  ended_at: string | null;
}

export interface CallDbRow {
  run_id: string;
  call_key: string;
  request_hash: string;
  model: string;
  provider: string;
  request_json: string;
  /** message_lists.id of the request's messages (request_json holds `"messages":null`); NULL: stored inline (before v3). */
  messages_list: string | null;
  response_json: string;
  text: string;
  cost_usd: number;
  attempts: number;
  billed_json: string | null;
  budget_path: string;
  tags_json: string;
  created_at: string;
  /** NULL for a successful call (and for every row written before v4). */
  error_json?: string | null;
}

export interface LedgerDbRow {
  id: number;
  run_id: string;
  call_key: string | null;
  kind: LedgerKind;
  budget_path: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  detail_json: string | null;
  at: string;
}

/** A call_intents row (schema v5). */
export interface IntentDbRow {
  id: number;
  run_id: string;
  call_key: string;
  attempt: number;
  model: string;
  purpose: string | null;
  budget_path: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  created_at: string;
  orphaned_at: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// JSON columns

/** JSON text for a column; NULL for undefined. Unserialisable values (cycles, BigInt) become an issue. */
export function encodeJson(value: unknown, path: string, issues: InputIssue[]): string | null {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) {
      issues.push({ path, message: 'is not JSON-serialisable' });
      return null;
    }
    return text;
  } catch (error) {
    issues.push({ path, message: `is not JSON-serialisable (${error instanceof Error ? error.message : String(error)})` });
    return null;
  }
}

/** Errors do not survive JSON.stringify (message is not enumerable): keep name, message and their own fields. */
export function serialiseError(error: unknown): unknown {
  if (!(error instanceof Error) && !ThicketError.isInstance(error)) return error;
  const base = { name: error.name, message: error.message };
  const full: Record<string, unknown> = { ...(error as unknown as Record<string, unknown>), ...base };
  try {
    JSON.stringify(full);
    return full;
  } catch {
    return ThicketError.isInstance(error) ? { ...base, code: error.code } : base;
  }
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

// ---------------------------------------------------------------------------------------------------------
// Row conversions

export function toRunRow(row: RunDbRow): RunRow {
  return {
    id: row.id,
    command: row.command,
    query: row.query,
    args: parseJson(row.args_json),
    seed: row.seed,
    simulated: row.simulated === 1,
    status: row.status,
    answer: row.answer,
    error: parseJson(row.error_json),
    budget: parseJson(row.budget_json),
    usage: runUsage(parseJson(row.usage_json)),
    owner: row.owner ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toTotals(row: TotalsDbRow): UsageTotals {
  return {
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    totalTokens: row.input_tokens + row.output_tokens,
    usd: row.cost_usd,
    calls: row.calls,
  };
}

export function toStepRow(row: StepDbRow): StepRow {
  return {
    runId: row.run_id,
    stepId: row.step_id,
    kind: row.kind,
    status: row.status,
    input: parseJson(row.input_json),
    output: parseJson(row.output_json),
    usage: parseJson(row.usage_json),
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** Reads a stored message list back (MessageStore.read). */
export type ReadMessages = (listId: string) => unknown[];

/** The request exactly as recorded: referenced messages are put back in their own place (key order kept). */
function decodeRequest(requestJson: string, messagesList: string | null | undefined, readMessages: ReadMessages): unknown {
  const request = JSON.parse(requestJson) as unknown;
  if (messagesList === null || messagesList === undefined) return request;
  (request as { messages: unknown }).messages = readMessages(messagesList);
  return request;
}

export function toRecordedCall(row: CallDbRow, readMessages: ReadMessages): RecordedCall {
  const response = JSON.parse(row.response_json) as Omit<RecordedResponse, 'text'>;
  return {
    callKey: row.call_key,
    requestHash: row.request_hash,
    model: row.model,
    provider: row.provider,
    request: decodeRequest(row.request_json, row.messages_list, readMessages),
    response: { text: row.text, ...response },
    costUsd: row.cost_usd,
    attempts: row.attempts,
    ...(row.billed_json === null || row.billed_json === undefined
      ? {}
      : { billed: JSON.parse(row.billed_json) as NonNullable<RecordedCall['billed']> }),
    budgetPath: row.budget_path,
    tags: JSON.parse(row.tags_json) as Record<string, string>,
    ...(row.error_json === null || row.error_json === undefined
      ? {}
      : { error: JSON.parse(row.error_json) as NonNullable<RecordedCall['error']> }),
  };
}

export function toCallRow(row: CallDbRow, readMessages: ReadMessages): CallRow {
  const call = toRecordedCall(row, readMessages);
  const metadata = (call.request as { metadata?: { stepId?: unknown; tags?: { purpose?: unknown } } } | null)?.metadata;
  const response = call.response;
  return {
    ...call,
    runId: row.run_id,
    createdAt: row.created_at,
    stepId: typeof metadata?.stepId === 'string' ? metadata.stepId : null,
    purpose: typeof metadata?.tags?.purpose === 'string' ? metadata.tags.purpose : null,
    text: response.text,
    inputTokens: response.usage.inputTokens,
    outputTokens: response.usage.outputTokens,
    latencyMs: response.latencyMs,
    finishReason: response.finishReason,
    simulated: response.simulated,
    usageEstimated: response.usageEstimated,
    failed: call.error !== undefined,
  };
}

export function toLedgerRow(row: LedgerDbRow): LedgerEntryRow {
  return {
    id: row.id,
    runId: row.run_id,
    callKey: row.call_key,
    kind: row.kind,
    budgetPath: row.budget_path,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    detail: parseJson(row.detail_json),
    at: row.at,
  };
}

export function toIntentRow(row: IntentDbRow): CallIntentRow {
  return {
    id: row.id,
    runId: row.run_id,
    callKey: row.call_key,
    attempt: row.attempt,
    model: row.model,
    purpose: row.purpose,
    budgetPath: row.budget_path,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    createdAt: row.created_at,
    orphanedAt: row.orphaned_at,
  };
}

/** The columns that must match for a second `record` of a call key to count as the same call. */
export type StoredCallFields = Pick<
  CallDbRow,
  | 'request_hash'
  | 'model'
  | 'provider'
  | 'request_json'
  | 'messages_list'
  | 'response_json'
  | 'text'
  | 'cost_usd'
  | 'budget_path'
  | 'error_json'
>;

/**
 * True when a row already stored under a call's key holds that same call (a retried write, not a conflict).
 * `requestJson` is the call's request as it would be stored (messages by reference when `messagesList` is
 * set), `responseJson` its response without the text.
 */
export function isSameStoredCall(
  stored: StoredCallFields,
  call: RecordedCall,
  requestJson: string,
  messagesList: string | null,
  responseJson: string,
  errorJson: string | null = null,
): boolean {
  const sameRequest =
    stored.messages_list === messagesList
      ? stored.request_json === requestJson
      : // A row written before v3 holds its messages inline: compare it with the whole request's JSON.
        (stored.messages_list ?? null) === null && stored.request_json === JSON.stringify(call.request);
  return (
    stored.request_hash === call.requestHash &&
    stored.model === call.model &&
    stored.provider === call.provider &&
    sameRequest &&
    stored.response_json === responseJson &&
    stored.text === call.response.text &&
    stored.cost_usd === call.costUsd &&
    stored.budget_path === call.budgetPath &&
    (stored.error_json ?? null) === errorJson
  );
}

/**
 * A run's usage as written: runs finished before the one usage type called its dollars `costUsd`; they read
 * as `usd` now, like everything else.
 */
function runUsage(value: unknown): UsageTotals | null {
  if (value === null || typeof value !== 'object') return null;
  const { costUsd, ...rest } = value as Record<string, unknown>;
  return (costUsd !== undefined && rest['usd'] === undefined ? { ...rest, usd: costUsd } : value) as UsageTotals;
}
