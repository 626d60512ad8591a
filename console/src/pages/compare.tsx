/**
 * Two runs side by side (`#/compare?a=<id>&b=<id>`): status, strategy, model, answer, spend, calls, time and
 * budget, with the difference in spend. The runs are picked from the recent ones or typed as ids; the choice
 * is in the URL, so a comparison is a shareable link.
 */
import type { ReactNode } from 'react';
import { StatusBadge, ErrorBox, Loading } from '../components/states.tsx';
import { asText, formatMs, formatTokens, formatUsd } from '../format.ts';
import { href, useParamsSetter, type Route } from '../route.ts';
import type { RunDetails, RunSummary } from '../types.ts';
import { useFetch, type Loaded } from '../use-fetch.ts';

export interface CompareRow {
  label: string;
  a: string;
  b: string;
  /** B − A, for the numeric rows. */
  delta?: string;
}

function facts(details: RunDetails): {
  status: string;
  strategy: string;
  model: string;
  answer: string;
  tokens: number;
  usd: number;
  calls: number;
  ms: number;
  budget: string;
} {
  const run = details.run;
  const args = run.args ?? {};
  return {
    status: details.live ? 'running' : run.status,
    strategy: asText(args['strategy'], run.command),
    model: asText(args['model'], '—'),
    answer: run.answer ?? '—',
    tokens: run.usage?.totalTokens ?? 0,
    usd: run.usage?.usd ?? 0,
    calls: run.usage?.calls ?? 0,
    ms: Date.parse(run.updatedAt) - Date.parse(run.createdAt),
    budget: run.budget
      ? Object.entries(run.budget)
          .map(([key, value]) => `${key} ${key === 'usd' ? formatUsd(value) : formatTokens(value)}`)
          .join(', ')
      : 'none',
  };
}

const signed = (value: number, format: (value: number) => string): string =>
  value === 0 ? '0' : `${value > 0 ? '+' : '−'}${format(Math.abs(value))}`;

/** The rows of the comparison (pure: tested without a browser). */
export function compareRuns(a: RunDetails, b: RunDetails): CompareRow[] {
  const x = facts(a);
  const y = facts(b);
  return [
    { label: 'Status', a: x.status, b: y.status },
    { label: 'Strategy', a: x.strategy, b: y.strategy },
    { label: 'Model', a: x.model, b: y.model },
    { label: 'Answer', a: x.answer, b: y.answer, delta: x.answer === y.answer ? 'same' : 'different' },
    { label: 'Tokens', a: formatTokens(x.tokens), b: formatTokens(y.tokens), delta: signed(y.tokens - x.tokens, formatTokens) },
    { label: 'Cost', a: formatUsd(x.usd), b: formatUsd(y.usd), delta: signed(y.usd - x.usd, formatUsd) },
    { label: 'Calls', a: String(x.calls), b: String(y.calls), delta: signed(y.calls - x.calls, String) },
    { label: 'Wall time', a: formatMs(x.ms), b: formatMs(y.ms), delta: signed(y.ms - x.ms, formatMs) },
    { label: 'Budget', a: x.budget, b: y.budget },
  ];
}

function RunPicker({
  id,
  label,
  value,
  runs,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  runs: RunSummary[];
  onChange: (value: string) => void;
}): ReactNode {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} list={`${id}-runs`} value={value} placeholder="a run id" onChange={(event) => onChange(event.target.value.trim())} />
      <datalist id={`${id}-runs`}>
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {`${run.strategy ?? run.command} · ${run.status} · ${run.query.slice(0, 40)}`}
          </option>
        ))}
      </datalist>
    </div>
  );
}

const runPath = (id: string | null): string | null => (id ? `/v1/runs/${encodeURIComponent(id)}` : null);

export function ComparePage({ route }: { route: Route }): ReactNode {
  const setParams = useParamsSetter(route);
  const a = route.params.get('a') ?? '';
  const b = route.params.get('b') ?? '';
  const recent = useFetch<{ data: RunSummary[] }>('/v1/runs?limit=50');
  const left = useFetch<RunDetails>(runPath(a || null));
  const right = useFetch<RunDetails>(runPath(b || null));
  const runs = recent.data?.data ?? [];
  const pending = (loaded: Loaded<RunDetails>, id: string): ReactNode =>
    !id ? null : loaded.error ? (
      <ErrorBox error={loaded.error} onRetry={loaded.reload} />
    ) : !loaded.data ? (
      <Loading label={`Loading ${id}…`} />
    ) : null;
  return (
    <section aria-labelledby="compare-title">
      <h1 id="compare-title">Compare two runs</h1>
      <div className="row">
        <RunPicker id="cmp-run-a" label="Run A" value={a} runs={runs} onChange={(value) => setParams({ a: value })} />
        <RunPicker id="cmp-run-b" label="Run B" value={b} runs={runs} onChange={(value) => setParams({ b: value })} />
      </div>
      {pending(left, a)}
      {pending(right, b)}
      {!a || !b ? <p className="muted">Pick two runs (from the recent ones, or paste an id).</p> : null}
      {left.data && right.data ? (
        <div className="table-wrap">
          <table className="compact compare" aria-label="Two runs side by side">
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Fact</span>
                </th>
                <th scope="col">
                  A: <a href={href(['runs', a])}>{a}</a>
                </th>
                <th scope="col">
                  B: <a href={href(['runs', b])}>{b}</a>
                </th>
                <th scope="col">B vs A</th>
              </tr>
            </thead>
            <tbody>
              {compareRuns(left.data, right.data).map((row) => (
                <tr key={row.label}>
                  <th scope="row">{row.label}</th>
                  <td>{row.label === 'Status' ? <StatusBadge status={row.a} /> : row.a}</td>
                  <td>{row.label === 'Status' ? <StatusBadge status={row.b} /> : row.b}</td>
                  <td>{row.delta ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
