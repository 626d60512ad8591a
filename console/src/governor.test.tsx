/** Component tests (jsdom): the governor tab shows the frontier table's choice, its why and the candidates it beat. */
import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { GovernorDecision } from './components/governor-decision.tsx';
import { governorView } from './run-model.ts';
import type { RunDetails } from './types.ts';

// The decision as `governedSolve` journals it (src/governor/solve.ts, frontier-decision.ts), trimmed.
const frontier = {
  family: 'arithmetic',
  familySource: 'inferred',
  familyReason: 'an arithmetic expression (17*23+48*2)',
  objective: 'tokens',
  table: { family: 'arithmetic', model: 'sim:small', objective: 'tokens', matchedBy: 'model' },
  budgetTokens: 5000,
  level: 5000,
  choice: 'adaptive-vote@15',
  train: { choice: 'adaptive-vote@15', accuracy: 0.5667, cost: 1892.45, items: 120 },
  alternatives: [
    { choice: 'vote@5', accuracy: 0.55, cost: 1216.775, items: 80 },
    { choice: 'debate', accuracy: 0.51, cost: 682.455, items: 170 },
  ],
  tolerance: 0.01,
  why: 'adaptive-vote@15: on 120 training arithmetic items for sim:small at 5000 tokens it scored 57% (the most accurate of the candidates tried)',
};

const details = (decisionExtras: Record<string, unknown>): RunDetails => ({
  run: {
    id: 'run-1',
    command: 'solve',
    query: 'What is 17*23+48*2?',
    args: { strategy: 'auto', model: 'sim:small' },
    simulated: true,
    status: 'ok',
    answer: '487',
    error: null,
    budget: { totalTokens: 5000 },
    usage: { inputTokens: 900, outputTokens: 900, totalTokens: 1800, usd: 0.0004, calls: 9 },
    owner: null,
    createdAt: '2026-12-08T02:00:00.000Z',
    updatedAt: '2026-12-08T02:00:01.000Z',
  },
  calls: [],
  steps: [
    {
      stepId: 'gov/decision',
      kind: 'governor',
      status: 'ok',
      input: null,
      usage: null,
      startedAt: '2026-12-08T02:00:00.000Z',
      endedAt: '2026-12-08T02:00:01.000Z',
      output: {
        answer: '487',
        decision: {
          arm: 'strategy',
          strategy: 'adaptive-vote',
          policy: 'builtin@3',
          budgetLevel: 5000,
          escalations: [],
          ...decisionExtras,
        },
        spendByAxis: { width: { totalTokens: 1800, usd: 0.0004, calls: 9 } },
      },
    },
  ],
  live: false,
});

describe('governor decision', () => {
  it('shows the frontier why, the family and how it was known, and the chosen candidate first among the alternatives', () => {
    render(<GovernorDecision details={details({ frontier })} />);
    expect(screen.getByTestId('frontier-why').textContent).toBe(frontier.why);
    expect(screen.getByText('arithmetic (inferred: an arithmetic expression (17*23+48*2))')).toBeTruthy();
    expect(screen.getByText('sim:small (matched by model)')).toBeTruthy();
    const rows = within(screen.getByRole('table', { name: 'Frontier candidates (training figures)' }))
      .getAllByRole('row')
      .slice(1);
    expect(rows.map((row) => Array.from(row.children, (cell) => cell.textContent))).toEqual([
      ['adaptive-vote@15 (chosen)', '57%', '1,892 tokens', '120'],
      ['vote@5', '55%', '1,217 tokens', '80'],
      ['debate', '51%', '682 tokens', '170'],
    ]);
    expect(rows[0]!.getAttribute('aria-current')).toBe('true');
  });

  it('writes costs in the objective’s unit (dollars for a usd table)', () => {
    const usd = { ...frontier, objective: 'usd', train: { ...frontier.train, cost: 0.0123 }, alternatives: [] };
    render(<GovernorDecision details={details({ frontier: usd })} />);
    const cells = within(screen.getByRole('table', { name: 'Frontier candidates (training figures)' })).getAllByRole('cell');
    expect(cells[1]!.textContent).toBe('$0.0123');
  });

  it('a decision without a frontier part (no table for the family, or an older run) shows no frontier section', () => {
    expect(governorView(details({}))!.frontier).toBeNull();
    render(<GovernorDecision details={details({})} />);
    expect(screen.queryByTestId('frontier-why')).toBeNull();
    expect(screen.getByRole('table', { name: 'Governor features' })).toBeTruthy();
  });
});
