/** Keys and budgets: every key's spend against its limits for the current period (admin), else the caller's own. */
import type { ReactNode } from 'react';
import { ApiError } from '../api.ts';
import { SpendMeter } from '../components/charts.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { formatTime, formatTokens, formatUsd } from '../format.ts';
import type { ApiKeyView, KeySpend } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

export function KeysPage(): ReactNode {
  const keys = useFetch<{ data: ApiKeyView[] }>('/v1/keys', 5000);
  // A client key may not list keys (403): it sees its own budget through /v1/me.
  const forbidden = keys.error instanceof ApiError && keys.error.status === 403;
  const me = useFetch<{ key: ApiKeyView | null; spend?: KeySpend | null }>(forbidden ? '/v1/me' : null);

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys &amp; budgets</h1>
      {keys.error && !forbidden ? <ErrorBox error={keys.error} onRetry={keys.reload} /> : null}
      {!keys.data && !keys.error ? <Loading label="Loading keys…" /> : null}
      {forbidden ? (
        me.data?.key ? (
          <KeyCard apiKey={{ ...me.data.key, ...(me.data.spend ? { spend: me.data.spend } : {}) }} />
        ) : me.error ? (
          <ErrorBox error={me.error} />
        ) : (
          <Loading />
        )
      ) : null}
      {keys.data && keys.data.data.length === 0 ? (
        <Empty>
          <p>
            No API keys: the gateway is open to local callers. Create one with <code>thicket keys create --name admin --admin</code>.
          </p>
        </Empty>
      ) : null}
      <div className="key-grid">
        {keys.data?.data.map((key) => (
          <KeyCard key={key.id} apiKey={key} />
        ))}
      </div>
    </section>
  );
}

function KeyCard({ apiKey }: { apiKey: ApiKeyView }): ReactNode {
  const spend = apiKey.spend;
  return (
    <article className="panel" aria-labelledby={`key-${apiKey.id}`}>
      <h2 id={`key-${apiKey.id}`}>
        {apiKey.name} <code>{apiKey.id}</code> <span className="badge">{apiKey.role}</span>
        {apiKey.revoked_at ? <span className="badge status-cancelled">revoked</span> : null}
      </h2>
      <p className="muted">
        Created <time dateTime={apiKey.created_at}>{formatTime(apiKey.created_at)}</time>
        {spend ? ` · period: ${spend.period}${spend.periodEnd ? ` (until ${formatTime(spend.periodEnd)})` : ''}` : ''}
      </p>
      {spend ? (
        <>
          <SpendMeter label="tokens" spent={spend.spent.totalTokens} limit={spend.limits.totalTokens} format={formatTokens} />
          <SpendMeter label="dollars" spent={spend.spent.usd} limit={spend.limits.usd} format={formatUsd} />
          <SpendMeter label="calls" spent={spend.spent.calls} limit={spend.limits.calls} format={formatTokens} />
          {spend.reserved.totalTokens > 0 ? (
            <p className="muted">Reserved by runs in flight: {formatTokens(spend.reserved.totalTokens)} tokens.</p>
          ) : null}
        </>
      ) : (
        <p className="muted">No spend (revoked).</p>
      )}
    </article>
  );
}
