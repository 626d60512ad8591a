/**
 * How a solve's parts feed its one event stream: the ledger (spend), the fleet (calls) and the trace (nodes)
 * each turned into the typed `ThicketEvent`s of events.ts. Three relays, not one, because solve.ts attaches
 * them at different moments of the run's assembly (the ledger's before crash bookings are charged, the trace's
 * once the trace exists). What the result needs from the same events — what this invocation sent, how many
 * calls were replayed — is counted here whether or not anyone listens.
 */
import { addUsd, type UsageTotals } from '../core/index.ts';
import type { BudgetLimits, Ledger } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Trace } from '../ops/index.ts';
import type { ThicketEvent } from './events.ts';
import { toTotals } from './result.ts';

type Listener = ((event: ThicketEvent) => void) | undefined;

/**
 * Relays the ledger's running total as `budget` events, and returns what this invocation actually sent
 * (settled attempts), kept current as the run goes; replayed calls are charged, not settled.
 */
export function relayBudget(ledger: Ledger, limits: BudgetLimits, onEvent: Listener): UsageTotals {
  const newUsage: UsageTotals = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
  ledger.onEvent((event) => {
    if (event.kind !== 'settle' && event.kind !== 'charge') return;
    if (event.kind === 'settle') {
      newUsage.inputTokens += event.amount.inputTokens;
      newUsage.outputTokens += event.amount.outputTokens;
      newUsage.totalTokens += event.amount.inputTokens + event.amount.outputTokens;
      newUsage.usd = addUsd(newUsage.usd, event.amount.usd);
      newUsage.calls += event.amount.calls;
    }
    // The root's running total, O(1): `ledger.report()` walks every budget (one per workflow node) and made
    // each settle O(nodes), a 10,000-node workflow quadratic (issue 16 §8).
    if (onEvent) onEvent({ type: 'budget', spent: toTotals(ledger.root.spent()), limits });
  });
  return newUsage;
}

/** Relays the fleet's call events, and counts the calls served from the journal one by one as the run goes. */
export function relayCalls(fleet: Fleet, onEvent: Listener): { replayed: number } {
  const counts = { replayed: 0 };
  fleet.onEvent((event) => {
    if (event.type === 'call-end' && event.replayed) counts.replayed++;
    if (!onEvent) return;
    if (event.type === 'call-start') onEvent({ type: 'call-started', model: event.model, callKey: event.callKey, attempt: event.attempt });
    else if (event.type === 'call-end') {
      const { model: called, callKey, usage, costUsd, replayed, simulated: fromSim } = event;
      onEvent({ type: 'call-finished', model: called, callKey, usage, usd: costUsd, replayed, simulated: fromSim });
    } else if (event.type === 'call-retry') {
      const { model: called, callKey, attempt, delayMs, error } = event;
      onEvent({ type: 'call-retried', model: called, callKey, attempt, delayMs, error });
    } else onEvent({ type: 'call-failed', model: event.model, callKey: event.callKey, error: event.error.toJSON() });
  });
  return counts;
}

/** Relays the executor's node starts and ends; nothing is attached when nobody listens. */
export function relayNodes(trace: Trace, onEvent: Listener): void {
  if (!onEvent) return;
  trace.onEvent((event) => {
    if (event.type === 'op-start' && typeof event.data['op'] === 'string') {
      onEvent({ type: 'node-started', nodeId: event.stepId, op: event.data['op'] });
      return;
    }
    // The executor's node ends carry a status and a call count; operators' own op-end events (inside a
    // node) carry no status, and the workflow's closing event no call count.
    if (event.type !== 'op-end' || typeof event.data['status'] !== 'string' || typeof event.data['calls'] !== 'number') return;
    const answer = event.data['answer'];
    onEvent({
      type: 'node-finished',
      nodeId: event.stepId,
      status: event.data['status'],
      answer: typeof answer === 'string' ? answer : null,
      calls: event.data['calls'],
      replayed: event.data['replayed'] === true,
    });
  });
}
