import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PrefixHasher, sha256Hex } from './hash.ts';

type Item = { a: string; b: string };

function hasher(): PrefixHasher<Item> {
  return new PrefixHasher<Item>(
    (item) => JSON.stringify([item.a, item.b]),
    (item) => [item.a, item.b],
    ',',
  );
}
const full = (root: string, items: readonly Item[]): string =>
  sha256Hex(root + items.map((item) => JSON.stringify([item.a, item.b])).join(','));
const digest = (h: PrefixHasher<Item>, root: string, items: readonly Item[]): string => h.stateAfter(root, items).digest('hex');

describe('PrefixHasher', () => {
  it('equals hashing the whole text, for any list, however the cache was filled before', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ a: fc.string(), b: fc.string({ unit: 'binary' }) }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (items, edits) => {
          const h = hasher();
          const root = '[';
          // Grow the list call by call (the chat shape), then edit items in place and swap the root.
          for (let length = 0; length <= items.length; length++)
            assert.equal(digest(h, root, items.slice(0, length)), full(root, items.slice(0, length)));
          for (const edit of edits) {
            if (items.length === 0) break;
            items[edit % items.length]!.b += 'x';
            assert.equal(digest(h, root, items), full(root, items));
            assert.equal(digest(h, '{', items), full('{', items));
          }
        },
      ),
      { seed: 20261125, numRuns: 200 },
    );
  });

  it('reuses the cached nodes of an unchanged prefix and re-creates those after a change', () => {
    const h = hasher();
    const items: Item[] = [
      { a: '1', b: 'x' },
      { a: '2', b: 'y' },
      { a: '3', b: 'z' },
    ];
    const first = h.chain('[', items);
    const second = h.chain('[', [...items, { a: '4', b: 'w' }]);
    assert.deepEqual(
      second.slice(0, 3).map((node, index) => node === first[index]),
      [true, true, true],
    );
    items[1]!.b = 'changed';
    const third = h.chain('[', items);
    assert.deepEqual(
      third.map((node, index) => node === first[index]),
      [true, false, false],
    );
    // Another root never trusts nodes hashed under the first one.
    assert.notEqual(h.chain('{', items)[0], third[0]);
  });
});
