/**
 * Evaluations (`thicket eval` over REST, admin): the jobs started in this gateway beside the studies, and a
 * form that launches one on an uploaded dataset. The file is read here and its rows go in the request body
 * (POST /v1/evals never reads a client's path), with the preset, scorer, strategies, budgets and models.
 */
import { useState, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { postJson } from '../api.ts';
import { JobsTable } from '../components/jobs.tsx';
import { ErrorBox } from '../components/states.tsx';
import { parseAmounts, parseDataset, type ParsedDataset } from '../dataset-file.ts';
import { asText } from '../format.ts';
import { href, navigate } from '../route.ts';
import type { EvalJob } from '../types.ts';
import { useFetch } from '../use-fetch.ts';

export const PRESETS = ['gsm8k', 'math', 'mc', 'hotpot', 'trivia', 'none'];
export const STRATEGIES = ['single', 'vote', 'refine', 'debate', 'cascade'];
const SCORERS = ['exact', 'any-of', 'mc', 'f1', 'json', 'numeric', 'regex'];

export interface EvalForm {
  id: string;
  preset: string;
  scorer: string;
  input: string;
  answer: string;
  strategies: string[];
  budgets: string;
  models: string;
  limit: string;
}

const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** The POST /v1/evals body, or the form's problems (shown before anything is sent). */
export function evalBody(form: EvalForm, dataset: ParsedDataset | null): { body: Record<string, unknown> } | { problems: string[] } {
  const problems: string[] = [];
  if (!dataset || dataset.rows.length === 0) problems.push('Choose a dataset file with at least one row.');
  const budgets = form.budgets.trim() === '' ? [] : parseAmounts(form.budgets);
  if (budgets === null) problems.push('Budgets: whole token amounts, comma-separated (2000, 8k).');
  const models = splitList(form.models);
  if (models.length === 0) problems.push('Name at least one model.');
  if (form.limit.trim() !== '' && !/^\d+$/.test(form.limit.trim())) problems.push('Limit: a whole number of items.');
  if (problems.length > 0) return { problems };
  return {
    body: {
      rows: dataset!.rows,
      models,
      ...(form.id.trim() ? { id: form.id.trim() } : {}),
      ...(form.preset ? { preset: form.preset } : {}),
      ...(form.scorer.trim() ? { scorer: form.scorer.trim() } : {}),
      ...(form.input.trim() ? { input: form.input.trim() } : {}),
      ...(form.answer.trim() ? { answer: form.answer.trim() } : {}),
      ...(form.strategies.length > 0 ? { strategies: form.strategies } : {}),
      ...(budgets && budgets.length > 0 ? { budgets } : {}),
      ...(form.limit.trim() ? { limit: Number(form.limit) } : {}),
    },
  };
}

export function EvalsList(): ReactNode {
  return (
    <JobsTable
      jobs={useFetch<{ data: EvalJob[] }>('/v1/evals', 1500)}
      title="Evaluations"
      titleId="evals-title"
      loadingLabel="Loading evaluations…"
      empty={<p>No evaluation has run in this gateway yet. Launch one below on your own dataset (JSONL or CSV).</p>}
      section="evals"
      nameHeader="Evaluation"
      progressNoun="evaluation"
      requestHeader="Strategies · budgets · models"
      request={(job) => (
        <>
          {asText(job.request['strategies'], 'default')} · {asText(job.request['budgets'], 'default')} · {asText(job.request['models'])}
        </>
      )}
    />
  );
}

export function EvalLaunchForm(): ReactNode {
  const [form, setForm] = useState<EvalForm>({
    id: '',
    preset: 'gsm8k',
    scorer: '',
    input: '',
    answer: '',
    strategies: ['single', 'vote'],
    budgets: '2k, 8k',
    models: 'sim:small',
    limit: '',
  });
  const [dataset, setDataset] = useState<(ParsedDataset & { name: string }) | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const readFile = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    setProblems([]);
    if (!file) return setDataset(null);
    void file.text().then((text) => setDataset({ ...parseDataset(file.name, text), name: file.name }));
  };

  const toggle = (value: string) => (): void =>
    setForm({
      ...form,
      strategies: form.strategies.includes(value) ? form.strategies.filter((entry) => entry !== value) : [...form.strategies, value],
    });

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const built = evalBody(form, dataset);
    if ('problems' in built) return setProblems(built.problems);
    setProblems([]);
    setBusy(true);
    setError(null);
    postJson<{ id: string }>('/v1/evals', built.body).then(
      (job) => navigate(href(['evals', job.id])),
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
  };

  const text = (name: keyof EvalForm) => (event: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm({ ...form, [name]: event.target.value });

  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="eval-form-title">
      <h2 id="eval-form-title">Launch an evaluation</h2>
      <div className="row">
        <div className="field">
          <label htmlFor="ev-file">Dataset file (JSONL, JSON or CSV)</label>
          <input id="ev-file" type="file" accept=".jsonl,.ndjson,.json,.csv,text/csv,application/json" onChange={readFile} />
        </div>
        <div className="field">
          <label htmlFor="ev-preset">Preset</label>
          <select id="ev-preset" value={form.preset} onChange={text('preset')}>
            <option value="">auto (from the fields)</option>
            {PRESETS.map((preset) => (
              <option key={preset}>{preset}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-scorer">Scorer (empty = the preset’s)</label>
          <input
            id="ev-scorer"
            list="ev-scorers"
            value={form.scorer}
            placeholder="exact, numeric, judge:<model>…"
            onChange={text('scorer')}
          />
          <datalist id="ev-scorers">
            {SCORERS.map((scorer) => (
              <option key={scorer} value={scorer} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="ev-id">Evaluation id (optional; the same id resumes)</label>
          <input id="ev-id" value={form.id} pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" onChange={text('id')} />
        </div>
      </div>
      {dataset ? (
        <p className="muted" role="status" data-testid="dataset-summary">
          {dataset.name}: {dataset.rows.length} rows ({dataset.format}); fields {dataset.columns.join(', ') || '—'}
          {dataset.problems.length > 0 ? `. Skipped: ${dataset.problems.join('; ')}` : ''}
        </p>
      ) : null}
      <div className="row">
        <div className="field">
          <label htmlFor="ev-models">Models to evaluate (comma-separated)</label>
          <input id="ev-models" value={form.models} onChange={text('models')} />
        </div>
        <div className="field">
          <label htmlFor="ev-budgets">Budgets (tokens per query, comma-separated)</label>
          <input id="ev-budgets" value={form.budgets} placeholder="the default" onChange={text('budgets')} />
        </div>
        <div className="field">
          <label htmlFor="ev-limit">Limit (first N items)</label>
          <input id="ev-limit" type="number" min={1} value={form.limit} onChange={text('limit')} />
        </div>
        <div className="field">
          <label htmlFor="ev-input">Question field (empty = the preset’s)</label>
          <input id="ev-input" value={form.input} onChange={text('input')} />
        </div>
        <div className="field">
          <label htmlFor="ev-answer">Answer field (empty = the preset’s)</label>
          <input id="ev-answer" value={form.answer} onChange={text('answer')} />
        </div>
      </div>
      <fieldset>
        <legend>Strategies (none = the default)</legend>
        {STRATEGIES.map((strategy) => (
          <label key={strategy} className="check">
            <input type="checkbox" checked={form.strategies.includes(strategy)} onChange={toggle(strategy)} /> {strategy}
          </label>
        ))}
      </fieldset>
      {problems.length > 0 ? (
        <ul className="state state-error" role="alert" aria-label="Problems with the form">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <div>
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Launch evaluation'}
        </button>
      </div>
    </form>
  );
}
