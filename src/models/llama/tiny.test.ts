/**
 * `tiny:` references: the exact byte-level prompt count planning relies on equals the engine's own count of the
 * tiny prompt; the cascade ladder follows the shipped reasoning models; unknown or unshipped names are clear errors.
 * A scratch models folder with the fixture model stands in for models/tiny (the shipped models are checked in
 * src/lab/tiny-models.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError } from '../../core/index.ts';
import type { ChatMessage } from '../spec.ts';
import { disposeLlamaEngine } from './engine.ts';
import { writeFixtureModel } from './fixture.ts';
import { LlamaProvider } from './llama-provider.ts';
import { resolveTinyModel, shippedTinyModels, tinyCascadeLadder, tinyModelFile, tinyPromptTokens, type TinyModelCard } from './tiny.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'thicket-tiny-'));
  for (const name of ['direct-small', 'reasoning-small']) {
    writeFixtureModel(tinyModelFile(name, dir), { seed: 3 });
    const card = { name: `tiny-${name}`, reference: `tiny:${name}`, contextSize: 256, parameters: 1000 } as Partial<TinyModelCard>;
    writeFileSync(`${tinyModelFile(name, dir)}.card.json`, JSON.stringify(card));
  }
});
after(async () => {
  await disposeLlamaEngine();
  rmSync(dir, { recursive: true, force: true });
});

describe('tiny models', () => {
  it('counts the tiny prompt exactly as the engine tokenizes it (system messages dropped)', async () => {
    const provider = new LlamaProvider({ modelPath: tinyModelFile('reasoning-small', dir), contextSize: 256, promptStyle: 'tiny' });
    const conversations: ChatMessage[][] = [
      [{ role: 'user', content: 'What is (12+7)*3 - 4?' }],
      [
        { role: 'system', content: 'You are a careful problem solver. Reason step by step.' },
        { role: 'user', content: 'What is 9/3?' },
      ],
      [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: 'Answer: 4' },
        { role: 'user', content: 'Sûr? ½ × 8 — 日本' },
      ],
    ];
    for (const messages of conversations) {
      const engine = await provider.countPromptTokens({ messages, maxOutputTokens: 8 });
      assert.equal(tinyPromptTokens(messages), engine, JSON.stringify(messages));
    }
  });

  it('isolateGreedy: a greedy answer does not depend on what else decodes at the same time', async () => {
    const path = tinyModelFile('direct-small', dir);
    const request = (content: string, temperature: number, seed: number) => ({
      messages: [{ role: 'user' as const, content }],
      maxOutputTokens: 24,
      temperature,
      seed,
    });
    const questions = ['What is 12+7?', 'What is 9*8 - 3?', 'What is (4+5)*6?', 'What is 81/9?', 'What is 40-13?', 'What is 7*7*2?'];
    const alone = new LlamaProvider({ modelPath: path, contextSize: 200, sequences: 1, promptStyle: 'tiny' });
    const expected: string[] = [];
    for (const question of questions) expected.push((await alone.doGenerate(request(question, 0, 1))).text);
    const busy = new LlamaProvider({ modelPath: path, contextSize: 200, sequences: 6, promptStyle: 'tiny', isolateGreedy: true });
    const greedy = await Promise.all(
      questions.map(async (question) => {
        const [answer] = await Promise.all([
          busy.doGenerate(request(question, 0, 1)),
          ...[1, 2, 3].map((seed) => busy.doGenerate(request(question, 0.9, seed))),
        ]);
        return answer.text;
      }),
    );
    assert.deepEqual(greedy, expected);
  });

  it('lists shipped models and climbs to the reasoning model of a higher tier', () => {
    assert.deepEqual(
      shippedTinyModels(dir).map((model) => model.reference),
      ['tiny:direct-small', 'tiny:reasoning-small'],
    );
    // No large model in this folder: nothing to escalate to.
    assert.deepEqual(tinyCascadeLadder('tiny:direct-small', dir), ['tiny:direct-small']);
    writeFixtureModel(tinyModelFile('reasoning-large', dir), { seed: 4 });
    writeFileSync(`${tinyModelFile('reasoning-large', dir)}.card.json`, JSON.stringify({ contextSize: 256, parameters: 3000 }));
    assert.deepEqual(tinyCascadeLadder('tiny:direct-small', dir), ['tiny:direct-small', 'tiny:reasoning-large']);
    assert.deepEqual(tinyCascadeLadder('tiny:reasoning-large', dir), ['tiny:reasoning-large']);
  });

  it('resolves a shipped model as real, free, tiny-trained; refuses unknown and unshipped names', () => {
    const { profile, countPrompt } = resolveTinyModel('tiny:reasoning-small', { dir });
    assert.equal(profile.simulated, false);
    assert.equal(profile.tinyTrained, true);
    assert.equal(profile.reasoning, true);
    assert.equal(profile.contextWindow, 256);
    assert.equal(profile.priceInputPerMillion + profile.priceOutputPerMillion, 0);
    assert.equal(countPrompt?.([{ role: 'user', content: 'hi' }]), tinyPromptTokens([{ role: 'user', content: 'hi' }]));
    const code = (reference: string): string | undefined => {
      try {
        resolveTinyModel(reference, { dir: join(dir, 'nowhere') });
      } catch (error) {
        assert.ok(ThicketError.isInstance(error));
        assert.match(error.message, /tiny:/);
        return error.code;
      }
      return undefined;
    };
    assert.equal(code('tiny:enormous'), 'UNKNOWN_MODEL');
    assert.equal(code('tiny:reasoning-small'), 'UNKNOWN_MODEL');
  });
});
