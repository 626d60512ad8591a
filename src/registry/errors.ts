/**
 * The registry's typed errors. They reuse core's stable codes (the code list is a CLI/JSON contract owned by
 * core), and add a `reason` the CLI can print or branch on without parsing messages.
 */
import { ThicketError } from '../core/index.ts';

/** No card matches a reference (`id`, `id@1.4.2`, `id@^1.4`), or the only match is yanked. */
export class CapabilityNotFoundError extends ThicketError {
  readonly reason: 'unknown-id' | 'no-matching-version' | 'yanked' | 'deprecated-needs-pin';
  constructor(
    readonly reference: string,
    reason: CapabilityNotFoundError['reason'],
    detail: string,
  ) {
    super('INVALID_INPUT', `No capability matches "${reference}": ${detail}`, 'bad_input');
    this.name = 'CapabilityNotFoundError';
    this.reason = reason;
  }
}

/** An id@version is already stored with different content; versions are immutable once registered. */
export class CapabilityConflictError extends ThicketError {
  constructor(
    readonly id: string,
    readonly version: string,
    readonly storedHash: string,
    readonly newHash: string,
  ) {
    super(
      'INVALID_INPUT',
      `Capability ${id}@${version} is already registered with different content (stored ${storedHash.slice(0, 12)}, new ${newHash.slice(0, 12)}). ` +
        'Versions are immutable: publish a new version instead.',
      'bad_input',
    );
    this.name = 'CapabilityConflictError';
  }
}

/** Vectors from two embedders (or two dimensions) would end up in one index. */
export class EmbedderMismatchError extends ThicketError {
  constructor(
    readonly stored: string,
    readonly given: string,
  ) {
    super(
      'INVALID_CONFIG',
      `The registry's vectors were made by embedder "${stored}", but "${given}" was given. Mixing embedders in one index ` +
        `makes similarities meaningless: open the registry with "${stored}" (--embedder <ref> naming it), or migrate every vector ` +
        `to the new embedder first: thicket agents reembed --embedder <ref>.`,
      'bad_input',
    );
    this.name = 'EmbedderMismatchError';
  }
}

/** A status change that the lifecycle does not allow (e.g. un-yanking). */
export class InvalidTransitionError extends ThicketError {
  constructor(
    readonly id: string,
    readonly version: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(
      'INVALID_INPUT',
      `Cannot change ${id}@${version} from ${from} to ${to}: yanked is final, and only active versions can be deprecated.`,
      'bad_input',
    );
    this.name = 'InvalidTransitionError';
  }
}

/** Discovery found nothing that passes the hard constraints (policy, budget, binding kind). */
export class NoCapabilityError extends ThicketError {
  constructor(
    readonly need: string,
    readonly checks: readonly string[],
  ) {
    super('INVALID_INPUT', `No active capability for "${need}" passes every constraint (${checks.join(', ')}).`, 'bad_input');
    this.name = 'NoCapabilityError';
  }
}
