/**
 * journal — the run journal: runs, steps, model calls and ledger entries in one SQLite file or a PostgreSQL
 * schema (`postgres://…` URL). Sits above
 * `models` and `budget`; the fleet reaches it only through the `CallRecorder` it is handed.
 */
export { Journal } from './journal.ts';
export { defaultJournalPath, defaultJournalTarget, resolveJournalTarget } from './default-path.ts';
export { isPostgresUrl } from './postgres/driver.ts';
export type { SqlDriver, SqlStatement, SqlDialect, RunResult } from './sql-driver.ts';
export { callsOnlyJournal, namespacedRecorder } from './calls-only.ts';
export { JOURNAL_RUN_STATUSES, LEDGER_KINDS } from './types.ts';
export type {
  JournalOptions,
  NewRun,
  JournalRunStatus,
  RunRow,
  RunSummary,
  FinishRun,
  StepInput,
  StepRow,
  CallRow,
  LedgerKind,
  LedgerEntryInput,
  LedgerEntryRow,
  ModelSpend,
  CallIntentRow,
  RunFilter,
  ApiKeyRow,
} from './types.ts';
export type { NewApiKey } from './api-keys.ts';
export { MAX_RUN_PAGE } from './run-list.ts';
export type { CallIntent, CallRecorder, RecordedCall, RecordedResponse, RecordedFinishReason } from './call-recorder.ts';
export { JOURNAL_COMPONENT, SCHEMA_VERSION_TABLE, type Migration } from './schema.ts';
// Shared with the layers that keep their own tables (and version sequence) in a SQLite file: the registry.
export { applyMigrations } from './apply-migrations.ts';
