/**
 * The governor's decision for one run: the arm and strategy it chose, the frontier table entry that chose it
 * (with the training figures of the choice and of what it was weighed against, and the one-sentence why), the
 * probe's features and where the spend went by axis. Everything shown is read from the journal.
 */
import type { ReactNode } from 'react';
import { asText, formatPercent, formatTokens, formatUsd } from '../format.ts';
import { governorView, type FrontierView } from '../run-model.ts';
import type { RunDetails } from '../types.ts';

/** A cost in the unit of the table's objective: tokens, dollars or seconds per item. */
function formatCost(cost: number, objective: string): string {
  if (objective === 'usd') return formatUsd(cost);
  if (objective === 'seconds') return `${cost.toFixed(2)} s`;
  return `${formatTokens(cost)} tokens`;
}

function FrontierEntry({ frontier }: { frontier: FrontierView }): ReactNode {
  return (
    <section aria-labelledby="frontier-title">
      <h2 id="frontier-title">Frontier choice</h2>
      <p className="why" data-testid="frontier-why">
        {frontier.why}
      </p>
      <dl className="facts">
        <div>
          <dt>Family</dt>
          <dd>
            {frontier.family} ({frontier.familySource}
            {frontier.familyReason ? `: ${frontier.familyReason}` : ''})
          </dd>
        </div>
        <div>
          <dt>Objective</dt>
          <dd>{frontier.objective}</dd>
        </div>
        <div>
          <dt>Table</dt>
          <dd>
            {frontier.tableModel} (matched by {frontier.matchedBy})
          </dd>
        </div>
        <div>
          <dt>Table level</dt>
          <dd>
            {frontier.level === null ? '—' : formatTokens(frontier.level)} for a budget of{' '}
            {frontier.budgetTokens === null ? '—' : formatTokens(frontier.budgetTokens)} tokens
          </dd>
        </div>
        {frontier.tolerance !== null ? (
          <div>
            <dt>Tolerance</dt>
            <dd>{formatPercent(frontier.tolerance)}</dd>
          </div>
        ) : null}
      </dl>
      <table className="compact" aria-label="Frontier candidates (training figures)">
        <thead>
          <tr>
            <th scope="col">Candidate</th>
            <th scope="col" className="num">
              Accuracy
            </th>
            <th scope="col" className="num">
              Cost per item
            </th>
            <th scope="col" className="num">
              Items
            </th>
          </tr>
        </thead>
        <tbody>
          {frontier.candidates.map((candidate) => (
            <tr
              key={candidate.choice}
              className={candidate.chosen ? 'chosen' : undefined}
              aria-current={candidate.chosen ? 'true' : undefined}
            >
              <th scope="row">
                {candidate.choice}
                {candidate.chosen ? ' (chosen)' : ''}
              </th>
              <td className="num">{formatPercent(candidate.accuracy)}</td>
              <td className="num">{formatCost(candidate.cost, frontier.objective)}</td>
              <td className="num">{candidate.items}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function GovernorDecision({ details }: { details: RunDetails }): ReactNode {
  const view = governorView(details);
  if (!view)
    return (
      <p className="muted">
        No governor decision: this run named its strategy ({asText(details.run.args?.['strategy'], details.run.command)}).
      </p>
    );
  return (
    <div className="governor">
      <dl className="facts">
        <div>
          <dt>Arm</dt>
          <dd>{view.arm}</dd>
        </div>
        <div>
          <dt>Strategy</dt>
          <dd>{view.strategy}</dd>
        </div>
        <div>
          <dt>Policy</dt>
          <dd>{view.policy}</dd>
        </div>
        <div>
          <dt>Probe-policy level</dt>
          <dd>{view.budgetLevel === null ? '—' : formatTokens(view.budgetLevel)}</dd>
        </div>
        <div>
          <dt>Escalations</dt>
          <dd>{view.escalations.length}</dd>
        </div>
      </dl>
      {view.frontier ? <FrontierEntry frontier={view.frontier} /> : null}
      <h2>Features</h2>
      <table className="compact" aria-label="Governor features">
        <tbody>
          {Object.entries(view.features).map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{asText(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Spend by axis</h2>
      <table className="compact" aria-label="Spend by axis">
        <thead>
          <tr>
            <th scope="col">Axis</th>
            <th scope="col" className="num">
              Tokens
            </th>
            <th scope="col" className="num">
              Cost
            </th>
            <th scope="col" className="num">
              Calls
            </th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(view.spendByAxis).map(([axis, usage]) => (
            <tr key={axis}>
              <th scope="row">{axis}</th>
              <td className="num">{formatTokens(usage.totalTokens ?? 0)}</td>
              <td className="num">{formatUsd(usage.usd ?? 0)}</td>
              <td className="num">{usage.calls ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
