/**
 * `fleet check`: one tiny call per model, each under its own hard budget (one call, 256 tokens), no retries —
 * latency, usage and the error when a model cannot answer. A model that does not resolve is a row, not a throw.
 */
import { VirtualClock, systemClock, toThicketError } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Fleet, FleetResolver, type CallRecorder, type FleetConfig } from '../models/index.ts';

export interface FleetCheckRow {
  model: string;
  ok: boolean;
  latencyMs: number | null;
  usage: { inputTokens: number; outputTokens: number } | null;
  costUsd: number | null;
  simulated: boolean;
  error: { code: string; message: string } | null;
}

const PROBE_BUDGET = { calls: 1, totalTokens: 256 };

export interface CheckFleetOptions {
  /** Records every probe call (it may be paid) in the journal, under the given run. */
  recorder?: CallRecorder;
}

export async function checkFleet(
  config: FleetConfig,
  references: readonly string[],
  options: CheckFleetOptions = {},
): Promise<FleetCheckRow[]> {
  const rows: FleetCheckRow[] = [];
  const failed = (model: string, simulated: boolean, error: unknown): FleetCheckRow => ({
    model,
    ok: false,
    latencyMs: null,
    usage: null,
    costUsd: null,
    simulated,
    error: toThicketError(error).toJSON(),
  });
  for (const reference of references) {
    let simulated: boolean;
    try {
      simulated = new FleetResolver({ config, clock: systemClock, seed: 0 }).resolve(reference).profile.simulated;
    } catch (error) {
      rows.push(failed(reference, false, error));
      continue;
    }
    const clock = simulated ? new VirtualClock() : systemClock;
    const fleet = new Fleet({ resolver: new FleetResolver({ config, clock, seed: 0 }), clock, retry: { maxRetries: 0 } });
    // A probe may spend at most one small call: the budget makes that a guarantee, not a hope.
    const ledger = new Ledger({ clock, limits: PROBE_BUDGET });
    try {
      const result = await fleet.call(
        reference,
        {
          messages: [{ role: 'user', content: 'What is 2+2? Reply with the number only.' }],
          maxOutputTokens: 16,
          temperature: 0,
          metadata: { stepId: 'fleet-check' },
        },
        { budget: ledger.root, retry: { maxRetries: 0 }, ...(options.recorder ? { recorder: options.recorder } : {}) },
      );
      rows.push({
        model: reference,
        ok: true,
        latencyMs: result.latencyMs,
        usage: result.usage,
        costUsd: result.costUsd,
        simulated: result.simulated,
        error: null,
      });
    } catch (error) {
      rows.push(failed(reference, simulated, error));
    }
  }
  return rows;
}
