/**
 * Issue 15d: every governed solve is a trajectory, not only the planner's workflows. A governed sim run that
 * chose a fixed arm (here vote and cascade, forced) journals one `trajectory` step, and `exportTrajectories`
 * writes it with the query, the probe features, the decision, the cost, the outcome and (checkable) the reward.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Journal } from '../journal/index.ts';
import {
  GOVERNED_STEP_ID,
  GOVERNED_STEP_KIND,
  exportTrajectories,
  governedSolve,
  mixedArithmeticSuite,
  parseTrajectories,
  readTrajectories,
  DEFAULT_POLICY,
} from './index.ts';
import { governorHarness } from './testing.ts';

const tasks = mixedArithmeticSuite({ count: 12, seed: 5 });

describe('governed trajectories (issue 15d)', () => {
  it('a governed run that chose a fixed strategy exports one trajectory record with features, decision, cost, outcome and reward', async () => {
    const journal = Journal.open(':memory:');
    const task = tasks[3]!;
    journal.createRun({ id: 'fixed', command: 'solve', query: task.prompt, simulated: true });
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 20_000 });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
      force: { arm: 'vote', samples: 5 },
      checker: (answer) => answer === task.answer,
      journal: { journal, runId: 'fixed' },
      examples: false,
    });
    assert.equal(result.decision.arm, 'vote');
    assert.equal(result.decision.spec, undefined, 'no planner workflow');

    const steps = journal.getSteps('fixed').filter((step) => step.kind === GOVERNED_STEP_KIND);
    assert.deepEqual(
      steps.map((step) => step.stepId),
      [GOVERNED_STEP_ID],
    );

    const lines: string[] = [];
    const written = exportTrajectories(journal, { write: (chunk: string) => lines.push(chunk) });
    assert.equal(written, 1, 'exported although no workflow was planned');
    const [record] = parseTrajectories(lines.join(''));
    assert.deepEqual(parseTrajectories(lines.join('')), readTrajectories(journal));
    assert.ok(record);
    assert.equal(record.source, 'governor');
    assert.equal(record.runId, 'fixed');
    assert.equal(record.query, task.prompt);
    assert.equal(record.taskId, task.id);
    assert.equal(record.status, 'executed');
    assert.equal(record.spec, null);
    // Features: what the probe measured and the budget the decision was made on.
    assert.equal(record.features?.bin, result.decision.difficulty.bin);
    assert.equal(record.features?.score, result.decision.difficulty.score);
    assert.equal(record.features?.probeSamples, result.decision.difficulty.samples);
    assert.equal(record.features?.budgetLevel, result.decision.budgetLevel);
    assert.deepEqual(record.features?.budget, { totalTokens: 20_000 });
    // Decision.
    assert.equal(record.decision?.arm, 'vote');
    assert.deepEqual(record.decision?.cell, { arm: 'vote', samples: 5 });
    assert.equal(record.decision?.strategy, result.decision.strategy);
    assert.equal(record.decision?.forced, true);
    // Cost: the whole solve's spend (no planning calls on this arm), equal to the ledger's.
    assert.deepEqual(record.cost.planning, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    assert.equal(record.cost.execution.totalTokens, ledger.report().total.totalTokens);
    assert.equal(record.cost.execution.calls, result.usage.calls);
    assert.ok(record.cost.execution.calls > 0);
    // Outcome and reward (checkable: quality 1 or 0, minus half the budget share spent).
    assert.equal(record.outcome?.status, result.status);
    assert.equal(record.outcome?.answer, result.answer);
    assert.equal(record.outcome?.checkedBy, 'checker');
    const quality = result.answer === task.answer ? 1 : 0;
    assert.equal(record.outcome?.quality, quality);
    assert.ok(record.reward !== undefined);
    assert.ok(Math.abs(record.reward - (quality - 0.5 * (result.usage.totalTokens / 20_000))) < 1e-12);
    assert.equal(record.objective, record.reward);
    journal.close();
  });

  it('every arm is exported: a cascade run too, and without a checker there is no reward', async () => {
    const journal = Journal.open(':memory:');
    const task = tasks[5]!;
    journal.createRun({ id: 'cascade', command: 'solve', query: task.prompt, simulated: true });
    const harness = governorHarness({ tasks });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger({ totalTokens: 20_000 }).root,
      force: { arm: 'cascade' },
      journal: { journal, runId: 'cascade' },
      examples: false,
    });
    const records = readTrajectories(journal, { source: 'governor' });
    assert.equal(records.length, 1);
    assert.equal(records[0]!.decision?.arm, 'cascade');
    assert.equal(records[0]!.outcome?.checkedBy, 'none');
    assert.equal(records[0]!.outcome?.answer, result.answer);
    assert.equal(records[0]!.reward, undefined);
    assert.equal(records[0]!.cost.execution.totalTokens, result.usage.totalTokens);
    assert.deepEqual(readTrajectories(journal, { source: 'planner' }), []);
    journal.close();
  });
});
