/**
 * End-to-end tests of `thicket fleet` and of `thicket solve` against a real OpenAI-compatible HTTP endpoint (a
 * local fake server): each case spawns the real `node bin/thicket.js …` in its own temp folder, as in
 * cli.test.ts (split from it: that file covers solve on the simulated fleet, budgets and bad input).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { SolveResult } from '../runtime/index.ts';
import {
  chatCompletion,
  closedPort,
  expectExit,
  makeTempDir,
  parseSingleJson,
  runCli,
  startFakeOpenAI,
  withJournalReadonly,
  type CliResult,
  type FakeOpenAIServer,
  type TempDir,
} from './testing/run-cli.ts';

const QUERY = 'What is 17*23?';
const SIM_PROFILES = ['sim:small', 'sim:medium', 'sim:large', 'sim:reasoner-small', 'sim:reasoner-large'];
/** Thicket's tiny trained models (models/tiny), listed after the simulated profiles. */
const TINY_MODELS = ['tiny:direct-small', 'tiny:reasoning-small', 'tiny:reasoning-large', 'tiny:thread-small'];
const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
/** Votes are reported for the vote strategy, which every solve below uses (samples > 1). */
const solveJson = (result: CliResult): SolveResult & { vote: NonNullable<SolveResult['vote']> } => parseSingleJson(result);

