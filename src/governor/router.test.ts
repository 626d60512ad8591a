import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DIMENSIONS, type BudgetLimits } from '../budget/index.ts';
import { DEFAULT_POLICY, governedSolve, mixedArithmeticSuite, summarise, type AllocationCell } from './index.ts';
import { reachableBins } from './probe.ts';
import { governorHarness } from './testing.ts';

const tasks = mixedArithmeticSuite({ count: 30, seed: 8 });
const answerCalls = (calls: ReadonlyArray<{ purpose: string; stepId: string }>) => calls.filter((call) => call.purpose === 'answer');

describe('probe reuse', () => {
  it('the vote arm counts the probe samples as its first votes: N samples cost N calls, not N + probe', async () => {
    let checked = 0;
    for (const task of tasks) {
      const harness = governorHarness({ tasks });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: harness.fleet,
        budget: harness.ledger().root,
        taskId: task.id,
        force: { arm: 'vote', samples: 9 },
      });
      const probeCalls = answerCalls(harness.calls).filter((call) => call.stepId.startsWith('gov/probe/')).length;
      const voteCalls = answerCalls(harness.calls).filter((call) => call.stepId.startsWith('gov/vote/')).length;
      assert.equal(result.decision.reusedProbeSamples, probeCalls);
      assert.equal(result.decision.difficulty.samples, probeCalls);
      // The vote's sample count is probe + new draws, and never more than the 9 asked for.
      const samples = Number(/vote: (\d+) samples/.exec(result.decision.strategy)![1]);
      assert.equal(samples, probeCalls + voteCalls);
      assert.ok(samples <= 9);
      if (!result.decision.strategy.includes('stopped once decided')) assert.equal(samples, 9);
      checked++;
    }
    assert.equal(checked, tasks.length);
  });

  it('the cascade router uses the probe as its first stage (no stage-0 calls) and escalates on low confidence', async () => {
    let escalated = 0;
    for (const task of tasks) {
      const harness = governorHarness({ tasks });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: harness.fleet,
        budget: harness.ledger().root,
        taskId: task.id,
        force: { arm: 'cascade', escalate: true },
      });
      assert.equal(harness.calls.filter((call) => call.stepId.includes('/stage-0/')).length, 0);
      assert.equal(result.decision.reusedProbeSamples, result.decision.difficulty.samples);
      // `escalate`: the probe is never accepted, so the medium tier always runs.
      assert.deepEqual(result.decision.escalations[0], {
        from: 'sim:small',
        to: 'sim:medium',
        signal: 'confidence',
        value: result.decision.escalations[0]!.value,
        threshold: DEFAULT_POLICY.cascade.stages[0]!.threshold,
      });
      assert.ok(harness.calls.some((call) => call.model === 'sim:medium' && call.stepId.startsWith('gov/cascade/stage-1/')));
      if (result.decision.escalations.length === 2) escalated++;
      assert.equal(result.status, 'ok');
    }
    assert.ok(escalated > 0, 'some queries must reach the large tier');
  });

  it('starting at sim:medium never calls sim:small (escalation only upward from the chosen tier)', async () => {
    const task = tasks[4]!;
    const harness = governorHarness({ tasks });
    const result = await governedSolve({
      policy: DEFAULT_POLICY,
      query: task.prompt,
      fleet: harness.fleet,
      budget: harness.ledger().root,
      taskId: task.id,
      model: 'sim:medium',
      force: { arm: 'cascade', escalate: true },
    });
    assert.deepEqual(result.decision.tiers, { medium: 'sim:medium', large: 'sim:large' });
    assert.ok(harness.calls.length > 0);
    assert.ok(harness.calls.every((call) => call.model !== 'sim:small'));
    assert.deepEqual(
      result.decision.escalations.map((step) => [step.from, step.to]),
      [['sim:medium', 'sim:large']],
    );
  });

  it('stops early on easy queries: the answer is the probe’s and only the probe spent', async () => {
    const harness = governorHarness({ tasks });
    const easy = [];
    for (const task of tasks) {
      const fresh = governorHarness({ tasks });
      const result = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: fresh.fleet,
        budget: fresh.ledger().root,
        taskId: task.id,
      });
      if (result.decision.difficulty.bin !== 'easy') continue;
      easy.push(task.id);
      assert.equal(result.decision.arm, 'stop');
      assert.equal(result.answer, result.decision.difficulty.answer);
      assert.deepEqual(Object.keys(result.spendByAxis), ['probe']);
      assert.ok(result.usage.calls >= 2 && result.usage.calls <= 3);
    }
    assert.ok(easy.length >= 5, `expected easy items in a mixed suite, got ${easy.length}`);
    assert.equal(harness.calls.length, 0);
  });
});

const limitsArbitrary = fc.record(
  {
    totalTokens: fc.noBias(fc.integer({ min: 0, max: 9_000 })),
    outputTokens: fc.noBias(fc.integer({ min: 0, max: 6_000 })),
    usd: fc.noBias(fc.integer({ min: 0, max: 6_000 })).map((micro) => micro / 1e6),
    calls: fc.noBias(fc.integer({ min: 0, max: 30 })),
  },
  { requiredKeys: [] },
);

