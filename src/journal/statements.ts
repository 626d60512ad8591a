/**
 * Every SQL statement the Journal runs after opening, prepared once per handle: preparing costs more than
 * running a primary-key read, and the fleet pays for `lookupCall` and `recordCall` on every model call.
 * `recordCall` is a transaction function (a savepoint when called inside the group commit's transaction), so
 * a call row and its 'settle' ledger entry are written together or not at all.
 */
import { conflictingCallError } from './errors.ts';
import {
  isSameStoredCall,
  type CallDbRow,
  type IntentDbRow,
  type LedgerDbRow,
  type RunDbRow,
  type StepDbRow,
  type StoredCallFields,
  type TotalsDbRow,
} from './rows.ts';
import type { ListNodeInfo, MessageStore } from './message-store.ts';
import type { PendingCall } from './pending-calls.ts';
import type { SqlDialect, SqlDriver, SqlStatement } from './sql-driver.ts';

type Statement<Result = unknown> = SqlStatement<Result>;

export interface Statements {
  insertRun: Statement;
  getRun: Statement<RunDbRow>;
  resumeRun: Statement;
  finishRun: Statement;
  upsertStep: Statement;
  getStep: Statement<StepDbRow>;
  getSteps: Statement<StepDbRow>;
  lookupCall: Statement<CallDbRow>;
  getCalls: Statement<CallDbRow>;
  runTotals: Statement<TotalsDbRow>;
  spendByModel: Statement<TotalsDbRow & { model: string; provider: string }>;
  insertLedger: Statement;
  getLedger: Statement<LedgerDbRow>;
  recordCall: (pending: PendingCall) => ListNodeInfo[];
  insertIntent: Statement;
  deleteIntent: Statement;
  getIntents: Statement<IntentDbRow>;
  orphanIntents: Statement;
}

const CALL_COLUMNS =
  'run_id, call_key, request_hash, model, provider, request_json, messages_list, response_json, text, cost_usd, attempts, billed_json, ' +
  'budget_path, tags_json, created_at, error_json';

/**
 * The TotalsDbRow columns aggregated over `calls`: what the ledger was charged, i.e. each call's `billed`
 * (every attempt, failed ones included; calls = attempts, as the ledger counts them), falling back to the
 * last response's usage for rows without billed_json. `counted` is what the call count tests for NULL: `*`
 * over calls alone, a calls column under a LEFT JOIN (where a run without calls still yields one row, which
 * must count 0). Dollars are summed as integer nano-dollars (exact, order-free; core/usage.ts), as the ledger does.
 */
export function totalsColumns(counted: string, prefix: string, dialect: SqlDialect = 'sqlite'): string {
  const billed = (field: string, fallback: string): string =>
    `COALESCE(${jsonNumber(dialect, `${prefix}billed_json`, field)}, ${fallback})`;
  const present = counted === '*' ? '1' : `CASE WHEN ${counted} IS NULL THEN 0 ELSE 1 END`;
  return `COALESCE(SUM(${present} * ${billed('calls', '1')}), 0) AS calls,
    COALESCE(SUM(${billed('inputTokens', `${prefix}input_tokens`)}), 0) AS input_tokens,
    COALESCE(SUM(${billed('outputTokens', `${prefix}output_tokens`)}), 0) AS output_tokens,
    COALESCE(SUM(${nanoDollars(dialect, billed('usd', `${prefix}cost_usd`))}), 0) / 1e9 AS cost_usd`;
}

/** A number inside a JSON text column: SQLite's json_extract is typed, Postgres's `->>` is text and is cast. */
export function jsonNumber(dialect: SqlDialect, column: string, field: string): string {
  return dialect === 'sqlite' ? `json_extract(${column}, '$.${field}')` : `(${column}::jsonb ->> '${field}')::double precision`;
}

/** Dollars as whole nano-dollars (exact sums); Postgres's INTEGER is 32-bit, so BIGINT there. */
export function nanoDollars(dialect: SqlDialect, usd: string): string {
  return `CAST(ROUND(${usd} * 1e9) AS ${dialect === 'sqlite' ? 'INTEGER' : 'BIGINT'})`;
}

