import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeArithmeticTask } from '../../models/index.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createThicket } from '../thicket.ts';
import type { CommandIO } from '../study-command.ts';
import { evalCommand, type EvalCommandOptions } from './eval-command.ts';
import { parseAmount } from './eval-file.ts';
import type { EvalSummary } from './eval-report.ts';

const GSM8K = join(import.meta.dirname, '../../../fixtures/gsm8k-sample.jsonl');
const fixture = (name: string): string => join(import.meta.dirname, '../../../fixtures', name);
const silent: CommandIO = { out: () => {}, err: () => {}, isTTY: false, handleSigint: false, now: () => new Date('2026-01-01T00:00:00Z') };

describe('thicket eval (in process)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'thicket-eval-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (options: Partial<EvalCommandOptions> & { target: string }, id: string) =>
    evalCommand({ db: join(dir, 'journal.db'), out: join(dir, id), resume: id, json: true, ...options }, silent);

  it('budgets accept 2k, 8k, 1.5m', () => {
    assert.equal(parseAmount('2k'), 2000);
    assert.equal(parseAmount('8K'), 8000);
    assert.equal(parseAmount('1.5m'), 1_500_000);
    assert.equal(parseAmount('800'), 800);
    assert.equal(parseAmount('two'), undefined);
  });

  it('gsm8k on the simulated fleet: single,vote × 2k,8k → 48 cells, report with CIs and paired comparisons, export; then resumes', async () => {
    const options = { target: GSM8K, preset: 'gsm8k', strategies: 'single,vote', budgets: '2k,8k', models: 'sim:small', export: 'jsonl' };
    const result = await run(options, 'gsm-sim');
    assert.equal(result.exitCode, 0);
    assert.equal(result.simulated, true);
    assert.deepEqual(result.counts, { planned: 48, executed: 48, resumed: 0, failed: 0, notStarted: 0 });
    assert.equal(result.summary.scorer, 'numeric');
    assert.deepEqual(
      result.summary.stats.map((row) => [row.architecture, row.budget, row.n]),
      [
        ['single', 2000, 12],
        ['vote', 2000, 12],
        ['single', 8000, 12],
        ['vote', 8000, 12],
      ],
    );
    for (const row of result.summary.stats) assert.ok(row.accuracyCi.low <= row.accuracy && row.accuracy <= row.accuracyCi.high);
    assert.deepEqual(
      result.summary.comparisons.map((row) => [row.a.architecture, row.b.architecture, row.a.budget, row.pairs]),
      [
        ['single', 'vote', 2000, 12],
        ['single', 'vote', 8000, 12],
      ],
    );
    assert.ok(result.summary.comparisons.every((row) => row.mcnemar !== undefined));
    // Vote at 8k spends more than vote at 2k (its width scales with the budget); single does not.
    const tokens = (architecture: string, budget: number) =>
      result.summary.stats.find((row) => row.architecture === architecture && row.budget === budget)!.meanTokens;
    assert.ok(tokens('vote', 8000) > tokens('vote', 2000));
    assert.equal(tokens('single', 8000), tokens('single', 2000));
    const markdown = readFileSync(result.report!.markdown, 'utf8');
    assert.match(markdown, /## Evaluation on .*gsm8k-sample\.jsonl/);
    assert.match(markdown, /### Paired comparisons on the same items/);
    assert.match(readFileSync(result.report!.html, 'utf8'), /<section id="evaluation">/);
    const saved = JSON.parse(readFileSync(result.report!.eval, 'utf8')) as EvalSummary;
    assert.equal(saved.comparisons.length, 2);
    const lines = readFileSync(result.export!, 'utf8').trim().split('\n');
    assert.equal(lines.length, 48);
    const first = JSON.parse(lines[0]!) as { item: string; expected: string; strategy: string };
    assert.deepEqual([first.item, first.expected, first.strategy], ['row-1', '53', 'single']);

    const again = await run(options, 'gsm-sim');
    assert.deepEqual(again.counts, { planned: 48, executed: 0, resumed: 48, failed: 0, notStarted: 0 });
    assert.deepEqual(again.summary.stats, result.summary.stats, 'a resumed eval reports the same numbers');
  });

  it('a custom scorer module end to end (CSV export)', async () => {
    const result = await run(
      {
        target: fixture('trivia-sample.jsonl'),
        preset: 'trivia',
        scorer: fixture('scorers/contains-answer.mjs'),
        models: 'sim:large',
        export: 'csv',
      },
      'trivia-custom',
    );
    assert.equal(result.exitCode, 0);
    assert.equal(result.summary.dataset.items, 3);
    assert.deepEqual(
      result.summary.dataset.skipped.map((issue) => [issue.line, issue.field]),
      [[4, 'answer']],
    );
    assert.equal(result.summary.scorer, fixture('scorers/contains-answer.mjs'));
    const csv = readFileSync(result.export!, 'utf8').split('\r\n');
    assert.equal(csv[0], 'item,line,model,strategy,budget,seed,answer,expected,score,status,tokens,usd');
    assert.equal(csv.filter((line) => line !== '').length, 4);
  });

  it('the LLM judge end to end: its own slice, spend reported apart, never beyond the slice', async () => {
    const result = await run(
      { target: GSM8K, preset: 'gsm8k', limit: '4', scorer: 'judge:sim:large', judgeBudget: '20k', models: 'sim:small' },
      'gsm-judge',
    );
    assert.equal(result.exitCode, 0);
    const judge = result.summary.judge!;
    assert.equal(judge.model, 'sim:large');
    assert.deepEqual(judge.slice, { totalTokens: 20_000 });
    assert.ok(judge.spent.calls >= 1 && judge.spent.calls <= 4, `calls ${judge.spent.calls}`);
    assert.ok(judge.spent.totalTokens > 0 && judge.spent.totalTokens <= 20_000);
    // The system's spend does not include the judge's.
    const systemTokens = result.summary.stats.reduce((sum, row) => sum + row.meanTokens * row.n, 0);
    assert.equal(result.summary.systemSpend.totalTokens, systemTokens);
    // A slice too small for even one verdict: every cell fails BUDGET_EXHAUSTED (not scored 0), none over the slice.
    const starved = await run(
      { target: GSM8K, preset: 'gsm8k', limit: '2', scorer: 'judge:sim:large', judgeBudget: '100', models: 'sim:small' },
      'gsm-judge-starved',
    );
    assert.equal(starved.counts.failed, 2);
    assert.deepEqual(
      starved.failures.map((failure) => failure.code),
      ['BUDGET_EXHAUSTED', 'BUDGET_EXHAUSTED'],
    );
    assert.equal(starved.summary.judge!.spent.totalTokens, 0);
    assert.deepEqual(starved.summary.stats, []);
  });

  it('--strict refuses bad rows before anything runs (DATASET_INVALID)', async () => {
    await assert.rejects(run({ target: fixture('math-sample.jsonl'), preset: 'math', strict: true, models: 'sim:small' }, 'math-strict'), {
      code: 'DATASET_INVALID',
    });
  });

  it('over an OpenAI-compatible endpoint (a local fake server answering the arithmetic)', async () => {
    // A local OpenAI-compatible endpoint (the lab cannot import the CLI's test server): it answers each
    // question's arithmetic correctly, billing 30 prompt + 5 completion tokens per reply.
    let requests = 0;
    const server: Server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        requests++;
        const messages = (JSON.parse(raw) as { messages: Array<{ content: string }> }).messages;
        const expression = /What is (.+)\?/.exec(messages.at(-1)!.content)?.[1] ?? '1+1';
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: `chatcmpl-${requests}`,
            object: 'chat.completion',
            created: 0,
            model: 'fake',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: `Answer: ${makeArithmeticTask('x', expression).answer}` },
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 },
          }),
        );
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const thicket = await createThicket({
        journal: join(dir, 'endpoint.db'),
        config: {
          version: 1,
          models: {
            local: {
              provider: 'openai-compatible',
              baseURL,
              model: 'fake',
              priceInputPerMillion: 1,
              priceOutputPerMillion: 2,
              contextWindow: 8192,
            },
          },
        },
      });
      const result = await thicket.eval({
        dataset: GSM8K,
        preset: 'gsm8k',
        strategies: 'single,vote',
        budgets: '2k,8k',
        models: 'local',
        id: 'gsm-endpoint',
        report: join(dir, 'endpoint-report'),
      });
      await thicket.close();
      assert.equal(result.simulated, false);
      assert.equal(result.status, 'ok');
      assert.deepEqual(
        result.summary.stats.map((row) => [row.architecture, row.budget, row.accuracy]),
        [
          ['single', 2000, 1],
          ['vote', 2000, 1],
          ['single', 8000, 1],
          ['vote', 8000, 1],
        ],
      );
      assert.ok(requests >= 12 * 2, `${requests} requests`);
      // Each reply is billed 30 prompt + 5 completion tokens at $1/$2 per million.
      assert.ok(result.summary.systemSpend.usd > 0);
      assert.ok(result.summary.comparisons.every((row) => row.difference === 0 && row.withinNoise));
      assert.ok(existsSync(result.report!.html));
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    }
  });
});

