/**
 * The hard budget across crashes (issue 16 §3), with real processes: `bin/thicket.js solve` against a local
 * OpenAI-compatible endpoint that counts every request it receives and what it would bill for it, killed -9 at
 * seeded-random moments (on receipt of the k-th request, while it is in flight, or just after a reply) and
 * resumed with the same --run-id until it finishes by itself. Whatever the moments, the endpoint's served spend
 * stays within the hard budget and within what the journal accounts for (recorded calls + intents left in
 * flight by a crash, at their worst case). Set THICKET_CRASH_SEED to replay a given sequence of moments.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SolveResult } from '../runtime/index.ts';
import {
  chatCompletion,
  describeResult,
  makeTempDir,
  parseSingleJson,
  runCli,
  spawnCli,
  startFakeOpenAI,
  withJournalReadonly,
  type SpawnedCli,
} from './testing/run-cli.ts';

const PRICE_IN = 10; // $ per million
const PRICE_OUT = 20;
/** What the endpoint reports (and would bill) per request: below any reservation (prompt counted + margin, output cap). */
const PROMPT_TOKENS = 12;
const COMPLETION_TOKENS = 6;
const BUDGET_USD = 0.024;

/** mulberry32: a small seeded PRNG, so a failing sequence of kill moments can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Endpoint {
  baseURL: string;
  requests: number;
  servedUsd: number;
  /** Called with the number of requests received by the current process (1-based) on every request. */
  onRequest: (index: number, res: ServerResponse) => 'reply' | 'hold';
  /** A new process starts: request indices passed to `onRequest` count from 1 again. */
  resetProcess: () => void;
  close: () => Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  const held: ServerResponse[] = [];
  const endpoint: Endpoint = {
    baseURL: '',
    requests: 0,
    servedUsd: 0,
    onRequest: () => 'reply',
    resetProcess: () => (perProcess = 0),
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  let perProcess = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as { max_tokens?: number; max_completion_tokens?: number };
      const cap = body.max_tokens ?? body.max_completion_tokens ?? COMPLETION_TOKENS;
      const completion = Math.min(cap, COMPLETION_TOKENS);
      // Pessimistic: every request received is billed, answered or not.
      endpoint.requests++;
      endpoint.servedUsd += (PROMPT_TOKENS * PRICE_IN + completion * PRICE_OUT) / 1_000_000;
      if (endpoint.onRequest(++perProcess, res) === 'hold') {
        held.push(res);
        return;
      }
      const text = JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Answer: 391' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: completion, total_tokens: PROMPT_TOKENS + completion },
      });
      // A little latency, so several calls are in flight at once.
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(text), 3 + (perProcess % 5) * 4);
    });
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return endpoint;
}

describe('hard budget across kill -9 against a counting endpoint (real processes)', { concurrency: false }, () => {
  it('served spend ≤ the hard budget and ≤ what the journal accounts, whatever the kill moments', async () => {
    const seed = Number(process.env['THICKET_CRASH_SEED'] ?? 20261207);
    const random = rng(seed);
    const dir = makeTempDir('thicket-crash-');
    const endpoint = await startEndpoint();
    try {
      const config = dir.write('thicket.config.json', {
        version: 1,
        models: {
          local: {
            provider: 'openai-compatible',
            baseURL: endpoint.baseURL,
            model: 'm',
            priceInputPerMillion: PRICE_IN,
            priceOutputPerMillion: PRICE_OUT,
            maxConcurrency: 4,
          },
        },
      });
      const journal = dir.file('journal.db');
      const args = [
        'solve',
        'What is 17*23?',
        '-m',
        'local',
        '-n',
        '40',
        '--max-output-tokens',
        '16',
        '--budget-usd',
        String(BUDGET_USD),
        '--run-id',
        'bk',
        '--seed',
        '1',
        '--config',
        config,
        '--db',
        journal,
        '--json',
      ];
      const kills = 3;
      const moments: string[] = [];
      let finished: SolveResult | undefined;
      for (let round = 0; round <= kills + 3 && finished === undefined; round++) {
        endpoint.resetProcess();
        const current: { spawned?: SpawnedCli } = {};
        if (round < kills) {
          // The k-th request this process sends: killed on its receipt (the call is in flight) or just after the reply.
          const k = 1 + Math.floor(random() * 12);
          const mode = random() < 0.6 ? 'in-flight' : 'after-reply';
          moments.push(`${mode}@${k}`);
          endpoint.onRequest = (index) => {
            if (index !== k) return 'reply';
            if (mode === 'in-flight') {
              current.spawned?.child.kill('SIGKILL');
              return 'hold';
            }
            setTimeout(() => current.spawned?.child.kill('SIGKILL'), 8 + Math.floor(random() * 10));
            return 'reply';
          };
        } else endpoint.onRequest = () => 'reply';
        current.spawned = spawnCli(args, { cwd: dir.path, timeoutMs: 60_000 });
        const result = await current.spawned.done;
        if (result.signal === 'SIGKILL' && !result.timedOut) continue;
        // 0: ok; 3: budget_exhausted (the budget ran out: the usual end of a run this tight).
        assert.ok(result.code === 0 || result.code === 3, `moments ${moments.join(', ')} (seed ${seed})\n${describeResult(result)}`);
        finished = parseSingleJson<SolveResult>(result);
      }
      assert.ok(finished, `the run never finished (moments ${moments.join(', ')}, seed ${seed})`);
      assert.ok(['ok', 'budget_exhausted'].includes(finished.status), `status ${finished.status}: ${JSON.stringify(finished.error)}`);

      const accounted = withJournalReadonly(journal, (db) => {
        const calls = db
          .prepare(
            `SELECT COALESCE(SUM(COALESCE(json_extract(billed_json, '$.usd'), cost_usd)), 0) AS usd,
                    COALESCE(SUM(COALESCE(json_extract(billed_json, '$.calls'), attempts)), 0) AS calls
             FROM calls WHERE run_id = 'bk'`,
          )
          .get() as { usd: number; calls: number };
        const intents = db
          .prepare(`SELECT COALESCE(SUM(cost_usd), 0) AS usd, COUNT(*) AS calls FROM call_intents WHERE run_id = 'bk'`)
          .get() as {
          usd: number;
          calls: number;
        };
        return { usd: calls.usd + intents.usd, calls: calls.calls + intents.calls, inFlight: intents.calls };
      });
      const context =
        `moments ${moments.join(', ')} (seed ${seed}); endpoint served ${endpoint.requests} requests / $${endpoint.servedUsd}; ` +
        `journal accounts ${accounted.calls} calls / $${accounted.usd}`;
      assert.ok(endpoint.servedUsd <= BUDGET_USD + 1e-12, `served spend passed the hard budget: ${context}`);
      assert.ok(endpoint.servedUsd <= accounted.usd + 1e-12, `the journal misses served spend: ${context}`);
      assert.ok(endpoint.requests <= accounted.calls, `the journal misses served requests: ${context}`);
      // The final result counts the same as the journal (recorded calls + in flight at a crash).
      assert.ok(
        Math.abs(finished.usage.usd - accounted.usd) < 1e-9,
        `result usage $${finished.usage.usd} vs journal $${accounted.usd}: ${context}`,
      );
      assert.equal(finished.usage.calls, accounted.calls, context);
      if (accounted.inFlight > 0) {
        assert.equal(finished.inFlightAtCrash?.calls, accounted.inFlight, context);
        assert.ok(
          finished.degraded.some((note) => note.includes('in flight')),
          context,
        );
      }
    } finally {
      await endpoint.close();
      dir.remove();
    }
  });
});

