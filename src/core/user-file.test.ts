import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from './errors.ts';
import { readUserFile, structureProblem, USER_FILE_LIMITS } from './user-file.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-user-file-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const write = (name: string, content: string | Buffer): string => {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
};

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `an InvalidInputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

/** `{"a":{"a":…1…}}` nested `depth` deep, built as text (no recursion needed to write it). */
const nestedJson = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, index) => {
    const previous = 'abcdefgh'[index]!;
    return `${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`;
  }),
].join('\n');

describe('readUserFile: one guarded reader for user JSON/YAML', () => {
  it('drops a UTF-8 byte order mark (JSON and YAML)', () => {
    assert.deepEqual(readUserFile(write('bom.json', '\uFEFF{"version": 1}'), { what: 'config' }), { version: 1 });
    assert.deepEqual(readUserFile(write('bom.yaml', '\uFEFFversion: 1\n'), { what: 'study' }), { version: 1 });
  });

  it('refuses a document nested past the depth limit instead of overflowing the stack', () => {
    const error = refusal(() => readUserFile(write('deep.json', nestedJson(50_000)), { what: 'workflow' }));
    assert.equal(error.code, 'INVALID_INPUT');
    assert.match(error.message, /nests deeper than the limit of 64 levels/);
    const yaml = refusal(() => readUserFile(write('deep.yaml', `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}`), { what: 'study' }));
    assert.match(yaml.message, /deep\.yaml:\d+:\d+: nests deeper than the limit of 64 levels/);
    // At the limit it is read.
    assert.ok(readUserFile(write('ok.json', nestedJson(USER_FILE_LIMITS.maxDepth - 1)), { what: 'workflow' }));
  });

  it('refuses a YAML alias bomb with a clear message (no expansion), as INVALID_CONFIG when asked', () => {
    const error = refusal(() => readUserFile(write('bomb.yaml', BILLION_LAUGHS), { what: 'study', code: 'INVALID_CONFIG' }));
    assert.equal(error.code, 'INVALID_CONFIG');
    assert.match(error.message, /aliases expand past the limit of 100/);
    // A few honest aliases are fine.
    assert.deepEqual(readUserFile(write('alias.yaml', 'a: &x [1, 2]\nb: *x\n'), { what: 'study' }), { a: [1, 2], b: [1, 2] });
  });

  it('refuses a file past the size limit before reading it', () => {
    const error = refusal(() => readUserFile(write('big.json', `[${'1,'.repeat(600)}1]`), { what: 'cards', maxBytes: 1000 }));
    assert.match(error.message, /big\.json: 1\.2 KB is larger than the limit of 1000 bytes/);
  });

  it('refuses documents with more values than the limit', () => {
    const error = refusal(() => readUserFile(write('many.json', `[${'0,'.repeat(99)}0]`), { what: 'cards', maxValues: 50 }));
    assert.match(error.message, /more than 50 values/);
  });

  it('names the file and line:column for syntax errors, and "file not found"', () => {
    const broken = refusal(() => readUserFile(write('broken.json', '{\n  "a": 1,\n}\n'), { what: 'config' }));
    assert.match(broken.message, /^Cannot read config: .*broken\.json:3:1: not valid JSON/);
    assert.match(refusal(() => readUserFile(join(scratch, 'nope.json'), { what: 'config' })).message, /nope\.json: file not found/);
    assert.match(refusal(() => readUserFile(scratch, { what: 'config' })).message, /is a folder, not a file/);
  });
});

describe('structureProblem', () => {
  it('walks without recursion: a 200,000-deep array is measured, not a stack overflow', () => {
    let deep: unknown = 0;
    for (let index = 0; index < 200_000; index++) deep = [deep];
    assert.match(structureProblem(deep) ?? '', /nests deeper than the limit of 64 levels/);
    assert.equal(structureProblem({ nodes: [{ id: 'a', params: { stages: [{ model: 'x' }] } }] }), undefined);
  });
});
