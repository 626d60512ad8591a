/**
 * `thicket eval` on a priced OpenAI-compatible endpoint, with real processes (`bin/thicket.js`): the spend
 * guard (expected and worst-case dollars named; refused without --yes when there is no terminal, nothing
 * sent), --max-usd as a hard dollar limit (what the endpoint billed never passes it), and kill -9 mid-run:
 * the same command resumes, finishes with the same results as an uninterrupted run, and the endpoint was
 * never paid twice for a call (journaled calls are replayed, not re-sent).
 *
 * The endpoint answers like a chat model (markdown, bold, free text), deterministically by question, and
 * counts what it receives and what it bills (only the requests it answers).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countMessageTokens, type ChatLikeMessage } from '../core/index.ts';
import { describeResult, makeTempDir, parseSingleJson, runCli, spawnCli, type SpawnedCli, type TempDir } from './testing/run-cli.ts';

const PRICE_IN = 10; // $ per million
const PRICE_OUT = 20;
/** Completion tokens billed per reply (at most the request's max_tokens); prompt tokens are counted as OpenAI would (o200k). */
const COMPLETION_TOKENS = 200;

/** Four GSM8K-shaped items; the endpoint gets 8*9 wrong (71), so accuracy is 3/4 whatever the strategy. */
const ROWS = [
  { question: 'What is 25+17?', answer: '#### 42' },
  { question: 'What is 8*9?', answer: '#### 72' },
  { question: 'What is 100-37?', answer: '#### 63' },
  { question: 'What is (12+7)*3-4?', answer: '#### 53' },
];
const REPLIES: Record<string, string> = {
  '25+17': 'The answer is **42**.',
  '8*9': 'Let me think.\n\n1. Eight nines.\n2. That is 71.\n\n**Final answer:** 71',
  '100-37': 'Sure! Taking 37 from 100 leaves 63, so that is my answer.',
  '(12+7)*3-4': '## Working\n\n- 12+7 = 19\n- 19*3 = 57\n- 57-4 = 53\n\nThe answer is **53**.',
};

