/**
 * The raw Server-Sent Events of a streamed completion, as `curl -sN` receives them: OpenAI chunk lines
 * (`data: {json}`), Thicket's progress as SSE comments (`: thicket {json}`, which OpenAI clients skip), the
 * usage chunk, and `data: [DONE]` last.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

function curl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `curl -sN -D -` (headers, then the unbuffered body) posting a chat completion with the test's key. */
function curlChat(test: TestGateway, token: string, body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const headers = ['-H', 'content-type: application/json', '-H', `authorization: Bearer ${token}`];
  return curl(['-sN', '-D', '-', ...headers, '--data-binary', body, `${test.url}/v1/chat/completions`]);
}

/** SSE events: blocks separated by a blank line, each a list of lines. */
function sseEvents(raw: string): string[][] {
  return raw
    .split(/\r?\n\r?\n/)
    .map((block) => block.split(/\r?\n/).filter((line) => line !== ''))
    .filter((lines) => lines.length > 0);
}

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null; logprobs: null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  thicket?: { run_id: string; usage: { totalTokens: number; calls: number } };
}

describe('the SSE stream of a streamed completion', () => {
  let test: TestGateway;
  let token: string;

  before(async () => {
    test = await startTestGateway();
    token = test.running.gateway.context.keys.create({ name: 'curl' }).token;
  });
  after(() => test.close());

  it('is OpenAI chunks, progress comments, a usage chunk and [DONE]', async () => {
    const body = JSON.stringify({
      model: 'vote@sim:small',
      messages: [{ role: 'user', content: 'What is 17*23?' }],
      stream: true,
      stream_options: { include_usage: true },
      thicket: { samples: 3, runId: 'curl-run' },
    });
    const { code, stdout, stderr } = await curlChat(test, token, body);
    assert.equal(code, 0, stderr);
    const headerEnd = stdout.indexOf('\r\n\r\n');
    const head = stdout.slice(0, headerEnd).toLowerCase();
    assert.match(head, /^http\/1\.1 200/);
    assert.match(head, /content-type: text\/event-stream/);
    assert.match(head, /x-thicket-run-id: curl-run/);
    const events = sseEvents(stdout.slice(headerEnd + 4));

    // Every event is one line: a data line or a comment, nothing else (no `event:` names OpenAI clients would trip on).
    for (const lines of events) {
      assert.equal(lines.length, 1, `one line per event: ${JSON.stringify(lines)}`);
      assert.match(lines[0]!, /^(data: |: thicket \{)/);
    }
    const lines = events.map((lines) => lines[0]!);
    assert.equal(lines.at(-1), 'data: [DONE]');
    assert.equal(lines.filter((line) => line === 'data: [DONE]').length, 1);

    const comments = lines
      .filter((line) => line.startsWith(': thicket '))
      .map((line) => JSON.parse(line.slice(': thicket '.length)) as { type: string });
    const types = new Set(comments.map((event) => event.type));
    for (const type of ['run-started', 'call-started', 'call-finished', 'node-started', 'node-finished'])
      assert.ok(types.has(type), `progress includes ${type} (got ${[...types].join(', ')})`);
    assert.ok(!types.has('run-finished'), 'the result is not repeated as a comment');
    assert.equal(comments.filter((event) => event.type === 'call-finished').length, 3, 'one call-finished per sample');

    const chunks = lines.filter((line) => line.startsWith('data: {')).map((line) => JSON.parse(line.slice('data: '.length)) as Chunk);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.id, 'chatcmpl-curl-run');
      assert.equal(chunk.model, 'vote@sim:small');
      assert.equal(typeof chunk.created, 'number');
    }
    // The role first, then content, then the finish reason, then usage — in that order.
    const first = chunks[0]!;
    assert.deepEqual(first.choices[0]!.delta, { role: 'assistant', content: '' });
    const content = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? '')).join('');
    assert.equal(content, '391');
    const finishing = chunks.filter((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null));
    assert.equal(finishing.length, 1);
    assert.equal(finishing[0]!.choices[0]!.finish_reason, 'stop');
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage);
    assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    assert.equal(usageChunk.thicket?.run_id, 'curl-run');
    assert.equal(usageChunk.thicket.usage.calls, 3);
    assert.equal(chunks.indexOf(finishing[0]!), chunks.length - 2, 'the usage chunk follows the finish chunk');
    // The comments came before the answer: progress is sent while the run works.
    const firstContent = lines.findIndex((line) => line.includes('"content":"391'));
    const lastComment = lines.findLastIndex((line) => line.startsWith(': thicket '));
    assert.ok(lastComment < firstContent);

    const journaled = test.thicket.runs.get('curl-run')!;
    assert.equal(journaled.calls.length, 3);
    assert.equal(
      journaled.calls.reduce((sum, call) => sum + call.inputTokens + call.outputTokens, 0),
      usageChunk.usage.total_tokens,
    );
  });

  it('answers a refused stream with a plain JSON error, not an event stream', async () => {
    const { code, stdout } = await curlChat(
      test,
      token,
      JSON.stringify({ model: 'nope@sim:small', messages: [{ role: 'user', content: 'What is 17*23?' }], stream: true }),
    );
    assert.equal(code, 0);
    const headerEnd = stdout.indexOf('\r\n\r\n');
    const head = stdout.slice(0, headerEnd).toLowerCase();
    assert.match(head, /^http\/1\.1 404/);
    assert.match(head, /content-type: application\/json/);
    const body = JSON.parse(stdout.slice(headerEnd + 4)) as { error: { code: string; type: string } };
    assert.equal(body.error.code, 'model_not_found');
    assert.equal(body.error.type, 'not_found_error');
  });

  it('without include_usage, ends with the finish chunk and [DONE]', async () => {
    const { stdout } = await curl([
      '-sN',
      '-H',
      'content-type: application/json',
      '-H',
      `authorization: Bearer ${token}`,
      '--data-binary',
      JSON.stringify({ model: 'single@sim:small', messages: [{ role: 'user', content: 'What is 17*23?' }], stream: true }),
      `${test.url}/v1/chat/completions`,
    ]);
    const data = sseEvents(stdout)
      .map((lines) => lines[0]!)
      .filter((line) => line.startsWith('data: '));
    assert.equal(data.at(-1), 'data: [DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line.slice(6)) as Chunk);
    assert.ok(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
  });
});