export function prepareStatements(db: SqlDriver, messageStore: MessageStore): Statements {
  const insertCall = db.prepare(
    `INSERT OR IGNORE INTO calls (run_id, call_key, request_hash, model, provider, request_json, messages_list, response_json, text, input_tokens,
       output_tokens, cost_usd, latency_ms, simulated, usage_estimated, attempts, billed_json, budget_path, tags_json, created_at, error_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertLedger = db.prepare(
    `INSERT INTO ledger_entries (run_id, call_key, kind, budget_path, input_tokens, output_tokens, cost_usd, detail_json, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const sameCall = db.prepare<StoredCallFields>(
    'SELECT request_hash, model, provider, request_json, messages_list, response_json, text, cost_usd, budget_path, error_json FROM calls WHERE ' +
      'run_id = ? AND call_key = ?',
  );
  const totals = totalsColumns('*', '', db.dialect);
  const deleteIntent = db.prepare('DELETE FROM call_intents WHERE id = ?');

  // Returns the message-list nodes it wrote, to be marked stored once the enclosing transaction commits.
  const recordCall = db.transaction(
    ({ runId, call, requestJson, messages, responseJson, tagsJson, errorJson, at, intents }: PendingCall): ListNodeInfo[] => {
      // The call's intents are resolved with its row, in the same savepoint: never one without the other.
      if (intents !== undefined) for (const id of intents) deleteIntent.run(id);
      const response = call.response;
      // The call's messages first, in the same savepoint: the call row never references rows that are not there.
      const written = messages === undefined ? [] : messageStore.write(messages);
      const messagesList = messages?.value.id ?? null;
      const inserted = insertCall.run(
        runId,
        call.callKey,
        call.requestHash,
        call.model,
        call.provider,
        requestJson,
        messagesList,
        responseJson,
        response.text,
        response.usage.inputTokens,
        response.usage.outputTokens,
        call.costUsd,
        response.latencyMs,
        response.simulated ? 1 : 0,
        response.usageEstimated ? 1 : 0,
        call.attempts,
        call.billed === undefined ? null : JSON.stringify(call.billed),
        call.budgetPath,
        tagsJson,
        at,
        errorJson,
      );
      if (inserted.changes === 0) {
        // Same key recorded before: fine when it is the same call (a retried write), an error otherwise.
        const stored = sameCall.get(runId, call.callKey);
        if (stored !== undefined && isSameStoredCall(stored, call, requestJson, messagesList, responseJson, errorJson)) return written;
        throw conflictingCallError(runId, call.callKey);
      }
      // The settle entry is what the ledger was charged: everything billed across the call's attempts.
      insertLedger.run(
        runId,
        call.callKey,
        'settle',
        call.budgetPath,
        call.billed?.inputTokens ?? response.usage.inputTokens,
        call.billed?.outputTokens ?? response.usage.outputTokens,
        call.billed?.usd ?? call.costUsd,
        call.error === undefined && call.overrun === undefined
          ? null
          : JSON.stringify({
              ...(call.error === undefined ? {} : { failed: call.error.code }),
              ...(call.overrun === undefined ? {} : { overrun: call.overrun }),
            }),
        at,
      );
      return written;
    },
  );

  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, command, query, args_json, seed, simulated, status, budget_json, owner, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
    ),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    resumeRun: db.prepare(
      `UPDATE runs SET status = 'running', answer = NULL, error_json = NULL, budget_json = COALESCE(?, budget_json), updated_at = ? WHERE id = ?`,
    ),
    finishRun: db.prepare('UPDATE runs SET status = ?, answer = ?, error_json = ?, usage_json = ?, updated_at = ? WHERE id = ?'),
    upsertStep: db.prepare(
      `INSERT INTO steps (run_id, step_id, kind, status, input_json, output_json, usage_json, started_at, ended_at)
       VALUES (@runId, @stepId, @kind, @status, @input, @output, @usage, COALESCE(@startedAt, @now),
               CASE WHEN @open = 1 THEN @endedAt ELSE COALESCE(@endedAt, @now) END)
       ON CONFLICT (run_id, step_id) DO UPDATE SET
         kind = excluded.kind,
         status = excluded.status,
         input_json = COALESCE(excluded.input_json, steps.input_json),
         output_json = COALESCE(excluded.output_json, steps.output_json),
         usage_json = COALESCE(excluded.usage_json, steps.usage_json),
         started_at = COALESCE(@startedAt, steps.started_at),
         ended_at = CASE WHEN @open = 1 THEN @endedAt ELSE COALESCE(@endedAt, steps.ended_at, @now) END`,
    ),
    getStep: db.prepare('SELECT * FROM steps WHERE run_id = ? AND step_id = ?'),
    getSteps: db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY started_at, rowid'),
    lookupCall: db.prepare(`SELECT ${CALL_COLUMNS} FROM calls WHERE run_id = ? AND call_key = ?`),
    getCalls: db.prepare(`SELECT ${CALL_COLUMNS} FROM calls WHERE run_id = ? ORDER BY rowid`),
    runTotals: db.prepare(`SELECT ${totals} FROM calls WHERE run_id = ?`),
    spendByModel: db.prepare(
      `SELECT model, provider, ${totals} FROM calls WHERE run_id = ? GROUP BY model, provider ORDER BY cost_usd DESC, model, provider`,
    ),
    insertLedger,
    getLedger: db.prepare('SELECT * FROM ledger_entries WHERE run_id = ? ORDER BY id'),
    recordCall,
    insertIntent: db.prepare(
      `INSERT INTO call_intents (run_id, call_key, attempt, model, purpose, budget_path, input_tokens, output_tokens, cost_usd, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteIntent,
    getIntents: db.prepare('SELECT * FROM call_intents WHERE run_id = ? ORDER BY id'),
    orphanIntents: db.prepare('UPDATE call_intents SET orphaned_at = ? WHERE run_id = ? AND orphaned_at IS NULL'),
  };
}
