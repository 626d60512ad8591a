/**
 * `thicket.registry.search` (the library) applies the embedder's relevance floor: a need nothing matches gives
 * `[]` instead of the k nearest unrelated cards (issue 16 §5); the CLI prints a plain "No capability matches".
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-registry-search-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const cards = [
  { id: 'contracts', version: '1.0.0', name: 'contracts', description: 'Summarize legal contracts: clauses, parties and obligations.' },
  { id: 'geometry', version: '1.0.0', name: 'geometry', description: 'Solve geometry problems: triangles, circles, areas and angles.' },
].map((card) => ({ ...card, binding: { kind: 'agent', name: card.id }, provider: 'local' }));

describe('library registry search', () => {
  it('returns the best match first for a related need and [] for an unrelated one', async () => {
    const thicket = await createRuntime({
      journal: join(folder, 'journal.db'),
      registry: join(folder, 'registry.db'),
      config: { version: 1, models: {} },
    });
    try {
      await thicket.registry.add(cards);
      const related = await thicket.registry.search({ need: 'summarize this legal contract', k: 2 });
      assert.equal(related[0]?.card.id, 'contracts');
      assert.deepEqual(await thicket.registry.search({ need: 'bake sourdough bread with rye flour', k: 2 }), []);
      assert.equal((await thicket.registry.search({ need: 'bake sourdough bread with rye flour', k: 2, minSimilarity: -1 })).length, 2);
    } finally {
      await thicket.close();
    }
  });
});
