/**
 * An uploaded dataset read in the browser: POST /v1/evals takes the rows in its body (the gateway never reads
 * a client's path), so the file is parsed here — JSONL (one object a line), a JSON array, or CSV with a header
 * row (RFC 4180 quoting). Bad lines are reported with their numbers rather than sent.
 */
export interface ParsedDataset {
  format: 'jsonl' | 'json' | 'csv';
  rows: Record<string, unknown>[];
  /** Problems by line (1-based), at most a few. */
  problems: string[];
  columns: string[];
}

const MAX_PROBLEMS = 5;

export function formatOf(name: string, text: string): ParsedDataset['format'] {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return text.trimStart().startsWith('[') ? 'json' : 'jsonl';
  return text.trimStart().startsWith('{') ? 'jsonl' : text.trimStart().startsWith('[') ? 'json' : 'csv';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function columnsOf(rows: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows.slice(0, 50)) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

export function parseDataset(name: string, text: string): ParsedDataset {
  const format = formatOf(name, text.replace(/^\uFEFF/, ''));
  const body = text.replace(/^\uFEFF/, '');
  const problems: string[] = [];
  const rows: Record<string, unknown>[] = [];
  const problem = (message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
  };
  if (format === 'json') {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (!Array.isArray(parsed)) problem('the JSON file is not an array of objects');
      else
        parsed.forEach((entry, index) => {
          if (isRecord(entry)) rows.push(entry);
          else problem(`item ${index + 1} is not an object`);
        });
    } catch (error) {
      problem(`not valid JSON: ${(error as Error).message}`);
    }
  } else if (format === 'jsonl') {
    body.split(/\r?\n/).forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        const parsed = JSON.parse(line) as unknown;
        if (isRecord(parsed)) rows.push(parsed);
        else problem(`line ${index + 1} is not a JSON object`);
      } catch {
        problem(`line ${index + 1} is not valid JSON`);
      }
    });
  } else {
    const records = parseCsv(body);
    const header = records.shift() ?? [];
    if (header.length === 0 || header.every((cell) => cell.trim() === '')) problem('the CSV file has no header row');
    else
      records.forEach((record, index) => {
        if (record.length === 1 && record[0] === '') return;
        if (record.length !== header.length) problem(`row ${index + 2} has ${record.length} fields, the header ${header.length}`);
        const row: Record<string, unknown> = {};
        header.forEach((column, column_index) => (row[column.trim()] = record[column_index] ?? ''));
        rows.push(row);
      });
  }
  return { format, rows, problems, columns: columnsOf(rows) };
}

/** RFC 4180: fields separated by commas, quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** Budgets as the CLI writes them (`2000, 8k, 1.5k`) → whole tokens; null when one is not an amount. */
export function parseAmounts(text: string): number[] | null {
  const parts = text
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  const amounts = parts.map((part) => {
    const match = /^(\d+(?:\.\d+)?)(k|m)?$/.exec(part);
    if (!match) return Number.NaN;
    return Math.round(Number(match[1]) * (match[2] === 'k' ? 1e3 : match[2] === 'm' ? 1e6 : 1));
  });
  return amounts.some((amount) => !Number.isFinite(amount) || amount <= 0) ? null : amounts;
}
