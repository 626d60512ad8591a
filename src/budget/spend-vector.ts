/**
 * The ledger's vector units: amounts as fixed-order Float64Arrays over the additive dimensions, with dollars
 * as integer nano-dollars so sums and limit checks are exact, and the conversions at the edges.
 *
 * Plain functions and constants, shared by Budget, Reservation and Ledger (ledger.ts) on every reserve and
 * settle; internal to the budget layer (not re-exported by index.ts).
 */
import { fromNanoUsd, toNanoUsd, type UsageTotals } from '../core/index.ts';
import { DIMENSIONS, type Amount } from './ledger-types.ts';

export const DIMENSION_COUNT = DIMENSIONS.length;
/**
 * Index of dollars in the vectors. The vectors keep dollars as integer nano-dollars (core/usage.ts), so sums
 * and limit checks are exact; amounts are converted at the edges (`toVector`, `fromVector`, `limits`).
 */
export const USD = 3;
// Kept from when vectors held float dollars; with integer nano-dollars no tolerance is needed (it is < 1 nano).
export const USD_EPSILON = 1e-12;

export function toVector(amount: Amount): Float64Array {
  const vector = new Float64Array(DIMENSION_COUNT);
  vector[0] = amount.inputTokens;
  vector[1] = amount.outputTokens;
  vector[2] = amount.inputTokens + amount.outputTokens;
  vector[USD] = toNanoUsd(amount.usd);
  vector[4] = amount.calls;
  return vector;
}

export function fromVector(vector: Float64Array): Amount & { totalTokens: number } {
  return { inputTokens: vector[0]!, outputTokens: vector[1]!, totalTokens: vector[2]!, usd: fromNanoUsd(vector[USD]!), calls: vector[4]! };
}

export function emptyLine(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
}

export function addVector(line: UsageTotals, vector: Float64Array): void {
  line.inputTokens += vector[0]!;
  line.outputTokens += vector[1]!;
  line.totalTokens += vector[2]!;
  line.usd = fromNanoUsd(toNanoUsd(line.usd) + vector[USD]!);
  line.calls += vector[4]!;
}
