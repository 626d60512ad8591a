/**
 * Search in the governor's strategy space: with a corpus (solve --corpus, the lab's multi-hop suite) the
 * allocation uses the corpus table and sends queries the probe does not find easy to the retrieval loop;
 * without one, search is never run. Facts are fictional (closed-book, no tier can know them) and the corpus
 * states each of them (the ops layer's test corpus).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DIMENSIONS, type BudgetLimits } from '../budget/index.ts';
import { fileURLToPath } from 'node:url';
import type { SimTask } from '../models/index.ts';
import { Journal } from '../journal/index.ts';
import { openCorpus } from '../ops/index.ts';
import {
  CORPUS_CANDIDATE_ARMS,
  DEFAULT_CORPUS_ALLOCATION,
  DEFAULT_POLICY,
  armKey,
  calibrate,
  calibrationItems,
  fitGovernorPolicy,
  governedSolve,
  parsePolicy,
} from './index.ts';
import { governorHarness } from './testing.ts';

const retriever = await openCorpus(fileURLToPath(new URL('../ops/testing/corpus/northreach', import.meta.url)));

type SearchTask = SimTask & { hops?: Array<{ terms: string[]; finds?: string }> };
const fact = (id: string, prompt: string, answer: string, wrong: string[], hops?: SearchTask['hops']): SearchTask => ({
  id: `gov-nr/${id}`,
  prompt,
  answer,
  difficulty: 4.5,
  distractors: wrong.map((entry, index) => ({ answer: entry, weight: wrong.length - index })),
  ...(hops ? { hops } : {}),
});
const TASKS: SearchTask[] = [
  fact('capital-veloria', 'What is the capital of Veloria?', 'Marnhold', ['Quellen', 'Talsen']),
  fact('capital-tarsia', 'What is the capital of Tarsia?', 'Quellen', ['Marnhold', 'Talsen']),
  fact('currency-brevia', 'What is the currency of Brevia?', 'lune', ['drel', 'sorn']),
  fact('river-quellen', 'Which river flows through Quellen?', 'Lamm', ['Vire', 'Sel']),
  fact('comet', 'Who discovered the comet Perenna?', 'Ilsa Varn', ['Hedda Strom', 'Mira Cawl']),
  fact('tide-clock', 'Who invented the tide clock?', 'Orrin Dale', ['Benedek Saar', 'Mira Cawl']),
  fact(
    'oska',
    'Which river flows through the capital of Veloria?',
    'Oska',
    ['Lamm', 'Vire', 'Sel'],
    [{ terms: ['capital', 'Veloria'], finds: 'Marnhold' }, { terms: ['river'] }],
  ),
];

describe('search arm (governor with a corpus)', () => {
  it('with a corpus the default policy searches on non-easy queries and beats the closed-book governor', async () => {
    let withCorpus = 0;
    let closedBook = 0;
    let searched = 0;
    for (const task of TASKS) {
      const open = governorHarness({ tasks: TASKS });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: open.fleet,
        budget: open.ledger({ totalTokens: 12_000 }).root,
        taskId: task.id,
        retriever,
      });
      if (result.decision.difficulty.bin !== 'easy') {
        assert.equal(result.decision.arm, 'search');
        assert.match(result.decision.strategy, /^search: up to 6 retrieval steps on sim:small/);
      }
      if (result.decision.arm === 'search') {
        searched++;
        assert.ok(open.calls.some((call) => call.stepId.startsWith('gov/search/')));
      }
      assert.ok(result.usage.totalTokens <= 12_000);
      if (open.isCorrect(task, result.answer ?? undefined)) withCorpus++;
      const closed = governorHarness({ tasks: TASKS });
      const reference = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: closed.fleet,
        budget: closed.ledger({ totalTokens: 12_000 }).root,
        taskId: task.id,
      });
      assert.notEqual(reference.decision.arm, 'search');
      if (closed.isCorrect(task, reference.answer ?? undefined)) closedBook++;
    }
    assert.ok(searched >= TASKS.length - 1, `searched ${searched} of ${TASKS.length}`);
    assert.ok(withCorpus > closedBook, `with corpus ${withCorpus}, closed book ${closedBook}`);
    assert.ok(withCorpus >= TASKS.length - 2, `with corpus ${withCorpus} of ${TASKS.length}`);
  });

  it('a policy naming search without a corpus escalates instead (noted), and policies validate the corpus table', async () => {
    const policy = structuredClone(DEFAULT_POLICY);
    policy.allocation.cells.hard = policy.allocation.cells.hard.map(() => ({ arm: 'search' as const, steps: 4 }));
    policy.allocation.cells.medium = policy.allocation.cells.hard.map((cell) => ({ ...cell }));
    const harness = governorHarness({ tasks: TASKS });
    const task = TASKS[6]!;
    const result = await governedSolve({
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger({ totalTokens: 12_000 }).root,
      taskId: task.id,
      policy,
    });
    if (result.decision.difficulty.bin !== 'easy') {
      assert.equal(result.decision.arm, 'cascade');
      assert.ok(result.degraded.includes('search allocated but no corpus was given; escalating instead'));
    }
    assert.throws(
      () =>
        parsePolicy({
          ...DEFAULT_POLICY,
          allocation: {
            ...DEFAULT_POLICY.allocation,
            corpus: { levels: [4000, 1500, 12000], cells: { ...DEFAULT_CORPUS_ALLOCATION.cells, easy: [{ arm: 'stop' }] } },
          },
        }),
      (error: Error & { issues?: Array<{ path: string }> }) => {
        assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['allocation.corpus.cells.easy', 'allocation.corpus.levels[1]']);
        return true;
      },
    );
  });

  it('calibrating with the corpus fits the corpus table, and the main table is untouched', async () => {
    const harness = governorHarness({ tasks: TASKS });
    const journal = Journal.open(':memory:');
    try {
      const run = await calibrate({
        fleet: harness.fleet,
        journal,
        items: calibrationItems(TASKS, { registered: true }),
        stages: false,
        levels: [12_000],
        arms: CORPUS_CANDIDATE_ARMS,
        retriever,
        seed: 3,
      });
      const fitted = fitGovernorPolicy(journal, { runIds: [run.runId], allocation: { minItems: 3 } });
      const corpus = fitted.policy.allocation.corpus;
      assert.ok(corpus && fitted.corpusReport);
      assert.deepEqual(corpus.levels, [12_000]);
      assert.deepEqual(fitted.policy.allocation.cells, DEFAULT_POLICY.allocation.cells);
      // Every calibrated cell with enough items chose a search arm: closed-book answers to fictional facts are guesses.
      for (const cell of fitted.corpusReport.filter((report) => report.items >= 3))
        assert.match(cell.chosen, /^search:/, `${cell.bin}: ${cell.chosen}`);
      assert.ok(fitted.corpusReport.some((report) => report.items >= 3));
      // Every candidate arm was measured (search at three depths among them).
      const measured = fitted.corpusReport.find((report) => report.items > 0)!;
      assert.deepEqual(Object.keys(measured.arms).sort(), CORPUS_CANDIDATE_ARMS.map(armKey).sort());
    } finally {
      journal.close();
    }
  });

  it('property: with a corpus the governor (search arm included) never spends past the budget', async () => {
    const outcomes: Record<string, number> = {};
    const limitsArbitrary = fc.record({
      totalTokens: fc.integer({ min: 40, max: 9_000 }),
      usd: fc.option(fc.double({ min: 1e-5, max: 0.004, noNaN: true }), { nil: undefined }),
      calls: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        limitsArbitrary,
        fc.integer({ min: 0, max: TASKS.length - 1 }),
        fc.constantFrom(
          undefined,
          { arm: 'search' as const, steps: 6, k: 3 },
          { arm: 'search' as const, steps: 3, k: 2, tier: 'medium' as const },
        ),
        async (drawn, index, force) => {
          const limits = Object.fromEntries(Object.entries(drawn).filter(([, value]) => value !== undefined)) as BudgetLimits;
          const harness = governorHarness({ tasks: TASKS });
          const ledger = harness.ledger(limits);
          const task = TASKS[index]!;
          const result = await governedSolve({
            policy: DEFAULT_POLICY,
            query: task.prompt,
            fleet: harness.fleet,
            budget: ledger.root,
            taskId: task.id,
            retriever,
            ...(force ? { force } : {}),
          });
          outcomes[result.status] = (outcomes[result.status] ?? 0) + 1;
          const report = ledger.report();
          for (const dimension of DIMENSIONS) {
            const limit = limits[dimension];
            const tolerance = dimension === 'usd' ? 1e-12 : 0;
            if (limit !== undefined)
              assert.ok(report.total[dimension] <= limit + tolerance, `${dimension}: spent ${report.total[dimension]} > ${limit}`);
            assert.ok(Math.abs(ledger.root.reserved()[dimension]) <= tolerance, `${dimension} still reserved`);
          }
          assert.equal(result.usage.totalTokens, report.total.totalTokens);
        },
      ),
      { seed: 77, numRuns: 60 },
    );
    assert.ok((outcomes['ok'] ?? 0) > 5 && (outcomes['budget_exhausted'] ?? 0) + (outcomes['error'] ?? 0) > 5, JSON.stringify(outcomes));
  });
});
