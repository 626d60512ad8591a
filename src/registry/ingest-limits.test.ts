/** `agents add` limits: a capability document too large, with too many cards or an oversized card is refused whole, before anything is stored. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../core/index.ts';
import { agentsAdd, loadCardsToAdd, openRegistry } from './commands.ts';
import { INGEST_LIMITS } from './ingest-common.ts';
import { card, tempFolder } from './testing/fixtures.ts';

/** An A2A AgentCard with `skills` skills, each with a description of `descriptionChars` characters. */
function agentCard(skills: number, descriptionChars = 20): unknown {
  return {
    name: 'Big agent',
    description: 'An agent with many skills',
    url: 'http://localhost:9/a2a',
    version: '1.0.0',
    protocolVersion: '0.3.0',
    capabilities: {},
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: Array.from({ length: skills }, (_, index) => ({
      id: `skill-${index}`,
      name: `Skill ${index}`,
      description: `Skill ${index} `.padEnd(descriptionChars, 'x'),
      tags: ['t'],
    })),
  };
}

async function refusal(promise: Promise<unknown>): Promise<InvalidInputError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('agents add limits', () => {
  it('refuses more cards than the limit per add, naming the limit, and stores none of them', async () => {
    const folder = tempFolder();
    try {
      const file = join(folder.path, 'many.json');
      writeFileSync(file, JSON.stringify(agentCard(INGEST_LIMITS.maxCards + 1)));
      const error = await refusal(loadCardsToAdd({ source: file }));
      assert.match(error.message, /1,001 cards, more than the limit of 1,000 per add/);
      const registryPath = join(folder.path, 'registry.db');
      const registry = await openRegistry({ path: registryPath });
      try {
        await refusal(agentsAdd(registry, { source: file }));
        assert.equal(registry.count(), 0, 'all or nothing: nothing stored');
        // At the limit it is added, whole.
        writeFileSync(file, JSON.stringify(agentCard(INGEST_LIMITS.maxCards)));
        assert.equal((await agentsAdd(registry, { source: file })).added.length, INGEST_LIMITS.maxCards);
        assert.equal(registry.count(), INGEST_LIMITS.maxCards);
      } finally {
        registry.close();
      }
    } finally {
      folder.cleanup();
    }
  });

  it('refuses an oversized card and a file past the size limit before reading it', async () => {
    const folder = tempFolder();
    try {
      const big = join(folder.path, 'big-cards.json');
      // Every field within its own limit; together 64 examples × 5,000 characters make a ~320 KB card.
      const skill = { id: 's', name: 'S', examples: Array.from({ length: 64 }, () => 'e'.repeat(5_000)) };
      writeFileSync(
        big,
        JSON.stringify([card('fat', '1.0.0', { skills: [skill] }), card('thin', '1.0.0'), card('fat2', '1.0.0', { skills: [skill] })]),
      );
      const error = await refusal(loadCardsToAdd({ source: big }));
      assert.match(error.message, /big-cards\.json: fat: card is 31\d KB, more than the limit of 256 KB/);
      assert.match(error.message, /fat2: card is 31\d KB/);
      assert.doesNotMatch(error.message, /thin/);

      const huge = join(folder.path, 'huge.json');
      writeFileSync(huge, JSON.stringify([card('x', '1.0.0', { description: 'y'.repeat(INGEST_LIMITS.maxFileBytes) })]));
      assert.match((await refusal(loadCardsToAdd({ source: huge }))).message, /huge\.json: 5 MB is larger than the limit of 5 MB/);
    } finally {
      folder.cleanup();
    }
  });

  it('one add is one transaction: a batch with a conflicting card stores none of its cards', async () => {
    const registry = await openRegistry({ path: ':memory:' });
    try {
      await registry.register([card('a', '1.0.0')]);
      await assert.rejects(registry.register([card('b', '1.0.0'), card('c', '1.0.0'), card('a', '1.0.0', { description: 'changed' })]));
      assert.deepEqual(
        registry.list().map((stored) => stored.id),
        ['a'],
      );
    } finally {
      registry.close();
    }
    assert.equal(existsSync(':memory:'), false);
  });
});
