/**
 * The runtime as a library user drives it: `createRuntime` (the package's `createThicket` adds studies),
 * solve / stream / runWorkflow / agentsnet / runs, on the simulated fleet in temp journals.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, ThicketError } from '../core/index.ts';
import { createRuntime, defaultVoteSamples, type ThicketEvent } from './index.ts';

const QUERY = 'What is 17*23?';
const folders: string[] = [];
function tempJournal(): string {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-runtime-'));
  folders.push(folder);
  return join(folder, 'journal.db');
}
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('runtime: solve', () => {
  it('a budgeted vote on the simulated fleet: answer, status, usage within the budget, journaled', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({ journal, config: { version: 1, models: {} } });
    try {
      const result = await thicket.solve(QUERY, {
        model: 'sim:small',
        strategy: 'vote',
        samples: 5,
        budget: { totalTokens: 5000 },
        seed: 1,
      });
      assert.equal(result.status, 'ok');
      assert.equal(result.answer, '391');
      assert.equal(result.simulated, true);
      assert.equal(result.strategy, 'vote');
      assert.equal(result.vote?.samples, 5);
      assert.equal(result.usage.calls, 5);
      assert.ok(result.usage.totalTokens > 0 && result.usage.totalTokens <= 5000, `spent ${result.usage.totalTokens}`);
      assert.deepEqual(result.newUsage, result.usage);
      const details = thicket.runs.get(result.runId);
      assert.equal(details?.run.status, 'ok');
      assert.equal(details?.calls.length, 5);
      assert.equal(thicket.runs.list().length, 1);
      // Same run id again: every call replayed, nothing new spent.
      const again = await thicket.solve(QUERY, {
        model: 'sim:small',
        strategy: 'vote',
        samples: 5,
        budget: { totalTokens: 5000 },
        seed: 1,
        runId: result.runId,
      });
      assert.equal(again.resumed, true);
      assert.equal(again.answer, '391');
      assert.equal(again.newUsage.calls, 0);
      assert.equal(again.replayedCalls, 5);
    } finally {
      await thicket.close();
    }
  });

  it('a vote without a width gets one sized to the budget (defect b)', async () => {
    assert.equal(defaultVoteSamples(undefined), 5);
    assert.equal(defaultVoteSamples({ totalTokens: 20_000 }), 15);
    assert.equal(defaultVoteSamples({ totalTokens: 2_000 }), 4);
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const result = await thicket.solve(QUERY, { model: 'sim:small', strategy: 'vote', budget: { totalTokens: 2000 } });
      assert.equal(result.vote?.samples, 4);
      assert.ok((result.vote?.completed ?? 0) > 1, `completed ${result.vote?.completed}`);
    } finally {
      await thicket.close();
    }
  });

  it('solo without an output cap gets the strategy default and answers (defect a)', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const result = await thicket.solve('What is (17*23)+(4*9)?', {
        model: 'sim:medium',
        strategy: 'solo',
        budget: { totalTokens: 20_000 },
      });
      assert.equal(result.status, 'ok');
      assert.equal(result.answer, '427');
      // Every call the run paid for is in the journal (failed ones too), so its totals agree with the result.
      const details = thicket.runs.get(result.runId);
      const journaled = details?.calls.reduce((sum, call) => sum + call.inputTokens + call.outputTokens, 0);
      assert.equal(journaled, result.usage.totalTokens);
    } finally {
      await thicket.close();
    }
  });

  it('bad options are rejected with every problem listed, and nothing is written', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({ journal, config: { version: 1, models: {} } });
    try {
      await assert.rejects(
        thicket.solve('', { model: 'sim:small', samples: 0, budget: { totalTokens: -1 }, strategy: 'nope' as 'vote', runId: '../x' }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError);
          const paths = error.issues.map((issue) => issue.path).sort();
          assert.deepEqual(paths, ['budget.totalTokens', 'query', 'runId', 'samples', 'strategy']);
          return true;
        },
      );
      await assert.rejects(
        thicket.solve(QUERY, { model: 'sim:nope' }),
        (error: unknown) => ThicketError.isInstance(error) && error.code === 'UNKNOWN_MODEL',
      );
      assert.equal(existsSync(journal), false, 'a rejected request must not create the journal');
      assert.deepEqual(thicket.runs.list(), []);
    } finally {
      await thicket.close();
    }
  });

  it('a spec object nested 50,000 deep and a budget past safe integers are refused as bad input (no stack overflow)', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({ journal, config: { version: 1, models: {} } });
    try {
      let params: unknown = 1;
      for (let depth = 0; depth < 50_000; depth++) params = { a: params };
      const workflow = { version: 1, nodes: [{ id: 'a', op: 'generate', params }], output: 'a' };
      for (const options of [{ workflow, model: 'sim:small' }, { workflow }]) {
        await assert.rejects(thicket.solve(QUERY, options), (error: unknown) => {
          assert.ok(error instanceof InvalidInputError, String(error));
          assert.match(error.message, /Invalid workflow spec: \(root\): the spec nests deeper than the limit of 64 levels/);
          return true;
        });
      }
      await assert.rejects(thicket.solve(QUERY, { model: 'sim:small', budget: { totalTokens: 1e23, usd: 1e23 } }), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.deepEqual(
          error.issues.map((issue) => issue.message),
          [`must be at most ${Number.MAX_SAFE_INTEGER}, got 1e+23`, `must be at most ${Number.MAX_SAFE_INTEGER}, got 1e+23`],
        );
        return true;
      });
      assert.equal(existsSync(journal), false, 'a rejected request must not create the journal');
    } finally {
      await thicket.close();
    }
  });

  it('a hard token budget holds: budget_exhausted with spend within the cap', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const result = await thicket.solve(QUERY, { model: 'sim:small', samples: 9, budget: { totalTokens: 600 } });
      assert.equal(result.status, 'budget_exhausted');
      assert.ok(result.usage.totalTokens <= 600, `spent ${result.usage.totalTokens}`);
      assert.equal(result.error?.code, 'BUDGET_EXHAUSTED');
    } finally {
      await thicket.close();
    }
  });

  it('an aborted signal cancels the run: status cancelled, nothing reserved stays spent', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const controller = new AbortController();
      controller.abort();
      const result = await thicket.solve(QUERY, { model: 'sim:small', samples: 5, signal: controller.signal });
      assert.equal(result.status, 'cancelled');
      assert.equal(result.newUsage.calls, 0);
      assert.equal(thicket.runs.get(result.runId)?.run.status, 'cancelled');
    } finally {
      await thicket.close();
    }
  });

  it('runWorkflow runs a spec object', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const spec = {
        version: 1,
        name: 'two-samples',
        defaults: { model: 'sim:medium', maxOutputTokens: 256 },
        nodes: [{ id: 'vote', op: 'sample', inputs: { query: 'query' }, params: { samples: 3, aggregator: 'majority' } }],
        output: 'vote',
      };
      const result = await thicket.runWorkflow(spec, QUERY, { budget: { totalTokens: 10_000 } });
      assert.equal(result.strategy, 'workflow');
      assert.equal(result.status, 'ok');
      assert.equal(result.answer, '391');
      assert.equal(result.nodes['vote']?.calls, 3);
    } finally {
      await thicket.close();
    }
  });
});

describe('runtime: stream', () => {
  it('yields typed events in order, ending with run-finished carrying the same result solve returns', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const events: ThicketEvent[] = [];
      for await (const event of thicket.stream(QUERY, { model: 'sim:small', strategy: 'vote', samples: 4, seed: 3 })) events.push(event);
      const types = events.map((event) => event.type);
      assert.equal(types[0], 'run-started');
      assert.equal(types.at(-1), 'run-finished');
      assert.equal(types.at(-2), 'answer');
      assert.equal(types.filter((type) => type === 'call-finished').length, 4);
      assert.equal(types.filter((type) => type === 'call-started').length, 4);
      assert.ok(types.includes('budget'));
      const node = events.find((event) => event.type === 'node-finished');
      assert.ok(node && node.type === 'node-finished' && node.nodeId === 'wf/vote' && node.status === 'ok' && node.calls === 4);
      const finished = events.at(-1);
      assert.ok(finished?.type === 'run-finished');
      assert.equal(finished.result.answer, '391');
      const lastBudget = events.filter((event) => event.type === 'budget').at(-1);
      assert.ok(lastBudget?.type === 'budget');
      assert.deepEqual(lastBudget.spent, finished.result.usage);
      const direct = await thicket.solve(QUERY, { model: 'sim:small', strategy: 'vote', samples: 4, seed: 3 });
      assert.equal(direct.answer, finished.result.answer);
      assert.deepEqual(direct.usage, finished.result.usage);
    } finally {
      await thicket.close();
    }
  });

  it('a rejected request fails the iteration with the typed error', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      await assert.rejects(async () => {
        for await (const event of thicket.stream(QUERY, { model: 'sim:small', samples: 0 })) void event;
      }, InvalidInputError);
    } finally {
      await thicket.close();
    }
  });

  it('leaving the loop early cancels the run', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({ journal, config: { version: 1, models: {} }, simulatedClock: 'real' });
    try {
      let runId: string | undefined;
      for await (const event of thicket.stream(QUERY, { model: 'sim:small', strategy: 'vote', samples: 20 })) {
        if (event.type === 'run-started') runId = event.runId;
        if (event.type === 'call-finished') break;
      }
      assert.ok(runId);
      // The run settles after the loop left: wait for its journal row to finish.
      for (let attempt = 0; attempt < 200 && thicket.runs.get(runId)?.run.status === 'running'; attempt++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      const details = thicket.runs.get(runId);
      assert.equal(details?.run.status, 'cancelled');
      assert.ok((details?.calls.length ?? 0) < 20, `calls ${details?.calls.length}`);
    } finally {
      await thicket.close();
    }
  });
});

describe('runtime: agentsnet and instances', () => {
  it('runs a small AgentsNet instance set, journaled', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    try {
      const run = await thicket.agentsnet({
        model: 'sim:large',
        tasks: ['coloring'],
        sizes: [4],
        graphs: ['ws'],
        samples: 1,
        runId: 'an-1',
      });
      assert.equal(run.runId, 'an-1');
      assert.equal(run.simulated, true);
      assert.equal(run.instances.length, 1);
      assert.ok(run.usage.calls > 0);
      assert.equal(thicket.runs.get('an-1')?.run.status, run.status);
    } finally {
      await thicket.close();
    }
  });

  it('a closed instance refuses work with a typed error', async () => {
    const thicket = await createRuntime({ journal: tempJournal(), config: { version: 1, models: {} } });
    await thicket.close();
    await assert.rejects(thicket.solve(QUERY, { model: 'sim:small' }), InvalidInputError);
  });

  it('a bad config object is rejected listing its problems', async () => {
    await assert.rejects(
      createRuntime({ config: { version: 2, models: {} } as never }),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'INVALID_CONFIG',
    );
  });
});
