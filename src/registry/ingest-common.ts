/**
 * Helpers shared by the ingesters (A2A, MCP, fleet): what an operator may add to ingested cards, slugs for
 * ids, and turning a publisher's version string into semver.
 *
 * Trust rule: documents describe what a capability does and how to reach it; they are never trusted for
 * policy. Policy labels, provider overrides, cost and latency come from the operator's options; ingesters
 * derive only facts about access (the protocol, that a remote agent uses the network, its declared auth).
 */
import semver from 'semver';
import { InvalidInputError, readUserFile, type InputIssue } from '../core/index.ts';
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

/**
 * What one `agents add` may bring. A capability document describes a service: hundreds of skills is a lot,
 * 20,000 (a 21 MB file) is a mistake or an attack, and each card is embedded and indexed.
 */
export const INGEST_LIMITS = Object.freeze({
  /** Largest capability document file read. */
  maxFileBytes: 5 * 1024 * 1024,
  /** Most cards (skills, tools) one add registers. */
  maxCards: 1_000,
  /** Largest single card, as stored JSON. */
  maxCardBytes: 256 * 1024,
});

/** Reads a JSON document from a file through the core's user-file reader (size, nesting, BOM); failures name the file. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  return Promise.resolve(readUserFile(path, { what, format: 'json', maxBytes: INGEST_LIMITS.maxFileBytes }));
}

/** Refuses a batch past INGEST_LIMITS (the count, and every oversized card up to five), naming the limits. */
export function checkIngestLimits(cards: readonly CardInput[], source: string): void {
  const issues: InputIssue[] = [];
  if (cards.length > INGEST_LIMITS.maxCards)
    issues.push({
      path: source,
      message:
        `${cards.length.toLocaleString('en-US')} cards, more than the limit of ` +
        `${INGEST_LIMITS.maxCards.toLocaleString('en-US')} per add (split the document)`,
    });
  let oversized = 0;
  for (const card of cards) {
    const bytes = Buffer.byteLength(JSON.stringify(card));
    if (bytes <= INGEST_LIMITS.maxCardBytes) continue;
    if (++oversized <= 5)
      issues.push({
        path: `${source}: ${card.id}`,
        message: `card is ${Math.ceil(bytes / 1024)} KB, more than the limit of ${INGEST_LIMITS.maxCardBytes / 1024} KB`,
      });
  }
  if (oversized > 5) issues.push({ path: source, message: `${oversized - 5} more cards over ${INGEST_LIMITS.maxCardBytes / 1024} KB` });
  if (issues.length > 0) throw new InvalidInputError('Cannot add capabilities', issues);
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
