/**
 * One run: its spend, the workflow graph, the budget burn-down, the governor's decision and every call in
 * order. While the run works, its events stream in (SSE) and the view reloads when it finishes.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { postJson, readEvents } from '../api.ts';
import { LineChart, SpendMeter } from '../components/charts.tsx';
import { RunGraph } from '../components/run-graph.tsx';
import { GovernorDecision } from '../components/governor-decision.tsx';
import { CriticalityPanel, KvThreadPanel } from '../components/run-insights.tsx';
import { ErrorBox, Loading, StatusBadge } from '../components/states.tsx';
import { asText, formatMs, formatTime, formatTokens, formatUsd } from '../format.ts';
import { href, navigate, type Route } from '../route.ts';
import { buildGraph, burnDown, criticalityReadings, kvThreads, limitsOf, orderedCalls, traceEvents } from '../run-model.ts';
import type { RunDetails, Usage } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

const ZERO: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };

interface LiveState {
  events: number;
  spent: Usage | null;
  nodes: string[];
  finished: boolean;
}

function useLiveEvents(id: string, live: boolean, onFinished: () => void): LiveState {
  const [state, setState] = useState<LiveState>({ events: 0, spent: null, nodes: [], finished: false });
  useEffect(() => {
    if (!live) return undefined;
    const controller = new AbortController();
    readEvents(
      `/v1/runs/${encodeURIComponent(id)}/events`,
      (message) => {
        let event: { type?: string; spent?: Usage; nodeId?: string } = {};
        try {
          event = JSON.parse(message.data) as typeof event;
        } catch {
          return;
        }
        setState((previous) => ({
          events: previous.events + 1,
          spent: event.type === 'budget' && event.spent ? event.spent : previous.spent,
          nodes: event.type === 'node-started' && event.nodeId ? [...previous.nodes, event.nodeId].slice(-5) : previous.nodes,
          finished: previous.finished || event.type === 'run-finished',
        }));
      },
      controller.signal,
    ).then(onFinished, () => {
      if (!controller.signal.aborted) onFinished();
    });
    return () => controller.abort();
  }, [id, live, onFinished]);
  return state;
}

export function RunDetailPage({ id, route }: { id: string; route: Route }): ReactNode {
  const details = useFetch<RunDetails>(`/v1/runs/${encodeURIComponent(id)}`);
  const live = useLiveEvents(id, details.data?.live === true, details.reload);
  const [resumeError, setResumeError] = useState<Error | null>(null);
  const graph = useMemo(() => (details.data ? buildGraph(details.data) : null), [details.data]);
  const tab = route.params.get('tab') ?? 'overview';

  if (details.error && !details.data) return <ErrorBox error={details.error} onRetry={details.reload} />;
  if (!details.data || !graph) return <Loading label={`Loading run ${id}…`} />;
  // A run in flight has no totals yet in the journal: it shows zero until its first call settles.
  const run = { ...details.data.run, usage: details.data.run.usage ?? ZERO };
  const args = run.args ?? {};
  const strategy = asText(args['strategy'], run.command);
  const model = typeof args['model'] === 'string' ? args['model'] : '';
  const status = details.data.live ? 'running' : run.status;
  const rerun = href(['playground'], {
    query: run.query,
    strategy,
    model,
    tokens: run.budget?.totalTokens !== undefined ? String(run.budget.totalTokens) : undefined,
    usd: run.budget?.usd !== undefined ? String(run.budget.usd) : undefined,
  });
  const resumable = !details.data.live && ['budget_exhausted', 'cancelled', 'error'].includes(run.status) && run.command === 'solve';

  const resume = (): void => {
    setResumeError(null);
    postJson<{ run_id: string }>('/v1/runs', {
      query: run.query,
      strategy,
      ...(model ? { model } : {}),
      runId: run.id,
      ...(run.budget ? { budget: run.budget } : {}),
    }).then(
      () => details.reload(),
      (error: unknown) => setResumeError(error instanceof Error ? error : new Error(String(error))),
    );
  };

  return (
    <section aria-labelledby="run-title" className="run-detail">
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href={href(['runs'])}>Runs</a> / <span aria-current="page">{run.id}</span>
      </nav>
      <div className="page-head">
        <h1 id="run-title">
          Run <code>{run.id}</code> <StatusBadge status={status} />
          {run.simulated ? <span className="badge sim">simulated</span> : null}
        </h1>
        <div className="actions">
          <a className="button" href={rerun}>
            Re-run with another strategy or budget
          </a>
          <a className="button" href={href(['compare'], { a: run.id })}>
            Compare with another run
          </a>
          {resumable ? (
            <button type="button" onClick={resume}>
              Resume
            </button>
          ) : null}
          {details.data.live ? (
            <button type="button" onClick={() => void postJson(`/v1/runs/${encodeURIComponent(run.id)}/cancel`, {}).catch(() => undefined)}>
              Cancel
            </button>
          ) : null}
        </div>
      </div>
      {resumeError ? <ErrorBox error={resumeError} /> : null}
      <dl className="facts">
        <div>
          <dt>Query</dt>
          <dd>{run.query}</dd>
        </div>
        <div>
          <dt>Answer</dt>
          <dd data-testid="run-answer">{run.answer ?? '—'}</dd>
        </div>
        <div>
          <dt>Strategy · model</dt>
          <dd>
            {strategy} · {model || '—'}
          </dd>
        </div>
        <div>
          <dt>Spend</dt>
          <dd data-testid="run-spend">
            <span data-testid="run-spend-tokens">{formatTokens(run.usage.totalTokens)}</span> tokens ·{' '}
            <span data-testid="run-spend-usd" data-usd={run.usage.usd}>
              {formatUsd(run.usage.usd)}
            </span>{' '}
            · <span data-testid="run-spend-calls">{run.usage.calls}</span> calls
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <time dateTime={run.createdAt}>{formatTime(run.createdAt)}</time>
          </dd>
        </div>
      </dl>
      {details.data.live ? (
        <p className="live" role="status" aria-live="polite">
          Live: {live.events} events
          {live.spent ? `, ${formatTokens(live.spent.totalTokens)} tokens · ${formatUsd(live.spent.usd)} so far` : ''}
          {live.nodes.length > 0 ? ` — ${live.nodes[live.nodes.length - 1]}` : ''}
        </p>
      ) : null}
      <div className="tabs" role="tablist" aria-label="Run views">
        {[
          ['overview', 'Graph & budget'],
          ['calls', `Calls (${details.data.calls.length})`],
          ['governor', 'Governor'],
        ].map(([value, label]) => (
          <button
            key={value}
            type="button"
            role="tab"
            id={`tab-${value}`}
            aria-selected={tab === value}
            aria-controls={`panel-${value}`}
            onClick={() => navigate(href(['runs', run.id], { tab: value === 'overview' ? undefined : value }))}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'overview' ? <Overview details={details.data} graph={graph} /> : null}
        {tab === 'calls' ? <CallsTable details={details.data} /> : null}
        {tab === 'governor' ? <GovernorDecision details={details.data} /> : null}
      </div>
    </section>
  );
}

function Overview({ details, graph }: { details: RunDetails; graph: ReturnType<typeof buildGraph> }): ReactNode {
  const usage = details.run.usage ?? ZERO;
  const points = burnDown(details);
  const limits = limitsOf(details.run.budget);
  return (
    <div className="overview">
      <div className="panel">
        <h2>Workflow</h2>
        <RunGraph nodes={graph.nodes} edges={graph.edges} />
        <div className="table-wrap">
          <table className="compact" aria-label="Workflow nodes and their spend">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Operator</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Calls
                </th>
                <th scope="col" className="num">
                  Tokens
                </th>
                <th scope="col" className="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {graph.nodes.map((node) => (
                <tr key={node.id}>
                  <td>
                    <code>{node.id}</code>
                  </td>
                  <td>{node.op}</td>
                  <td>
                    <StatusBadge status={node.status} />
                  </td>
                  <td className="num">{node.calls}</td>
                  <td className="num">{formatTokens(node.tokens)}</td>
                  <td className="num">{formatUsd(node.usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="panel">
        <h2>Budget</h2>
        {limits.length === 0 ? <p className="muted">This run had no budget limit: the chart shows its cumulative spend.</p> : null}
        {limits.map((limit) => (
          <SpendMeter
            key={limit.key}
            label={limit.label}
            spent={usage[limit.key]}
            limit={limit.limit}
            format={limit.key === 'usd' ? formatUsd : formatTokens}
          />
        ))}
        {limits.length > 0 ? (
          limits.map((limit) => (
            <LineChart
              key={limit.key}
              title={`Budget burn-down: ${limit.label} left of ${limit.key === 'usd' ? formatUsd(limit.limit) : formatTokens(limit.limit)}`}
              xLabel="seconds since start"
              yLabel={`${limit.label} left`}
              yDomain={[0, limit.limit]}
              series={[
                { name: `${limit.label} left`, points: points.map((point) => ({ x: point.seconds, y: limit.limit - point[limit.key] })) },
              ]}
            />
          ))
        ) : (
          <LineChart
            title="Cumulative tokens"
            xLabel="seconds since start"
            yLabel="tokens"
            series={[{ name: 'tokens spent', points: points.map((point) => ({ x: point.seconds, y: point.totalTokens })) }]}
          />
        )}
      </div>
      <KvThreadPanel threads={kvThreads(details)} />
      <CriticalityPanel readings={criticalityReadings(details)} />
    </div>
  );
}

function CallsTable({ details }: { details: RunDetails }): ReactNode {
  const replayedSteps = new Set(
    traceEvents(details)
      .filter((event) => event.type === 'call' && event.data['replayed'] === true)
      .map((event) => event.stepId),
  );
  const calls = orderedCalls(details.calls);
  if (calls.length === 0) return <p className="muted">No model calls.</p>;
  return (
    <ol className="calls">
      {calls.map((call, index) => {
        const replayed = call.replayed === true || (call.stepId !== null && replayedSteps.has(call.stepId));
        const prompt = (call.request.messages ?? []).map((message) => `[${message.role}] ${message.content}`).join('\n\n');
        return (
          <li key={call.callKey}>
            <details>
              <summary>
                <span className="call-index">#{index + 1}</span> <code>{call.stepId ?? call.callKey.slice(0, 12)}</code> · {call.model} ·{' '}
                {formatTokens(call.inputTokens)}→{formatTokens(call.outputTokens)} tok · {formatUsd(call.costUsd)} ·{' '}
                {formatMs(call.latencyMs)}
                {replayed ? <span className="badge replayed">replayed</span> : null}
                {call.attempts > 1 ? <span className="badge retried">retried ×{call.attempts - 1}</span> : null}
                {call.failed ? <span className="badge status-error">failed</span> : null}
              </summary>
              <div className="call-body">
                <h2 className="call-heading">Prompt</h2>
                {/* Focusable: a long prompt or response scrolls, and keyboard users must be able to scroll it. */}
                <pre tabIndex={0}>{prompt || '—'}</pre>
                <h2 className="call-heading">Response</h2>
                <pre tabIndex={0}>{call.text ?? '—'}</pre>
              </div>
            </details>
          </li>
        );
      })}
    </ol>
  );
}
