/** Component tests (jsdom): the runs table, the run model (graph, spend, burn-down), the playground and the study charts. */
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunsPage } from './pages/runs.tsx';
import { PlaygroundPage, startRunBody } from './pages/playground.tsx';
import { ReportCharts } from './pages/study-detail.tsx';
import { parseHash } from './route.ts';
import { buildGraph, burnDown } from './run-model.ts';
import type { RunDetails, RunSummary, StudyReport } from './types.ts';

const usage = (totalTokens: number, usd: number, calls: number) => ({ inputTokens: 0, outputTokens: totalTokens, totalTokens, usd, calls });

const summary = (id: string, status: string, usd: number): RunSummary => ({
  id,
  command: 'solve',
  query: `query of ${id}`,
  status,
  answer: '391',
  strategy: 'vote',
  model: 'sim:small',
  simulated: true,
  owner: null,
  budget: { totalTokens: 4000 },
  totals: usage(1511, usd, 8),
  error: null,
  created_at: '2026-12-07T18:02:53.460Z',
  updated_at: '2026-12-07T18:02:53.553Z',
  live: false,
});

/** Answers the console's requests from a table of paths; records what was asked. */
function fakeFetch(routes: Record<string, () => Response>): string[] {
  const asked: string[] = [];
  vi.stubGlobal('fetch', async (input: string) => {
    asked.push(input);
    const path = input.split('?')[0]!;
    const route = routes[path];
    return route ? route() : new Response(JSON.stringify({ error: { code: 'not_found', message: `No route ${path}` } }), { status: 404 });
  });
  return asked;
}

const json =
  (body: unknown, status = 200) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('Runs page', () => {
  it('lists runs with their spend and sends the URL filters to the API', async () => {
    const asked = fakeFetch({
      '/v1/runs': json({ data: [summary('run-a', 'ok', 0.0004868), summary('run-b', 'budget_exhausted', 0.002)] }),
    });
    render(<RunsPage route={parseHash('#/runs?status=ok&strategy=vote')} />);
    expect(await screen.findByRole('link', { name: 'run-a' })).toHaveProperty('hash', '#/runs/run-a');
    expect(screen.getAllByText('1,511')).toHaveLength(2);
    expect(screen.getByText('$0.000487')).toBeTruthy();
    expect(asked[0]).toBe('/v1/runs?status=ok&strategy=vote&limit=50');
    expect(screen.getByLabelText<HTMLSelectElement>('Status').value).toBe('ok');
  });

  it('asks the API for the cost range (the whole journal, not the page fetched); ignores a bound that is no amount', async () => {
    const asked = fakeFetch({ '/v1/runs': json({ data: [summary('run-b', 'ok', 0.002)] }) });
    render(<RunsPage route={parseHash('#/runs?minUsd=0.001&maxUsd=0.5')} />);
    expect(await screen.findByRole('link', { name: 'run-b' })).toBeTruthy();
    expect(asked[0]).toBe('/v1/runs?min_usd=0.001&max_usd=0.5&limit=50');
    expect(screen.getByLabelText<HTMLInputElement>('Min cost ($)').value).toBe('0.001');
    const { unmount } = render(<RunsPage route={parseHash('#/runs?minUsd=-2&maxUsd=abc')} />);
    await screen.findAllByRole('link', { name: 'run-b' });
    expect(asked.at(-1)).toBe('/v1/runs?limit=50');
    unmount();
  });

  it('shows the empty state, and the API error with its code', async () => {
    fakeFetch({ '/v1/runs': json({ data: [] }) });
    const { unmount } = render(<RunsPage route={parseHash('#/runs')} />);
    expect(await screen.findByText(/No runs yet/)).toBeTruthy();
    unmount();
    fakeFetch({ '/v1/runs': json({ error: { code: 'missing_api_key', message: 'An API key is required.' } }, 401) });
    render(<RunsPage route={parseHash('#/runs')} />);
    expect((await screen.findByRole('alert')).textContent).toContain('401 missing_api_key');
  });
});

