/**
 * Issue 16 §4 end to end: a provider that is not ready is refused by the real CLI process before any request
 * reaches the (local, counting) OpenAI-compatible endpoint and before a journal is created — a missing API
 * key (MISSING_API_KEY), and a dollar budget on a model with no price (UNPRICED_MODEL) unless --allow-unpriced.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { SolveResult } from '../runtime/index.ts';
import {
  chatCompletion,
  expectExit,
  makeTempDir,
  parseSingleJson,
  runCli,
  startFakeOpenAI,
  type FakeOpenAIServer,
  type TempDir,
} from './testing/run-cli.ts';

const QUERY = 'What is 17*23?';
const KEY_VARIABLE = 'THICKET_TEST_ENDPOINT_KEY';

interface Fixture {
  dir: TempDir;
  server: FakeOpenAIServer;
  config: string;
  journal: string;
}

/** A temp folder, a counting endpoint that answers 391, and a config whose `local` model is `entry` on it. */
async function fixture(entry: Record<string, unknown>): Promise<Fixture> {
  const dir = makeTempDir();
  const server = await startFakeOpenAI(() => ({ status: 200, body: chatCompletion('Answer: 391') }));
  const config = dir.write('thicket.config.json', {
    version: 1,
    models: { local: { provider: 'openai-compatible', baseURL: server.baseURL, model: 'm', ...entry } },
  });
  return { dir, server, config, journal: dir.file('journal.db') };
}

async function close(fixtureValue: Fixture): Promise<void> {
  await fixtureValue.server.close();
  fixtureValue.dir.remove();
}

const errorOf = (stdout: string): { code: string; message: string } =>
  (JSON.parse(stdout.trim()) as { error: { code: string; message: string } }).error;

