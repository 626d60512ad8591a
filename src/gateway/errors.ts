/**
 * HTTP errors in OpenAI's shape — `{ "error": { "message", "type", "param", "code" } }` — so the official
 * clients raise their own error classes (BadRequestError, AuthenticationError, RateLimitError, …). Thicket adds
 * `issues` (every problem, path + reason) where a request was rejected for its content.
 */
import { ThicketError, formatIssues, toThicketError, type InputIssue } from '../core/index.ts';

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'service_unavailable';

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: OpenAIErrorType;
    param: string | null;
    code: string | null;
    issues?: InputIssue[];
    /** Set when a run was started (and journaled) before it failed. */
    run_id?: string;
  };
}

/** An error the gateway answers with: an HTTP status and an OpenAI-style body. */
export class GatewayError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 499 | 500 | 502 | 503 | 504,
    readonly type: OpenAIErrorType,
    readonly code: string,
    message: string,
    readonly extra: { param?: string; issues?: readonly InputIssue[]; runId?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  body(): OpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.extra.param ?? this.extra.issues?.[0]?.path ?? null,
        code: this.code,
        ...(this.extra.issues && this.extra.issues.length > 0 ? { issues: [...this.extra.issues] } : {}),
        ...(this.extra.runId !== undefined ? { run_id: this.extra.runId } : {}),
      },
    };
  }
}

export function invalidRequest(message: string, issues: readonly InputIssue[], status: 400 | 422 = 422): GatewayError {
  return new GatewayError(
    status,
    'invalid_request_error',
    status === 400 ? 'invalid_json' : 'invalid_request',
    `${message}: ${formatIssues(issues)}`,
    {
      issues,
    },
  );
}

/** The HTTP status of a Thicket error code (the gateway's half of the one status map; the CLI's is its exit code). */
export function httpStatusForCode(code: string): GatewayError['status'] {
  switch (code) {
    case 'INVALID_INPUT':
    case 'INVALID_CONFIG':
    case 'UNKNOWN_MODEL':
    case 'NO_MODEL':
    case 'CAPABILITY_UNRESOLVED':
    case 'SIM_UNKNOWN_TASK':
    case 'UNPRICED_MODEL':
    case 'DATASET_INVALID':
    case 'SCORER_FAILED':
      return 422;
    case 'BUDGET_EXHAUSTED':
      return 429;
    case 'CANCELLED':
      return 499;
    case 'TIMEOUT':
      return 504;
    case 'RATE_LIMITED':
    case 'PROVIDER_ERROR':
    case 'CONTEXT_OVERFLOW':
    case 'MALFORMED_OUTPUT':
    case 'ANSWER_UNPARSED':
      return 502;
    case 'MISSING_API_KEY':
    case 'OPTIONAL_DEPENDENCY_MISSING':
    case 'JOURNAL_FULL':
    case 'STORAGE_FULL':
    case 'SHARED_LEDGER_UNREACHABLE':
      return 503;
    default:
      return 500;
  }
}

function typeForStatus(status: GatewayError['status'], code: string): OpenAIErrorType {
  if (code === 'BUDGET_EXHAUSTED') return 'insufficient_quota';
  if (status === 429) return 'rate_limit_error';
  if (status === 400 || status === 413 || status === 415 || status === 422 || status === 409 || status === 405)
    return 'invalid_request_error';
  if (status === 503) return 'service_unavailable';
  return 'server_error';
}

/** Any error → a GatewayError (typed Thicket errors keep their code and issues; anything else is a 500 that names no internals). */
export function toGatewayError(error: unknown, runId?: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const thicket: ThicketError = toThicketError(error);
  const status = httpStatusForCode(thicket.code);
  const issues = (thicket as ThicketError & { issues?: readonly InputIssue[] }).issues;
  return new GatewayError(status, typeForStatus(status, thicket.code), thicket.code, status === 500 ? 'Internal error.' : thicket.message, {
    ...(issues ? { issues } : {}),
    ...(runId !== undefined ? { runId } : {}),
  });
}

/** A finished run's error (`SolveResult.error`) as an HTTP error. */
export function runError(error: { code: string; message: string }, runId: string): GatewayError {
  const status = httpStatusForCode(error.code);
  return new GatewayError(status, typeForStatus(status, error.code), error.code, error.message, { runId });
}

export { ThicketError };
