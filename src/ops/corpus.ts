/**
 * Corpus loading for the search operator: turns a folder of `.txt`/`.md` files or a JSONL file into
 * passages — the unit a retriever returns. Long documents are split into overlapping windows of ~N words,
 * because retrieval should hand the model the paragraph that answers the question, not a whole book that
 * would blow its evidence budget.
 *
 * Everything here is deterministic (sorted directory walks, stable ids), so the same corpus gives the same
 * passages, the same retrieval and therefore the same call identities on resume.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { InvalidInputError, type InputIssue } from '../core/index.ts';

/** A retrievable unit of text. */
export interface Passage {
  /** Stable id: the relative file path (plus `#n` for the n-th window of a split file) or the JSONL id. */
  id: string;
  title: string;
  text: string;
  /** Where it came from (file path or `file.jsonl:line`), for reports. */
  source: string;
}

export interface SplitOptions {
  /** Target passage length in words (default 150). */
  passageWords?: number;
  /** Words repeated between consecutive windows so a fact on a boundary is whole in one of them (default 30). */
  overlapWords?: number;
}

export const DEFAULT_PASSAGE_WORDS = 150;
export const DEFAULT_OVERLAP_WORDS = 30;

const TEXT_EXTENSIONS = new Set(['.txt', '.md', '.markdown']);
const HEADING = /^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/m;

/**
 * Splits `text` into windows of ~`passageWords` words overlapping by `overlapWords`. A short tail is merged
 * into the previous window rather than left as a fragment that would rank on a handful of words.
 */
export function splitPassages(text: string, options: SplitOptions = {}): string[] {
  const size = Math.max(1, Math.floor(options.passageWords ?? DEFAULT_PASSAGE_WORDS));
  const overlap = Math.min(size - 1, Math.max(0, Math.floor(options.overlapWords ?? DEFAULT_OVERLAP_WORDS)));
  const words = text.split(/\s+/).filter((word) => word.length > 0);
  if (words.length === 0) return [];
  if (words.length <= size) return [words.join(' ')];
  const stride = size - overlap;
  const windows: string[] = [];
  for (let start = 0; start < words.length; start += stride) {
    const end = Math.min(words.length, start + size);
    // A tail shorter than a quarter window adds little but noise: extend the previous window instead.
    if (windows.length > 0 && end - start < size / 4 && end === words.length) {
      windows[windows.length - 1] = words.slice(start - stride, end).join(' ');
      break;
    }
    windows.push(words.slice(start, end).join(' '));
    if (end === words.length) break;
  }
  return windows;
}

/** Title = first Markdown heading (removed from the body, since the title is indexed on its own) or the fallback. */
export function titleAndBody(content: string, fallback: string): { title: string; body: string } {
  const match = HEADING.exec(content);
  if (!match) return { title: fallback, body: content };
  return { title: (match[1] ?? fallback).trim(), body: content.slice(0, match.index) + content.slice(match.index + match[0].length) };
}

/** Passages of one document: a single passage keeps the document id; windows get `id#1`, `id#2`, … */
export function documentPassages(doc: { id: string; title: string; text: string; source: string }, options: SplitOptions = {}): Passage[] {
  const windows = splitPassages(doc.text, options);
  if (windows.length === 1) return [{ id: doc.id, title: doc.title, text: windows[0] as string, source: doc.source }];
  return windows.map((text, index) => ({ id: `${doc.id}#${index + 1}`, title: doc.title, text, source: doc.source }));
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.isFile() && TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
}

