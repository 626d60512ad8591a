/**
 * Playground: a query, a strategy (or auto), a model and a budget start a run in the background
 * (`POST /v1/runs`); the console then opens the run's view, which streams its events live.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { postJson } from '../api.ts';
import { ErrorBox } from '../components/states.tsx';
import { href, navigate, type Route } from '../route.ts';
import { useFetch } from '../use-fetch.ts';

interface ModelList {
  data: { id: string; thicket?: { model?: string; simulated?: boolean } }[];
}

/** Strategies are the `thicket/<strategy>` names; models the references without a strategy prefix. */
export function choices(list: ModelList | undefined): { strategies: string[]; models: string[]; defaultModel: string } {
  const ids = list?.data.map((entry) => entry.id) ?? [];
  const strategies = ids.filter((id) => id.startsWith('thicket/')).map((id) => id.slice('thicket/'.length));
  const models = ids.filter((id) => !id.startsWith('thicket/') && !id.includes('@'));
  const defaultModel = list?.data.find((entry) => entry.id === 'thicket/auto')?.thicket?.model ?? models[0] ?? '';
  return { strategies: strategies.length > 0 ? strategies : ['auto'], models, defaultModel };
}

export function startRunBody(form: {
  query: string;
  strategy: string;
  model: string;
  tokens: string;
  usd: string;
  samples: string;
}): Record<string, unknown> {
  const budget: Record<string, number> = {};
  if (form.tokens.trim() !== '') budget['tokens'] = Number(form.tokens);
  if (form.usd.trim() !== '') budget['usd'] = Number(form.usd);
  return {
    query: form.query,
    strategy: form.strategy || 'auto',
    ...(form.model ? { model: form.model } : {}),
    ...(Object.keys(budget).length > 0 ? { budget } : {}),
    ...(form.samples.trim() !== '' ? { samples: Number(form.samples) } : {}),
  };
}

export function PlaygroundPage({ route }: { route: Route }): ReactNode {
  const models = useFetch<ModelList>('/v1/models');
  const { strategies, models: modelRefs, defaultModel } = choices(models.data);
  const [form, setForm] = useState({
    query: route.params.get('query') ?? '',
    strategy: route.params.get('strategy') ?? 'auto',
    model: route.params.get('model') ?? '',
    tokens: route.params.get('tokens') ?? '8000',
    usd: route.params.get('usd') ?? '',
    samples: '',
  });
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value });

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    postJson<{ run_id: string }>('/v1/runs', startRunBody(form)).then(
      (started) => navigate(href(['runs', started.run_id])),
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
  };

  return (
    <section aria-labelledby="playground-title">
      <h1 id="playground-title">Playground</h1>
      <p className="muted">Start a run; its view opens and follows it live. The budget is hard: the run stops before it would overspend.</p>
      <form className="stack-form" onSubmit={submit}>
        <div className="field wide">
          <label htmlFor="pg-query">Query</label>
          <textarea id="pg-query" required rows={3} value={form.query} onChange={set('query')} placeholder="What is (17*23)+(12*4)?" />
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="pg-strategy">Strategy</label>
            <select id="pg-strategy" value={form.strategy} onChange={set('strategy')}>
              {strategies.map((strategy) => (
                <option key={strategy} value={strategy}>
                  {strategy === 'auto' ? 'auto (the governor chooses)' : strategy}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="pg-model">Model</label>
            <select id="pg-model" value={form.model} onChange={set('model')}>
              <option value="">default ({defaultModel || '…'})</option>
              {modelRefs.map((model) => (
                <option key={model} value={model}>
                  {model}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="pg-tokens">Budget: tokens</label>
            <input id="pg-tokens" type="number" min={1} step={1} value={form.tokens} onChange={set('tokens')} />
          </div>
          <div className="field">
            <label htmlFor="pg-usd">Budget: dollars</label>
            <input id="pg-usd" type="number" min={0} step="any" value={form.usd} onChange={set('usd')} />
          </div>
          <div className="field">
            <label htmlFor="pg-samples">Samples (optional)</label>
            <input id="pg-samples" type="number" min={1} step={1} value={form.samples} onChange={set('samples')} />
          </div>
        </div>
        {models.error ? <ErrorBox error={models.error} onRetry={models.reload} /> : null}
        {error ? <ErrorBox error={error} /> : null}
        <div>
          <button className="primary" type="submit" disabled={busy || form.query.trim() === ''}>
            {busy ? 'Starting…' : 'Run'}
          </button>
        </div>
      </form>
    </section>
  );
}
