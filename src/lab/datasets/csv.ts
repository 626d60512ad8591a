/**
 * CSV/TSV per RFC 4180. Neither csv-parse nor another CSV package is a dependency, and the format is small
 * enough to parse exactly here rather than add one: fields separated by the delimiter, records by CRLF or LF,
 * a field wrapped in double quotes may hold delimiters, line breaks and `""` (one quote). What naive
 * `split(',')` gets wrong — quoted commas, embedded newlines, escaped quotes — is what this handles; anything
 * RFC 4180 leaves undefined (a quote inside an unquoted field) is kept as text, and an unterminated quote is
 * reported with the line it opened on.
 */

export interface DelimitedRecord {
  /** 1-based line the record starts on (a quoted field can span lines). */
  line: number;
  fields: string[];
}

export interface DelimitedParse {
  records: DelimitedRecord[];
  /** An opening quote never closed: the rest of the file was one field (reported, not guessed at). */
  unterminatedQuoteLine?: number;
}

export function parseDelimited(text: string, delimiter: string): DelimitedParse {
  const records: DelimitedRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  // Whether the current field started with a quote (its closing quote ends the quoted part).
  let index = 0;
  const endRecord = (): void => {
    fields.push(field);
    // A blank line is no record (RFC 4180 has none; spreadsheets write trailing ones).
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (index < text.length) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          field += '"';
          index += 2;
          continue;
        }
        quoted = false;
        index++;
        continue;
      }
      if (char === '\n') line++;
      field += char;
      index++;
      continue;
    }
    if (char === '"' && field === '') {
      quoted = true;
      quoteLine = line;
      index++;
    } else if (char === delimiter) {
      fields.push(field);
      field = '';
      index++;
    } else if (char === '\r' && text[index + 1] === '\n') {
      endRecord();
      index += 2;
      recordLine = ++line;
    } else if (char === '\n') {
      endRecord();
      index++;
      recordLine = ++line;
    } else {
      field += char;
      index++;
    }
  }
  if (quoted) return { records, unterminatedQuoteLine: quoteLine };
  if (field !== '' || fields.length > 0) endRecord();
  return { records };
}