const cellArbitrary: fc.Arbitrary<AllocationCell | undefined> = fc.constantFrom<AllocationCell | undefined>(
  undefined,
  { arm: 'stop' },
  { arm: 'vote', samples: 15 },
  { arm: 'vote', samples: 9, lead: 2 },
  { arm: 'cascade' },
  { arm: 'cascade', escalate: true },
  { arm: 'cascade', escalate: true, tier: 'large' },
  { arm: 'thread', steps: 12 },
  { arm: 'plan' },
);

describe('budget', () => {
  it('property: probe + escalation + planning never spend past the one budget, and never throw for budget', async () => {
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limits: limitsArbitrary,
          cell: cellArbitrary,
          task: fc.integer({ min: 0, max: tasks.length - 1 }),
          start: fc.constantFrom('sim:small', 'sim:medium'),
        }),
        async ({ limits, cell, task, start }) => {
          const harness = governorHarness({ tasks });
          const ledger = harness.ledger(limits);
          const item = tasks[task]!;
          const result = await governedSolve({
            policy: DEFAULT_POLICY,
            query: item.prompt,
            fleet: harness.fleet,
            budget: ledger.root,
            taskId: item.id,
            model: start,
            examples: false,
            ...(cell ? { force: cell } : {}),
          });
          outcomes[result.status] = (outcomes[result.status] ?? 0) + 1;
          const report = ledger.report();
          for (const dimension of DIMENSIONS) {
            const limit = (limits as BudgetLimits)[dimension];
            const tolerance = dimension === 'usd' ? 1e-12 : 0;
            if (limit !== undefined)
              assert.ok(report.total[dimension] <= limit + tolerance, `${dimension}: spent ${report.total[dimension]} > ${limit}`);
            assert.ok(Math.abs(ledger.root.reserved()[dimension]) <= tolerance, `${dimension} still reserved`);
            assert.ok(report.overrun[dimension] <= tolerance, `${dimension} overrun`);
          }
          // The explanation's spend is the ledger's spend.
          assert.equal(result.usage.totalTokens, report.total.totalTokens);
          assert.ok(result.status !== 'error' || result.answer === undefined);
        },
      ),
      { seed: 20250301, numRuns: 120 },
    );
    // Not vacuous: both outcomes happen.
    assert.ok((outcomes['ok'] ?? 0) > 10, JSON.stringify(outcomes));
    assert.ok((outcomes['budget_exhausted'] ?? 0) + (outcomes['error'] ?? 0) > 10, JSON.stringify(outcomes));
  });
});

describe('cheaper probe', () => {
  it('stops after the early-exit samples when the remaining ones could not change the arm', async () => {
    // Medium and hard lead to the same arm: two disagreeing samples already decide "not easy", so the third
    // probe sample is never drawn; with the default policy (medium ≠ hard) it is.
    const policy = structuredClone(DEFAULT_POLICY);
    policy.allocation.cells.medium = policy.allocation.cells.hard.map(() => ({ arm: 'cascade', escalate: true }));
    policy.allocation.cells.hard = policy.allocation.cells.medium.map((cell) => ({ ...cell }));
    let decided = 0;
    for (const task of tasks) {
      const cheap = governorHarness({ tasks });
      const result = await governedSolve({
        query: task.prompt,
        fleet: cheap.fleet,
        budget: cheap.ledger({ totalTokens: 4000 }).root,
        taskId: task.id,
        policy,
      });
      const full = governorHarness({ tasks });
      const reference = await governedSolve({
        policy: DEFAULT_POLICY,
        query: task.prompt,
        fleet: full.fleet,
        budget: full.ledger({ totalTokens: 4000 }).root,
        taskId: task.id,
      });
      const probeCalls = (harness: typeof cheap) =>
        answerCalls(harness.calls).filter((call) => call.stepId.startsWith('gov/probe/')).length;
      if (result.decision.difficulty.stoppedEarly === 'decided') {
        decided++;
        assert.equal(probeCalls(cheap), 2);
        assert.notEqual(result.decision.arm, 'stop');
        // The full probe of the same query drew three samples (its first two are the same draws).
        if (reference.decision.difficulty.stoppedEarly === undefined) assert.equal(probeCalls(full), 3);
      }
      assert.ok(probeCalls(cheap) <= probeCalls(full));
    }
    assert.ok(decided > 0, 'some queries were decided after two samples');
  });

  it('reachableBins: unanimous confident samples can still end easy; split ones cannot', () => {
    const candidate = (answer: string, confidence: number) => ({
      index: 0,
      answer,
      normalized: answer,
      confidence,
      text: '',
      nodeId: undefined,
    });
    const agree = [candidate('4', 0.9), candidate('4', 0.6)];
    assert.deepEqual([...reachableBins(summarise(agree), agree, 1, DEFAULT_POLICY.difficulty)].sort(), ['easy', 'medium']);
    const split = [candidate('4', 0.9), candidate('5', 0.9)];
    assert.deepEqual([...reachableBins(summarise(split), split, 1, DEFAULT_POLICY.difficulty)].sort(), ['hard', 'medium']);
    assert.deepEqual([...reachableBins(summarise(split), split, 0, DEFAULT_POLICY.difficulty)], ['hard']);
  });
});
