/**
 * How a run ended — one union for every surface (library result, CLI exit code, journal row, gateway
 * response), and one map from it to the CLI's exit code. Errors raised before a run starts map through
 * `exitCodeFor` (errors.ts) instead.
 */
export const RUN_STATUSES = ['ok', 'budget_exhausted', 'cancelled', 'error'] as const;

/** `ok`: an answer; `budget_exhausted`: a limit stopped the run; `cancelled`: its signal fired; `error`: anything else. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The CLI's exit code per run status (the contract scripts rely on): 0 ok, 3 budget, 4 cancelled, 1 error — an
 * `error` run whose code says bad input exits 2, one whose model answered without a usable short answer
 * (ANSWER_UNPARSED) exits 5 (see `exitCodeForRun`).
 */
export const EXIT_CODE_BY_STATUS: Readonly<Record<RunStatus, number>> = { ok: 0, budget_exhausted: 3, cancelled: 4, error: 1 };

/** Error codes that mean the request itself was wrong: a run that ends with one exits 2, like a rejected request. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set([
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'UNKNOWN_MODEL',
  'NO_MODEL',
  'CAPABILITY_UNRESOLVED',
  'SIM_UNKNOWN_TASK',
]);

/**
 * The exit code of a finished run; an `error` run whose error code says bad input exits 2, as `exitCodeFor`
 * does; one that ended ANSWER_UNPARSED (the endpoint answered, the answer could not be read) exits 5, apart
 * from 1 (the endpoint or anything else failed).
 */
export function exitCodeForRun(status: RunStatus, errorCode?: string): number {
  if (status === 'error' && errorCode !== undefined && BAD_INPUT_CODES.has(errorCode)) return 2;
  if (status === 'error' && errorCode === 'ANSWER_UNPARSED') return 5;
  return EXIT_CODE_BY_STATUS[status];
}
