/**
 * Typed errors. Every error Thicket raises on purpose is a `ThicketError` with a stable `code` (part of the
 * CLI/JSON contract — never rename one), an `isRetryable` flag the retry layer trusts, and an exit code
 * category for the CLI. `ThicketError.isInstance` works across module copies (a cross-realm marker, as the
 * AI SDK does), so a duplicated install of the package cannot break `instanceof` checks.
 */

const MARKER = Symbol.for('thicket.error');

export type ErrorCode =
  | 'BUDGET_EXHAUSTED'
  | 'INVALID_INPUT'
  | 'INVALID_CONFIG'
  | 'UNKNOWN_MODEL'
  | 'NO_MODEL'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'RATE_LIMITED'
  | 'PROVIDER_ERROR'
  | 'CONTEXT_OVERFLOW'
  | 'MALFORMED_OUTPUT'
  | 'ANSWER_UNPARSED'
  | 'SIM_UNKNOWN_TASK'
  | 'JOURNAL_ERROR'
  /** The journal's disk (or quota) is full: nothing of the failed write was committed. */
  | 'JOURNAL_FULL'
  /** The journal's database server (PostgreSQL) cannot be reached: refused, timed out, unknown host, bad login. */
  | 'JOURNAL_UNREACHABLE'
  /** A disk Thicket writes to (reports, corpora, config) is full. */
  | 'STORAGE_FULL'
  | 'CAPABILITY_UNRESOLVED'
  | 'OPTIONAL_DEPENDENCY_MISSING'
  | 'MISSING_API_KEY'
  | 'UNPRICED_MODEL'
  /** A dataset (`thicket eval`) could not be read, or has bad rows and `--strict` was given. */
  | 'DATASET_INVALID'
  /** A scorer could not be built (a custom scorer module that fails to load, a bad regex or schema) or failed on an item. */
  | 'SCORER_FAILED'
  /** The job queue's Redis (`--queue`, `thicket worker --redis`) cannot be reached, or stayed down too long. */
  | 'QUEUE_UNREACHABLE'
  /** The shared (Redis) ledger could not be reached or failed: nothing was reserved (fail closed). */
  | 'SHARED_LEDGER_UNREACHABLE'
  | 'INTERNAL';

/**
 * What the CLI maps an error to: 2 bad input, 3 budget exhausted, 4 cancelled, 1 anything else — except
 * ANSWER_UNPARSED (the model answered but no short answer could be read), which exits 5 (`EXIT_ANSWER_UNPARSED`).
 */
export type ErrorCategory = 'bad_input' | 'budget' | 'cancelled' | 'other';

export interface ErrorOptions {
  cause?: unknown;
  isRetryable?: boolean;
}

export class ThicketError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly category: ErrorCategory;

  constructor(code: ErrorCode, message: string, category: ErrorCategory, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThicketError';
    this.code = code;
    this.category = category;
    this.isRetryable = options.isRetryable ?? false;
  }

  static isInstance(value: unknown): value is ThicketError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** One problem in a rejected input: where (a JSON path or flag name) and why. */
export interface InputIssue {
  path: string;
  message: string;
}

export function formatIssues(issues: readonly InputIssue[]): string {
  return issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
}

/** Bad input of any kind (flags, requests, specs). Lists every problem, never just the first. */
export class InvalidInputError extends ThicketError {
  readonly issues: readonly InputIssue[];
  constructor(what: string, issues: readonly InputIssue[], code: 'INVALID_INPUT' | 'INVALID_CONFIG' = 'INVALID_INPUT') {
    super(code, `${what}: ${formatIssues(issues)}`, 'bad_input');
    this.name = code === 'INVALID_CONFIG' ? 'InvalidConfigError' : 'InvalidInputError';
    this.issues = issues;
  }
}

export class UnknownModelError extends ThicketError {
  constructor(
    readonly reference: string,
    hint: string,
  ) {
    super('UNKNOWN_MODEL', `Unknown model reference "${reference}". ${hint}`, 'bad_input');
    this.name = 'UnknownModelError';
  }
}

