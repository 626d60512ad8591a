/**
 * `listRuns` with filters (status, owner, command, strategy, model, time window, cost range, paging). The WHERE clause is
 * built from the filters given and each shape is prepared once: a dozen shapes at most, and SQLite plans each
 * with the right index (runs_by_owner for a key's runs) instead of one catch-all `(? IS NULL OR …)` query.
 */
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import { jsonNumber, nanoDollars, totalsColumns } from './statements.ts';
import type { SqlDialect, SqlDriver, SqlStatement } from './sql-driver.ts';
import type { RunDbRow, TotalsDbRow } from './rows.ts';
import { JOURNAL_RUN_STATUSES, type RunFilter } from './types.ts';

/** A run's cost as its totals count it (billed dollars per call, summed in nano-dollars), for the cost filters. */
const runCost = (dialect: SqlDialect): string =>
  `(SELECT COALESCE(SUM(${nanoDollars(dialect, `COALESCE(${jsonNumber(dialect, 'c.billed_json', 'usd')}, c.cost_usd)`)}), 0) / 1e9
  FROM calls c WHERE c.run_id = runs.id)`;

/** Each filter's condition (json_extract is translated for Postgres; the cost by dialect). */
const conditions = (dialect: SqlDialect) => ({
  status: 'status = ?',
  owner: 'owner = ?',
  command: 'command = ?',
  strategy: "json_extract(args_json, '$.strategy') = ?",
  model: "json_extract(args_json, '$.model') = ?",
  since: 'created_at >= ?',
  until: 'created_at < ?',
  minUsd: `${runCost(dialect)} >= ?`,
  maxUsd: `${runCost(dialect)} <= ?`,
});
type FilterKey = keyof ReturnType<typeof conditions>;
const FILTER_KEYS = Object.keys(conditions('sqlite')) as FilterKey[];
/** The largest page the gateway's REST serves. */
export const MAX_RUN_PAGE = 10_000;

export function checkRunFilter(filter: RunFilter): InputIssue[] {
  const issues: InputIssue[] = [];
  const { limit, offset, status, since, until, minUsd, maxUsd } = filter;
  // No upper bound here: readers of the whole journal (calibration, trajectories) pass Number.MAX_SAFE_INTEGER;
  // a surface serving pages (the gateway's REST) caps at MAX_RUN_PAGE itself.
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
    issues.push({ path: 'limit', message: 'must be a positive integer' });
  if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0))
    issues.push({ path: 'offset', message: 'must be a whole number ≥ 0' });
  if (status !== undefined && !JOURNAL_RUN_STATUSES.includes(status))
    issues.push({ path: 'status', message: `must be one of ${JOURNAL_RUN_STATUSES.join(', ')}` });
  for (const [key, value] of [
    ['since', since],
    ['until', until],
  ] as const)
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      issues.push({ path: key, message: `must be an ISO date/time, got "${value}"` });
  for (const [key, value] of [
    ['minUsd', minUsd],
    ['maxUsd', maxUsd],
  ] as const)
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      issues.push({ path: key, message: `must be a number of dollars ≥ 0, got ${value}` });
  return issues;
}

export class RunLister {
  private readonly prepared = new Map<string, SqlStatement<RunDbRow & TotalsDbRow>>();
  private readonly conditions: ReturnType<typeof conditions>;

  constructor(private readonly db: SqlDriver) {
    this.conditions = conditions(db.dialect);
  }

  list(filter: RunFilter): Array<RunDbRow & TotalsDbRow> {
    const issues = checkRunFilter(filter);
    if (issues.length > 0) throw new InvalidInputError('Cannot list runs', issues);
    const used = FILTER_KEYS.filter((key) => filter[key] !== undefined);
    const shape = used.join(',');
    let statement = this.prepared.get(shape);
    if (!statement) {
      const where = used.length > 0 ? `WHERE ${used.map((key) => this.conditions[key]).join(' AND ')}` : '';
      statement = this.db.prepare<RunDbRow & TotalsDbRow>(
        this.db.dialect === 'sqlite'
          ? `WITH page AS (SELECT rowid AS seq, * FROM runs ${where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?)
         SELECT page.*, ${totalsColumns('calls.call_key', 'calls.')}
         FROM page LEFT JOIN calls ON calls.run_id = page.id
         GROUP BY page.seq
         ORDER BY page.created_at DESC, page.seq DESC`
          : // Postgres refuses page.* grouped by a CTE's column (no functional dependency): each page row's
            // totals come from a LATERAL aggregate instead (zeros for a run without calls, as above).
            `WITH page AS (SELECT * FROM runs ${where} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?)
         SELECT page.*, totals.* FROM page
         CROSS JOIN LATERAL (SELECT ${totalsColumns('*', 'calls.', 'postgres')} FROM calls WHERE calls.run_id = page.id) AS totals
         ORDER BY page.created_at DESC, page.seq DESC`,
      );
      this.prepared.set(shape, statement);
    }
    const normalised = (key: FilterKey): unknown => {
      const value = filter[key];
      // Stored times are ISO strings in UTC; a filter given in another form is normalised so the comparison is by time.
      return key === 'since' || key === 'until' ? new Date(value as string).toISOString() : value;
    };
    return statement.all(...used.map(normalised), filter.limit ?? 20, filter.offset ?? 0);
  }
}
