/**
 * `governor calibrate` on a configured real endpoint (issue 16 §2): it names the models, refuses to spend
 * without consent when there is no terminal to ask on (exit 2, nothing sent), shows progress with the spend
 * so far, stops at --max-usd, and journals every call it paid for (runs ls/show agree with the endpoint).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, InvalidInputError, type ThicketError } from '../core/index.ts';
import { openFleet } from '../runtime/index.ts';
import { confirmSpend } from './spend-guard.ts';
import {
  chatCompletion,
  countRuns,
  describeResult,
  makeTempDir,
  parseSingleJson,
  runCli,
  startFakeOpenAI,
  type FakeOpenAIServer,
  type TempDir,
} from './testing/run-cli.ts';

interface RunsShow {
  totals: { calls: number; inputTokens: number; outputTokens: number; usd: number };
}

describe('governor calibrate on a real endpoint: named, confirmed, capped, journaled', { concurrency: false }, () => {
  let dir: TempDir;
  let server: FakeOpenAIServer;
  before(async () => {
    dir = makeTempDir('thicket-calibrate-spend-');
    server = await startFakeOpenAI(() => ({
      status: 200,
      body: chatCompletion('Answer: 439', { prompt_tokens: 40, completion_tokens: 7 }),
    }));
    dir.write('thicket.config.json', {
      version: 1,
      defaultModel: 'local',
      models: {
        local: { provider: 'openai-compatible', baseURL: server.baseURL, model: 'm', priceInputPerMillion: 1, priceOutputPerMillion: 2 },
      },
    });
  });
  after(async () => {
    await server.close();
    dir.remove();
  });
  const calibrate = (db: string, ...extra: string[]) =>
    runCli(['governor', 'calibrate', '--items', '2', '--levels', '600', '--db', dir.file(db), ...extra], { cwd: dir.path });

  it('without --yes or --max-usd and no terminal: refused before any request (exit 2), the model named', async () => {
    const result = await calibrate('refused.db');
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /governor calibrate: 2 items .* on local \(openai-compatible m, \$1\/\$2 per million/);
    assert.match(result.stderr, /--yes/);
    assert.equal(server.requests.length, 0);
    assert.equal(countRuns(dir.file('refused.db')), 0);
  });

  it('with --yes: progress with spend on stderr, a cost line, and every request journaled', async () => {
    const before = server.requests.length;
    const result = await calibrate('yes.db', '--yes', '--json');
    assert.equal(result.code, 0, describeResult(result));
    const sent = server.requests.length - before;
    assert.ok(sent > 0);
    assert.match(result.stderr, /governor calibrate: item 1\/2 · \d+ calls · [\d,]+ tokens · \$0\.\d+/);
    assert.match(result.stderr, new RegExp(`item 2/2 · ${sent} calls · ${(sent * 47).toLocaleString('en-US')} tokens`));
    const summary = parseSingleJson<{ runId: string; usage: RunsShow['totals']; status: string }>(result);
    assert.equal(summary.status, 'ok');
    assert.equal(summary.usage.calls, sent);
    const shown = await runCli(['runs', 'show', summary.runId, '--db', dir.file('yes.db'), '--json'], { cwd: dir.path });
    assert.equal(shown.code, 0, describeResult(shown));
    const { totals } = parseSingleJson<RunsShow>(shown);
    assert.deepEqual(totals, { ...summary.usage, calls: sent, inputTokens: sent * 40, outputTokens: sent * 7 });
    assert.equal(totals.usd, (sent * (40 * 1 + 7 * 2)) / 1e6);
  });

  it('with --max-usd: stops before passing it (exit 3), what it spent is journaled', async () => {
    const before = server.requests.length;
    const maxUsd = 0.004;
    const result = await calibrate('capped.db', '--max-usd', String(maxUsd), '--json');
    assert.equal(result.code, 3, describeResult(result));
    const sent = server.requests.length - before;
    const summary = parseSingleJson<{ runId: string; usage: RunsShow['totals']; status: string }>(result);
    assert.equal(summary.status, 'budget_exhausted');
    assert.ok(sent > 0 && summary.usage.usd <= maxUsd, `${sent} requests, $${summary.usage.usd}`);
    const shown = await runCli(['runs', 'show', summary.runId, '--db', dir.file('capped.db'), '--json'], { cwd: dir.path });
    assert.equal(parseSingleJson<RunsShow>(shown).totals.calls, sent);
  });
});

describe('confirmSpend', () => {
  const { fleet } = openFleet({
    config: { version: 1, models: { real: { provider: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'm' } } } as never,
    seed: 0,
    models: ['real'],
    simulatedClock: 'virtual',
  });
  const base = { command: 'test', fleet, plan: '1 item', write: (): void => {} };
  const refusal = async (promise: Promise<void>): Promise<ThicketError> => {
    try {
      await promise;
    } catch (error) {
      return error as ThicketError;
    }
    assert.fail('expected a refusal');
  };

  it('simulated models need no consent', async () => {
    const { fleet: simFleet } = openFleet({
      config: { version: 1, models: {} } as never,
      seed: 0,
      models: ['sim:small'],
      simulatedClock: 'virtual',
    });
    await confirmSpend({ ...base, fleet: simFleet, models: ['sim:small'] });
  });

  it('a real model: asks, and only "y" proceeds', async () => {
    const asked: string[] = [];
    await confirmSpend({ ...base, models: ['real'], ask: async (question) => (asked.push(question), 'y') });
    assert.match(asked[0]!, /Send requests to real/);
    const declined = await refusal(confirmSpend({ ...base, models: ['real'], ask: async () => '' }));
    assert.ok(declined instanceof CancelledError);
  });

  it('--yes or --max-usd is consent', async () => {
    await confirmSpend({ ...base, models: ['real'], yes: true, ask: async () => assert.fail('asked despite --yes') });
    await confirmSpend({ ...base, models: ['real'], maxUsd: 1, ask: async () => assert.fail('asked despite --max-usd') });
  });

  it('no terminal and no consent: a bad-input error naming --yes', async () => {
    if (process.stdin.isTTY && process.stderr.isTTY) return; // only meaningful without a terminal (CI, the test runner)
    const error = await refusal(confirmSpend({ ...base, models: ['real'] }));
    assert.ok(error instanceof InvalidInputError);
    assert.match(error.message, /would send requests to real/);
  });
});
