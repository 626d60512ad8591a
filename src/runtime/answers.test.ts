/**
 * Answers from real chat models (issue 16 §1), through the runtime against a local OpenAI-compatible server
 * (a real HTTP server on 127.0.0.1): replies in the shapes chat models write them, free text, structured
 * output and its fallbacks, free-text votes (USC and its similarity fallback), and the simulated fleet asked
 * something outside its generated tasks.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeForRun } from '../core/index.ts';
import { FREE_TEXT_USC_SYSTEM_PROMPT, meanSimilarities } from '../ops/index.ts';
import { createRuntime, type SolveOptions, type SolveResult } from './index.ts';

interface SeenRequest {
  body: Record<string, unknown>;
}

/** A chat-completions endpoint on 127.0.0.1: each test sets `handler`; `seen` holds the current test's requests. */
const server = {
  baseURL: '',
  seen: [] as SeenRequest[],
  handler: (_request: SeenRequest, res: ServerResponse): void => void res.end(),
};
let http: Server;
before(async () => {
  http = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const request = { body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
      server.seen.push(request);
      server.handler(request, res);
    });
  });
  http.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.baseURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
});
afterEach(() => void (server.seen.length = 0));
after(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function completion(content: string, extra: Record<string, unknown>, finishReason: string): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...extra,
  };
}

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const USAGE = { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 };
const reply = (content: string, finishReason = 'stop'): Record<string, unknown> => completion(content, { usage: USAGE }, finishReason);

/** Solves against the fake server (alias `local`), in a fresh journal; returns the result and the journaled calls. */
async function solveLocal(
  query: string,
  options: SolveOptions,
  model: Record<string, unknown> = {},
): Promise<{ result: SolveResult; journaledCalls: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-answers-'));
  folders.push(folder);
  const thicket = await createRuntime({
    journal: join(folder, 'journal.db'),
    config: {
      version: 1,
      models: {
        local: {
          provider: 'openai-compatible',
          baseURL: server.baseURL,
          model: 'test-model',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 2,
          ...model,
        },
      },
    } as never,
  });
  try {
    const result = await thicket.solve(query, { model: 'local', ...options });
    const journaledCalls = thicket.runs.get(result.runId)?.calls.length ?? -1;
    return { result, journaledCalls };
  } finally {
    await thicket.close();
  }
}

const answering = (content: string, finishReason?: string): void => {
  server.handler = (_request, res) => json(res, 200, reply(content, finishReason));
};

describe('single on a real endpoint: replies as chat models write them', () => {
  const cases: Array<[string, string, string]> = [
    ['Paris is the capital. Answer: Paris', 'Paris', 'answer-line'],
    ['The capital of France is Paris.\n\n**Answer:** Paris', 'Paris', 'answer-line'],
    ['It is Paris.\n\nFinal answer: **Paris**', 'Paris', 'answer-line'],
    ['{"answer": "Paris"}', 'Paris', 'json'],
  ];
  for (const [content, answer, extractor] of cases)
    it(`${JSON.stringify(content)} → ${answer} (${extractor}), status ok`, async () => {
      answering(content);
      const { result } = await solveLocal('What is the capital of France?', { strategy: 'single' });
      assert.equal(result.status, 'ok', JSON.stringify(result.error));
      assert.equal(result.answer, answer);
      assert.deepEqual(result.extraction, { node: 'answer', extractor, text: content });
      assert.equal(exitCodeForRun(result.status, result.error?.code), 0);
    });

  it('a free-text reply is the answer (status ok), and the result says no extractor matched', async () => {
    const text = 'The capital of France is Paris, which sits on the Seine.';
    answering(text);
    const { result } = await solveLocal('What is the capital of France?', { strategy: 'single' });
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, text);
    assert.deepEqual(result.extraction, { node: 'answer', extractor: null, text });
    assert.equal(result.error, undefined);
  });

  it('a reply cut off at the output cap with no answer is ANSWER_UNPARSED (exit 5), not a provider error', async () => {
    answering('Let me think about this step by step. First, the', 'length');
    const { result } = await solveLocal('What is the capital of France?', { strategy: 'single' });
    assert.equal(result.status, 'error');
    assert.equal(result.answer, null);
    assert.equal(result.error?.code, 'ANSWER_UNPARSED');
    assert.match(result.error.message, /cut off at the output cap/);
    assert.equal(result.extraction?.truncated, true);
    assert.equal(result.extraction?.text, 'Let me think about this step by step. First, the');
    assert.equal(exitCodeForRun(result.status, result.error.code), 5);
  });

  it('an endpoint that fails is PROVIDER_ERROR (exit 1), told apart from an unparsed answer', async () => {
    server.handler = (_request, res) => json(res, 400, { error: { message: 'model not loaded', type: 'invalid_request_error' } });
    const { result } = await solveLocal('What is the capital of France?', { strategy: 'single' });
    assert.equal(result.status, 'error');
    assert.equal(result.error?.code, 'PROVIDER_ERROR');
    assert.equal(exitCodeForRun(result.status, result.error.code), 1);
  });
});

