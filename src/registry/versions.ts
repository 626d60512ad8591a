/**
 * Version references and their resolution. A reference is `id` (latest active), `id@1.4.2` (an exact pin) or
 * `id@^1.4` (any semver range). Lifecycle rules: yanked versions are never resolved, deprecated versions only
 * by an exact pin, and "latest" prefers releases over prereleases (a prerelease is latest only when no
 * active release exists).
 */
import semver from 'semver';
import { InvalidInputError } from '../core/index.ts';
import type { CardStatus } from './card.ts';
import { CapabilityNotFoundError } from './errors.ts';

export interface Reference {
  id: string;
  /** An exact version, a semver range, or undefined for "latest active". */
  range: string | undefined;
}

export function parseReference(reference: string): Reference {
  const at = reference.lastIndexOf('@');
  if (at <= 0) return { id: reference, range: undefined };
  const id = reference.slice(0, at);
  const range = reference.slice(at + 1).trim();
  if (range === '' || range === 'latest') return { id, range: undefined };
  if (semver.validRange(range) === null)
    throw new InvalidInputError('Invalid capability reference', [
      { path: reference, message: `"${range}" is neither a version nor a semver range` },
    ]);
  return { id, range };
}

export interface VersionEntry {
  version: string;
  status: CardStatus;
}

/** Picks the version a reference resolves to, or explains (typed) why none does. */
export function pickVersion<T extends VersionEntry>(reference: string, versions: readonly T[]): T {
  const { range } = parseReference(reference);
  if (versions.length === 0) throw new CapabilityNotFoundError(reference, 'unknown-id', 'no capability with this id is registered');
  const active = versions.filter((entry) => entry.status === 'active');
  if (range !== undefined && semver.valid(range) !== null) {
    const pinned = versions.find((entry) => semver.eq(entry.version, range));
    if (pinned === undefined)
      throw new CapabilityNotFoundError(reference, 'no-matching-version', `registered versions: ${describe(versions)}`);
    if (pinned.status === 'yanked')
      throw new CapabilityNotFoundError(reference, 'yanked', `${pinned.version} was yanked and can no longer be used`);
    return pinned;
  }
  const candidates = range === undefined ? active : active.filter((entry) => semver.satisfies(entry.version, range));
  const best = latest(candidates);
  if (best !== undefined) return best;
  const deprecated = versions.filter(
    (entry) => entry.status === 'deprecated' && (range === undefined || semver.satisfies(entry.version, range)),
  );
  if (deprecated.length > 0) {
    throw new CapabilityNotFoundError(
      reference,
      'deprecated-needs-pin',
      `only deprecated versions match (${describe(deprecated)}); pin one exactly, e.g. @${deprecated[0]!.version}`,
    );
  }
  const yanked = versions.some((entry) => entry.status === 'yanked' && (range === undefined || semver.satisfies(entry.version, range)));
  if (yanked) throw new CapabilityNotFoundError(reference, 'yanked', 'every matching version was yanked');
  throw new CapabilityNotFoundError(reference, 'no-matching-version', `registered versions: ${describe(versions)}`);
}

/** Highest release, else highest prerelease. */
export function latest<T extends VersionEntry>(entries: readonly T[]): T | undefined {
  const releases = entries.filter((entry) => semver.prerelease(entry.version) === null);
  const pool = releases.length > 0 ? releases : entries;
  return [...pool].sort((left, right) => semver.rcompare(left.version, right.version))[0];
}

function describe(versions: readonly VersionEntry[]): string {
  return [...versions]
    .sort((left, right) => semver.compare(left.version, right.version))
    .map((entry) => `${entry.version}${entry.status === 'active' ? '' : ` (${entry.status})`}`)
    .join(', ');
}
