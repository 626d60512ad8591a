/** Component tests (jsdom): the uploaded dataset's parsing, the eval request body, and the eval report. */
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseAmounts, parseCsv, parseDataset } from './dataset-file.ts';
import { EvalReport, configName, pValue } from './pages/eval-detail.tsx';
import { evalBody, type EvalForm } from './pages/evals.tsx';
import type { EvalResult, EvalStats } from './types.ts';

describe('dataset files read in the browser', () => {
  it('reads JSONL, skipping blank lines and reporting bad ones by number', () => {
    const parsed = parseDataset('data.jsonl', '{"question":"1+1?","answer":"2"}\n\nnot json\n{"question":"2+2?","answer":"4"}\n[1]\n');
    expect(parsed.format).toBe('jsonl');
    expect(parsed.rows).toEqual([
      { question: '1+1?', answer: '2' },
      { question: '2+2?', answer: '4' },
    ]);
    expect(parsed.problems).toEqual(['line 3 is not valid JSON', 'line 5 is not a JSON object']);
    expect(parsed.columns).toEqual(['question', 'answer']);
  });

  it('reads CSV with a header, quoted commas, doubled quotes and line breaks in a field (CRLF)', () => {
    const text = 'question,answer\r\n"What is 6*7, exactly?",42\r\n"Say ""hi""\nplease",hi\r\n';
    expect(parseCsv(text)).toEqual([
      ['question', 'answer'],
      ['What is 6*7, exactly?', '42'],
      ['Say "hi"\nplease', 'hi'],
    ]);
    const parsed = parseDataset('d.csv', `\uFEFF${text}`);
    expect(parsed.format).toBe('csv');
    expect(parsed.rows).toEqual([
      { question: 'What is 6*7, exactly?', answer: '42' },
      { question: 'Say "hi"\nplease', answer: 'hi' },
    ]);
    expect(parsed.problems).toEqual([]);
  });

  it('reads a JSON array, and budgets written as the CLI does', () => {
    expect(parseDataset('d.json', '[{"q":"a"},{"q":"b"}]').rows).toEqual([{ q: 'a' }, { q: 'b' }]);
    expect(parseAmounts('2000, 8k,1.5k')).toEqual([2000, 8000, 1500]);
    expect(parseAmounts('2k, lots')).toBeNull();
  });
});

describe('the eval request', () => {
  const form: EvalForm = {
    id: '',
    preset: 'gsm8k',
    scorer: '',
    input: '',
    answer: '',
    strategies: ['single', 'vote'],
    budgets: '2k, 8k',
    models: 'sim:small, sim:large',
    limit: '',
  };
  const dataset = parseDataset('d.jsonl', '{"question":"q","answer":"#### 1"}');

  it('sends the rows with what is given and leaves out the rest', () => {
    expect(evalBody({ ...form, id: ' my-eval ', limit: '5' }, dataset)).toEqual({
      body: {
        rows: [{ question: 'q', answer: '#### 1' }],
        id: 'my-eval',
        preset: 'gsm8k',
        strategies: ['single', 'vote'],
        budgets: [2000, 8000],
        models: ['sim:small', 'sim:large'],
        limit: 5,
      },
    });
  });

  it('lists every problem before sending anything', () => {
    expect(evalBody({ ...form, budgets: 'x', models: ' ' }, null)).toEqual({
      problems: [
        'Choose a dataset file with at least one row.',
        'Budgets: whole token amounts, comma-separated (2000, 8k).',
        'Name at least one model.',
      ],
    });
  });
});

const stat = (architecture: string, accuracy: number, low: number, high: number): EvalStats => ({
  suite: 'data',
  architecture,
  model: 'sim:small',
  budget: 2000,
  n: 12,
  accuracy,
  accuracyCi: { low, high },
  meanTokens: 500,
  tokensCi: { low: 450, high: 550 },
  meanUsd: 0.0001,
  usdCi: { low: 0.00009, high: 0.00011 },
});

describe('the eval report', () => {
  it('shows accuracy with its interval per strategy and the paired comparison with its verdict', () => {
    const result: EvalResult = {
      evalId: 'e1',
      status: 'ok',
      simulated: true,
      counts: { planned: 24, executed: 24, resumed: 0, failed: 0, notStarted: 0 },
      elapsedMs: 1500,
      summary: {
        dataset: { format: 'jsonl', preset: 'gsm8k', rows: 12, items: 12, skipped: [], unit: 'line' },
        scorer: 'numeric',
        stats: [stat('vote', 0.75, 0.5, 0.9167), stat('single', 0.5, 0.25, 0.75)],
        comparisons: [
          {
            suite: 'data',
            factor: 'architecture',
            a: { architecture: 'single', model: 'sim:small', budget: 2000, accuracy: 0.5 },
            b: { architecture: 'vote', model: 'sim:small', budget: 2000, accuracy: 0.75 },
            pairs: 12,
            difference: 0.25,
            ci: { low: -0.0833, high: 0.5 },
            bootstrapP: 0.2,
            mcnemar: { aOnly: 1, bOnly: 4, p: 0.375 },
            withinNoise: true,
          },
        ],
        systemSpend: { totalTokens: 12000, usd: 0.0024 },
      },
    };
    render(<EvalReport result={result} />);
    expect(screen.getAllByTestId('accuracy-ci').map((cell) => cell.textContent)).toEqual(['[25.0%, 75.0%]', '[50.0%, 91.7%]']);
    expect(
      screen.getByRole('img', { name: /Accuracy per strategy \(95% bootstrap interval\): single 50% \[25%, 75%\]; vote 75% \[50%, 92%\]/ }),
    ).toBeTruthy();
    const comparison = screen.getByRole('table', { name: 'Paired comparisons' }).querySelectorAll('tbody td');
    expect([...comparison].map((cell) => cell.textContent)).toEqual([
      'single (50.0%)',
      'vote (75.0%)',
      '12',
      '+25.0 pts',
      '[−8.3 pts, +50.0 pts]',
      '0.200',
      '1 / 4, p 0.375',
      'within noise',
    ]);
  });

  it('names configurations by what varies, and small p-values as bounds', () => {
    const stats = [stat('single', 0.5, 0.4, 0.6), { ...stat('single', 0.6, 0.5, 0.7), budget: 8000 }];
    expect(configName(stats, { architecture: 'single', model: 'sim:small', budget: 8000 })).toBe('single · @8,000');
    expect(pValue(0.0004)).toBe('< 0.001');
  });
});
