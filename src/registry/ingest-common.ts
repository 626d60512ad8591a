/**
 * Helpers shared by the ingesters (A2A, MCP, fleet): what an operator may add to ingested cards, slugs for
 * ids, and turning a publisher's version string into semver.
 *
 * Trust rule: documents describe what a capability does and how to reach it; they are never trusted for
 * policy. Policy labels, provider overrides, cost and latency come from the operator's options; ingesters
 * derive only facts about access (the protocol, that a remote agent uses the network, its declared auth).
 */
import semver from 'semver';
import { readUserFile, type InputIssue } from '../core/index.ts';
import type { CardInput } from './card.ts';

export interface IngestOptions {
  /** Policy labels to attach to every card (e.g. residency:eu, clearance:internal). */
  labels?: readonly string[];
  /** Provider name (default: what the document says, else the host). */
  provider?: string;
  cost?: CardInput['cost'];
  latency?: CardInput['latency'];
  quality?: number;
  /** Replaces the generated id prefix (e.g. `a2a:travel`). */
  idPrefix?: string;
}

/** Lowercase, and only the characters card ids allow. */
export function slug(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
  return cleaned === '' ? 'unnamed' : cleaned;
}

/** Exact semver, else the coerced form ("1.2" → "1.2.0", "v3" → "3.0.0"); undefined when none. */
export function toSemver(version: string): string | undefined {
  if (semver.valid(version) === version) return version;
  return semver.coerce(version, { includePrerelease: true })?.version;
}

export function versionIssue(path: string, version: string): InputIssue {
  return { path, message: `"${version}" is not a version Thicket can read as semver (e.g. 1.4.2)` };
}

export function withOperatorFields(card: CardInput, options: IngestOptions, derivedLabels: readonly string[]): CardInput {
  const labels = [...new Set([...(options.labels ?? []), ...derivedLabels])].sort();
  return {
    ...card,
    labels,
    ...(options.provider !== undefined ? { provider: options.provider } : {}),
    ...(options.cost !== undefined ? { cost: options.cost } : {}),
    ...(options.latency !== undefined ? { latency: options.latency } : {}),
    ...(options.quality !== undefined ? { quality: options.quality } : {}),
  };
}

/** Reads a JSON document from a file through the core's user-file reader (size, nesting, BOM); failures name the file. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  return Promise.resolve(readUserFile(path, { what, format: 'json' }));
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown-host';
  }
}

export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}
