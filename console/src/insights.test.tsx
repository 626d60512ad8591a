/** Component tests (jsdom): the KV-thread cache and criticality views, two runs compared, and scaling fits on the study chart. */
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CriticalityPanel, KvThreadPanel } from './components/run-insights.tsx';
import { compareRuns } from './pages/compare.tsx';
import { criticalityReadings, kvThreads } from './run-model.ts';
import { frontierSeries } from './study-model.ts';
import type { RunDetails, StudyReport } from './types.ts';

const run = (id: string, overrides: Partial<RunDetails['run']> = {}, steps: RunDetails['steps'] = []): RunDetails => ({
  run: {
    id,
    command: 'solve',
    query: 'What is 6*7?',
    args: { strategy: 'vote', model: 'sim:small' },
    simulated: true,
    status: 'ok',
    answer: '42',
    error: null,
    budget: { totalTokens: 4000 },
    usage: { inputTokens: 1000, outputTokens: 500, totalTokens: 1500, usd: 0.0003, calls: 5 },
    owner: null,
    createdAt: '2026-12-07T18:00:00.000Z',
    updatedAt: '2026-12-07T18:00:02.500Z',
    ...overrides,
  },
  calls: [],
  steps,
  live: false,
});

const threadStep = {
  stepId: 'wf/thread',
  kind: 'workflow-node',
  status: 'ok',
  input: null,
  usage: null,
  startedAt: '2026-12-07T18:00:00.000Z',
  endedAt: '2026-12-07T18:00:02.000Z',
  output: {
    text: '{}',
    details: {
      engine: 'llama.cpp',
      kvPruning: true,
      metrics: {
        peakKvTokens: 410,
        unprunedTokens: 900,
        tokensErased: 520,
        erasures: 3,
        samples: [
          { finishedTasks: 2, depth: 2, kvTokens: 380, unprunedTokens: 420, elapsedMs: 900 },
          { finishedTasks: 1, depth: 2, kvTokens: 250, unprunedTokens: 250, elapsedMs: 400 },
          { finishedTasks: 3, depth: 1, kvTokens: 360, unprunedTokens: 900, elapsedMs: 1800 },
        ],
      },
    },
  },
};

const traceStep = {
  stepId: 'trace',
  kind: 'trace',
  status: 'ok',
  input: null,
  usage: null,
  startedAt: '2026-12-07T18:00:00.000Z',
  endedAt: null,
  output: {
    events: [
      {
        at: 5,
        stepId: 'criticality',
        type: 'note',
        data: {
          criticality: {
            step: 19,
            nodes: 14,
            edges: 22,
            discovery: -0.031,
            surprisingShare: 0.12,
            structuralEntropy: 2.1,
            semanticEntropy: 2.2,
            modularity: 0.41,
            flags: [],
          },
        },
      },
      {
        at: 3,
        stepId: 'criticality',
        type: 'note',
        data: {
          criticality: {
            step: 9,
            nodes: 8,
            edges: 11,
            discovery: 0.2,
            surprisingShare: 0.05,
            structuralEntropy: 1.5,
            semanticEntropy: 1.3,
            modularity: null,
            flags: ['alpha-below-band', 'discovery-drift'],
          },
        },
      },
      { at: 4, stepId: 'wf/a', type: 'note', data: { what: 'not a reading' } },
    ],
  },
};

describe('KV-thread cache', () => {
  it('reads the samples journaled with the thread node, in task order, and draws pruned against unpruned', () => {
    const threads = kvThreads(run('r1', {}, [threadStep]));
    expect(threads).toHaveLength(1);
    expect(threads[0]!.samples.map((sample) => [sample.finishedTasks, sample.kvTokens, sample.unprunedTokens])).toEqual([
      [1, 250, 250],
      [2, 380, 420],
      [3, 360, 900],
    ]);
    render(<KvThreadPanel threads={threads} />);
    // 1 − 360/900 = 60% less at the end.
    expect(screen.getByText(/peak 410 cells in use; 3 erasures freed 520 tokens; at the end the cache held 60% less/)).toBeTruthy();
    expect(
      screen.getByRole('img', { name: /KV cache over the thread\. unpruned \(nothing erased\): 3 points; KV cache \(pruned\): 3 points/ }),
    ).toBeTruthy();
  });

  it('shows nothing for a run without a thread', () => {
    expect(kvThreads(run('r2', {}, [traceStep]))).toEqual([]);
    const { container } = render(<KvThreadPanel threads={[]} />);
    expect(container.textContent).toBe('');
  });
});