describe('the json scorer reads the model’s raw reply', () => {
  it('scores the JSON object a chat model wrote (in a fenced block, prose around it), not the extracted short answer', async () => {
    // Replies as a chat model writes them: the object in a ```json block; the short-answer extractor alone would
    // take the last number (1815) from it. Ada's reply is right; Alan's has the wrong year (2 of 3 fields).
    const replies: Record<string, string> = {
      Ada: 'Here is the person:\n\n```json\n{\n  "name": "Ada Lovelace",\n  "city": "London",\n  "year": 1815\n}\n```\nHope this helps!',
      Alan: 'Sure.\n```json\n{"name": "Alan Turing", "city": "London", "year": 1921}\n```',
    };
    const server: Server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        const last = (JSON.parse(raw) as { messages: Array<{ content: string }> }).messages.at(-1)!.content;
        const content = last.includes('Ada') ? replies['Ada'] : replies['Alan'];
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: 'fake',
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 30, completion_tokens: 20, total_tokens: 50 },
          }),
        );
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const dir = mkdtempSync(join(tmpdir(), 'thicket-eval-json-'));
    try {
      const result = await evalCommand(
        {
          target: fixture('json-sample.jsonl'),
          scorer: 'json',
          strategies: 'single',
          budgets: '2k',
          models: 'local',
          db: join(dir, 'journal.db'),
          out: join(dir, 'report'),
          export: 'jsonl',
          json: true,
          fleetConfig: {
            version: 1,
            models: {
              local: {
                provider: 'openai-compatible',
                baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
                model: 'fake',
                priceInputPerMillion: 1,
                priceOutputPerMillion: 2,
                contextWindow: 8192,
              },
            },
          },
        },
        silent,
      );
      assert.equal(result.status, 'ok');
      const items = readFileSync(result.export!, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { item: string; score: number });
      assert.deepEqual(
        items.map((item) => item.score),
        [1, 2 / 3],
      );
      assert.equal(result.summary.stats[0]?.accuracy, (1 + 2 / 3) / 2);
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('thicket eval on a tiny real model', () => {
  it('tiny:reasoning-small answers 3 GSM8K-shaped arithmetic items (single): real, scored, journaled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thicket-eval-tiny-'));
    try {
      const result = await evalCommand(
        {
          target: GSM8K,
          preset: 'gsm8k',
          limit: '3',
          strategies: 'single',
          budgets: '2k',
          models: 'tiny:reasoning-small',
          db: join(dir, 'journal.db'),
          out: join(dir, 'report'),
          json: true,
        },
        silent,
      );
      assert.equal(result.simulated, false);
      assert.equal(result.status, 'ok');
      assert.deepEqual(result.counts, { planned: 3, executed: 3, resumed: 0, failed: 0, notStarted: 0 });
      const [row] = result.summary.stats;
      assert.equal(row?.n, 3);
      assert.ok(row.meanTokens > 0);
      assert.ok([0, 1 / 3, 2 / 3, 1].includes(row.accuracy), `accuracy ${row.accuracy}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
