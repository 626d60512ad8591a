/**
 * Retrievers for the search operator. `Retriever` is the seam (a BM25 index today; a vector index, a web
 * search API or the capability registry later); `Bm25Retriever` is the offline default, built on MiniSearch,
 * which ranks with BM25+ over the title and text fields.
 *
 * Why BM25 and not embeddings by default: it needs no model, is exact and deterministic (ties broken by id),
 * and is strong on the entity-heavy factual queries that search-style reasoning issues.
 */
import MiniSearch, { type Options as MiniSearchOptions, type SearchOptions } from 'minisearch';
import { InvalidInputError } from '../core/index.ts';
import { loadCorpus, type Passage, type SplitOptions } from './corpus.ts';

export interface RetrievedPassage {
  id: string;
  title: string;
  text: string;
  /** Retriever-specific relevance score (higher is better); only comparable within one query's results. */
  score: number;
}

export interface Retriever {
  /** The top `k` passages for `query`, best first. May be async (remote retrievers). */
  search(query: string, k: number): RetrievedPassage[] | Promise<RetrievedPassage[]>;
  /** Number of passages indexed. */
  readonly size: number;
}

export interface Bm25Options {
  /** Weight of a title match relative to a text match (default 2: a heading names what a passage is about). */
  titleBoost?: number;
  /** Fuzzy matching (edit distance, or a fraction of term length); off by default — it blurs entity names. */
  fuzzy?: number | false;
  /**
   * Prefix matching for query terms of at least this many characters (default 4, so "river" finds "rivers");
   * `false` disables it. Short terms are excluded because "of" would prefix-match half the vocabulary.
   */
  prefixMinLength?: number | false;
}

interface StoredFields {
  title?: unknown;
  text?: unknown;
}

export class Bm25Retriever implements Retriever {
  private readonly index: MiniSearch<Passage>;
  private readonly searchOptions: SearchOptions;
  private readonly count: number;

  constructor(passages: readonly Passage[], options: Bm25Options = {}) {
    const seen = new Set<string>();
    const duplicates = passages.filter((passage) => (seen.has(passage.id) ? true : (seen.add(passage.id), false)));
    if (duplicates.length > 0)
      throw new InvalidInputError(
        'Invalid corpus',
        duplicates.map((passage) => ({ path: passage.id, message: 'duplicate passage id' })),
      );
    const prefixMin = options.prefixMinLength ?? 4;
    this.searchOptions = {
      boost: { title: options.titleBoost ?? 2 },
      fuzzy: options.fuzzy ?? false,
      prefix: prefixMin === false ? false : (term: string) => term.length >= prefixMin,
      combineWith: 'OR',
    };
    const config: MiniSearchOptions<Passage> = {
      idField: 'id',
      fields: ['title', 'text'],
      storeFields: ['title', 'text'],
      searchOptions: this.searchOptions,
    };
    this.index = new MiniSearch<Passage>(config);
    this.index.addAll(passages);
    this.count = passages.length;
  }

  get size(): number {
    return this.count;
  }

  search(query: string, k: number): RetrievedPassage[] {
    if (!(k > 0) || query.trim().length === 0) return [];
    const results = this.index.search(query, this.searchOptions);
    // MiniSearch orders by score only; break ties by id so equal-scoring passages come back in a fixed order.
    results.sort((a, b) => b.score - a.score || (String(a.id) < String(b.id) ? -1 : 1));
    return results.slice(0, Math.floor(k)).map((result) => {
      const stored = result as unknown as StoredFields;
      return {
        id: String(result.id),
        title: typeof stored.title === 'string' ? stored.title : '',
        text: typeof stored.text === 'string' ? stored.text : '',
        score: result.score,
      };
    });
  }
}

/** `--corpus PATH`: load a folder / JSONL / single file and index it with BM25. */
export async function openCorpus(path: string, options: SplitOptions & Bm25Options = {}): Promise<Bm25Retriever> {
  return new Bm25Retriever(await loadCorpus(path, options), options);
}