describe('criticality', () => {
  it('reads the monitor’s notes from the trace, by step, with their flags', () => {
    const readings = criticalityReadings(run('r3', {}, [traceStep]));
    expect(readings.map((reading) => [reading.step, reading.discovery, reading.surprisingShare, reading.flags.join('+')])).toEqual([
      [9, 0.2, 0.05, 'alpha-below-band+discovery-drift'],
      [19, -0.031, 0.12, ''],
    ]);
    render(<CriticalityPanel readings={readings} />);
    const rows = screen.getByRole('table', { name: 'Criticality readings' }).querySelectorAll('tbody tr');
    expect([...rows].map((row) => row.textContent)).toEqual([
      '9811' + '0.2000.0501.5001.300—alpha-below-band, discovery-drift',
      '191422' + '-0.0310.1202.1002.2000.410—',
    ]);
  });
});

describe('two runs compared', () => {
  it('puts status, strategy, answer and spend side by side with the differences', () => {
    const a = run('a');
    const b = run('b', {
      args: { strategy: 'single', model: 'sim:small' },
      answer: '41',
      status: 'budget_exhausted',
      usage: { inputTokens: 300, outputTokens: 100, totalTokens: 400, usd: 0.0001, calls: 1 },
      updatedAt: '2026-12-07T18:00:00.800Z',
    });
    expect(compareRuns(a, b)).toEqual([
      { label: 'Status', a: 'ok', b: 'budget_exhausted' },
      { label: 'Strategy', a: 'vote', b: 'single' },
      { label: 'Model', a: 'sim:small', b: 'sim:small' },
      { label: 'Answer', a: '42', b: '41', delta: 'different' },
      { label: 'Tokens', a: '1,500', b: '400', delta: '−1,100' },
      { label: 'Cost', a: '$0.0003', b: '$0.0001', delta: '−$0.0002' },
      { label: 'Calls', a: '5', b: '1', delta: '−4' },
      { label: 'Wall time', a: '2.50 s', b: '800 ms', delta: '−1.70 s' },
      { label: 'Budget', a: 'totalTokens 4,000', b: 'totalTokens 4,000' },
    ]);
  });
});

describe('scaling fits on the study chart', () => {
  it('adds each fit in its series’ colour, beneath the points, without markers', () => {
    const report: StudyReport = {
      simulated: true,
      analysis: {
        headline: { text: 'h' },
        configurations: [
          { suite: 's', architecture: 'single', model: 'm', budget: 800, n: 4, accuracy: 0.5, meanTokens: 200 },
          { suite: 's', architecture: 'vote', model: 'm', budget: 800, n: 4, accuracy: 0.5, meanTokens: 700 },
          { suite: 's', architecture: 'vote', model: 'm', budget: 2000, n: 4, accuracy: 0.75, meanTokens: 1500 },
        ],
        frontiers: [],
        runLevel: { total: 0, groups: [] },
        bySuite: [],
        curves: [
          {
            suite: 's',
            model: 'm',
            architecture: 'vote',
            fit: { model: 'loglinear', r2: 0.987, points: 2 },
            samples: [
              { tokens: 700, accuracy: 0.5 },
              { tokens: 1500, accuracy: 0.75 },
            ],
          },
          { suite: 'other', model: 'm', architecture: 'vote', fit: { model: 'loglinear', r2: 1, points: 2 }, samples: [] },
        ],
      },
    };
    const series = frontierSeries(report, 's');
    expect(series.map((entry) => [entry.name, entry.underlay ?? false, entry.colorIndex ?? null, entry.points.length])).toEqual([
      ['single · m', false, null, 1],
      ['vote · m', false, null, 2],
      ['fit: vote · m (loglinear, R² 0.99)', true, 1, 2],
    ]);
  });
});
