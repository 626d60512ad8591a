/**
 * `thicket agents search` with nothing relevant says so (issue 16 §5: it listed the k nearest cards even at
 * negative similarity); `--min-similarity -1` still lists the nearest.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

const dir = makeTempDir('thicket-agents-floor-');
after(() => dir.remove());

describe('agents search relevance floor', () => {
  it('prints "No capability matches" for an unrelated need, lists matches for a related one', { timeout: 120_000 }, async () => {
    const registry = dir.file('registry.db');
    expectExit(await runCli(['agents', 'sync-fleet', '--registry', registry, '--json']), 0);
    const none = await runCli(['agents', 'search', 'bake sourdough bread', '--registry', registry]);
    expectExit(none, 0);
    assert.match(none.stdout, /^No capability matches "bake sourdough bread": the 5 nearest .* relevance floor/);
    const json = parseSingleJson<{ results: unknown[]; belowFloor: number; floor: number }>(
      await runCli(['agents', 'search', 'bake sourdough bread', '--registry', registry, '--json']),
    );
    assert.deepEqual(json.results, []);
    assert.equal(json.belowFloor, 5);
    const related = parseSingleJson<{ results: Array<{ id: string }> }>(
      await runCli(['agents', 'search', 'answer hard math questions with reasoning', '--registry', registry, '--json']),
    );
    assert.ok(related.results.length > 0);
    assert.ok(related.results[0]!.id.includes('reasoner'), related.results[0]!.id);
    const nearest = parseSingleJson<{ results: unknown[] }>(
      await runCli(['agents', 'search', 'bake sourdough bread', '--min-similarity', '-1', '--registry', registry, '--json']),
    );
    assert.equal(nearest.results.length, 5);
  });
});
