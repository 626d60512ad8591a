import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../budget/index.ts';
import { DEFAULT_SOLO_MAX_OUTPUT_TOKENS } from '../ops/index.ts';
import { STRATEGIES, defaultMaxOutputTokens, defaultOperators, runWorkflow, strategySpec } from './index.ts';
import { simFleet } from './testing.ts';

const QUERY = 'What is (17*23)+(4*9)?';

async function runSolo(maxOutputTokens: number | undefined) {
  const { fleet } = simFleet();
  const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: 20_000 } });
  const spec = strategySpec('solo', { model: 'sim:medium', samples: 1, ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}) });
  return { result: await runWorkflow({ spec, query: QUERY, fleet, budget: ledger.root, operators: defaultOperators() }), ledger };
}

describe('strategy output caps', () => {
  it('defaultMaxOutputTokens: solo gets room for its whole transcript, thread for its steps, answers 512', () => {
    assert.equal(defaultMaxOutputTokens('solo'), DEFAULT_SOLO_MAX_OUTPUT_TOKENS);
    assert.equal(defaultMaxOutputTokens('solo'), 1536);
    assert.equal(defaultMaxOutputTokens('thread'), 512);
    for (const strategy of ['single', 'vote', 'refine', 'search', 'debate', 'cascade'] as const)
      assert.equal(defaultMaxOutputTokens(strategy), 512, strategy);
    for (const strategy of STRATEGIES) assert.ok(defaultMaxOutputTokens(strategy) >= 512, strategy);
  });

  it('strategySpec uses the strategy default without an explicit cap, and the explicit cap when given', () => {
    assert.equal(strategySpec('solo', { model: 'sim:medium', samples: 1 }).defaults?.maxOutputTokens, 1536);
    assert.equal(strategySpec('single', { model: 'sim:medium', samples: 1 }).defaults?.maxOutputTokens, 512);
    assert.equal(strategySpec('solo', { model: 'sim:medium', samples: 1, maxOutputTokens: 700 }).defaults?.maxOutputTokens, 700);
  });

  it('solo on sim:medium with the default cap answers (17*23)+(4*9) = 427 (issue 15a: the 512 cap truncated it)', async () => {
    const { result, ledger } = await runSolo(undefined);
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, String(17 * 23 + 4 * 9));
    assert.equal(result.answer, '427');
    assert.equal(ledger.root.spent().calls, 1);
    // The old behaviour, for contrast: a 512 cap cuts the structured transcript and no answer is produced.
    const truncated = await runSolo(512);
    assert.equal(truncated.result.answer, undefined);
  });
});
