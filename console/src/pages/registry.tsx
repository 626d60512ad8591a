/** Registry: capability search with the policy filters (require/forbid labels, providers, max cost), and a card's detail. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { formatUsd } from '../format.ts';
import { href, useParamsSetter, type Route } from '../route.ts';
import type { RegistryResult } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

const FILTERS = ['q', 'require', 'forbid', 'provider', 'maxCostPerCall'] as const;

export function searchPath(params: URLSearchParams): string | null {
  const q = params.get('q');
  if (!q) return null;
  const query = new URLSearchParams({ limit: '20' });
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) query.set(name, value);
  }
  return `/v1/registry/search?${query.toString()}`;
}

export function RegistryPage({ route }: { route: Route }): ReactNode {
  const setParams = useParamsSetter(route);
  const [draft, setDraft] = useState(
    () => Object.fromEntries(FILTERS.map((name) => [name, route.params.get(name) ?? ''])) as Record<(typeof FILTERS)[number], string>,
  );
  const results = useFetch<{ data: RegistryResult[] }>(searchPath(route.params));
  const selected = route.params.get('card');

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setParams({ ...draft, card: undefined });
  };
  const input = (name: (typeof FILTERS)[number], label: string, placeholder: string, type = 'text'): ReactNode => (
    <div className={`field${name === 'q' ? ' wide' : ''}`}>
      <label htmlFor={`reg-${name}`}>{label}</label>
      <input
        id={`reg-${name}`}
        type={type}
        step={type === 'number' ? 'any' : undefined}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
      />
    </div>
  );

  return (
    <section aria-labelledby="registry-title">
      <h1 id="registry-title">Registry</h1>
      <form className="stack-form" role="search" aria-label="Search capabilities" onSubmit={submit}>
        {input('q', 'What should the capability do?', 'summarize legal contracts')}
        <div className="row">
          {input('require', 'Require labels (all, comma-separated)', 'residency:eu')}
          {input('forbid', 'Forbid labels (any)', 'pii:none')}
          {input('provider', 'Providers (any)', 'local')}
          {input('maxCostPerCall', 'Max cost per call ($)', '0.01', 'number')}
        </div>
        <div>
          <button className="primary" type="submit" disabled={draft.q.trim() === ''}>
            Search
          </button>
        </div>
      </form>
      {!route.params.get('q') ? (
        <Empty>
          <p>
            Describe a need to search the capability cards (register cards with <code>thicket agents register</code> or{' '}
            <code>POST /v1/registry/cards</code>).
          </p>
        </Empty>
      ) : null}
      {results.error ? <ErrorBox error={results.error} onRetry={results.reload} /> : null}
      {route.params.get('q') && !results.data && !results.error ? <Loading label="Searching…" /> : null}
      {results.data && results.data.data.length === 0 ? (
        <Empty>
          <p>No capability passes these constraints and matches the need.</p>
        </Empty>
      ) : null}
      <div className="split">
        {results.data && results.data.data.length > 0 ? (
          <ol className="results" aria-label="Search results">
            {results.data.data.map((result) => (
              <li key={result.ref} className={selected === result.ref ? 'selected' : undefined}>
                <a
                  href={href(['registry'], { ...Object.fromEntries(route.params), card: result.ref })}
                  aria-current={selected === result.ref ? 'true' : undefined}
                >
                  <strong>{result.card.name}</strong> <code>{result.ref}</code>
                </a>
                <span className="muted">
                  {' '}
                  score {result.score.toFixed(3)} · {result.card.provider}
                </span>
                {result.card.description ? <p>{result.card.description}</p> : null}
                {result.card.labels && result.card.labels.length > 0 ? (
                  <p className="labels">
                    {result.card.labels.map((label) => (
                      <span key={label} className="badge">
                        {label}
                      </span>
                    ))}
                  </p>
                ) : null}
              </li>
            ))}
          </ol>
        ) : null}
        {selected ? <CardDetail reference={selected} /> : null}
      </div>
    </section>
  );
}

interface CardResponse {
  card: RegistryResult['card'] & Record<string, unknown>;
  versions: { version: string; status: string; registered_at: string }[];
}

function CardDetail({ reference }: { reference: string }): ReactNode {
  const card = useFetch<CardResponse>(`/v1/registry/cards/${encodeURIComponent(reference)}`);
  if (card.error) return <ErrorBox error={card.error} onRetry={card.reload} />;
  if (!card.data) return <Loading label="Loading the card…" />;
  const { card: data, versions } = card.data;
  const cost = data.cost as { usdPerCall?: number } | undefined;
  return (
    <article className="panel card-detail" aria-labelledby="card-title">
      <h2 id="card-title">
        {data.name}{' '}
        <code>
          {data.id}@{data.version}
        </code>
      </h2>
      {data.description ? <p>{data.description}</p> : null}
      <dl className="facts">
        <div>
          <dt>Provider</dt>
          <dd>{data.provider}</dd>
        </div>
        <div>
          <dt>Binding</dt>
          <dd>
            <code>{JSON.stringify(data.binding)}</code>
          </dd>
        </div>
        {cost?.usdPerCall !== undefined ? (
          <div>
            <dt>Cost per call</dt>
            <dd>{formatUsd(cost.usdPerCall)}</dd>
          </div>
        ) : null}
        <div>
          <dt>Labels</dt>
          <dd>{(data.labels ?? []).join(', ') || '—'}</dd>
        </div>
      </dl>
      <h3>Versions</h3>
      <table className="compact">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Registered</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((version) => (
            <tr key={version.version}>
              <td>{version.version}</td>
              <td>{version.status}</td>
              <td>{version.registered_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>The whole card (JSON)</summary>
        <pre>{JSON.stringify(data, null, 2)}</pre>
      </details>
    </article>
  );
}