interface Endpoint {
  baseURL: string;
  /** Requests received (answered or not). */
  received: number;
  /** Requests answered, and the dollars they bill. */
  answered: number;
  billedUsd: number;
  /** Asked on every request with its 1-based index among those received since the last reset: reply or hold. */
  onRequest: (index: number) => 'reply' | 'hold';
  reset: () => void;
  close: () => Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  const held: ServerResponse[] = [];
  let sinceReset = 0;
  const endpoint: Endpoint = {
    baseURL: '',
    received: 0,
    answered: 0,
    billedUsd: 0,
    onRequest: () => 'reply',
    reset: () => {
      sinceReset = 0;
      endpoint.received = 0;
      endpoint.answered = 0;
      endpoint.billedUsd = 0;
      endpoint.onRequest = () => 'reply';
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      endpoint.received++;
      if (endpoint.onRequest(++sinceReset) === 'hold') {
        held.push(res);
        return;
      }
      const body = JSON.parse(raw) as { messages: ChatLikeMessage[]; max_tokens?: number; max_completion_tokens?: number };
      const prompt = countMessageTokens(body.messages);
      const question = /What is (.+?)\?/.exec(body.messages.at(-1)?.content ?? '')?.[1] ?? '';
      const completion = Math.min(body.max_tokens ?? body.max_completion_tokens ?? COMPLETION_TOKENS, COMPLETION_TOKENS);
      endpoint.answered++;
      endpoint.billedUsd += (prompt * PRICE_IN + completion * PRICE_OUT) / 1e6;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${endpoint.received}`,
          object: 'chat.completion',
          created: 0,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: REPLIES[question] ?? 'I am not sure.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
        }),
      );
    });
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return endpoint;
}

interface EvalJson {
  evalId: string;
  status: string;
  simulated: boolean;
  counts: { planned: number; executed: number; resumed: number; failed: number; notStarted: number };
  calls: { new: number; replayed: number };
  summary: {
    stats: Array<{ architecture: string; budget: number; n: number; accuracy: number; accuracyCi: { low: number; high: number } }>;
    comparisons: Array<{ pairs: number; difference: number; withinNoise: boolean }>;
    systemSpend: { totalTokens: number; usd: number };
  };
  export: string | null;
}

describe('thicket eval on a priced endpoint (real processes)', { concurrency: false }, () => {
  let dir: TempDir;
  let endpoint: Endpoint;
  let dataset: string;
  before(async () => {
    dir = makeTempDir('thicket-eval-spend-');
    endpoint = await startEndpoint();
    dataset = dir.write('items.jsonl', `${ROWS.map((row) => JSON.stringify(row)).join('\n')}\n`);
    // One request at a time: a kill on receipt of the k-th request leaves exactly that one unanswered.
    dir.write('thicket.config.json', {
      version: 1,
      models: {
        local: {
          provider: 'openai-compatible',
          baseURL: endpoint.baseURL,
          model: 'm',
          priceInputPerMillion: PRICE_IN,
          priceOutputPerMillion: PRICE_OUT,
          contextWindow: 8192,
          maxConcurrency: 1,
        },
      },
    });
  });
  after(async () => {
    await endpoint.close();
    dir.remove();
  });
  const evalArgs = (db: string, ...extra: string[]): string[] => [
    'eval',
    dataset,
    '--preset',
    'gsm8k',
    '--strategies',
    'single,vote',
    '--budgets',
    '2k',
    '--models',
    'local',
    '--config',
    dir.file('thicket.config.json'),
    '--db',
    dir.file(db),
    '--out',
    dir.file(`out-${db}`),
    ...extra,
  ];

  it('names the expected and worst-case dollars, and without --yes and no terminal refuses before any request (exit 2)', async () => {
    endpoint.reset();
    const result = await runCli(evalArgs('refused.db'), { cwd: dir.path });
    assert.equal(result.code, 2, describeResult(result));
    // 4 items × 2 strategies × one 2,000-token budget = 8 cells; expected: 8 × 2,000 × ($10 + $20)/2 per million
    // = $0.24; worst case: 8 × 2,000 × $20 per million = $0.32.
    assert.match(
      result.stderr,
      /eval: 8 cells \(4 items × strategies × budgets × models × seeds\); expected ≈ \$0\.2400, worst case \$0\.3200 /,
    );
    assert.match(result.stderr, /on local \(openai-compatible m, \$10\/\$20 per million input\/output tokens\)/);
    assert.match(result.stderr, /--yes/);
    assert.equal(endpoint.received, 0, 'nothing was sent');
    assert.equal(result.stdout, '');
  });

  it('--max-usd below the worst case is a hard dollar limit: what the endpoint billed never passes it (exit 3)', async () => {
    endpoint.reset();
    const maxUsd = 0.05;
    const result = await runCli(evalArgs('capped.db', '--max-usd', String(maxUsd), '--json', '--export', 'jsonl'), { cwd: dir.path });
    assert.equal(result.code, 3, describeResult(result));
    assert.match(result.stderr, /eval: stops once \$0\.0500 is spent \(--max-usd\)/);
    const summary = parseSingleJson<EvalJson>(result);
    assert.equal(summary.status, 'budget_exhausted');
    assert.ok(summary.counts.executed > 0 && summary.counts.notStarted > 0, JSON.stringify(summary.counts));
    assert.ok(endpoint.billedUsd > 0 && endpoint.billedUsd <= maxUsd + 1e-12, `billed $${endpoint.billedUsd}`);
    // The eval accounts for exactly what was billed.
    assert.equal(endpoint.received, endpoint.answered);
    assert.ok(
      Math.abs(summary.summary.systemSpend.usd - endpoint.billedUsd) < 1e-9,
      `${summary.summary.systemSpend.usd} vs ${endpoint.billedUsd}`,
    );
  });

  it('killed -9 mid-run, the same command resumes to the same results as an uninterrupted run, paying no call twice', async () => {
    // Uninterrupted, in its own journal.
    endpoint.reset();
    const whole = await runCli(evalArgs('whole.db', '--yes', '--json', '--export', 'jsonl'), { cwd: dir.path, timeoutMs: 60_000 });
    assert.equal(whole.code, 0, describeResult(whole));
    const reference = parseSingleJson<EvalJson>(whole);
    const wholeAnswered = endpoint.answered;
    assert.equal(wholeAnswered, endpoint.received);
    // The endpoint's chatty replies are read: 3 of 4 right (8*9 is answered 71) for both strategies.
    assert.deepEqual(
      reference.summary.stats.map((row) => [row.architecture, row.n, row.accuracy]),
      [
        ['single', 4, 0.75],
        ['vote', 4, 0.75],
      ],
    );
    assert.deepEqual(reference.counts, { planned: 8, executed: 8, resumed: 0, failed: 0, notStarted: 0 });
    assert.ok(wholeAnswered > 8, `${wholeAnswered} requests (vote samples several)`);

    // The same eval in another journal, killed on receipt of a request part-way through (held, never answered).
    endpoint.reset();
    const killAt = Math.ceil(wholeAnswered / 2);
    const current: { spawned?: SpawnedCli } = {};
    endpoint.onRequest = (index) => {
      if (index !== killAt) return 'reply';
      current.spawned?.child.kill('SIGKILL');
      return 'hold';
    };
    current.spawned = spawnCli(evalArgs('killed.db', '--yes', '--json', '--export', 'jsonl'), { cwd: dir.path, timeoutMs: 60_000 });
    const killed = await current.spawned.done;
    assert.equal(killed.signal, 'SIGKILL', describeResult(killed));
    assert.equal(endpoint.received, killAt);
    assert.equal(endpoint.answered, killAt - 1);

    endpoint.onRequest = () => 'reply';
    const resumed = await runCli(evalArgs('killed.db', '--yes', '--json', '--export', 'jsonl'), { cwd: dir.path, timeoutMs: 60_000 });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const after = parseSingleJson<EvalJson>(resumed);
    assert.equal(after.evalId, reference.evalId, 'the same command names the same eval');
    assert.equal(after.counts.planned, 8);
    assert.equal(after.counts.resumed + after.counts.executed, 8);
    // The calls answered before the kill come back from the journal (whole cells, or calls replayed inside an
    // unfinished cell); only the rest are sent, the one held at the kill among them.
    assert.equal(after.calls.new, wholeAnswered - (killAt - 1), JSON.stringify(after.calls));
    assert.deepEqual(after.summary.stats, reference.summary.stats);
    assert.deepEqual(after.summary.comparisons, reference.summary.comparisons);
    // Per item, strategy, answer, score, tokens and dollars: the same as the uninterrupted run.
    assert.equal(readFileSync(after.export!, 'utf8'), readFileSync(reference.export!, 'utf8'));
    // No call paid twice: across both processes the endpoint answered exactly as many requests as the
    // uninterrupted run (only the one held at the kill was sent again), and billed the same dollars.
    assert.equal(endpoint.answered, wholeAnswered, `answered ${endpoint.answered} vs ${wholeAnswered} uninterrupted`);
    assert.equal(endpoint.received, wholeAnswered + 1);
  });
});
