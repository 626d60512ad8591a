/**
 * A corpus's questions for the simulated fleet (sim-tasks.jsonl): found for a folder corpus and beside a
 * `.jsonl` corpus, matched to the query as a person would retype it, and a broken file refused with its line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../core/index.ts';
import { corpusSimTask } from './corpus-tasks.ts';

const NORTHREACH = fileURLToPath(new URL('../ops/testing/corpus/northreach', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'thicket-corpus-tasks-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('corpusSimTask', () => {
  it('finds the task of the query in a folder corpus and beside a .jsonl corpus', () => {
    const found = corpusSimTask(NORTHREACH, '  which river flows through the capital of  Veloria ');
    assert.equal(found?.taskId, 'northreach/river-capital-veloria');
    assert.equal(found?.tasks.resolve(found.taskId)?.answer, 'Oska');
    assert.ok((found?.tasks.size ?? 0) >= 20, 'every task of the corpus is registered');
    const beside = corpusSimTask(`${NORTHREACH}.jsonl`, 'Which river flows through the capital of Veloria?');
    assert.equal(beside?.taskId, 'northreach/river-capital-veloria');
  });

  it('has nothing for a question the corpus does not list, or a corpus without tasks', () => {
    assert.equal(corpusSimTask(NORTHREACH, 'What is the capital of France?'), undefined);
    writeFileSync(join(folder, 'a.md'), '# A\nSome text.');
    assert.equal(corpusSimTask(folder, 'What is the capital of Veloria?'), undefined);
  });

  it('refuses a malformed task file, naming the line', () => {
    writeFileSync(join(folder, 'sim-tasks.jsonl'), '{"id":"a","prompt":"Q?","answer":"x","difficulty":1}\n{not json}\n');
    assert.throws(
      () => corpusSimTask(folder, 'Q?'),
      (error: unknown) => error instanceof InvalidInputError && error.issues[0]?.path === `${join(folder, 'sim-tasks.jsonl')}:2`,
    );
  });
});
