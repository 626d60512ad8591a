/**
 * Narrowing the untyped JSON an OpenAI-compatible server sends: servers differ (and proxies garble bodies), so
 * both the response parser and the error mapper read every field through these checks rather than trust a shape.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token count as a server may report it: a finite, non-negative number. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
