/** `thicket fleet` lists the models Thicket can call; `thicket fleet check` probes each with one tiny call. */
import pc from 'picocolors';
import { systemClock, toThicketError } from '../../core/index.ts';
import { FleetResolver, fleetReferences, loadFleetConfig, type FleetConfig, type ModelProfile } from '../../models/index.ts';
import { Journal, defaultJournalTarget, resolveJournalTarget } from '../../journal/index.ts';
import { checkFleet, newRunId, type FleetCheckRow } from '../../runtime/index.ts';
import { formatUsd, processOutput, table } from '../output.ts';

export interface FleetFlags {
  config?: string;
  /** Journal path (`--journal`; `--db` is the older spelling). */
  db?: string;
  json?: boolean;
  model?: string[];
}

/** Whether every reference is simulated; one that does not resolve counts as not (its row reports the error). */
function isSimulatedRunSafe(config: FleetConfig, references: readonly string[]): boolean {
  const resolver = new FleetResolver({ config, clock: systemClock, seed: 0 });
  return references.every((reference) => {
    try {
      return resolver.resolve(reference).profile.simulated;
    } catch {
      return false;
    }
  });
}

export async function fleetListCommand(flags: FleetFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const { config, path } = loadFleetConfig(flags.config);
  const resolver = new FleetResolver({ config, clock: systemClock, seed: 0 });
  // A model that cannot resolve (a gguf: file not there, gguf:default not pulled) is listed apart with its
  // error: one broken entry does not hide the rest of the fleet.
  const models: Array<
    ModelProfile & { provider: string; modelId: string; isDefault: boolean; notReady?: { code: string; message: string } }
  > = [];
  const unavailable: Array<{ reference: string; error: { code: string; message: string } }> = [];
  for (const reference of fleetReferences(config)) {
    try {
      const resolved = resolver.resolve(reference);
      models.push({
        ...resolved.profile,
        provider: resolved.provider.providerId,
        modelId: resolved.provider.modelId,
        isDefault: config.defaultModel === reference,
        // Listed, but calls to it are refused before sending (e.g. its API key variable is unset).
        ...(resolved.notReady ? { notReady: resolved.notReady.toJSON() } : {}),
      });
    } catch (error) {
      const { code, message } = toThicketError(error).toJSON();
      unavailable.push({ reference, error: { code, message } });
    }
  }
  if (output.json) {
    output.out(JSON.stringify({ config: path ?? null, defaultModel: config.defaultModel ?? null, models, unavailable }));
    return 0;
  }
  output.out(`Fleet config: ${path ?? pc.dim('none (only the simulated fleet; see README "Connect a real model")')}`);
  output.out(
    table(
      ['model', 'provider', 'tier', '$/M in', '$/M out', 'context', 'reasoning', 'concurrency', 'simulated'],
      models.map((model) => [
        `${model.reference}${model.isDefault ? ' (default)' : ''}`,
        model.provider === 'sim'
          ? model.provider
          : model.tinyTrained
            ? `${model.provider} (tiny, trained by Thicket)`
            : `${model.provider} ${model.modelId}`,
        model.tier,
        model.unpriced ? pc.dim('unknown') : model.priceInputPerMillion,
        model.unpriced ? pc.dim('unknown') : model.priceOutputPerMillion,
        model.contextWindow,
        model.reasoning ? 'yes' : 'no',
        model.maxConcurrency,
        model.simulated ? 'yes' : model.tinyTrained ? 'no (tiny, synthetic tasks)' : 'no',
      ]),
    ),
  );
  for (const { reference, error } of unavailable) output.out(pc.yellow(`Unavailable: ${reference} — ${error.code}: ${error.message}`));
  for (const model of models)
    if (model.notReady) output.out(pc.yellow(`Not ready: ${model.reference} — ${model.notReady.code}: ${model.notReady.message}`));
  return 0;
}

/**
 * The probes are real calls on configured models (they may be paid), so they are journaled like any run: a
 * `fleet-check` run whose calls `runs show` lists, with their usage and cost.
 */
export async function fleetCheckCommand(flags: FleetFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const { config } = loadFleetConfig(flags.config);
  const references = flags.model && flags.model.length > 0 ? flags.model : fleetReferences(config);
  const journal = Journal.open(resolveJournalTarget(flags.db ?? defaultJournalTarget()));
  let rows: FleetCheckRow[];
  const runId = newRunId('fleet-check');
  try {
    const simulated = isSimulatedRunSafe(config, references);
    journal.beginOrResumeRun({ id: runId, command: 'fleet check', query: references.join(', '), args: { models: references }, simulated });
    rows = await checkFleet(config, references, { recorder: journal.recorder(runId) });
    const usage = rows.reduce(
      (sum, row) => ({
        inputTokens: sum.inputTokens + (row.usage?.inputTokens ?? 0),
        outputTokens: sum.outputTokens + (row.usage?.outputTokens ?? 0),
        totalTokens: sum.totalTokens + (row.usage ? row.usage.inputTokens + row.usage.outputTokens : 0),
        usd: sum.usd + (row.costUsd ?? 0),
        calls: sum.calls + (row.usage ? 1 : 0),
      }),
      { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 },
    );
    const failed = rows.filter((row) => !row.ok).length;
    journal.finishRun(runId, {
      status: failed === 0 ? 'ok' : 'error',
      answer: null,
      error: failed === 0 ? null : { code: 'FLEET_CHECK', message: `${failed} of ${rows.length} models did not answer` },
      usage,
    });
  } finally {
    journal.close();
  }
  if (output.json) output.out(JSON.stringify({ runId, models: rows }));
  else
    output.out(
      table(
        ['model', 'status', 'latency ms', 'tokens in/out', 'cost', 'note'],
        rows.map((row) => [
          row.model,
          row.ok ? pc.green('ok') : pc.red('error'),
          row.latencyMs === null ? '—' : Math.round(row.latencyMs),
          row.usage ? `${row.usage.inputTokens}/${row.usage.outputTokens}` : '—',
          row.costUsd === null ? '—' : formatUsd(row.costUsd),
          row.error ? `${row.error.code}: ${row.error.message}` : row.simulated ? 'simulated (virtual latency)' : '',
        ]),
      ),
    );
  return rows.every((row) => row.ok) ? 0 : 1;
}
