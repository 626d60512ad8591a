import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cardText, contentHash, costPerCall, latencyBoundMs, parseCards } from './card.ts';
import { card, issuesOf } from './testing/fixtures.ts';

describe('capability cards', () => {
  it('applies defaults and computes cost and latency bounds', () => {
    const [parsed] = parseCards(
      card('summarizer', '1.2.3', { cost: { inputPerMillionUsd: 2, outputPerMillionUsd: 10 }, latency: { p50Ms: 100, p95Ms: 400 } }),
    );
    assert.equal(parsed!.status, 'active');
    assert.deepEqual(parsed!.labels, []);
    assert.deepEqual(parsed!.skills, []);
    // 1,000 input tokens × $2/M + 500 output tokens × $10/M = $0.007
    assert.equal(costPerCall(parsed!), 0.007);
    assert.equal(latencyBoundMs(parsed!), 400);
    assert.equal(costPerCall(parseCards(card('free'))[0]!), undefined);
  });

  it('rejects an invalid card listing every problem with its path', async () => {
    const bad = {
      id: 'has space@x',
      version: 'v1.0',
      name: '',
      binding: { kind: 'mcp', server: {}, tool: 'x' },
      labels: ['EU'],
      provider: 'p',
      quality: 2,
      extra: true,
    };
    const issues = await issuesOf(() => parseCards(bad));
    assert.deepEqual(issues.map((issue) => issue.path).sort(), [
      '',
      'binding.server.name',
      'id',
      'labels[0]',
      'name',
      'quality',
      'version',
    ]);
    assert.ok(issues.find((issue) => issue.path === '')!.message.includes('extra'));
  });

  it('prefixes paths with the array index and flags duplicates with different content', async () => {
    const issues = await issuesOf(() =>
      parseCards([card('a'), { ...card('b'), version: '1' }, card('a', '1.0.0', { description: 'different' })]),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['[1].version', '[2].version'],
    );
  });

  it('hashes content without the status, and embeds what the capability does', () => {
    const [active] = parseCards(
      card('x', '1.0.0', { skills: [{ id: 's', name: 'Skill name', tags: ['tag-one'], examples: ['an example'] }] }),
    );
    const [deprecated] = parseCards({
      ...card('x', '1.0.0', { skills: [{ id: 's', name: 'Skill name', tags: ['tag-one'], examples: ['an example'] }] }),
      status: 'deprecated',
    });
    assert.equal(contentHash(active!), contentHash(deprecated!));
    assert.notEqual(contentHash(active!), contentHash(parseCards(card('x', '1.0.1'))[0]!));
    assert.equal(cardText(active!), 'x. The x capability. Skill name. tag-one. an example');
  });
});
