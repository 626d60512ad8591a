/**
 * Reading a dataset file into rows: JSONL, a JSON array (or an object of arrays keyed by split), CSV/TSV with a
 * header line, and Parquet (through `hyparquet`). Every row keeps its line (text formats)
 * or row number (JSON arrays, Parquet) so a bad one can be reported where the user will find it. Unparsable
 * rows are issues here, never exceptions; only a file that cannot be read at all throws.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { InvalidInputError, readUserText } from '../../core/index.ts';
import { parseDelimited } from './csv.ts';
import { DatasetError, type RowIssue } from './errors.ts';
import { parquetReadObjects } from 'hyparquet';

export const DATASET_FORMATS = ['jsonl', 'json', 'csv', 'tsv', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface DatasetRow {
  line: number;
  record: Record<string, unknown>;
}

export interface ReadRows {
  format: DatasetFormat;
  /** What `line` counts: file lines (JSONL, CSV/TSV) or rows (JSON arrays, Parquet). */
  unit: 'line' | 'row';
  rows: DatasetRow[];
  issues: RowIssue[];
}

/** Datasets can be much larger than hand-written config files: 1 GiB of text at most. */
const MAX_DATASET_BYTES = 1024 * 1024 * 1024;

export function formatOf(path: string, format?: string): DatasetFormat {
  if (format !== undefined) {
    if ((DATASET_FORMATS as readonly string[]).includes(format)) return format as DatasetFormat;
    throw new DatasetError(path, [{ path: '--format', message: `unknown format "${format}" (use ${DATASET_FORMATS.join(', ')})` }]);
  }
  const extension = extname(path.replace(/\.gz$/, '')).toLowerCase();
  const byExtension: Record<string, DatasetFormat> = {
    '.jsonl': 'jsonl',
    '.ndjson': 'jsonl',
    '.json': 'json',
    '.csv': 'csv',
    '.tsv': 'tsv',
    '.parquet': 'parquet',
  };
  const found = byExtension[extension];
  if (found) return found;
  throw new DatasetError(path, [
    { path, message: `cannot tell the format from "${extension || '(no extension)'}": use .jsonl, .json, .csv, .tsv or .parquet` },
  ]);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function readText(path: string): string {
  try {
    return readUserText(path, { what: 'dataset', maxBytes: MAX_DATASET_BYTES });
  } catch (error) {
    if (InvalidInputError.isInstance(error) && error instanceof InvalidInputError) throw new DatasetError(path, error.issues);
    throw error;
  }
}

function readJsonl(text: string): ReadRows {
  const rows: DatasetRow[] = [];
  const issues: RowIssue[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ line: index + 1, field: '(row)', message: `not valid JSON (${(error as Error).message})` });
      return;
    }
    if (isRecord(value)) rows.push({ line: index + 1, record: value });
    else issues.push({ line: index + 1, field: '(row)', message: 'not a JSON object' });
  });
  return { format: 'jsonl', unit: 'line', rows, issues };
}

function readJson(path: string, text: string, split: string | undefined): ReadRows & { splitApplied: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DatasetError(path, [{ path, message: `not valid JSON (${(error as Error).message})` }]);
  }
  let splitApplied = false;
  // `{ "train": [...], "test": [...] }`: the split names the array (a single array needs no name).
  if (isRecord(value)) {
    const arrays = Object.entries(value).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]));
    const chosen = split !== undefined ? arrays.find(([name]) => name === split) : arrays.length === 1 ? arrays[0] : undefined;
    if (!chosen)
      throw new DatasetError(path, [
        {
          path: '--split',
          message:
            arrays.length === 0
              ? 'a JSON dataset is an array of objects, or an object of such arrays keyed by split'
              : split !== undefined
                ? `no split "${split}" (the file has ${arrays.map(([name]) => name).join(', ')})`
                : `the file holds several splits (${arrays.map(([name]) => name).join(', ')}): choose one with --split`,
        },
      ]);
    value = chosen[1];
    splitApplied = split !== undefined;
  }
  if (!Array.isArray(value)) throw new DatasetError(path, [{ path, message: 'a JSON dataset is an array of objects' }]);
  const rows: DatasetRow[] = [];
  const issues: RowIssue[] = [];
  value.forEach((item, index) => {
    if (isRecord(item)) rows.push({ line: index + 1, record: item });
    else issues.push({ line: index + 1, field: '(row)', message: 'not a JSON object' });
  });
  return { format: 'json', unit: 'row', rows, issues, splitApplied };
}

function readDelimited(path: string, text: string, format: 'csv' | 'tsv'): ReadRows {
  const parsed = parseDelimited(text, format === 'csv' ? ',' : '\t');
  if (parsed.unterminatedQuoteLine !== undefined)
    throw new DatasetError(path, [{ path: `${path}:${parsed.unterminatedQuoteLine}`, message: 'a quoted field is never closed' }]);
  const [header, ...records] = parsed.records;
  if (!header) throw new DatasetError(path, [{ path, message: 'empty file (a header line is required)' }]);
  const names = header.fields.map((name) => name.trim());
  const rows: DatasetRow[] = [];
  const issues: RowIssue[] = [];
  for (const record of records) {
    if (record.fields.length !== names.length) {
      issues.push({ line: record.line, field: '(row)', message: `${record.fields.length} fields, the header has ${names.length}` });
      continue;
    }
    rows.push({ line: record.line, record: Object.fromEntries(names.map((name, index) => [name, record.fields[index]!])) });
  }
  return { format, unit: 'line', rows, issues };
}

/** JSON can hold neither bigint nor typed arrays: Parquet's INT64 becomes a number (exact below 2^53) and byte arrays text. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

async function readParquet(path: string): Promise<ReadRows> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DatasetError(path, [
      { path, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message },
    ]);
  }
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let objects: Array<Record<string, unknown>>;
  try {
    objects = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
  } catch (error) {
    throw new DatasetError(path, [{ path, message: `not a readable Parquet file (${(error as Error).message})` }]);
  }
  return {
    format: 'parquet',
    unit: 'row',
    rows: objects.map((record, index) => ({ line: index + 1, record: plain(record) as Record<string, unknown> })),
    issues: [],
  };
}

/**
 * Reads every row. `split` picks the array of a JSON object keyed by split, or else keeps the rows whose
 * `split` field equals it (refused when no row has one: the file is one split already).
 */
export async function readRows(path: string, options: { format?: string; split?: string } = {}): Promise<ReadRows> {
  const format = formatOf(path, options.format);
  let read: ReadRows & { splitApplied?: boolean };
  if (format === 'parquet') read = await readParquet(path);
  else {
    const text = readText(path);
    read =
      format === 'jsonl' ? readJsonl(text) : format === 'json' ? readJson(path, text, options.split) : readDelimited(path, text, format);
  }
  const { split } = options;
  if (split === undefined || read.splitApplied === true)
    return { format: read.format, unit: read.unit, rows: read.rows, issues: read.issues };
  if (!read.rows.some((row) => 'split' in row.record))
    throw new DatasetError(path, [{ path: '--split', message: `no row has a "split" field to select "${split}" by` }]);
  return {
    format: read.format,
    unit: read.unit,
    rows: read.rows.filter((row) => String(row.record['split']) === split),
    issues: read.issues,
  };
}
