/**
 * The compute-optimal frontier: over every configuration (architecture × model × budget) of a suite, the
 * best accuracy reachable with at most a given number of tokens.
 *
 *   - `paretoFrontier`: configurations no other one beats on both axes (fewer or equal tokens AND higher
 *     accuracy) — what to pick at each spend level;
 *   - `upperHull`: the concave upper hull of the Pareto points in (ln tokens, accuracy) — the frontier
 *     "as if" one could mix configurations, which is what the scaling-law plots draw.
 */

export interface FrontierPoint {
  tokens: number;
  accuracy: number;
  label: string;
  /** Free-form identity (architecture, model, budget) carried through for reports. */
  meta?: Record<string, string | number>;
}

/** Non-dominated points, sorted by tokens ascending (accuracy strictly increasing along the list). */
export function paretoFrontier<T extends FrontierPoint>(points: readonly T[]): T[] {
  const sorted = [...points]
    .filter((point) => point.tokens > 0 && Number.isFinite(point.accuracy))
    .sort((a, b) => a.tokens - b.tokens || b.accuracy - a.accuracy || a.label.localeCompare(b.label));
  const frontier: T[] = [];
  let best = -Infinity;
  for (const point of sorted) {
    if (point.accuracy > best + 1e-12) {
      frontier.push(point);
      best = point.accuracy;
    }
  }
  return frontier;
}

/** Upper concave hull of the Pareto points in (ln tokens, accuracy), left to right (Andrew's monotone chain). */
export function upperHull<T extends FrontierPoint>(points: readonly T[]): T[] {
  const pareto = paretoFrontier(points);
  const hull: T[] = [];
  const cross = (o: T, a: T, b: T): number => {
    const ox = Math.log(o.tokens);
    return (Math.log(a.tokens) - ox) * (b.accuracy - o.accuracy) - (a.accuracy - o.accuracy) * (Math.log(b.tokens) - ox);
  };
  for (const point of pareto) {
    // Pop while the last two points and this one do not make a right (clockwise) turn: keeps the hull concave.
    while (hull.length >= 2 && cross(hull[hull.length - 2]!, hull[hull.length - 1]!, point) >= 0) hull.pop();
    hull.push(point);
  }
  return hull;
}