const details: RunDetails = {
  run: {
    id: 'r1',
    command: 'solve',
    query: 'What is 17*23?',
    args: { strategy: 'vote', model: 'sim:small' },
    simulated: true,
    status: 'ok',
    answer: '391',
    error: null,
    budget: { totalTokens: 1000 },
    usage: usage(450, 0.003, 3),
    owner: null,
    createdAt: '2026-12-07T18:00:00.000Z',
    updatedAt: '2026-12-07T18:00:01.000Z',
  },
  calls: [100, 150, 200].map((tokens, index) => ({
    callKey: `k${index}`,
    model: 'sim:small',
    provider: 'sim',
    request: { messages: [{ role: 'user', content: 'What is 17*23?' }] },
    text: 'Answer: 391',
    stepId: `wf/vote/sample-${index}`,
    purpose: 'answer',
    inputTokens: 50,
    outputTokens: tokens - 50,
    costUsd: 0.001,
    latencyMs: 500,
    attempts: 1,
    failed: false,
    simulated: true,
    createdAt: `2026-12-07T18:00:0${index}.500Z`,
  })),
  steps: [
    {
      stepId: 'wf/vote',
      kind: 'workflow-node',
      status: 'ok',
      input: { op: 'sample', inputs: { query: 'query' } },
      output: null,
      usage: null,
      startedAt: '2026-12-07T18:00:00.000Z',
      endedAt: '2026-12-07T18:00:01.000Z',
    },
    {
      stepId: '__trace__',
      kind: 'trace',
      status: 'ok',
      input: null,
      output: {
        events: [
          { at: 0, stepId: 'wf/vote', type: 'op-start', data: { operator: 'sample' } },
          { at: 500, stepId: 'wf/vote/sample-0', type: 'call', data: { inputTokens: 50, outputTokens: 50, costUsd: 0.001 } },
          { at: 1000, stepId: 'wf/vote/sample-1', type: 'call', data: { inputTokens: 50, outputTokens: 100, costUsd: 0.001 } },
          { at: 2000, stepId: 'wf/vote/sample-2', type: 'call', data: { inputTokens: 50, outputTokens: 150, costUsd: 0.001 } },
          { at: 2000, stepId: 'wf/vote', type: 'op-end', data: {} },
        ],
      },
      usage: null,
      startedAt: '2026-12-07T18:00:00.000Z',
      endedAt: null,
    },
  ],
  live: false,
};

describe('run model', () => {
  it('builds the graph with each node’s spend rolled up to the run', () => {
    const graph = buildGraph(details);
    expect(graph.nodes.map((node) => [node.id, node.status, node.calls, node.tokens])).toEqual([
      ['run', 'ok', 3, 450],
      ['wf/vote', 'ok', 3, 450],
    ]);
    expect(graph.edges).toEqual([{ id: 'c:run->wf/vote', source: 'run', target: 'wf/vote', kind: 'contains' }]);
  });

  it('burns the budget down on the trace clock', () => {
    expect(burnDown(details).map((point) => [point.seconds, point.totalTokens, point.calls])).toEqual([
      [0, 0, 0],
      [0.5, 100, 1],
      [1, 250, 2],
      [2, 450, 3],
    ]);
  });
});

describe('Playground', () => {
  it('offers the gateway’s strategies and models and starts a run with the budget given', async () => {
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', async (_input: string, init?: RequestInit) => {
      if (init?.method === 'POST') {
        posted.push(JSON.parse(init.body as string));
        return new Response(JSON.stringify({ run_id: 'chat-1' }), { status: 202 });
      }
      return json({
        data: [
          { id: 'thicket/auto', thicket: { model: 'sim:small' } },
          { id: 'thicket/vote' },
          { id: 'sim:small' },
          { id: 'vote@sim:small' },
        ],
      })();
    });
    render(<PlaygroundPage route={parseHash('#/playground?query=What%20is%202%2B2%3F&strategy=vote')} />);
    await screen.findByRole('option', { name: 'sim:small' });
    await userEvent.selectOptions(screen.getByLabelText('Model'), 'sim:small');
    await userEvent.clear(screen.getByLabelText('Budget: tokens'));
    await userEvent.type(screen.getByLabelText('Budget: tokens'), '5000');
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(window.location.hash).toBe('#/runs/chat-1'));
    expect(posted).toEqual([{ query: 'What is 2+2?', strategy: 'vote', model: 'sim:small', budget: { tokens: 5000 } }]);
  });

  it('leaves out what is not given', () => {
    expect(startRunBody({ query: 'q', strategy: '', model: '', tokens: '', usd: '0.5', samples: '3' })).toEqual({
      query: 'q',
      strategy: 'auto',
      budget: { usd: 0.5 },
      samples: 3,
    });
  });
});