/** Every `.txt`/`.md` file under `dir` (recursive, sorted), split into passages; ids are posix relative paths. */
export async function loadFolderCorpus(dir: string, options: SplitOptions = {}): Promise<Passage[]> {
  const files: string[] = [];
  await walk(dir, files);
  if (files.length === 0) throw new InvalidInputError('Invalid corpus', [{ path: dir, message: 'contains no .txt or .md files' }]);
  const passages: Passage[] = [];
  for (const file of files) {
    const content = await readFile(file, 'utf8');
    const id = relative(dir, file).split(sep).join('/');
    const { title, body } = titleAndBody(content, basename(file, extname(file)));
    passages.push(...documentPassages({ id, title, text: body, source: file }, options));
  }
  if (passages.length === 0) throw new InvalidInputError('Invalid corpus', [{ path: dir, message: 'all .txt/.md files are empty' }]);
  return passages;
}

/**
 * A JSONL corpus: one `{ "id"?: string, "title"?: string, "text": string }` object per line; blank lines are
 * skipped. Every bad line is reported (line number + reason) in one InvalidInputError, so a user fixes the
 * file in one pass instead of one error at a time.
 */
export function parseJsonlCorpus(content: string, source: string, options: SplitOptions = {}): Passage[] {
  const issues: InputIssue[] = [];
  const docs: Array<{ id: string; title: string; text: string; source: string }> = [];
  const ids = new Map<string, number>();
  content.split(/\r?\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim().length === 0) return;
    const where = `line ${lineNumber}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ path: where, message: `not valid JSON (${(error as Error).message})` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path: where, message: 'must be a JSON object with a "text" field' });
      return;
    }
    const record = value as Record<string, unknown>;
    const problems: string[] = [];
    if (typeof record['text'] !== 'string' || record['text'].trim().length === 0) problems.push('"text" must be a non-empty string');
    if (record['id'] !== undefined && (typeof record['id'] !== 'string' || record['id'].length === 0))
      problems.push('"id" must be a non-empty string when given');
    if (record['title'] !== undefined && typeof record['title'] !== 'string') problems.push('"title" must be a string when given');
    const id = typeof record['id'] === 'string' && record['id'].length > 0 ? record['id'] : `line-${lineNumber}`;
    const first = ids.get(id);
    if (first !== undefined) problems.push(`duplicate id "${id}" (first on line ${first})`);
    if (problems.length > 0) {
      issues.push({ path: where, message: problems.join('; ') });
      return;
    }
    ids.set(id, lineNumber);
    const text = record['text'] as string;
    const title = typeof record['title'] === 'string' && record['title'].trim().length > 0 ? record['title'].trim() : id;
    docs.push({ id, title, text, source: `${source}:${lineNumber}` });
  });
  if (issues.length > 0) throw new InvalidInputError(`Invalid JSONL corpus ${source}`, issues);
  if (docs.length === 0) throw new InvalidInputError(`Invalid JSONL corpus ${source}`, [{ path: source, message: 'contains no passages' }]);
  return docs.flatMap((doc) => documentPassages(doc, options));
}

export async function loadJsonlCorpus(file: string, options: SplitOptions = {}): Promise<Passage[]> {
  return parseJsonlCorpus(await readFile(file, 'utf8'), file, options);
}

/** What `--corpus PATH` accepts: a folder, a `.jsonl`/`.ndjson` file, or a single `.txt`/`.md` file. */
export async function loadCorpus(path: string, options: SplitOptions = {}): Promise<Passage[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new InvalidInputError('Invalid corpus', [{ path, message: 'does not exist' }]);
  }
  if (info.isDirectory()) return loadFolderCorpus(path, options);
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl' || extension === '.ndjson') return loadJsonlCorpus(path, options);
  if (TEXT_EXTENSIONS.has(extension)) {
    const { title, body } = titleAndBody(await readFile(path, 'utf8'), basename(path, extension));
    const passages = documentPassages({ id: basename(path), title, text: body, source: path }, options);
    if (passages.length === 0) throw new InvalidInputError('Invalid corpus', [{ path, message: 'is empty' }]);
    return passages;
  }
  throw new InvalidInputError('Invalid corpus', [
    { path, message: 'must be a folder of .txt/.md files, a .jsonl file, or a single .txt/.md file' },
  ]);
}
