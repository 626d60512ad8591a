/** Runs: the journal's runs, newest first, with filters in the URL and live refresh while runs are working. */
import type { ReactNode } from 'react';
import { Empty, ErrorBox, Loading, StatusBadge } from '../components/states.tsx';
import { formatTime, formatTokens, formatUsd } from '../format.ts';
import { href, useParamsSetter, type Route } from '../route.ts';
import type { RunSummary } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

const STATUSES = ['running', 'ok', 'budget_exhausted', 'cancelled', 'error'];
const PAGE = 50;

/** The API's query for the filters: the gateway applies them all (cost too), so paging counts matching runs only. */
export function runsQuery(params: URLSearchParams): string {
  const query = new URLSearchParams();
  for (const name of ['status', 'strategy', 'model', 'key']) {
    const value = params.get(name);
    if (value) query.set(name, value);
  }
  // Cost bounds in dollars (min_usd / max_usd); a value that is not a number ≥ 0 is left out rather than refused.
  for (const [name, api] of [
    ['minUsd', 'min_usd'],
    ['maxUsd', 'max_usd'],
  ] as const) {
    const value = params.get(name);
    if (value && Number.isFinite(Number(value)) && Number(value) >= 0) query.set(api, value);
  }
  const since = params.get('since');
  if (since && !Number.isNaN(new Date(since).getTime())) query.set('since', new Date(since).toISOString());
  query.set('limit', String(PAGE));
  const offset = Number(params.get('offset') ?? 0);
  if (offset > 0) query.set('offset', String(offset));
  return `/v1/runs?${query.toString()}`;
}

export function RunsPage({ route }: { route: Route }): ReactNode {
  const setParams = useParamsSetter(route);
  const { params } = route;
  const runs = useFetch<{ data: RunSummary[] }>(runsQuery(params), 2000);
  const offset = Number(params.get('offset') ?? 0);
  const shown = runs.data?.data ?? [];
  const filtered = ['status', 'strategy', 'model', 'key', 'since', 'minUsd', 'maxUsd'].some((name) => params.get(name));

  const field = (name: string, label: string, type = 'text', placeholder = ''): ReactNode => (
    <div className="field">
      <label htmlFor={`filter-${name}`}>{label}</label>
      <input
        id={`filter-${name}`}
        type={type}
        value={params.get(name) ?? ''}
        placeholder={placeholder}
        step={type === 'number' ? 'any' : undefined}
        onChange={(event) => setParams({ [name]: event.target.value, offset: undefined })}
      />
    </div>
  );

  return (
    <section aria-labelledby="runs-title">
      <div className="page-head">
        <h1 id="runs-title">Runs</h1>
        <a className="button primary" href={href(['playground'])}>
          New run
        </a>
      </div>
      <form className="filters" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={params.get('status') ?? ''}
            onChange={(event) => setParams({ status: event.target.value, offset: undefined })}
          >
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        {field('strategy', 'Strategy', 'text', 'vote, auto…')}
        {field('model', 'Model', 'text', 'sim:small')}
        {field('key', 'Key id')}
        {field('since', 'Since', 'datetime-local')}
        {field('minUsd', 'Min cost ($)', 'number')}
        {field('maxUsd', 'Max cost ($)', 'number')}
        {filtered ? (
          <button
            type="button"
            onClick={() =>
              setParams(
                Object.fromEntries(
                  ['status', 'strategy', 'model', 'key', 'since', 'minUsd', 'maxUsd', 'offset'].map((name) => [name, undefined]),
                ),
              )
            }
          >
            Clear filters
          </button>
        ) : null}
      </form>
      {runs.error ? <ErrorBox error={runs.error} onRetry={runs.reload} /> : null}
      {!runs.data && !runs.error ? <Loading label="Loading runs…" /> : null}
      {runs.data && shown.length === 0 ? (
        <Empty>
          {filtered ? (
            <p>No run matches these filters.</p>
          ) : (
            <p>
              No runs yet. Start one in the <a href={href(['playground'])}>playground</a>, with <code>thicket solve</code>, or through the
              API.
            </p>
          )}
        </Empty>
      ) : null}
      {shown.length > 0 ? (
        <div className="table-wrap">
          <table className="runs-table">
            <caption className="visually-hidden">Runs, newest first{runs.loading ? ' (refreshing)' : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Query</th>
                <th scope="col">Strategy</th>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  Tokens
                </th>
                <th scope="col" className="num">
                  Cost
                </th>
                <th scope="col" className="num">
                  Calls
                </th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => (
                <tr key={run.id}>
                  <td>
                    <a href={href(['runs', run.id])}>{run.id}</a>
                  </td>
                  <td>
                    <StatusBadge status={run.live ? 'running' : run.status} />
                    {run.simulated ? <span className="badge sim">sim</span> : null}
                  </td>
                  <td className="query-cell" title={run.query}>
                    {run.query}
                  </td>
                  <td>{run.strategy ?? run.command}</td>
                  <td>{run.model ?? '—'}</td>
                  <td className="num">{formatTokens(run.totals.totalTokens)}</td>
                  <td className="num">{formatUsd(run.totals.usd)}</td>
                  <td className="num">{run.totals.calls}</td>
                  <td>
                    <time dateTime={run.created_at}>{formatTime(run.created_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {runs.data && (offset > 0 || runs.data.data.length === PAGE) ? (
        <nav className="pager" aria-label="Pages of runs">
          <button
            type="button"
            disabled={offset === 0}
            onClick={() => setParams({ offset: String(Math.max(0, offset - PAGE)) || undefined })}
          >
            Newer
          </button>
          <button type="button" disabled={runs.data.data.length < PAGE} onClick={() => setParams({ offset: String(offset + PAGE) })}>
            Older
          </button>
        </nav>
      ) : null}
    </section>
  );
}
