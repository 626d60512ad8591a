/**
 * Studies and evaluations: those started in this gateway with their progress, and the forms that launch one
 * (admin): a study on the built-in suites, an evaluation on an uploaded dataset (pages/evals.tsx).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { postJson } from '../api.ts';
import { JobsTable } from '../components/jobs.tsx';
import { ErrorBox } from '../components/states.tsx';
import { href, navigate, type Route } from '../route.ts';
import type { StudyJob } from '../types.ts';
import { useFetch } from '../use-fetch.ts';
import { EvalLaunchForm, EvalsList } from './evals.tsx';

const SUITES = ['arithmetic', 'logic', 'multihop'];
const ARCHITECTURES = ['single', 'vote', 'refine', 'debate', 'cascade'];

const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

export function studyBody(form: {
  id: string;
  fleet: string;
  suites: string[];
  architectures: string[];
  models: string;
  items: string;
  budgets: string;
}): Record<string, unknown> {
  return {
    quick: form.fleet === 'sim' ? 'sim' : form.fleet === 'tiny' ? 'tiny' : false,
    ...(form.id.trim() ? { id: form.id.trim() } : {}),
    ...(form.suites.length > 0 ? { suites: form.suites } : {}),
    ...(form.architectures.length > 0 ? { architectures: form.architectures } : {}),
    ...(splitList(form.models).length > 0 ? { models: splitList(form.models) } : {}),
    ...(splitList(form.budgets).length > 0 ? { budgets: splitList(form.budgets).map(Number) } : {}),
    ...(form.items.trim() ? { items: Number(form.items) } : {}),
  };
}

export function StudiesPage({ route }: { route: Route }): ReactNode {
  const studies = useFetch<{ data: StudyJob[] }>('/v1/studies', 1500);
  const [form, setForm] = useState({
    id: '',
    fleet: 'sim',
    suites: [] as string[],
    architectures: ['single', 'vote'],
    models: 'sim:small',
    items: '4',
    budgets: '',
  });
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  void route;

  const toggle = (name: 'suites' | 'architectures', value: string) => () =>
    setForm({ ...form, [name]: form[name].includes(value) ? form[name].filter((entry) => entry !== value) : [...form[name], value] });

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    postJson<{ id: string }>('/v1/studies', studyBody(form)).then(
      (job) => navigate(href(['studies', job.id])),
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
  };

  return (
    <section aria-labelledby="studies-title">
      <h1 id="studies-title">Studies &amp; evaluations</h1>
      <JobsTable
        jobs={studies}
        title="Studies"
        titleId="studies-list-title"
        loadingLabel="Loading studies…"
        empty={<p>No study has run in this gateway yet. Launch one below (the quick study on the simulated fleet takes seconds).</p>}
        section="studies"
        nameHeader="Study"
        progressNoun="Study"
        requestHeader="Request"
        requestClassName="query-cell"
        request={(job) => <code>{JSON.stringify(job.request)}</code>}
      />
      <EvalsList />
      <h2>Launch a study</h2>
      <form className="stack-form" onSubmit={submit} aria-label="Launch a study">
        <div className="row">
          <div className="field">
            <label htmlFor="st-fleet">Study</label>
            <select id="st-fleet" value={form.fleet} onChange={(event) => setForm({ ...form, fleet: event.target.value })}>
              <option value="sim">quick, simulated fleet</option>
              <option value="tiny">quick, tiny trained models</option>
              <option value="default">the default study</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="st-id">Id (optional; the same id resumes)</label>
            <input
              id="st-id"
              value={form.id}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
              onChange={(event) => setForm({ ...form, id: event.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="st-models">Models (comma-separated)</label>
            <input id="st-models" value={form.models} onChange={(event) => setForm({ ...form, models: event.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="st-items">Items per suite</label>
            <input
              id="st-items"
              type="number"
              min={1}
              max={1000}
              value={form.items}
              onChange={(event) => setForm({ ...form, items: event.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="st-budgets">Budgets (tokens, comma-separated)</label>
            <input
              id="st-budgets"
              value={form.budgets}
              placeholder="the study's"
              onChange={(event) => setForm({ ...form, budgets: event.target.value })}
            />
          </div>
        </div>
        <fieldset>
          <legend>Suites (none = all)</legend>
          {SUITES.map((suite) => (
            <label key={suite} className="check">
              <input type="checkbox" checked={form.suites.includes(suite)} onChange={toggle('suites', suite)} /> {suite}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Architectures (none = the study's)</legend>
          {ARCHITECTURES.map((architecture) => (
            <label key={architecture} className="check">
              <input type="checkbox" checked={form.architectures.includes(architecture)} onChange={toggle('architectures', architecture)} />{' '}
              {architecture}
            </label>
          ))}
        </fieldset>
        {error ? <ErrorBox error={error} /> : null}
        <div>
          <button className="primary" type="submit" disabled={busy}>
            {busy ? 'Starting…' : 'Launch study'}
          </button>
        </div>
      </form>
      <EvalLaunchForm />
    </section>
  );
}