describe('study charts', () => {
  it('draws one series per strategy with the Pareto frontier, and the variance shares', () => {
    const report: StudyReport = {
      simulated: true,
      analysis: {
        headline: { text: 'h' },
        configurations: [
          { suite: 'arithmetic', architecture: 'single', model: 'sim:small', budget: 800, n: 2, accuracy: 0.5, meanTokens: 238 },
          { suite: 'arithmetic', architecture: 'vote', model: 'sim:small', budget: 800, n: 2, accuracy: 0.5, meanTokens: 700 },
          { suite: 'arithmetic', architecture: 'vote', model: 'sim:small', budget: 2000, n: 2, accuracy: 1, meanTokens: 1500 },
        ],
        frontiers: [
          {
            suite: 'arithmetic',
            model: 'sim:small',
            pareto: [
              { tokens: 238, accuracy: 0.5, label: 'single' },
              { tokens: 1500, accuracy: 1, label: 'vote' },
            ],
          },
        ],
        runLevel: {
          total: 0.4,
          groups: [
            { name: 'tokens', shareOfExplained: 0.75, shapley: 0.3 },
            { name: 'architecture', shareOfExplained: 0.25, shapley: 0.1 },
          ],
        },
        bySuite: [],
      },
    };
    render(<ReportCharts report={report} />);
    expect(
      screen.getByRole('img', {
        name: /arithmetic: accuracy vs mean tokens per query\. single · sim:small: 1 points; vote · sim:small: 2 points; Pareto frontier: 2 points/,
      }),
    ).toBeTruthy();
    // The frontier is painted first (beneath), as hollow rings; `single`, whose point coincides with the
    // frontier's first, is painted after it with its own filled marker shape, so it is not hidden.
    const chart = screen.getByRole('img', { name: /arithmetic: accuracy vs mean tokens/ });
    const groups = [...chart.querySelectorAll('g.series')].map((group) => group.getAttribute('data-series'));
    expect(groups).toEqual(['Pareto frontier', 'single · sim:small', 'vote · sim:small']);
    const shapes = (name: string) =>
      [...chart.querySelectorAll(`g[data-series="${name}"] [data-shape]`)].map(
        (marker) => `${marker.getAttribute('data-shape')}:${marker.getAttribute('fill')}`,
      );
    expect(shapes('Pareto frontier')).toEqual(['circle:none', 'circle:none']);
    expect(shapes('single · sim:small')).toEqual(['circle:var(--c1)']);
    expect(shapes('vote · sim:small')).toEqual(['square:var(--c2)', 'square:var(--c2)']);
    expect(screen.getByRole('img', { name: /tokens 75%, architecture 25%/ })).toBeTruthy();
    // Compare: single vs vote at 800 (50% each) and 2000 (vote only).
    const rows = screen
      .getAllByRole('row')
      .slice(1)
      .map((row) => row.textContent);
    expect(rows).toEqual(['arithmetic80050%50%0 pts', 'arithmetic2,000—100%—']);
  });

  it('highlights the governor (auto): outlined diamonds joined in budget order, painted last, named in the legend', () => {
    const config = (architecture: string, budget: number, accuracy: number, meanTokens: number) => ({
      suite: 'arithmetic',
      architecture,
      model: 'sim:small',
      budget,
      n: 2,
      accuracy,
      meanTokens,
    });
    const report: StudyReport = {
      simulated: true,
      analysis: {
        headline: { text: 'h' },
        configurations: [
          config('auto', 800, 0.25, 400),
          config('auto', 2000, 0.5, 1600),
          // The largest budget spent fewer tokens than the one before: the line follows the budget.
          config('auto', 5000, 0.75, 1200),
          config('vote', 800, 0.5, 700),
        ],
        frontiers: [],
        runLevel: { total: 0, groups: [] },
        bySuite: [],
        curves: [
          {
            suite: 'arithmetic',
            model: 'sim:small',
            architecture: 'auto',
            fit: { model: 'loglinear', r2: 0.9, points: 3 },
            samples: [
              { tokens: 400, accuracy: 0.3 },
              { tokens: 1600, accuracy: 0.7 },
            ],
          },
        ],
      },
    };
    render(<ReportCharts report={report} />);
    const chart = screen.getByRole('img', { name: /arithmetic: accuracy vs mean tokens/ });
    const groups = [...chart.querySelectorAll('g.series')].map((group) => group.getAttribute('data-series'));
    // Painted last (on top), and its fitted curve is left out: its own line stands for it.
    expect(groups).toEqual(['vote · sim:small', 'auto (governor) · sim:small']);
    const auto = chart.querySelector('g.series.highlight')!;
    expect(auto.getAttribute('data-series')).toBe('auto (governor) · sim:small');
    const markers = [...auto.querySelectorAll('[data-shape]')];
    expect(
      markers.map((marker) => [marker.getAttribute('data-shape'), marker.getAttribute('fill'), marker.getAttribute('stroke')]),
    ).toEqual([
      ['diamond', 'var(--governor)', 'var(--text)'],
      ['diamond', 'var(--governor)', 'var(--text)'],
      ['diamond', 'var(--governor)', 'var(--text)'],
    ]);
    expect(markers.map((marker) => marker.querySelector('title')!.textContent)).toEqual([
      'auto (governor) · sim:small at budget 800: 400 tokens, 25% (n=2)',
      'auto (governor) · sim:small at budget 2000: 1600 tokens, 50% (n=2)',
      'auto (governor) · sim:small at budget 5000: 1200 tokens, 75% (n=2)',
    ]);
    expect(auto.querySelector('polyline')!.getAttribute('stroke-width')).toBe('3.5');
    const legend = screen.getByRole('list', { name: /Legend of arithmetic/ });
    expect(legend.querySelector('li.highlight')!.textContent).toContain('auto (governor) · sim:small');
  });
});