describe('thicket CLI: providers that are not ready are refused before any call', { concurrency: false }, () => {
  it('apiKeyEnv names an unset variable: exit 2, MISSING_API_KEY naming it, 0 requests, no journal', async () => {
    const f = await fixture({ apiKeyEnv: KEY_VARIABLE, priceInputPerMillion: 1, priceOutputPerMillion: 2 });
    try {
      const args = ['solve', QUERY, '-m', 'local', '--strategy', 'single', '--config', f.config, '--journal', f.journal, '--json'];
      const refused = await runCli(args, { cwd: f.dir.path, env: { [KEY_VARIABLE]: undefined } });
      expectExit(refused, 2);
      const error = errorOf(refused.stdout);
      assert.equal(error.code, 'MISSING_API_KEY');
      assert.match(error.message, new RegExp(`"local" needs an API key from the environment variable ${KEY_VARIABLE}, which is not set`));
      assert.equal(f.server.requests.length, 0, 'no request reached the endpoint');
      assert.equal(existsSync(f.journal), false, 'no journal was created');

      // The same with the key set: one request, carrying it.
      const ran = await runCli(args, { cwd: f.dir.path, env: { [KEY_VARIABLE]: 'sk-endpoint-123456' } });
      expectExit(ran, 0);
      assert.equal(parseSingleJson<SolveResult>(ran).answer, '391');
      assert.equal(f.server.requests.length, 1);
      assert.equal(f.server.requests[0]!.headers['authorization'], 'Bearer sk-endpoint-123456');
    } finally {
      await close(f);
    }
  });

  it('openai:<model> without OPENAI_API_KEY: exit 2 at once, 0 requests (it made 8 attempts before)', async () => {
    const f = await fixture({});
    try {
      const refused = await runCli(['solve', QUERY, '-m', 'openai:gpt-4o-mini', '--strategy', 'single', '--journal', f.journal, '--json'], {
        cwd: f.dir.path,
        env: { OPENAI_BASE_URL: f.server.baseURL },
      });
      expectExit(refused, 2);
      assert.equal(errorOf(refused.stdout).code, 'MISSING_API_KEY');
      assert.match(errorOf(refused.stdout).message, /OPENAI_API_KEY/);
      assert.equal(f.server.requests.length, 0);
      assert.equal(existsSync(f.journal), false);
    } finally {
      await close(f);
    }
  });

  it('a capability node is not bound to a model whose key is missing: CAPABILITY_UNRESOLVED (exit 2) saying why, 0 requests', async () => {
    const f = await fixture({ apiKeyEnv: KEY_VARIABLE, priceInputPerMillion: 1, priceOutputPerMillion: 2 });
    try {
      const registry = f.dir.file('registry.db');
      const cards = f.dir.write('cards.json', [
        {
          id: 'arith-local',
          version: '1.0.0',
          name: 'Local arithmetic solver',
          description: 'Solves arithmetic word problems',
          binding: { kind: 'model', ref: 'local' },
          provider: 'openai-compatible',
        },
      ]);
      expectExit(await runCli(['agents', 'add', cards, '--registry', registry, '--json'], { cwd: f.dir.path }), 0);
      const spec = f.dir.write('spec.json', {
        version: 1,
        nodes: [
          {
            id: 'solve',
            op: 'sample',
            capability: { need: 'solve arithmetic word problems' },
            params: { samples: 1, aggregator: 'majority', maxOutputTokens: 64 },
          },
        ],
        output: 'solve',
      });
      const refused = await runCli(
        ['solve', QUERY, '--workflow', spec, '--registry', registry, '--config', f.config, '--journal', f.journal, '--json'],
        { cwd: f.dir.path },
      );
      expectExit(refused, 2);
      const error = errorOf(refused.stdout);
      assert.equal(error.code, 'CAPABILITY_UNRESOLVED');
      assert.match(error.message, new RegExp(`needs an API key from the environment variable ${KEY_VARIABLE}`));
      assert.equal(f.server.requests.length, 0);
      assert.equal(existsSync(f.journal), false);
    } finally {
      await close(f);
    }
  });

  it('fleet check: a model without its key is a row with MISSING_API_KEY, and nothing is sent', async () => {
    const f = await fixture({ apiKeyEnv: KEY_VARIABLE });
    try {
      const checked = await runCli(['fleet', 'check', '-m', 'local', '--json', '--config', f.config], { cwd: f.dir.path });
      expectExit(checked, 1);
      const rows = parseSingleJson<{ models: Array<{ model: string; ok: boolean; error: { code: string } | null }> }>(checked).models;
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.ok, false);
      assert.equal(rows[0]!.error?.code, 'MISSING_API_KEY');
      assert.equal(f.server.requests.length, 0);
      // Listing still shows the model, marked not ready.
      const listed = await runCli(['fleet', '--json', '--config', f.config], { cwd: f.dir.path });
      expectExit(listed, 0);
      const local = parseSingleJson<{ models: Array<{ reference: string; notReady?: { code: string }; unpriced?: boolean }> }>(
        listed,
      ).models.find((model) => model.reference === 'local');
      assert.equal(local?.notReady?.code, 'MISSING_API_KEY');
      assert.equal(local?.unpriced, true);
    } finally {
      await close(f);
    }
  });

  it('--budget-usd on a model with no price: exit 2 UNPRICED_MODEL, 0 requests, no journal; --allow-unpriced runs with a warning', async () => {
    const f = await fixture({});
    try {
      const args = ['solve', QUERY, '-m', 'local', '--strategy', 'single', '--budget-usd', '0.01', '--config', f.config];
      const refused = await runCli([...args, '--journal', f.journal, '--json'], { cwd: f.dir.path });
      expectExit(refused, 2);
      const error = errorOf(refused.stdout);
      assert.equal(error.code, 'UNPRICED_MODEL');
      assert.match(error.message, /"local": no price is known/);
      assert.match(error.message, /--allow-unpriced/);
      assert.equal(f.server.requests.length, 0);
      assert.equal(existsSync(f.journal), false);

      const allowed = await runCli([...args, '--journal', f.journal, '--json', '--allow-unpriced'], { cwd: f.dir.path });
      expectExit(allowed, 0);
      const result = parseSingleJson<SolveResult>(allowed);
      assert.equal(result.answer, '391');
      assert.equal(result.warnings?.length, 1);
      assert.match(result.warnings?.[0] ?? '', /"local" has no known price/);
      assert.equal(f.server.requests.length, 1);

      // Human output: the warning on stderr.
      const human = await runCli([...args, '--journal', f.journal, '--allow-unpriced'], { cwd: f.dir.path });
      expectExit(human, 0);
      assert.match(human.stderr, /warning: "local" has no known price/);
    } finally {
      await close(f);
    }
  });

  it('a configured price, even 0 (a free local server), makes a dollar budget enforceable: no refusal, no warning', async () => {
    const f = await fixture({ priceInputPerMillion: 0, priceOutputPerMillion: 0 });
    try {
      const ran = await runCli(
        [
          'solve',
          QUERY,
          '-m',
          'local',
          '--strategy',
          'single',
          '--budget-usd',
          '0.01',
          '--config',
          f.config,
          '--journal',
          f.journal,
          '--json',
        ],
        { cwd: f.dir.path },
      );
      expectExit(ran, 0);
      assert.equal(parseSingleJson<SolveResult>(ran).warnings, undefined);
      assert.equal(f.server.requests.length, 1);
    } finally {
      await close(f);
    }
  });
});
