/**
 * Fitting the governor's frontier tables from a study on training seeds, and using them on held-out seeds:
 * the candidates run (fixed strategies and the governor's arms), the tables cover every family × model ×
 * budget, a held-out seed is refused for training, and `auto` on the fitted policy runs what its table says.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../core/index.ts';
import { Journal } from '../journal/index.ts';
import {
  fitGovernorFromStudies,
  frontierRecords,
  governorCandidates,
  parseStudy,
  policyFromRecords,
  runStudy,
  type StudyDefinition,
} from './index.ts';
import { writePolicy } from '../governor/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-governor-fit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const study = (): StudyDefinition =>
  parseStudy({
    version: 1,
    id: 'fit',
    suites: [
      { kind: 'arithmetic', items: 6, operations: [2, 5] },
      { kind: 'multihop', items: 6, hops: [1, 2] },
    ],
    architectures: ['single', 'thread', 'search', 'auto'],
    budgets: [800, 4000],
    models: ['sim:small'],
    seeds: [1],
    concurrency: 8,
    maxOutputTokens: 384,
  });

describe('fitting the frontier tables', () => {
  it('refuses a held-out seed for training, before running anything', async () => {
    const journal = Journal.open(':memory:');
    await assert.rejects(
      fitGovernorFromStudies({ journal, studies: [{ study: study(), seeds: [1001, 1] }], heldOutSeeds: [1, 2] }),
      (error: unknown) =>
        error instanceof InvalidInputError && /studies\[0\]\.seeds.*seed 1 is held out/.test(JSON.stringify(error.issues)),
    );
    assert.equal(journal.listRuns().length, 0);
    journal.close();
  });

  it('fits a table per family, model and objective from the training seeds; auto on held-out items runs its choice', async () => {
    const journal = Journal.open(join(scratch, 'fit.db'));
    const fitted = await fitGovernorFromStudies({
      journal,
      studies: [{ study: study(), seeds: [1001, 1002] }],
      heldOutSeeds: [1],
      objectives: ['tokens', 'usd'],
    });
    assert.deepEqual(governorCandidates(study()), ['adaptive-vote@5', 'adaptive-vote@9', 'adaptive-vote@15', 'router', 'governed']);
    // auto is not a candidate; every other architecture ran on both seeds.
    const architectures = new Set(fitted.observations.map((record) => record.choice));
    assert.ok(!architectures.has('auto'));
    for (const name of ['single', 'thread', 'search', 'router', 'governed', 'adaptive-vote@9']) assert.ok(architectures.has(name), name);
    assert.deepEqual([...new Set(fitted.observations.map((record) => record.itemId.split(':')[0]))].sort(), ['1001', '1002']);
    assert.deepEqual(fitted.frontier.source.seeds, [1001, 1002]);
    assert.deepEqual(
      fitted.frontier.tables.map(
        (table) => `${table.objective}/${table.family}/${table.model}/${table.entries.map((entry) => entry.level).join(',')}`,
      ),
      [
        'tokens/arithmetic/sim:small/800,4000',
        'tokens/multihop/sim:small/800,4000',
        'usd/arithmetic/sim:small/800,4000',
        'usd/multihop/sim:small/800,4000',
      ],
    );
    // Each entry's choice is the cheapest within a point of the most accurate candidate, on the training items.
    for (const table of fitted.frontier.tables)
      for (const entry of table.entries) {
        const best = Math.max(...entry.candidates.map((candidate) => candidate.accuracy));
        assert.ok(entry.train.accuracy >= best - 0.01 - 1e-9);
        for (const candidate of entry.candidates)
          if (candidate.accuracy >= best - 0.01 - 1e-9)
            assert.ok(entry.train.cost <= candidate.cost + 1e-12, `${entry.choice} vs ${candidate.choice}`);
        assert.equal(entry.train.items, 12, 'six items × two training seeds');
      }
    // Refitting from the records gives the same tables.
    const again = policyFromRecords(fitted.observations, fitted.frontier.source, { objectives: ['tokens', 'usd'] });
    assert.deepEqual(again.frontier, fitted.frontier);

    // Held out: auto on the fitted policy (THICKET_GOVERNOR_POLICY) runs what the table chose for its family and budget.
    const path = join(scratch, 'policy.json');
    writePolicy(path, fitted.policy);
    process.env['THICKET_GOVERNOR_POLICY'] = path;
    try {
      const heldOut = await runStudy({ ...study(), id: 'held-out', architectures: ['auto'] }, { journal });
      const records = frontierRecords({ ...heldOut, cells: heldOut.cells.map((cell) => ({ ...cell, architecture: 'x' })) });
      assert.equal(records.length, 24, 'two suites × six items × two budgets');
      const chosen = new Map(
        fitted.frontier.tables
          .filter((table) => table.objective === 'tokens')
          .flatMap((table) => table.entries.map((entry) => [`${table.family}|${entry.level}`, entry.choice] as const)),
      );
      const kindOf = new Map(heldOut.suites.map((suite) => [suite.name, suite.kind]));
      for (const cell of heldOut.cells) {
        const choice = chosen.get(`${kindOf.get(cell.suite)}|${cell.budget}`)!;
        // A fixed strategy runs without a probe; an adaptive arm or the governed path probes first.
        const probed = (cell.axes['probe'] ?? 0) > 0;
        assert.equal(probed, !['single', 'thread', 'search'].includes(choice), `${cell.suite} ${cell.budget}: ${choice}`);
        assert.ok(cell.usage.totalTokens <= cell.budget);
      }
    } finally {
      delete process.env['THICKET_GOVERNOR_POLICY'];
      journal.close();
    }
  });
});
