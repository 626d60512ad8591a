/**
 * The library's solve refuses models that are not ready before anything is sent or journaled (issue 16 §4):
 * a missing API key on any model the run will call (the planner too), and a dollar limit on a model with no
 * price unless `allowUnpriced`. The endpoint is a small local HTTP server that counts requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError, exitCodeFor } from '../core/index.ts';
import { priceTableLoaded, type ModelEntry } from '../models/index.ts';
import { createRuntime } from './index.ts';

const QUERY = 'What is 17*23?';
const KEY_VARIABLE = 'THICKET_TEST_RUNTIME_KEY';
let server: Server;
let baseURL = '';
let requests = 0;
const folders: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const body = JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Answer: 391' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 30, completion_tokens: 5 },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempJournal(): string {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-readiness-'));
  folders.push(folder);
  return join(folder, 'journal.db');
}

type EndpointEntry = Extract<ModelEntry, { provider: 'openai-compatible' }>;
const endpoint = (extra: Partial<EndpointEntry> = {}): EndpointEntry => ({
  provider: 'openai-compatible',
  baseURL,
  model: 'm',
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<ThicketError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(ThicketError.isInstance(error), String(error));
    return error;
  }
  return assert.fail('expected a refusal');
}

describe('runtime solve: models that are not ready', () => {
  it('a planner whose key variable is unset refuses the run up front (MISSING_API_KEY, exit 2): 0 requests, no journal', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({
      journal,
      config: {
        version: 1,
        models: { local: endpoint({ priceInputPerMillion: 1, priceOutputPerMillion: 1 }), planner: endpoint({ apiKeyEnv: KEY_VARIABLE }) },
      },
    });
    try {
      const before = requests;
      const error = await refusal(thicket.solve(QUERY, { model: 'local', planner: 'planner', planning: 'always' }));
      assert.equal(error.code, 'MISSING_API_KEY');
      assert.equal(exitCodeFor(error), 2);
      assert.match(error.message, new RegExp(`"planner" needs an API key from the environment variable ${KEY_VARIABLE}`));
      assert.equal(requests, before);
      assert.equal(existsSync(journal), false);
    } finally {
      await thicket.close();
    }
  });

  it('a dollar limit on an unpriced model: UNPRICED_MODEL (exit 2) with nothing sent; allowUnpriced runs it with a warning', async () => {
    const journal = tempJournal();
    const thicket = await createRuntime({ journal, config: { version: 1, models: { local: endpoint() } } });
    try {
      const before = requests;
      const options = { model: 'local', strategy: 'single' as const, budget: { usd: 0.01 } };
      const error = await refusal(thicket.solve(QUERY, options));
      assert.equal(error.code, 'UNPRICED_MODEL');
      assert.equal(exitCodeFor(error), 2);
      assert.equal(requests, before);
      assert.equal(existsSync(journal), false);

      const allowed = await thicket.solve(QUERY, { ...options, allowUnpriced: true });
      assert.equal(allowed.status, 'ok');
      assert.equal(allowed.answer, '391');
      assert.equal(allowed.usage.usd, 0, 'counted as $0: why the limit is refused by default');
      assert.deepEqual(allowed.warnings?.length, 1);
      assert.equal(requests, before + 1);

      // Without a dollar limit an unpriced model needs no opt-in.
      const tokens = await thicket.solve(QUERY, { model: 'local', strategy: 'single', budget: { totalTokens: 5000 } });
      assert.equal(tokens.status, 'ok');
      assert.equal(tokens.warnings, undefined);
    } finally {
      await thicket.close();
    }
  });

  it('runs on simulated and local models never load the price table', () => {
    assert.equal(priceTableLoaded(), false);
  });
});
