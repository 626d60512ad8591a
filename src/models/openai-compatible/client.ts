/**
 * What the chat provider and the embedder share about an OpenAI-compatible endpoint: how its base URL is
 * checked, how it is named in messages, and how the official `openai` client is configured for it.
 */
import OpenAI from 'openai';
import type { InputIssue } from '../../core/index.ts';

/** The client's own timeout is disabled (the largest value its timer accepts): callers abort through a signal. */
const NO_CLIENT_TIMEOUT_MS = 2_147_483_647;

/**
 * Parses `baseURL`, pushing every problem onto `issues` (path `baseURL`); returns the URL when it is usable.
 * Only http(s) is accepted, and credentials in the URL are refused — they would end up in logs and error
 * messages; keys go in `apiKey` or headers.
 */
export function checkBaseUrl(baseURL: string, issues: InputIssue[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    issues.push({ path: 'baseURL', message: 'must be an absolute URL such as http://localhost:11434/v1' });
    return undefined;
  }
  const before = issues.length;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') issues.push({ path: 'baseURL', message: 'must use http: or https:' });
  if (url.username !== '' || url.password !== '')
    issues.push({ path: 'baseURL', message: 'must not contain credentials; use apiKey or headers' });
  return issues.length === before ? url : undefined;
}

/** The endpoint as shown in ids and error messages: origin and path, never credentials or query. */
export const endpointName = (url: URL): string => `${url.origin}${url.pathname.replace(/\/+$/, '')}`;

export interface OpenAIClientOptions {
  baseURL: string;
  /** Sent as a Bearer token; omitted → no Authorization header at all. */
  apiKey?: string | undefined;
  headers?: Record<string, string> | undefined;
  fetch?: typeof fetch | undefined;
}

export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    // Every option the client would otherwise read from the environment is given explicitly, so that neither
    // OPENAI_API_KEY nor OPENAI_BASE_URL / OPENAI_ORG_ID / OPENAI_PROJECT_ID leak into requests to other servers.
    baseURL: options.baseURL,
    // The client insists on a key; without one the Authorization header is removed below (null unsets it).
    apiKey: options.apiKey ?? 'thicket-no-api-key',
    organization: null,
    project: null,
    webhookSecret: null,
    // No retries here: the fleet (or the embedder's caller) retries, so that every attempt is reserved against
    // the budget and journaled. A client-side retry would spend tokens and time the budget never saw.
    maxRetries: 0,
    // No client-side timeout either: callers abort through the request's signal (with a TimeoutError reason).
    timeout: NO_CLIENT_TIMEOUT_MS,
    defaultHeaders: { ...(options.apiKey === undefined ? { Authorization: null } : {}), ...options.headers },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
