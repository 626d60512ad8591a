/**
 * One evaluation: its progress while it runs; then the report's own part — accuracy with its 95% bootstrap
 * interval per strategy (chart and table) and the paired comparisons (difference, interval, p-value, and
 * whether the difference is within noise) — from GET /v1/evals/{id}.
 */
import type { ReactNode } from 'react';
import { postJson } from '../api.ts';
import { IntervalChart } from '../components/charts.tsx';
import { Progress } from '../components/jobs.tsx';
import { ErrorBox, Loading, StatusBadge } from '../components/states.tsx';
import { formatMs, formatPercent, formatTokens, formatUsd } from '../format.ts';
import { href } from '../route.ts';
import type { EvalComparison, EvalJob, EvalStats } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

const pct1 = (value: number): string => `${(value * 100).toFixed(1)}%`;
const points = (value: number): string => `${value >= 0 ? '+' : '−'}${(Math.abs(value) * 100).toFixed(1)} pts`;
export const pValue = (value: number): string => (value < 0.001 ? '< 0.001' : value.toFixed(3));

/** A configuration's name as the tables show it: the parts that vary in this eval only. */
export function configName(stats: EvalStats[], row: { architecture: string; model: string; budget: number }): string {
  const varies = (pick: (entry: EvalStats) => string | number): boolean => new Set(stats.map(pick)).size > 1;
  const parts = [row.architecture];
  if (varies((entry) => entry.model)) parts.push(row.model);
  if (varies((entry) => entry.budget)) parts.push(`@${formatTokens(row.budget)}`);
  return parts.join(' · ');
}

export function verdict(comparison: EvalComparison): string {
  if (comparison.withinNoise) return 'within noise';
  return comparison.difference > 0 ? `${comparison.b.architecture} better` : `${comparison.a.architecture} better`;
}

export function EvalDetailPage({ id }: { id: string }): ReactNode {
  const job = useFetch<EvalJob>(`/v1/evals/${encodeURIComponent(id)}`, 1500);
  if (job.error && !job.data) return <ErrorBox error={job.error} onRetry={job.reload} />;
  if (!job.data) return <Loading label={`Loading evaluation ${id}…`} />;
  const data = job.data;
  const result = data.result ?? null;
  return (
    <section aria-labelledby="eval-title">
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href={href(['studies'])}>Studies &amp; evaluations</a> / <span aria-current="page">{id}</span>
      </nav>
      <div className="page-head">
        <h1 id="eval-title">
          Evaluation <code>{id}</code> <StatusBadge status={data.status} />
          {data.simulated ? <span className="badge sim">simulated</span> : null}
        </h1>
        {data.status === 'running' ? (
          <div className="actions">
            <button
              type="button"
              onClick={() => void postJson(`/v1/evals/${encodeURIComponent(id)}/cancel`, {}).then(job.reload, job.reload)}
            >
              Cancel
            </button>
          </div>
        ) : null}
      </div>
      <p>
        <Progress job={data} noun="Evaluation" />
      </p>
      {data.error ? <ErrorBox error={new Error(data.error.message)} /> : null}
      {result ? (
        <EvalReport result={result} />
      ) : data.status === 'running' ? (
        <Loading label="Running… the report appears when it ends." />
      ) : null}
    </section>
  );
}

