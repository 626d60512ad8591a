import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../core/index.ts';
import { CapabilityConflictError, CapabilityNotFoundError, InvalidTransitionError } from './errors.ts';
import { CapabilityRegistry } from './registry.ts';
import { card, issuesOf } from './testing/fixtures.ts';

async function registryWith(versions: { version: string; status?: 'active' | 'deprecated' | 'yanked' }[]): Promise<CapabilityRegistry> {
  const registry = await CapabilityRegistry.open();
  await registry.register(
    versions.map(({ version, status }) => ({
      ...card('tool', version, { description: `tool version ${version}` }),
      ...(status ? { status } : {}),
    })),
  );
  return registry;
}

async function reason(registry: CapabilityRegistry, reference: string): Promise<string> {
  try {
    registry.resolve(reference);
  } catch (error) {
    assert.ok(error instanceof CapabilityNotFoundError, String(error));
    return error.reason;
  }
  return 'resolved';
}

describe('versions', () => {
  it('resolves exact pins, ranges and the latest active release', async () => {
    const registry = await registryWith([
      { version: '1.4.2' },
      { version: '1.5.0' },
      { version: '2.0.0' },
      { version: '2.1.0-beta.1' },
      { version: '1.3.0' },
    ]);
    assert.equal(registry.resolve('tool@1.4.2').version, '1.4.2');
    assert.equal(registry.resolve('tool@^1.4').version, '1.5.0');
    assert.equal(registry.resolve('tool@~1.4').version, '1.4.2');
    assert.equal(registry.resolve('tool@>=1.0.0 <1.4.0').version, '1.3.0');
    assert.equal(registry.resolve('tool').version, '2.0.0', 'latest prefers releases over a newer prerelease');
    assert.equal(registry.resolve('tool@latest').version, '2.0.0');
    assert.equal(registry.resolve('tool@2.1.0-beta.1').version, '2.1.0-beta.1');
    assert.equal(await reason(registry, 'tool@^3'), 'no-matching-version');
    assert.equal(await reason(registry, 'other'), 'unknown-id');
    assert.deepEqual(
      (await issuesOf(() => registry.resolve('tool@not-a-range!'))).map((issue) => issue.path),
      ['tool@not-a-range!'],
    );
  });

  it('finds deprecated versions only when pinned and yanked versions never', async () => {
    const registry = await registryWith([{ version: '1.0.0' }, { version: '1.1.0' }, { version: '2.0.0' }]);
    registry.setStatus('tool', '2.0.0', 'deprecated');
    registry.setStatus('tool', '1.1.0', 'yanked');
    assert.equal(registry.resolve('tool').version, '1.0.0');
    assert.equal(registry.resolve('tool@2.0.0').version, '2.0.0');
    assert.equal(registry.resolve('tool@2.0.0').status, 'deprecated');
    assert.equal(await reason(registry, 'tool@^2'), 'deprecated-needs-pin');
    assert.equal(await reason(registry, 'tool@1.1.0'), 'yanked');
    assert.equal(registry.resolve('tool@^1').version, '1.0.0', 'a range skips the yanked 1.1.0');
    registry.setStatus('tool', '1.0.0', 'yanked');
    assert.equal(await reason(registry, 'tool'), 'deprecated-needs-pin');
    registry.setStatus('tool', '2.0.0', 'yanked');
    assert.equal(await reason(registry, 'tool'), 'yanked');
    assert.throws(() => registry.setStatus('tool', '2.0.0', 'deprecated'), InvalidTransitionError);
  });

  it('re-registering the same content is a no-op; different content is a conflict that stores nothing', async () => {
    const registry = await registryWith([{ version: '1.0.0' }]);
    const again = await registry.register(card('tool', '1.0.0', { description: 'tool version 1.0.0' }));
    assert.deepEqual(again, { added: [], unchanged: ['tool@1.0.0'] });
    await assert.rejects(
      registry.register([card('fresh', '1.0.0'), card('tool', '1.0.0', { description: 'changed' })]),
      CapabilityConflictError,
    );
    assert.deepEqual(
      registry.list().map((stored) => `${stored.id}@${stored.version}`),
      ['tool@1.0.0'],
      'the valid card of the failed batch is not stored',
    );
    assert.equal(registry.stats().indexed, 1);
    // A deprecated version re-registered with its original document is still the same content.
    registry.setStatus('tool', '1.0.0', 'deprecated');
    assert.deepEqual((await registry.register(card('tool', '1.0.0', { description: 'tool version 1.0.0' }))).unchanged, ['tool@1.0.0']);
  });

  it('rejects an invalid batch listing every problem and stores none of it', async () => {
    const registry = await CapabilityRegistry.open();
    const issues = await issuesOf(() =>
      registry.register([card('good'), { ...card('bad'), version: 'latest' }, { ...card('worse'), provider: '' }]),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['[1].version', '[2].provider'],
    );
    assert.equal(registry.count(), 0);
    await assert.rejects(registry.register(card('x', '1.0.0', { labels: ['Bad Label'] })), InvalidInputError);
  });
});
