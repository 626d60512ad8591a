/** One study: progress while it runs; then its headline and the report's charts, drawn here from report.json. */
import { useState, type ReactNode } from 'react';
import { BarChart, LineChart } from '../components/charts.tsx';
import { Progress } from '../components/jobs.tsx';
import { ErrorBox, Loading, StatusBadge } from '../components/states.tsx';
import { formatPercent } from '../format.ts';
import { href } from '../route.ts';
import { architecturesOf, compareArchitectures, frontierSeries, suitesOf } from '../study-model.ts';
import type { StudyJob, StudyReport } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

export function StudyDetailPage({ id }: { id: string }): ReactNode {
  const job = useFetch<StudyJob>(`/v1/studies/${encodeURIComponent(id)}`, 1500);
  const finished = job.data !== undefined && job.data.status !== 'running';
  const report = useFetch<StudyReport>(finished ? `/v1/studies/${encodeURIComponent(id)}/report` : null);

  if (job.error && !job.data) return <ErrorBox error={job.error} onRetry={job.reload} />;
  if (!job.data) return <Loading label={`Loading study ${id}…`} />;
  return (
    <section aria-labelledby="study-title">
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href={href(['studies'])}>Studies &amp; evaluations</a> / <span aria-current="page">{id}</span>
      </nav>
      <h1 id="study-title">
        Study <code>{id}</code> <StatusBadge status={job.data.status} />
        {job.data.simulated ? <span className="badge sim">simulated</span> : null}
      </h1>
      <p>
        <Progress job={job.data} />
      </p>
      {job.data.error ? <ErrorBox error={new Error(job.data.error.message)} /> : null}
      {job.data.result?.headline?.text ? <p className="headline">{job.data.result.headline.text}</p> : null}
      {finished && report.error ? <ErrorBox error={report.error} onRetry={report.reload} /> : null}
      {finished && !report.data && !report.error ? <Loading label="Loading the report…" /> : null}
      {report.data ? <ReportCharts report={report.data} /> : null}
    </section>
  );
}

export function ReportCharts({ report }: { report: StudyReport }): ReactNode {
  const suites = suitesOf(report);
  const architectures = architecturesOf(report);
  const [a, setA] = useState(architectures[0] ?? '');
  const [b, setB] = useState(architectures[1] ?? architectures[0] ?? '');
  const decomposition = report.analysis.runLevel;
  return (
    <div className="report">
      <h2>Accuracy against tokens</h2>
      <div className="chart-grid">
        {suites.map((suite) => (
          <LineChart
            key={suite}
            title={`${suite}: accuracy vs mean tokens per query`}
            xLabel="mean tokens per query (log)"
            yLabel="accuracy"
            xLog
            yDomain={[0, 1]}
            formatY={formatPercent}
            series={frontierSeries(report, suite)}
          />
        ))}
      </div>
      <h2>Variance decomposition</h2>
      <div className="chart-grid">
        <BarChart
          title={`Share of explained variance in accuracy (all suites; ${formatPercent(decomposition.total)} of the variance explained)`}
          bars={decomposition.groups.map((group) => ({ name: group.name, value: group.shareOfExplained }))}
          format={formatPercent}
        />
        {report.analysis.bySuite.map((entry) => (
          <BarChart
            key={entry.suite}
            title={`${entry.suite}: share of explained variance`}
            bars={entry.decomposition.groups.map((group) => ({ name: group.name, value: group.shareOfExplained }))}
            format={formatPercent}
          />
        ))}
      </div>
      <h2>Compare two strategies</h2>
      <div className="row">
        <div className="field">
          <label htmlFor="cmp-a">Strategy A</label>
          <select id="cmp-a" value={a} onChange={(event) => setA(event.target.value)}>
            {architectures.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="cmp-b">Strategy B</label>
          <select id="cmp-b" value={b} onChange={(event) => setB(event.target.value)}>
            {architectures.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </div>
      </div>
      <div className="table-wrap">
        <table className="compact">
          <caption className="visually-hidden">
            Accuracy of {a} and {b} by suite and budget
          </caption>
          <thead>
            <tr>
              <th scope="col">Suite</th>
              <th scope="col" className="num">
                Budget
              </th>
              <th scope="col" className="num">
                {a}
              </th>
              <th scope="col" className="num">
                {b}
              </th>
              <th scope="col" className="num">
                B − A
              </th>
            </tr>
          </thead>
          <tbody>
            {compareArchitectures(report, a, b).map((row) => (
              <tr key={`${row.suite}-${row.budget}`}>
                <td>{row.suite}</td>
                <td className="num">{row.budget.toLocaleString('en-US')}</td>
                <td className="num">{row.a === null ? '—' : formatPercent(row.a)}</td>
                <td className="num">{row.b === null ? '—' : formatPercent(row.b)}</td>
                <td className="num">{row.a === null || row.b === null ? '—' : `${((row.b - row.a) * 100).toFixed(0)} pts`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