export function EvalReport({ result }: { result: NonNullable<EvalJob['result']> }): ReactNode {
  const { summary } = result;
  const stats = [...summary.stats].sort(
    (x, y) => x.model.localeCompare(y.model) || x.budget - y.budget || x.architecture.localeCompare(y.architecture),
  );
  return (
    <div className="report">
      <dl className="facts">
        <div>
          <dt>Dataset</dt>
          <dd>
            {summary.dataset.items} items ({summary.dataset.format}, preset {summary.dataset.preset})
            {summary.dataset.skipped.length > 0 ? `, ${summary.dataset.skipped.length} ${summary.dataset.unit}s skipped` : ''}
          </dd>
        </div>
        <div>
          <dt>Scorer</dt>
          <dd>{summary.scorer}</dd>
        </div>
        <div>
          <dt>Cells</dt>
          <dd>
            {result.counts.executed} run, {result.counts.resumed} resumed, {result.counts.failed} failed · {formatMs(result.elapsedMs)}
          </dd>
        </div>
        <div>
          <dt>Spend (system under test)</dt>
          <dd>
            {formatTokens(summary.systemSpend.totalTokens)} tokens · {formatUsd(summary.systemSpend.usd)}
          </dd>
        </div>
        {summary.judge ? (
          <div>
            <dt>Judge ({summary.judge.model})</dt>
            <dd>
              {formatTokens(summary.judge.spent.totalTokens)} tokens · {formatUsd(summary.judge.spent.usd)} · {summary.judge.verdicts}{' '}
              verdicts
            </dd>
          </div>
        ) : null}
      </dl>
      <h2>Accuracy with 95% intervals</h2>
      <IntervalChart
        title="Accuracy per strategy (95% bootstrap interval)"
        domain={[0, 1]}
        format={formatPercent}
        rows={stats.map((row) => ({
          name: configName(stats, row),
          value: row.accuracy,
          low: row.accuracyCi.low,
          high: row.accuracyCi.high,
        }))}
      />
      <div className="table-wrap">
        <table className="compact" aria-label="Accuracy and cost per configuration">
          <thead>
            <tr>
              <th scope="col">Strategy</th>
              <th scope="col">Model</th>
              <th scope="col" className="num">
                Budget
              </th>
              <th scope="col" className="num">
                n
              </th>
              <th scope="col" className="num">
                Accuracy
              </th>
              <th scope="col">95% CI</th>
              <th scope="col" className="num">
                Mean tokens
              </th>
              <th scope="col" className="num">
                Mean cost
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.map((row) => (
              <tr key={`${row.architecture}|${row.model}|${row.budget}`}>
                <td>{row.architecture}</td>
                <td>{row.model}</td>
                <td className="num">{formatTokens(row.budget)}</td>
                <td className="num">{row.n}</td>
                <td className="num">{pct1(row.accuracy)}</td>
                <td data-testid="accuracy-ci">
                  [{pct1(row.accuracyCi.low)}, {pct1(row.accuracyCi.high)}]
                </td>
                <td className="num">{formatTokens(row.meanTokens)}</td>
                <td className="num">{formatUsd(row.meanUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Paired comparisons</h2>
      {summary.comparisons.length === 0 ? (
        <p className="muted">No pairs to compare (one strategy and one model).</p>
      ) : (
        <div className="table-wrap">
          <table className="compact" aria-label="Paired comparisons">
            <thead>
              <tr>
                <th scope="col">A</th>
                <th scope="col">B</th>
                <th scope="col" className="num">
                  Pairs
                </th>
                <th scope="col" className="num">
                  B − A
                </th>
                <th scope="col">95% CI</th>
                <th scope="col" className="num">
                  p (bootstrap)
                </th>
                <th scope="col">McNemar (A only / B only, p)</th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {summary.comparisons.map((comparison) => (
                <tr key={`${configName(stats, comparison.a)}|${configName(stats, comparison.b)}`}>
                  <td>
                    {configName(stats, comparison.a)} ({pct1(comparison.a.accuracy)})
                  </td>
                  <td>
                    {configName(stats, comparison.b)} ({pct1(comparison.b.accuracy)})
                  </td>
                  <td className="num">{comparison.pairs}</td>
                  <td className="num">{points(comparison.difference)}</td>
                  <td>
                    [{points(comparison.ci.low)}, {points(comparison.ci.high)}]
                  </td>
                  <td className="num">{pValue(comparison.bootstrapP)}</td>
                  <td>
                    {comparison.mcnemar
                      ? `${comparison.mcnemar.aOnly} / ${comparison.mcnemar.bOnly}, p ${pValue(comparison.mcnemar.p)}`
                      : '— (scores not 0/1)'}
                  </td>
                  <td>
                    <span className={`badge ${comparison.withinNoise ? 'noise' : 'status-ok'}`}>{verdict(comparison)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
