/**
 * `thicket solve` answers as a user sees them (issue 16 §1, §5): the real `bin/thicket.js` against a local
 * OpenAI-compatible server whose model writes its answer inline or in markdown, a reply with no answer, and
 * the simulated fleet asked something outside its generated tasks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SolveResult } from '../runtime/index.ts';
import { chatCompletion, expectExit, makeTempDir, parseSingleJson, runCli, startFakeOpenAI, type CliResult } from './testing/run-cli.ts';

const QUERY = 'What is the capital of France?';

/** Runs `solve QUERY --strategy single -m local` against a server that always replies `content`. */
async function solveAgainst(content: string, extraArgs: string[] = [], finishReason = 'stop'): Promise<CliResult> {
  const dir = makeTempDir();
  const body = chatCompletion(content);
  (body['choices'] as Array<{ finish_reason: string }>)[0]!.finish_reason = finishReason;
  const server = await startFakeOpenAI(() => ({ status: 200, body }));
  try {
    const config = dir.write('thicket.config.json', {
      version: 1,
      models: { local: { provider: 'openai-compatible', baseURL: server.baseURL, model: 'm' } },
    });
    return await runCli(
      ['solve', QUERY, '--strategy', 'single', '-m', 'local', '--config', config, '--journal', dir.file('j.db'), ...extraArgs],
      {
        cwd: dir.path,
      },
    );
  } finally {
    await server.close();
    dir.remove();
  }
}

describe('thicket solve: answers from a real chat model', { concurrency: false }, () => {
  it('"Paris is the capital. Answer: Paris" → answer Paris, exit 0', async () => {
    const result = await solveAgainst('Paris is the capital. Answer: Paris', ['--json']);
    expectExit(result, 0);
    const json = parseSingleJson<SolveResult>(result);
    assert.equal(json.answer, 'Paris');
    assert.equal(json.status, 'ok');
    assert.deepEqual(json.extraction, { node: 'answer', extractor: 'answer-line', text: 'Paris is the capital. Answer: Paris' });
  });

  it('"…\\n**Answer:** Paris" → answer Paris, exit 0; the human output names the extractor and shows the reply', async () => {
    const result = await solveAgainst('The capital of France is Paris.\n\n**Answer:** Paris');
    expectExit(result, 0);
    assert.match(result.stdout, /Answer: Paris\n/);
    assert.match(result.stdout, /Read by: answer-line extractor/);
    assert.match(result.stdout, /Reply:\n {2}The capital of France is Paris\./);
  });

  it('a free-text reply is the answer, exit 0, and the output says no extractor matched', async () => {
    const result = await solveAgainst('The capital of France is Paris.');
    expectExit(result, 0);
    assert.match(result.stdout, /Answer: The capital of France is Paris\./);
    assert.match(result.stdout, /Read by: none matched — no short answer in the reply/);
  });

  it('a reply cut off before any answer: ANSWER_UNPARSED, exit 5 (not PROVIDER_ERROR, exit 1)', async () => {
    const result = await solveAgainst('Let me think step by step. The', ['--json'], 'length');
    expectExit(result, 5);
    const json = parseSingleJson<SolveResult>(result);
    assert.equal(json.error?.code, 'ANSWER_UNPARSED');
    assert.equal(json.extraction?.text, 'Let me think step by step. The');
  });
});

describe('thicket solve: the simulated fleet outside its generated tasks', { concurrency: false }, () => {
  for (const strategy of ['single', 'thread'])
    it(`--strategy ${strategy} says plainly that sim answers only generated tasks (exit 2), no placeholder answer`, async () => {
      const dir = makeTempDir();
      try {
        const result = await runCli(['solve', QUERY, '--strategy', strategy, '-m', 'sim:small', '--journal', dir.file('j.db'), '--json'], {
          cwd: dir.path,
        });
        expectExit(result, 2);
        const json = parseSingleJson<SolveResult>(result);
        assert.equal(json.answer, null);
        assert.equal(json.error?.code, 'SIM_UNKNOWN_TASK');
        assert.match(json.error.message, /answers only Thicket's generated tasks/);
        assert.match(json.error.message, /-m openai:<model>/);
        assert.doesNotMatch(result.stdout, /\[simulated placeholder\]"/);
      } finally {
        dir.remove();
      }
    });
});
