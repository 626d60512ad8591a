/** Corpus loaders (folder, JSONL, single file), passage splitting and BM25 retrieval over the test corpus. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../core/index.ts';
import { loadCorpus, loadFolderCorpus, loadJsonlCorpus, parseJsonlCorpus, splitPassages, titleAndBody } from './corpus.ts';
import { Bm25Retriever, openCorpus } from './retriever.ts';

const FOLDER = fileURLToPath(new URL('./testing/corpus/northreach', import.meta.url));
const JSONL = fileURLToPath(new URL('./testing/corpus/northreach.jsonl', import.meta.url));

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'thicket-corpus-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('splitPassages', () => {
  const words = (count: number): string => Array.from({ length: count }, (_, index) => `w${index}`).join(' ');

  it('keeps a short text whole and collapses whitespace', () => {
    assert.deepEqual(splitPassages('  a  b\n\nc ', { passageWords: 5 }), ['a b c']);
    assert.deepEqual(splitPassages('   '), []);
  });

  it('cuts windows of N words that overlap by the given count', () => {
    const windows = splitPassages(words(10), { passageWords: 4, overlapWords: 1 });
    assert.deepEqual(windows, ['w0 w1 w2 w3', 'w3 w4 w5 w6', 'w6 w7 w8 w9']);
  });

  it('merges a tail shorter than a quarter window into the previous window', () => {
    const windows = splitPassages(words(21), { passageWords: 10, overlapWords: 0 });
    assert.deepEqual(
      windows.map((window) => window.split(' ').length),
      [10, 11],
    );
    assert.ok(windows[1]?.endsWith('w20'));
  });
});

describe('titleAndBody', () => {
  it('takes the first Markdown heading as title and removes it from the body', () => {
    assert.deepEqual(titleAndBody('intro\n## Big Title ##\nbody', 'file'), { title: 'Big Title', body: 'intro\n\nbody' });
    assert.deepEqual(titleAndBody('no heading #here', 'file'), { title: 'file', body: 'no heading #here' });
  });
});

describe('folder corpus', () => {
  it('loads every .txt/.md file recursively, in sorted order, with heading or file-name titles', async () => {
    const passages = await loadFolderCorpus(FOLDER);
    assert.equal(passages.length, 15);
    assert.deepEqual(passages.map((passage) => passage.id).slice(0, 4), [
      'cities/marnhold.md',
      'cities/quellen.md',
      'cities/talsen.md',
      'countries/brevia.md',
    ]);
    const byId = new Map(passages.map((passage) => [passage.id, passage]));
    assert.equal(byId.get('countries/veloria.md')?.title, 'Veloria');
    assert.equal(byId.get('people/queen-amarante.md')?.title, 'Queen Amarante the Second');
    assert.equal(byId.get('people/inventors.txt')?.title, 'inventors', 'no heading: the file name');
    assert.ok(!byId.get('countries/veloria.md')?.text.includes('# Veloria'), 'heading removed from the text');
  });

  it('splits a long file into overlapping passages (#1, #2, …) of ~N words', async () => {
    const chronicle = (await loadFolderCorpus(FOLDER)).filter((passage) => passage.id.startsWith('history/chronicle.txt'));
    assert.deepEqual(
      chronicle.map((passage) => passage.id),
      ['history/chronicle.txt#1', 'history/chronicle.txt#2', 'history/chronicle.txt#3', 'history/chronicle.txt#4'],
    );
    assert.ok(chronicle.every((passage) => passage.title === 'The Chronicle of the Northern Reach'));
    const [first, second] = chronicle.map((passage) => passage.text.split(' '));
    assert.equal(first?.length, 150);
    assert.deepEqual(first?.slice(-30), second?.slice(0, 30), '30 words of overlap');
    const small = await loadFolderCorpus(FOLDER, { passageWords: 60, overlapWords: 10 });
    const smallChronicle = small.filter((passage) => passage.id.startsWith('history/chronicle.txt'));
    assert.equal(smallChronicle.length, 8, 'shorter windows, more passages');
    assert.equal(
      small.find((passage) => passage.id === 'countries/veloria.md')?.text.split(' ').length,
      64,
      'a 4-word tail is merged, not left alone',
    );
  });

  it('rejects a folder without text files', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'data.csv'), 'a,b\n');
      await assert.rejects(
        loadFolderCorpus(dir),
        (error: unknown) => error instanceof InvalidInputError && /no \.txt or \.md files/.test(error.message),
      );
    });
  });
});

describe('JSONL corpus', () => {
  it('loads {id?, title?, text} lines; missing title falls back to the id, missing id to the line number', async () => {
    const passages = await loadJsonlCorpus(JSONL);
    assert.equal(passages.length, 15);
    const byId = new Map(passages.map((passage) => [passage.id, passage]));
    assert.equal(byId.get('veloria')?.title, 'Veloria');
    assert.equal(byId.get('inventors')?.title, 'inventors');
    assert.ok(byId.has('chronicle#4'));
    const parsed = parseJsonlCorpus('\n{"text":"alpha beta"}\n\n{"title":"T","text":"gamma"}\n', 'inline.jsonl');
    assert.deepEqual(
      parsed.map((passage) => [passage.id, passage.title, passage.text, passage.source]),
      [
        ['line-2', 'line-2', 'alpha beta', 'inline.jsonl:2'],
        ['line-4', 'T', 'gamma', 'inline.jsonl:4'],
      ],
    );
  });

  it('rejects invalid lines, listing every bad line number with its reason', async () => {
    const content = [
      '{"id":"a","text":"fine"}',
      '{"id":"b","text":',
      '[1,2]',
      '{"id":"c"}',
      '',
      '{"id":"a","text":"again"}',
      '{"id":7,"title":3,"text":"x"}',
      '{"id":"d","text":"fine too"}',
    ].join('\n');
    await withTempDir(async (dir) => {
      const file = join(dir, 'bad.jsonl');
      await writeFile(file, content);
      const error = await loadJsonlCorpus(file).then(
        () => assert.fail('expected a rejection'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof InvalidInputError);
      assert.deepEqual(
        error.issues.map((issue) => issue.path),
        ['line 2', 'line 3', 'line 4', 'line 6', 'line 7'],
      );
      assert.match(error.issues[0]?.message ?? '', /not valid JSON/);
      assert.match(error.issues[1]?.message ?? '', /JSON object/);
      assert.match(error.issues[2]?.message ?? '', /"text" must be a non-empty string/);
      assert.match(error.issues[3]?.message ?? '', /duplicate id "a" \(first on line 1\)/);
      assert.match(error.issues[4]?.message ?? '', /"id" must be a non-empty string.*"title" must be a string/);
    });
  });
});

describe('loadCorpus (--corpus PATH)', () => {
  it('accepts a folder, a JSONL file or a single text file, and rejects anything else', async () => {
    assert.equal((await loadCorpus(FOLDER)).length, 15);
    assert.equal((await loadCorpus(JSONL)).length, 15);
    const single = await loadCorpus(join(FOLDER, 'countries', 'tarsia.md'));
    assert.deepEqual(
      single.map((passage) => [passage.id, passage.title]),
      [['tarsia.md', 'Tarsia']],
    );
    await assert.rejects(
      loadCorpus(join(FOLDER, 'missing')),
      (error: unknown) => error instanceof InvalidInputError && /does not exist/.test(error.message),
    );
    await withTempDir(async (dir) => {
      const csv = join(dir, 'data.csv');
      await writeFile(csv, 'a,b\n');
      await assert.rejects(loadCorpus(csv), InvalidInputError);
    });
  });
});

describe('Bm25Retriever', () => {
  const QUESTIONS: Array<[question: string, top1: string, top3Includes?: string]> = [
    ['What is the capital of Veloria?', 'countries/veloria.md'],
    ['What is the currency of Brevia?', 'countries/brevia.md'],
    ['Which river flows through Quellen?', 'cities/quellen.md'],
    ['Which river flows through Talsen?', 'cities/talsen.md'],
    ['How high is the summit of Mount Kessra in metres?', 'geography/mount-kessra.md'],
    ['In which month is the Lantern Festival of Quellen held?', 'cities/quellen.md'],
    ['Who invented the tide clock?', 'people/inventors.txt'],
    ['Who discovered the comet Perenna?', 'history/chronicle.txt#2'],
    ['In which year was the Treaty of Sel signed?', 'history/chronicle.txt#3', 'history/chronicle.txt#4'],
    ['Who built the first steam ferry to cross Lake Orrow?', 'people/inventors.txt', 'geography/lake-orrow.md'],
    ['Where was Queen Amarante born?', 'people/queen-amarante.md'],
  ];

  it('ranks the passage that answers each question first (folder corpus)', async () => {
    const retriever = await openCorpus(FOLDER);
    assert.equal(retriever.size, 15);
    for (const [question, top1, alsoTop3] of QUESTIONS) {
      const hits = retriever.search(question, 3);
      assert.equal(hits.length, 3);
      assert.equal(hits[0]?.id, top1, question);
      if (alsoTop3)
        assert.ok(
          hits.some((hit) => hit.id === alsoTop3),
          `${question}: ${alsoTop3} in top 3`,
        );
      assert.ok(
        hits.every((hit, index) => index === 0 || (hits[index - 1] as { score: number }).score >= hit.score),
        'best first',
      );
    }
  });

  it('returns stored title and text, and ranks the same on the JSONL variant', async () => {
    const retriever = await openCorpus(JSONL);
    const [hit] = retriever.search('What is the capital of Veloria?', 1);
    assert.equal(hit?.id, 'veloria');
    assert.equal(hit?.title, 'Veloria');
    assert.match(hit?.text ?? '', /The capital of Veloria is Marnhold\./);
    assert.deepEqual(
      retriever.search('Who discovered the comet Perenna?', 1).map((h) => h.id),
      ['chronicle#2'],
    );
    assert.deepEqual(
      retriever.search('Which river flows through Talsen?', 1).map((h) => h.id),
      ['talsen'],
    );
  });

  it('the 2-hop question alone does not surface the second hop; the bridge entity does', async () => {
    const retriever = await openCorpus(FOLDER);
    const first = retriever.search('Which river flows through the capital of Veloria?', 3).map((hit) => hit.id);
    assert.ok(first.includes('countries/veloria.md'));
    assert.ok(!first.includes('cities/marnhold.md'));
    assert.equal(retriever.search('river Marnhold', 1)[0]?.id, 'cities/marnhold.md');
  });

  it('prefix search is on, fuzzy search off unless asked for; empty queries and k ≤ 0 return nothing', async () => {
    const passages = await loadFolderCorpus(FOLDER);
    const plain = new Bm25Retriever(passages);
    assert.equal(plain.search('Marnh', 1)[0]?.id, 'cities/marnhold.md', 'prefix');
    assert.deepEqual(plain.search('Marnholt', 3), [], 'no fuzzy match by default');
    assert.equal(new Bm25Retriever(passages, { fuzzy: 1 }).search('Marnholt', 1)[0]?.id, 'cities/marnhold.md');
    assert.deepEqual(new Bm25Retriever(passages, { prefixMinLength: false }).search('Marnh', 3), []);
    assert.deepEqual(plain.search('   ', 3), []);
    assert.deepEqual(plain.search('Veloria', 0), []);
  });

  it('rejects duplicate passage ids', () => {
    const passage = { id: 'x', title: 't', text: 'some text', source: 's' };
    assert.throws(() => new Bm25Retriever([passage, { ...passage }]), InvalidInputError);
  });
});