describe('structured output (model config structuredOutput: true)', () => {
  const isStructured = (request: SeenRequest): boolean =>
    (request.body['response_format'] as { type?: string } | undefined)?.type === 'json_schema';

  it('sends response_format json_schema and reads the answer field', async () => {
    answering('{"reasoning": "France\'s capital is Paris.", "answer": "Paris"}');
    const { result, journaledCalls } = await solveLocal(
      'What is the capital of France?',
      { strategy: 'single' },
      { structuredOutput: true },
    );
    assert.equal(server.seen.length, 1);
    const format = server.seen[0]!.body['response_format'] as { type: string; json_schema: { schema: { required: string[] } } };
    assert.equal(format.type, 'json_schema');
    assert.deepEqual(format.json_schema.schema.required, ['reasoning', 'answer']);
    assert.equal(result.answer, 'Paris');
    assert.equal(result.extraction?.extractor, 'json');
    assert.equal(result.extraction?.structured, 'used');
    assert.equal(result.usage.calls, 1);
    assert.equal(journaledCalls, 1);
  });

  it('an endpoint that refuses it (HTTP 400) is asked again as text; the refused attempt is settled', async () => {
    server.handler = (request, res) =>
      isStructured(request)
        ? json(res, 400, { error: { message: "Unsupported parameter: 'response_format'", type: 'invalid_request_error' } })
        : json(res, 200, reply('Paris is the capital. Answer: Paris'));
    const { result } = await solveLocal('What is the capital of France?', { strategy: 'single' }, { structuredOutput: true });
    assert.deepEqual(
      server.seen.map((request) => isStructured(request)),
      [true, false],
    );
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, 'Paris');
    assert.equal(result.extraction?.extractor, 'answer-line');
    assert.equal(result.extraction?.structured, 'refused');
    // Both requests are calls the ledger counted; only the text call was billed tokens.
    assert.equal(result.usage.calls, 2);
    assert.equal(result.usage.inputTokens, 30);
  });

  it('an endpoint that ignores it and writes prose: the text is read, with no second call, and that paid call is journaled', async () => {
    answering('The capital of France is Paris.\n\n**Answer:** Paris');
    const { result, journaledCalls } = await solveLocal(
      'What is the capital of France?',
      { strategy: 'single' },
      { structuredOutput: true },
    );
    assert.equal(server.seen.length, 1, 'no retry, no second call');
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, 'Paris');
    assert.equal(result.extraction?.extractor, 'answer-line');
    assert.equal(result.extraction?.structured, 'not-json');
    assert.deepEqual(
      { calls: result.usage.calls, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
      { calls: 1, inputTokens: 30, outputTokens: 10 },
    );
    assert.equal(journaledCalls, 1);
  });
});

