/**
 * The gateway in front of a real OpenAI-compatible endpoint (a local chat server that answers as chat models do
 * — markdown, the answer inline — and counts what it serves): the key's dollar budget is checked against what
 * the ENDPOINT counted, not only against the journal. 200 concurrent requests on one key whose budget covers a
 * fraction of them, vote runs fanning out inside each, the endpoint slow enough that they overlap.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { costOf } from '../core/index.ts';
import { createThicket, type Thicket } from '../lab/index.ts';
import { startGateway, type RunningGateway } from './server.ts';

const PRICES = { inputPerMillion: 2, outputPerMillion: 8 };
const USAGE = { prompt_tokens: 60, completion_tokens: 24 };

interface Served {
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/** A chat endpoint with a delay, replying in markdown with the answer inline, and counting what it served. */
async function startChatEndpoint(served: Served): Promise<{ server: Server; baseURL: string }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const parsed = JSON.parse(body) as { model: string };
      served.requests++;
      served.promptTokens += USAGE.prompt_tokens;
      served.completionTokens += USAGE.completion_tokens;
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: `chatcmpl-${served.requests}`,
            object: 'chat.completion',
            created: 0,
            model: parsed.model,
            choices: [{ index: 0, message: { role: 'assistant', content: '17 × 23 is 391.\n\n**Answer:** 391' }, finish_reason: 'stop' }],
            usage: { ...USAGE, total_tokens: USAGE.prompt_tokens + USAGE.completion_tokens },
          }),
        );
      }, 15);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

describe('a key budget in front of a real endpoint holds by what the endpoint counted', { timeout: 120_000 }, () => {
  const served: Served = { requests: 0, promptTokens: 0, completionTokens: 0 };
  const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-endpoint-'));
  let endpoint: Server;
  let thicket: Thicket;
  let gateway: RunningGateway;

  before(async () => {
    const started = await startChatEndpoint(served);
    endpoint = started.server;
    thicket = await createThicket({
      journal: join(folder, 'journal.db'),
      config: {
        version: 1,
        models: {
          chat: {
            provider: 'openai-compatible',
            baseURL: started.baseURL,
            model: 'chat-model',
            priceInputPerMillion: PRICES.inputPerMillion,
            priceOutputPerMillion: PRICES.outputPerMillion,
            contextWindow: 8192,
            maxConcurrency: 16,
          },
        },
      },
    });
    gateway = await startGateway({ thicket, port: 0, logger: pino({ level: 'silent' }), processMetrics: false });
  });

  after(async () => {
    await gateway.close({ drainMs: 5_000 });
    await new Promise((resolve) => endpoint.close(resolve));
    rmSync(folder, { recursive: true, force: true });
  });

  it('200 concurrent vote requests: the endpoint was paid at most the key budget; the journal and the key agree with it', async (t) => {
    // One call is worth at most (60 + max output) tokens at worst case; the budget buys a few dozen calls.
    const budgetUsd = 0.012;
    const { key, token } = gateway.gateway.context.keys.create({ name: 'tenant', settings: { budget: { usd: budgetUsd } } });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            model: 'vote@chat',
            messages: [{ role: 'user', content: 'What is 17*23?' }],
            max_tokens: 64,
            thicket: { samples: 3, runId: `tenant-${index}` },
          }),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> })),
      ),
    );
    const ok = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    assert.equal(ok.length + refused.length, 200, JSON.stringify(responses.find((r) => r.status !== 200 && r.status !== 429)));
    assert.ok(ok.length > 0 && refused.length > 0, `${ok.length} answered, ${refused.length} refused`);
    for (const response of ok)
      assert.equal((response.body['choices'] as Array<{ message: { content: string } }>)[0]!.message.content, '391');
    for (const response of refused) assert.equal((response.body['error'] as { type: string }).type, 'insufficient_quota');

    // What the endpoint served, priced as the config prices it: never more than the key's budget.
    const paid = costOf({ inputTokens: served.promptTokens, outputTokens: served.completionTokens }, PRICES);
    assert.ok(paid <= budgetUsd + 1e-12, `the endpoint served $${paid} against a $${budgetUsd} key budget`);
    t.diagnostic(
      `${ok.length} answered, ${refused.length} refused (429); the endpoint served ${served.requests} calls = $${paid} of $${budgetUsd}`,
    );
    // The key's spend and the journal count exactly what the endpoint served.
    const spend = gateway.gateway.context.budgets.spend(key);
    assert.equal(spend.spent.calls, served.requests);
    assert.equal(spend.spent.inputTokens, served.promptTokens);
    assert.equal(spend.spent.outputTokens, served.completionTokens);
    assert.equal(spend.reserved.calls, 0, 'nothing left reserved');
    const journal = new Database(join(folder, 'journal.db'), { readonly: true });
    try {
      const row = journal
        .prepare(
          `SELECT COUNT(*) AS calls, SUM(input_tokens) AS input, SUM(output_tokens) AS output
           FROM calls JOIN runs ON runs.id = calls.run_id WHERE runs.owner = ?`,
        )
        .get(key.id) as { calls: number; input: number; output: number };
      assert.deepEqual(row, { calls: served.requests, input: served.promptTokens, output: served.completionTokens });
    } finally {
      journal.close();
    }
  });
});
