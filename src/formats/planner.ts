/**
 * The machine-readable parts of the governor's planner conversation (src/governor/planner-prompt.ts and
 * planner.ts), read by the simulated planner (src/models/sim/planner-policy.ts): the tier line, the budget
 * line, and the stable words that mark feedback.
 */
export type PlannerTier = 'small' | 'medium' | 'large';

/** Feedback markers: a spec that failed validation, one over the budget, an executed one judged wrong. */
export const PLANNER_REJECTED = 'Rejected:';
export const PLANNER_TOO_EXPENSIVE = 'too expensive';
export const PLANNER_OUTCOME_INCORRECT = 'Outcome: incorrect';

/** `Models by tier: small=…, medium=…` from the offered tiers (in the order given). */
export const formatTierLine = (tiers: ReadonlyArray<[PlannerTier, string]>): string =>
  `Models by tier: ${tiers.map(([tier, model]) => `${tier}=${model}`).join(', ')}`;

/** The tiers a tier line offers (first line found), or undefined without one. */
export function readTierLine(texts: readonly string[]): Partial<Record<PlannerTier, string>> | undefined {
  const line = texts.map((text) => text.match(/Models by tier: ([^\n]*)/)?.[1]).find((found) => found !== undefined);
  if (line === undefined) return undefined;
  const bound: Partial<Record<PlannerTier, string>> = {};
  for (const match of line.matchAll(/\b(small|medium|large)=([^\s,]+?)(?:[,.]?(?:\s|$))/g)) bound[match[1] as PlannerTier] = match[2]!;
  return bound;
}

/** `key ≤ value` for each finite budget dimension (dollars to 6 places), comma-separated. */
export const formatBudgetLimits = (limits: Record<string, number | undefined>): string =>
  Object.entries(limits)
    .filter(([, value]) => value !== undefined && Number.isFinite(value))
    .map(([key, value]) => `${key} ≤ ${key === 'usd' ? (value as number).toFixed(6) : Math.floor(value as number)}`)
    .join(', ');

/** The `totalTokens ≤ N` of a budget line (first found), or undefined when unlimited or absent. */
export function readBudgetTotalTokens(texts: readonly string[]): number | undefined {
  for (const text of texts) {
    const match = text.match(/totalTokens ≤ (\d+)/);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** How many times a marker occurs in the conversation. */
export const countMarker = (text: string, marker: string): number => text.split(marker).length - 1;