describe('vote on open-ended questions: free-text samples', () => {
  const PARAPHRASES = [
    'Sunlight is scattered by the molecules of the air, and blue light is scattered most, so the sky looks blue.',
    'Air molecules scatter the blue part of sunlight much more strongly than red light; that scattered blue light fills the sky.',
    'Because of Rayleigh scattering: the molecules of the air scatter short (blue) wavelengths of sunlight the most.',
    'The sky reflects the colour of the ocean.',
  ];
  const CHOSEN = PARAPHRASES[2]!;
  const QUESTION = 'Why is the sky blue?';

  /** Samples get the paraphrases in arrival order; the USC request is answered by naming CHOSEN's position. */
  function serveParaphrases(uscReply: (chosenPosition: number) => string): { usc: SeenRequest[] } {
    const seen = { usc: [] as SeenRequest[] };
    let next = 0;
    server.handler = (request, res) => {
      const messages = request.body['messages'] as Array<{ role: string; content: string }>;
      if (messages[0]?.content === FREE_TEXT_USC_SYSTEM_PROMPT) {
        seen.usc.push(request);
        const user = messages[1]!.content;
        const position = user.split(/\nResponse \d+:\n/).findIndex((part) => part.startsWith(CHOSEN));
        json(res, 200, reply(uscReply(position)));
        return;
      }
      json(res, 200, reply(PARAPHRASES[next++ % PARAPHRASES.length]!));
    };
    return seen;
  }

  it('no short answer in most samples: one USC call (budgeted, journaled) picks the most consistent reply', async () => {
    const seen = serveParaphrases(
      (position) => `Responses 1–3 agree on scattering.\n\nThe most consistent response is Response ${position}.`,
    );
    const { result, journaledCalls } = await solveLocal(QUESTION, { strategy: 'vote', samples: 4 });
    assert.equal(result.status, 'ok', JSON.stringify(result.error));
    assert.equal(result.answer, CHOSEN);
    assert.equal(seen.usc.length, 1);
    // The USC prompt shows every sample verbatim.
    const uscPrompt = (seen.usc[0]!.body['messages'] as Array<{ content: string }>)[1]!.content;
    for (const text of PARAPHRASES) assert.ok(uscPrompt.includes(text));
    assert.equal(result.vote?.freeText, 'usc');
    assert.deepEqual(result.vote?.votes, {});
    assert.deepEqual(result.extraction, { node: 'vote', extractor: null, text: CHOSEN, via: 'usc' });
    assert.equal(result.usage.calls, 5);
    assert.equal(journaledCalls, 5);
    assert.ok(result.spendByAxis['width'] !== undefined);
  });

  it('USC refused by the budget: the reply most similar to the others, recorded as a degradation', async () => {
    const seen = serveParaphrases(() => 'unused');
    const { result } = await solveLocal(QUESTION, { strategy: 'vote', samples: 4, budget: { calls: 4 } });
    assert.equal(seen.usc.length, 0);
    assert.equal(result.status, 'ok');
    const similarities = meanSimilarities(PARAPHRASES);
    const medoid = PARAPHRASES[similarities.indexOf(Math.max(...similarities))];
    assert.equal(result.answer, medoid);
    assert.notEqual(result.answer, PARAPHRASES[3]);
    assert.equal(result.vote?.freeText, 'similarity');
    assert.ok(
      result.degraded.some((note) => note.includes('usc → similarity (budget)')),
      result.degraded.join('; '),
    );
    assert.equal(result.usage.calls, 4);
  });

  it('a USC reply whose choice cannot be read falls back on similarity too', async () => {
    serveParaphrases(() => 'They all make good points.');
    const { result } = await solveLocal(QUESTION, { strategy: 'vote', samples: 4 });
    assert.equal(result.status, 'ok');
    assert.equal(result.vote?.freeText, 'similarity');
    assert.notEqual(result.answer, PARAPHRASES[3]);
    assert.ok(result.degraded.some((note) => note.includes('choice not parsed')));
    assert.equal(result.usage.calls, 5);
  });

  it('short answers written in markdown still vote as short answers (no USC call)', async () => {
    let next = 0;
    const replies = ['Paris is the capital.\n\n**Answer:** Paris', 'Answer: **Paris**', 'The answer is Paris.', 'Answer: Lyon'];
    server.handler = (_request, res) => json(res, 200, reply(replies[next++ % replies.length]!));
    const { result } = await solveLocal('What is the capital of France?', { strategy: 'vote', samples: 4 });
    assert.equal(result.answer, 'Paris');
    assert.deepEqual(result.vote?.votes, { paris: 3, lyon: 1 });
    assert.equal(result.vote?.freeText, undefined);
    assert.equal(result.usage.calls, 4);
  });

  it('a bold result ("The result is **439**.") counts as a short answer: arithmetic replies in three styles vote on numbers', async () => {
    let next = 0;
    const replies = [
      'Let me compute: 17*23 = 391, 12*4 = 48, so 391 + 48 = 439.\n\nAnswer: 439',
      'The result is **439**.',
      'I think it is 440.',
    ];
    server.handler = (_request, res) => json(res, 200, reply(replies[next++ % replies.length]!));
    const { result } = await solveLocal('What is (17*23)+(12*4)?', { strategy: 'vote', samples: 6 });
    assert.equal(result.answer, '439');
    // 4 of 6 replies are explicit (answer-line, bold-number), so no USC call; the prose one votes by its last number.
    assert.deepEqual(result.vote?.votes, { '439': 4, '440': 2 });
    assert.equal(result.vote?.freeText, undefined);
    assert.equal(result.usage.calls, 6);
  });
});

describe('the simulated fleet asked outside its generated tasks', () => {
  for (const strategy of ['single', 'thread', 'vote'] as const)
    it(`--strategy ${strategy}: SIM_UNKNOWN_TASK pointing to real models, never a placeholder answer`, async () => {
      const folder = mkdtempSync(join(tmpdir(), 'thicket-answers-'));
      folders.push(folder);
      const thicket = await createRuntime({ journal: join(folder, 'journal.db'), config: { version: 1, models: {} } });
      try {
        const result = await thicket.solve('What is the capital of France?', { model: 'sim:small', strategy });
        assert.equal(result.answer, null);
        assert.equal(result.status, 'error');
        assert.equal(result.error?.code, 'SIM_UNKNOWN_TASK');
        assert.match(result.error.message, /only Thicket's generated tasks/);
        assert.match(result.error.message, /openai:<model>.*gguf:/);
        assert.equal(exitCodeForRun(result.status, result.error.code), 2);
        // Arithmetic, which the simulated fleet generates, still answers.
        const known = await thicket.solve('What is 17*23?', { model: 'sim:small', strategy });
        assert.equal(known.status, 'ok');
        assert.equal(known.answer, '391');
      } finally {
        await thicket.close();
      }
    });
});