describe('a provider that reports more than max_tokens (real process)', () => {
  it('is settled as reported, flagged, stops the spending with budget_exhausted, and every total adds up', async () => {
    const dir = makeTempDir('thicket-overspend-');
    // Every reply claims 4,200 completion tokens whatever max_tokens said.
    const server = await startFakeOpenAI(() => ({
      status: 200,
      body: chatCompletion('Answer: 391', { prompt_tokens: 20, completion_tokens: 4200 }),
    }));
    try {
      const config = dir.write('thicket.config.json', {
        version: 1,
        models: {
          local: {
            provider: 'openai-compatible',
            baseURL: server.baseURL,
            model: 'm',
            priceInputPerMillion: PRICE_IN,
            priceOutputPerMillion: PRICE_OUT,
          },
        },
      });
      const journal = dir.file('journal.db');
      const common = ['--config', config, '--db', journal, '--json'];
      const run = await runCli(
        [
          'solve',
          'What is 17*23?',
          '-m',
          'local',
          '-n',
          '20',
          '--max-output-tokens',
          '64',
          '--budget-usd',
          '0.05',
          '--run-id',
          'over',
          ...common,
        ],
        { cwd: dir.path },
      );
      assert.equal(run.code, 3, describeResult(run));
      const result = parseSingleJson<SolveResult>(run);
      assert.equal(result.status, 'budget_exhausted');
      const served = server.requests.length;
      const perCall = (20 * PRICE_IN + 4200 * PRICE_OUT) / 1_000_000;
      // Booked as reported: every served call at 4,200 output tokens, past the budget — and then nothing more.
      assert.equal(result.usage.calls, served);
      assert.equal(result.usage.outputTokens, 4200 * served);
      assert.equal(result.usage.totalTokens, result.usage.inputTokens + result.usage.outputTokens);
      assert.ok(Math.abs(result.usage.usd - perCall * served) < 1e-9, `usd ${result.usage.usd}`);
      assert.ok(result.usage.usd > 0.05);
      assert.ok(served < 20, `spending stopped once the budget was gone (${served} requests)`);
      // No replays: the new usage is the whole usage (was: "replayed 198" tokens with 0 replayed calls).
      assert.equal(result.replayedCalls, 0);
      assert.deepEqual(result.newUsage, result.usage);
      assert.ok(
        result.degraded.some((note) => note.startsWith('provider overspend')),
        JSON.stringify(result.degraded),
      );
      assert.match(result.error?.message ?? '', /provider overspend/);
      // runs show agrees, and flags each call.
      const shown = await runCli(['runs', 'show', 'over', '--db', journal, '--json'], { cwd: dir.path });
      const show = parseSingleJson<{ totals: SolveResult['usage'] }>(shown);
      assert.equal(show.totals.totalTokens, result.usage.totalTokens);
      assert.equal(show.totals.calls, result.usage.calls);
      const table = await runCli(['runs', 'show', 'over', '--db', journal], { cwd: dir.path });
      assert.equal((table.stdout.match(/over max_tokens/g) ?? []).length, served, table.stdout);
    } finally {
      await server.close();
      dir.remove();
    }
  });
});
