/**
 * The command logic of `thicket sim fit --from-journal`: fit a sim profile to a real model's journaled study
 * runs (./sim-fit.ts), optionally merge it into a fleet config file, and print it with its standard errors.
 *
 *   thicket sim fit --from-journal lab.db --model local-small
 */
import { resolve } from 'node:path';
import Table from 'cli-table3';
import pc from 'picocolors';
import { InvalidInputError } from '../core/index.ts';
import { Journal, defaultJournalTarget, resolveJournalTarget } from '../journal/index.ts';
import type { CommandIO } from './command-io.ts';
import { mergeFleetConfigModel, type MergeResult } from './merge-fleet-config.ts';
import { fitSimProfile, type SimProfileFit } from './sim-fit.ts';

export interface SimFitCommandOptions {
  /** Journal to read (`--from-journal PATH`; default: --db, then the default journal). */
  fromJournal?: string;
  db?: string;
  /** The real model's reference as it appears in the journal (alias). */
  model: string;
  /** Study run ids to read (default: every study run). */
  run?: string[];
  base?: string;
  alias?: string;
  /** Write the fleet-config snippet (`{ version: 1, models: { alias: … } }`) to this file. */
  write?: string;
  json?: boolean;
}

export async function simFitCommand(options: SimFitCommandOptions, io: CommandIO): Promise<{ exitCode: number; fit: SimProfileFit }> {
  const path = resolveJournalTarget(options.fromJournal ?? options.db ?? defaultJournalTarget());
  // Reading only: a missing path is refused (never created), and a journal the user cannot write still reads.
  const journal = Journal.openReadOnly(path);
  let fit: SimProfileFit;
  try {
    fit = fitSimProfile(journal, {
      model: options.model,
      ...(options.run ? { runIds: options.run } : {}),
      ...(options.base ? { baseProfile: options.base } : {}),
      ...(options.alias ? { alias: options.alias } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError)
      throw new InvalidInputError('Cannot fit a simulated profile', [{ path: '--model', message: error.message }]);
    throw error;
  } finally {
    journal.close();
  }
  let written: MergeResult | undefined;
  if (options.write !== undefined) {
    const [alias, entry] = Object.entries(fit.fleetConfig.models)[0]!;
    written = mergeFleetConfigModel(resolve(options.write), alias, entry);
  }
  if (options.json) {
    io.out(JSON.stringify(fit));
    return { exitCode: 0, fit };
  }
  io.out(
    `${pc.bold(`Simulated profile fitted to ${fit.model}`)} from ${fit.observations} answer calls on ${fit.items} items (base profile ` +
      `${fit.baseProfile})${fit.simulatedSource ? ` ${pc.yellow('[the journal’s calls were themselves SIMULATED]')}` : ''}`,
  );
  const table = new Table({ head: ['parameter', 'value', '± se', 'note'].map((cell) => pc.bold(cell)), style: { head: [], border: [] } });
  const se = fit.standardErrors as Record<string, number | undefined>;
  for (const [name, value] of Object.entries(fit.parameters)) {
    const shown =
      typeof value === 'object'
        ? Object.entries(value)
            .map(([key, inner]) => `${key} ${inner}`)
            .join(', ')
        : String(value);
    table.push([name, shown, se[name] !== undefined ? String(se[name]) : '', fit.kept[name] ?? '']);
  }
  io.out(table.toString());
  for (const note of fit.notes) io.out(pc.dim(note));
  io.out(`Fleet config entry (add to thicket.config.json "models"):\n${JSON.stringify(fit.fleetConfig.models, null, 2)}`);
  if (options.write !== undefined && written)
    io.out(
      written.merged
        ? `${written.replaced ? 'Replaced' : 'Added'} "${Object.keys(fit.fleetConfig.models)[0]}" in ${resolve(options.write)} (its other settings kept)`
        : `Wrote ${resolve(options.write)}`,
    );
  return { exitCode: 0, fit };
}