export class NoModelError extends ThicketError {
  constructor() {
    super(
      'NO_MODEL',
      'No model given and no default model configured. Use the simulated fleet (e.g. --model sim:small), ' +
        'pull the small embedded default once with `thicket models pull` (used from then on when nothing else is configured), ' +
        'or configure a real endpoint in thicket.config.json (see README, "Connect a real model") and set "defaultModel".',
      'bad_input',
    );
    this.name = 'NoModelError';
  }
}

/** Which limit refused a reservation, and by how much. */
export interface BudgetShortfall {
  budget: string;
  dimension: string;
  limit: number;
  committed: number;
  requested: number;
}

export class BudgetExhaustedError extends ThicketError {
  constructor(readonly shortfall: BudgetShortfall) {
    super(
      'BUDGET_EXHAUSTED',
      `Budget "${shortfall.budget}" cannot cover ${formatAmount(shortfall.dimension, shortfall.requested)} more ` +
        `(${shortfall.dimension}: limit ${formatAmount(shortfall.dimension, shortfall.limit)}, ` +
        `already spent or reserved ${formatAmount(shortfall.dimension, shortfall.committed)}).`,
      'budget',
    );
    this.name = 'BudgetExhaustedError';
  }
}

function formatAmount(dimension: string, value: number): string {
  return dimension === 'usd' ? `$${value.toFixed(6)}` : dimension === 'seconds' ? `${value.toFixed(3)}s` : `${value}`;
}

export class CancelledError extends ThicketError {
  constructor(message = 'The run was cancelled.', options: ErrorOptions = {}) {
    super('CANCELLED', message, 'cancelled', options);
    this.name = 'CancelledError';
  }
}

export class TimeoutError extends ThicketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('TIMEOUT', message, 'other', { isRetryable: true, ...options });
    this.name = 'TimeoutError';
  }
}

/** A provider answered with an error status (or not at all). `isRetryable` follows the status like the AI SDK's APICallError. */
export class ProviderError extends ThicketError {
  readonly status: number | undefined;
  /** Milliseconds the provider asked us to wait (Retry-After / retry-after-ms), when it said. */
  readonly retryAfterMs: number | undefined;
  readonly responseBody: string | undefined;

  constructor(
    message: string,
    details: { status?: number; retryAfterMs?: number; responseBody?: string; cause?: unknown; isRetryable?: boolean } = {},
  ) {
    const status = details.status;
    const retryable = details.isRetryable ?? (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500);
    super(status === 429 ? 'RATE_LIMITED' : 'PROVIDER_ERROR', message, 'other', { isRetryable: retryable, cause: details.cause });
    this.name = status === 429 ? 'RateLimitError' : 'ProviderError';
    this.status = status;
    this.retryAfterMs = details.retryAfterMs;
    this.responseBody = details.responseBody;
  }
}

export class ContextOverflowError extends ThicketError {
  constructor(
    readonly model: string,
    readonly promptTokens: number,
    readonly contextWindow: number,
  ) {
    super(
      'CONTEXT_OVERFLOW',
      `Prompt of ${promptTokens} tokens (plus requested output) exceeds ${model}'s context window of ${contextWindow} tokens.`,
      'other',
    );
    this.name = 'ContextOverflowError';
  }
}

/** Structured output that did not parse or did not match its schema. Retryable: a new sample may parse. */
export class MalformedOutputError extends ThicketError {
  constructor(
    message: string,
    readonly rawText: string,
    options: ErrorOptions = {},
  ) {
    super('MALFORMED_OUTPUT', message, 'other', { isRetryable: true, ...options });
    this.name = 'MalformedOutputError';
  }
}

/** Exit code of a run whose model replied but whose reply held no short answer the strategy could use. */
export const EXIT_ANSWER_UNPARSED = 5;

/**
 * The model answered (the endpoint did not fail), but no short answer could be read from its replies where the
 * strategy needs one (a vote compares answers). Not retryable: the same replies would be read the same way.
 */
export class AnswerUnparsedError extends ThicketError {
  constructor(message: string) {
    super('ANSWER_UNPARSED', message, 'other');
    this.name = 'AnswerUnparsedError';
  }
}

/**
 * The simulated fleet was asked something it has no oracle for: it answers only Thicket's generated tasks
 * (arithmetic expressions and the lab's registered tasks), not arbitrary questions.
 */
