import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal/index.ts';
import {
  GOVERNOR_STEP_KIND,
  PLAN_STEP_KIND,
  exportTrajectories,
  governedSolve,
  mixedArithmeticSuite,
  parseTrajectories,
  readTrajectories,
  tierBinder,
  DEFAULT_POLICY,
} from './index.ts';
import { governorHarness } from './testing.ts';

const tasks = mixedArithmeticSuite({ count: 12, seed: 5 });

describe('governedSolve', () => {
  it('explains its decision and attributes spend by axis: probe, planning, execution', async () => {
    const task = tasks[2]!;
    const harness = governorHarness({ tasks });
    const ledger = harness.ledger({ totalTokens: 20_000 });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: ledger.root,
      taskId: task.id,
      planning: 'always',
      examples: false,
    });
    assert.equal(result.decision.arm, 'plan');
    assert.equal(result.decision.planner?.model, 'sim:small');
    assert.ok(result.decision.spec && result.decision.spec.nodes.length > 0);
    assert.ok(['medium', 'hard'].includes(result.decision.difficulty.bin));
    assert.ok(result.decision.difficulty.samples >= 2);
    assert.equal(result.decision.budgetLevel, 12_000);
    assert.ok(result.spendByAxis['probe']!.calls >= 2);
    assert.ok(result.spendByAxis['planning']!.calls >= 1);
    // Probe + planning + execution add up to the ledger's total: one budget for everything.
    const report = ledger.report();
    const sum = Object.values(result.spendByAxis).reduce((total, line) => total + line.totalTokens, 0);
    assert.equal(sum, report.total.totalTokens);
    assert.equal(result.usage.totalTokens, report.total.totalTokens);
    assert.ok(report.total.totalTokens <= 20_000);
    assert.equal(result.simulated, true);
    assert.equal(result.status, 'ok');
    assert.ok(result.trace.events.some((event) => event.stepId.startsWith('gov/plan/')));
  });

  it('uses the binder for every model: a registry-backed binder can restrict tiers and the planner', async () => {
    const task = tasks[7]!;
    const harness = governorHarness({ tasks });
    const binder = tierBinder({ tiers: { small: 'sim:small', large: 'sim:large' }, planner: 'sim:medium' });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      binder,
      planning: 'always',
      examples: false,
    });
    assert.deepEqual(result.decision.tiers, { small: 'sim:small', large: 'sim:large' });
    assert.ok(harness.calls.filter((call) => call.purpose === 'plan').every((call) => call.model === 'sim:medium'));
    assert.ok(harness.calls.filter((call) => call.purpose !== 'plan').every((call) => call.model !== 'sim:medium'));
  });

  it('falls back to escalation when no planner can be bound, and honours planning: never', async () => {
    const task = tasks[7]!;
    const harness = governorHarness({ tasks });
    const binder = tierBinder({
      tiers: { small: 'sim:small', medium: 'sim:medium' },
      labels: { 'sim:small': ['local'], 'sim:medium': ['local'] },
    });
    // The query demands a label no model carries: nothing can be bound, so the starting model answers alone.
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      model: 'sim:small',
      binder,
      labels: ['air-gapped'],
      planning: 'always',
    });
    assert.deepEqual(result.decision.tiers, { small: 'sim:small' });
    assert.equal(result.decision.arm, 'cascade');
    assert.ok(harness.calls.every((call) => call.model === 'sim:small'));
    const never = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      force: { arm: 'plan' },
      planning: 'never',
    });
    assert.equal(never.decision.arm, 'cascade');
  });

  it('journals plan steps and the decision; trajectories export as JSONL and read back identically', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thicket-trajectories-'));
    const journal = Journal.open(join(folder, 'journal.db'));
    try {
      for (const [index, task] of tasks.slice(0, 4).entries()) {
        const runId = `run-${index}`;
        journal.createRun({ id: runId, command: 'solve', query: task.prompt, simulated: true });
        const harness = governorHarness({ tasks });
        await governedSolve({
          policy: DEFAULT_POLICY,
          query: task.prompt,
          fleet: harness.fleet,
          budget: harness.ledger().root,
          taskId: task.id,
          force: { arm: 'plan' },
          checker: (answer) => answer === task.answer,
          journal: { journal, runId },
          examples: false,
        });
      }
      const steps = journal.getSteps('run-0');
      assert.ok(steps.some((step) => step.kind === PLAN_STEP_KIND));
      assert.equal(steps.filter((step) => step.kind === GOVERNOR_STEP_KIND).length, 1);
      const path = join(folder, 'trajectories.jsonl');
      const written = exportTrajectories(journal, path);
      const text = readFileSync(path, 'utf8');
      assert.equal(text.trim().split('\n').length, written);
      const parsed = parseTrajectories(text);
      assert.deepEqual(parsed, readTrajectories(journal));
      assert.ok(written >= 4);
      const executed = parsed.filter((line) => line.status === 'executed' || line.status === 'fallback');
      assert.ok(executed.length >= 4);
      for (const line of executed) {
        assert.ok(line.query.startsWith('What is'));
        assert.ok(line.outcome && line.outcome.checkedBy === 'checker' && (line.outcome.quality === 0 || line.outcome.quality === 1));
        assert.equal(typeof line.objective, 'number');
        assert.deepEqual(line.weights, { lambda: 0.5, mu: 0.02 });
        assert.ok(line.cost.execution.totalTokens > 0);
        assert.ok((line.spec as { version: number }).version === 1);
      }
      // Writables work too, and a broken line is reported with its number.
      const chunks: string[] = [];
      assert.equal(
        exportTrajectories(journal, { write: (chunk: string) => chunks.push(chunk) }, { runIds: ['run-1'] }),
        parsed.filter((line) => line.runId === 'run-1').length,
      );
      assert.throws(() => parseTrajectories(`${text}{"version":1}\n`), new RegExp(`line ${written + 1}`));
    } finally {
      journal.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
