/**
 * A dollar-denominated study on a model with no known price would give every cell $0 (every budget the same,
 * none enforced): refused before anything is journaled or sent (UNPRICED_MODEL, exit 2; issue 16 §4).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError, exitCodeFor } from '../core/index.ts';
import { Journal } from '../journal/index.ts';
import { parseFleetConfig } from '../models/index.ts';
import { parseStudy, runStudy } from './index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-unpriced-study-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// Port 1 on loopback: nothing listens, and nothing may be sent there anyway.
const config = (prices: Record<string, number> = {}) =>
  parseFleetConfig({
    version: 1,
    models: { local: { provider: 'openai-compatible', baseURL: 'http://127.0.0.1:1/v1', model: 'm', ...prices } },
  });
const study = (overrides: Record<string, unknown>) =>
  parseStudy({
    version: 1,
    id: 'unpriced',
    suites: [{ kind: 'arithmetic', items: 2 }],
    architectures: ['single'],
    models: ['local'],
    ...overrides,
  });

describe('study: dollar budgets need prices', () => {
  it('budgetUnit usd or a usd limit on an unpriced model: UNPRICED_MODEL, nothing journaled', async () => {
    for (const overrides of [
      { budgetUnit: 'usd', budgets: [0.001] },
      { budgets: [1500], limits: { usd: 1 } },
    ]) {
      const journal = Journal.open(join(scratch, `journal-${Object.keys(overrides).join('-')}.db`));
      try {
        await assert.rejects(runStudy(study(overrides), { journal, config: config() }), (error: unknown) => {
          assert.ok(ThicketError.isInstance(error));
          assert.equal(error.code, 'UNPRICED_MODEL');
          assert.equal(exitCodeFor(error), 2);
          assert.match(error.message, /"local"/);
          return true;
        });
        assert.equal(journal.listRuns().length, 0, 'no study run was journaled');
      } finally {
        journal.close();
      }
    }
  });
});