export class SimUnknownTaskError extends ThicketError {
  constructor(model: string, query: string) {
    const shown = query.length > 80 ? `${query.slice(0, 77)}...` : query;
    super(
      'SIM_UNKNOWN_TASK',
      `The simulated fleet (${model}) cannot answer "${shown}": it is a workload simulator that answers only Thicket's ` +
        `generated tasks (arithmetic such as "What is (17*23)+(12*4)?" and the lab's registered tasks), not real questions. ` +
        'For a real answer use a real model: -m openai:<model> (with OPENAI_API_KEY), -m gguf:<path> (or gguf:default after ' +
        '`thicket models pull`), or an endpoint configured in thicket.config.json (README, "Connect a real model").',
      'bad_input',
    );
    this.name = 'SimUnknownTaskError';
  }
}

export class JournalError extends ThicketError {
  constructor(message: string, options: ErrorOptions & { code?: 'JOURNAL_ERROR' | 'JOURNAL_FULL' | 'JOURNAL_UNREACHABLE' } = {}) {
    super(options.code ?? 'JOURNAL_ERROR', message, 'other', options);
    this.name = 'JournalError';
  }
}

/**
 * The shared ledger (a budget held in Redis for many processes) did not answer. Reservations fail closed: no
 * call is sent unless its hold was granted. Retryable — the service may be back a moment later.
 */
export class SharedLedgerUnreachableError extends ThicketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SHARED_LEDGER_UNREACHABLE', message, 'other', { isRetryable: true, ...options });
    this.name = 'SharedLedgerUnreachableError';
  }
}

/**
 * The optional peer dependencies: heavy packages only some features load, on first use. The versions are the
 * ones Thicket is tested with (package.json's `peerDependencies`; src/package.test.ts checks they agree).
 */
export const OPTIONAL_DEPENDENCIES = {
  'node-llama-cpp': '3.21.1',
  usearch: '2.26.2',
  vega: '6.2.0',
  'vega-lite': '6.2.0',
  '@modelcontextprotocol/sdk': '1.32.2',
} as const;

export type OptionalDependency = keyof typeof OPTIONAL_DEPENDENCIES;

/** A feature needs an optional peer dependency that is not installed. The message gives the install command. */
export class OptionalDependencyMissingError extends ThicketError {
  constructor(
    readonly dependency: OptionalDependency,
    feature: string,
    options: ErrorOptions = {},
  ) {
    super(
      'OPTIONAL_DEPENDENCY_MISSING',
      `${feature} needs the optional package "${dependency}", which is not installed. ` +
        `Install it next to thicket: npm i ${dependency}@${OPTIONAL_DEPENDENCIES[dependency]}`,
      'bad_input',
      options,
    );
    this.name = 'OptionalDependencyMissingError';
  }
}

/** Whether `error` says that `dependency` itself (not something else) could not be found by import() or require(). */
export function isModuleNotFound(error: unknown, dependency: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return (
    error.message.includes(`'${dependency}'`) || error.message.includes(`'${dependency}/`) || error.message.includes(`"${dependency}"`)
  );
}

/**
 * Loads an optional peer dependency (`load` is the caller's own `import('<package>')`, so the specifier stays
 * literal), turning "not installed" into an OptionalDependencyMissingError; any other failure is rethrown.
 */
export async function importOptional<T>(dependency: OptionalDependency, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error, dependency)) throw new OptionalDependencyMissingError(dependency, feature, { cause: error });
    throw error;
  }
}

/** Wraps anything thrown that is not a ThicketError, so callers always see a code. */
export function toThicketError(error: unknown): ThicketError {
  if (ThicketError.isInstance(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') return new CancelledError(error.message, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new ThicketError('STORAGE_FULL', `The disk is full (${message}). Free some space and run the same command again.`, 'other', {
      cause: error,
    });
  return new ThicketError('INTERNAL', message, 'other', { cause: error });
}

export function exitCodeFor(error: unknown): number {
  const typed = toThicketError(error);
  if (typed.code === 'ANSWER_UNPARSED') return EXIT_ANSWER_UNPARSED;
  const category = typed.category;
  return category === 'bad_input' ? 2 : category === 'budget' ? 3 : category === 'cancelled' ? 4 : 1;
}
