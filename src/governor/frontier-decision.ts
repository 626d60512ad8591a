/**
 * The governed solve's frontier-table part (solve.ts runs it): why the table chose what it chose, as the
 * decision explains it, and the budget arithmetic around the probe and the fixed-strategy arm.
 */
import type { Tier } from '../workflow/index.ts';
import { TIERS } from './binder.ts';
import { GOVERNED_CHOICE, type CandidateFigures, type FrontierSelection, type Objective } from './frontier.ts';

/** Why the frontier table chose what it chose: the features, the table and level, and what the choice beat on training items. */
export interface FrontierExplanation {
  family: string;
  familySource: 'given' | 'inferred';
  familyReason?: string;
  objective: Objective;
  /** The table used (matched by the starting model, or by its tier). */
  table: FrontierSelection['table'];
  budgetTokens: number;
  level: number;
  choice: string;
  /** The chosen candidate's training figures and the others' (accuracy, cost in the objective's unit, items). */
  train: CandidateFigures;
  alternatives: CandidateFigures[];
  tolerance: number;
  /** One sentence. */
  why: string;
}

/** The decision's frontier part: the features the table was chosen by, the entry, what it beat and why. */
export function explainFrontier(
  selection: FrontierSelection,
  context: { family: string; given: boolean; inferred: { reason: string } | undefined; tolerance: number },
): FrontierExplanation {
  return {
    family: context.family,
    familySource: context.given ? 'given' : 'inferred',
    ...(context.inferred ? { familyReason: context.inferred.reason } : {}),
    objective: selection.table.objective,
    table: selection.table,
    budgetTokens: selection.budgetTokens,
    level: selection.entry.level,
    choice: selection.entry.choice,
    train: selection.entry.train,
    alternatives: selection.entry.candidates.filter((candidate) => candidate.choice !== selection.entry.choice).slice(0, 6),
    tolerance: context.tolerance,
    why: frontierWhy(selection, context.tolerance),
  };
}

/** A probe call writing fewer tokens than this cannot say anything about difficulty worth its cost. */
export const MIN_PROBE_OUTPUT = 64;

/** The output cap per probe call that lets `samples` calls fit `share` tokens (at most `maxOutputTokens`). */
export function affordableProbeOutput(share: number, samples: number, promptTokens: number, maxOutputTokens: number): number {
  if (!Number.isFinite(share)) return maxOutputTokens;
  return Math.min(maxOutputTokens, Math.floor(share / samples) - promptTokens);
}

/** The bound tiers from the starting tier upward, as a cascade ladder (the starting model first). */
export function cascadeLadder(tiers: Partial<Record<Tier, string>>, startTier: Tier, start: string): string[] {
  const ladder = [start];
  for (const tier of TIERS.slice(TIERS.indexOf(startTier) + 1)) {
    const model = tiers[tier];
    if (model !== undefined && !ladder.includes(model)) ladder.push(model);
  }
  return ladder;
}

function frontierWhy(selection: FrontierSelection, tolerance: number): string {
  const { entry, table } = selection;
  const unit = table.objective === 'tokens' ? 'tokens' : table.objective === 'usd' ? 'dollars' : 'seconds';
  const best = entry.candidates[0];
  const percent = (value: number): string => `${(value * 100).toFixed(0)}%`;
  const choice = entry.choice === GOVERNED_CHOICE ? 'the probe → difficulty allocation path' : entry.choice;
  return (
    `${choice}: on ${entry.train.items} training ${table.family} items for ${table.model} at ${entry.level} tokens it scored ` +
    `${percent(entry.train.accuracy)}` +
    (best && best.choice !== entry.choice
      ? ` (best: ${best.choice} ${percent(best.accuracy)}; within ${(tolerance * 100).toFixed(0)} point(s), it was the cheapest in ${unit})`
      : ` (the most accurate of the candidates tried)`)
  );
}