describe('thicket CLI end to end: fleet and real endpoints', () => {
  // ------------------------------------------------------------------------------------------------------
  describe('fleet', () => {
    it('fleet --json lists the five simulated profiles, labelled simulated, then the tiny trained models, labelled real', async () => {
      const dir = makeTempDir();
      try {
        const result = await runCli(['fleet', '--json'], { cwd: dir.path, env: { THICKET_DB: dir.file('journal.db') } });
        expectExit(result, 0);
        const fleet = parseSingleJson<{
          config: string | null;
          defaultModel: string | null;
          models: Array<{ reference: string; simulated: boolean; provider: string; priceInputPerMillion: number; contextWindow: number }>;
        }>(result);
        assert.equal(fleet.config, null);
        assert.equal(fleet.defaultModel, null);
        assert.deepEqual(
          fleet.models.map((model) => model.reference),
          [...SIM_PROFILES, ...TINY_MODELS],
        );
        for (const model of fleet.models) {
          const tiny = model.reference.startsWith('tiny:');
          assert.equal(model.simulated, !tiny);
          assert.equal(model.provider, tiny ? 'llama' : 'sim');
          assert.ok(model.contextWindow > 0);
        }
        assert.equal(fleet.models[0]!.priceInputPerMillion, 0.1);
        assert.equal(existsSync(dir.file('journal.db')), false, 'listing the fleet writes no journal');
      } finally {
        dir.remove();
      }
    });

    it('a configured model that cannot resolve (its gguf file is missing) is listed as unavailable, not fatal', async () => {
      const dir = makeTempDir();
      try {
        const missing = dir.file('missing.gguf');
        const config = dir.write('fleet.json', { version: 1, models: { local: { provider: 'llama', path: missing } } });
        const listed = await runCli(['fleet', '--json', '--config', config], { cwd: dir.path });
        expectExit(listed, 0);
        const fleet = parseSingleJson<{
          models: Array<{ reference: string }>;
          unavailable: Array<{ reference: string; error: { code: string; message: string } }>;
        }>(listed);
        assert.deepEqual(
          fleet.models.map((model) => model.reference),
          [...SIM_PROFILES, ...TINY_MODELS],
        );
        assert.equal(fleet.unavailable.length, 1);
        assert.equal(fleet.unavailable[0]!.reference, 'local');
        assert.equal(fleet.unavailable[0]!.error.code, 'UNKNOWN_MODEL');
        assert.ok(fleet.unavailable[0]!.error.message.includes(`No model file at ${missing}`));
        const checked = await runCli(
          ['fleet', 'check', '-m', 'local', '--json', '--config', config, '--journal', dir.file('check-local.db')],
          {
            cwd: dir.path,
          },
        );
        expectExit(checked, 1);
        const rows = parseSingleJson<{ models: Array<{ model: string; ok: boolean; error: { code: string } | null }> }>(checked).models;
        assert.deepEqual(
          rows.map((row) => [row.model, row.ok, row.error?.code]),
          [['local', false, 'UNKNOWN_MODEL']],
        );
      } finally {
        dir.remove();
      }
    });

    it('fleet check -m sim:small --json: ok with a latency; an alias on a closed port: exit 1, PROVIDER_ERROR', async () => {
      const dir = makeTempDir();
      try {
        const port = await closedPort();
        const config = dir.write('fleet.json', {
          version: 1,
          models: { dead: { provider: 'openai-compatible', baseURL: `http://127.0.0.1:${port}/v1`, model: 'm' } },
        });
        const [simCheck, deadCheck] = await Promise.all([
          runCli(['fleet', 'check', '--json', '-m', 'sim:small', '--journal', dir.file('check-sim.db')], { cwd: dir.path }),
          runCli(['fleet', 'check', '-m', 'dead', '--json', '--config', config, '--journal', dir.file('check-dead.db')], { cwd: dir.path }),
        ]);
        expectExit(simCheck, 0);
        const sim = parseSingleJson<{
          models: Array<{
            model: string;
            ok: boolean;
            latencyMs: number | null;
            simulated: boolean;
            error: unknown;
            usage: { inputTokens: number; outputTokens: number } | null;
          }>;
        }>(simCheck);
        assert.equal(sim.models.length, 1);
        const row = sim.models[0]!;
        assert.equal(row.model, 'sim:small');
        assert.equal(row.ok, true);
        assert.equal(typeof row.latencyMs, 'number');
        assert.ok(row.latencyMs! > 0);
        assert.equal(row.simulated, true);
        assert.equal(row.error, null);
        assert.ok(row.usage!.outputTokens <= 16, 'the probe is capped at 16 output tokens');

        expectExit(deadCheck, 1);
        const dead = parseSingleJson<{
          models: Array<{
            model: string;
            ok: boolean;
            latencyMs: number | null;
            simulated: boolean;
            error: { code: string; message: string } | null;
          }>;
        }>(deadCheck);
        assert.equal(dead.models.length, 1);
        assert.equal(dead.models[0]!.model, 'dead');
        assert.equal(dead.models[0]!.ok, false);
        assert.equal(dead.models[0]!.latencyMs, null);
        assert.equal(dead.models[0]!.simulated, false);
        assert.equal(dead.models[0]!.error?.code, 'PROVIDER_ERROR');
        assert.match(dead.models[0]!.error.message, /ECONNREFUSED/);
        assert.match(dead.models[0]!.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      } finally {
        dir.remove();
      }
    });
  });

  // ------------------------------------------------------------------------------------------------------
  describe('a real OpenAI-compatible HTTP endpoint', { concurrency: false }, () => {
    const configFor = (dir: TempDir, server: FakeOpenAIServer): string =>
      dir.write('thicket.config.json', {
        version: 1,
        models: {
          local: { provider: 'openai-compatible', baseURL: server.baseURL, model: 'm', priceInputPerMillion: 1, priceOutputPerMillion: 2 },
        },
      });

    it('solve --samples 3 against it: answer 391, not simulated, usage from the server, cost from the configured prices', async () => {
      const dir = makeTempDir();
      const server = await startFakeOpenAI(() => ({ status: 200, body: chatCompletion('Answer: 391') }));
      try {
        const config = configFor(dir, server);
        const result = await runCli(
          ['solve', QUERY, '--model', 'local', '--samples', '3', '--config', config, '--db', dir.file('journal.db'), '--json'],
          { cwd: dir.path },
        );
        expectExit(result, 0);
        const json = solveJson(result);
        assert.equal(json.status, 'ok');
        assert.equal(json.answer, '391');
        assert.equal(json.simulated, false);
        assert.equal(json.usage.inputTokens, 90);
        assert.equal(json.usage.outputTokens, 15);
        assert.equal(json.usage.totalTokens, 105);
        assert.equal(json.usage.calls, 3);
        // $1 / M input, $2 / M output: 90 × 1e-6 + 15 × 2e-6 = $0.00012.
        assert.ok(Math.abs(json.usage.usd - 0.00012) < 1e-12, `cost ${json.usage.usd}`);
        assert.deepEqual(json.spendByModel['local'], json.usage);
        assert.deepEqual(json.vote.votes, { '391': 3 });
        // What the server saw: 3 chat completions for model "m" carrying the system prompt and the query.
        assert.equal(server.requests.length, 3);
        for (const request of server.requests) {
          assert.equal(request.url, '/v1/chat/completions');
          const body = request.body as { model: string; messages: Array<{ role: string; content: string }>; max_tokens?: number };
          assert.equal(body.model, 'm');
          assert.deepEqual(
            body.messages.map((message) => message.role),
            ['system', 'user'],
          );
          assert.equal(body.messages[1]!.content, QUERY);
          assert.ok(body.max_tokens !== undefined && body.max_tokens <= 512);
          assert.equal(request.headers['authorization'], undefined, 'no API key configured → no Authorization header');
        }
      } finally {
        await server.close();
        dir.remove();
      }
    });

    it('429 with retry-after: 0 twice, then 200: the call succeeds and usage.calls counts both retries', async (t) => {
      const dir = makeTempDir();
      const server = await startFakeOpenAI((_request, index) =>
        index <= 2
          ? { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down', type: 'rate_limit_error' } } }
          : { status: 200, body: chatCompletion('Answer: 391') },
      );
      try {
        const config = configFor(dir, server);
        const args = [
          'solve',
          QUERY,
          '--model',
          'local',
          '--samples',
          '1',
          '--seed',
          '1',
          '--config',
          config,
          '--db',
          dir.file('journal.db'),
          '--run-id',
          'flaky',
          '--json',
        ];
        const result = await runCli(args, { cwd: dir.path });
        expectExit(result, 0);
        const json = solveJson(result);
        assert.equal(json.status, 'ok');
        assert.equal(json.answer, '391');
        assert.equal(server.requests.length, 3, 'two refused attempts and one that succeeded');
        assert.equal(json.usage.calls, 3, 'usage.calls counts every attempt (the budget unit is a model call, retries included)');
        assert.equal(json.usage.inputTokens, 30, 'the 429s carried no usage: only the successful attempt is billed');
        assert.equal(json.usage.outputTokens, 5);
        assert.ok(Math.abs(json.usage.usd - 0.00004) < 1e-12);
        const attempts = withJournalReadonly(
          dir.file('journal.db'),
          (db) => db.prepare("SELECT attempts FROM calls WHERE run_id = 'flaky'").all() as Array<{ attempts: number }>,
        );
        assert.deepEqual(attempts, [{ attempts: 3 }], 'one journaled call that took 3 attempts');

        // Resume: the call is replayed without contacting the server.
        const resumed = await runCli(args, { cwd: dir.path });
        expectExit(resumed, 0);
        const replay = solveJson(resumed);
        assert.equal(server.requests.length, 3, 'replay sends nothing');
        assert.equal(replay.replayedCalls, 1);
        assert.deepEqual(replay.newUsage, ZERO_USAGE);
        assert.equal(replay.answer, '391');
        assert.equal(replay.usage.inputTokens, 30);
        assert.equal(replay.usage.outputTokens, 5);

        await t.test('a replay charges the recorded attempts, so the resumed usage equals the original', () => {
          assert.equal(replay.usage.calls, json.usage.calls);
        });
      } finally {
        await server.close();
        dir.remove();
      }
    });
  });
});
