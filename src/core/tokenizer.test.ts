/** Token counting: equal to the o200k encoding's length whatever the caches hold, and correct after edits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { TOKENS_PER_MESSAGE, TOKENS_PER_REPLY_PRIMER, countMessageTokens, countTokens } from './tokenizer.ts';

const TEXTS = ['hello world', 'Ünïcödé 😀 text', '{"Bob":"I take colour 2","Chen":"ok"}\n\n  indented', 'x'.repeat(5000), ''];

describe('countTokens', () => {
  it('equals the o200k encoding length, on first sight and from the cache', () => {
    for (const text of TEXTS) {
      assert.equal(countTokens(text), encode(text).length, JSON.stringify(text.slice(0, 20)));
      assert.equal(countTokens(text), encode(text).length, `${JSON.stringify(text.slice(0, 20))} (cached)`);
    }
  });

  it('counts texts too long to cache (over 1 MB) the same way', () => {
    const long = 'lorem ipsum dolor sit amet, '.repeat(40_000);
    assert.equal(countTokens(long), encode(long).length);
  });

  it('rejects special tokens as the encoder does', () => {
    assert.throws(() => countTokens('a <|endoftext|> b'), /Disallowed special token/);
  });
});

describe('countMessageTokens', () => {
  const expected = (messages: Array<{ role: string; content: string }>): number =>
    TOKENS_PER_REPLY_PRIMER +
    messages.reduce((sum, message) => sum + TOKENS_PER_MESSAGE + encode(message.content).length + encode(message.role).length, 0);

  it('adds per-message overhead and recounts a message object edited in place', () => {
    const messages = [
      { role: 'system', content: 'You are Alice.' },
      { role: 'user', content: 'Round 1: {"Bob":"blue"}' },
    ];
    assert.equal(countMessageTokens(messages), expected(messages));
    assert.equal(countMessageTokens(messages), expected(messages), 'second time (per-message cache)');
    messages[1]!.content = 'Round 1: a much longer inbox than before, with several more words in it';
    assert.equal(countMessageTokens(messages), expected(messages), 'after editing the content');
    messages[1]!.role = 'assistant';
    assert.equal(countMessageTokens(messages), expected(messages), 'after editing the role');
  });
});
