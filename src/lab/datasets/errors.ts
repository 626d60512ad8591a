/** Dataset errors: one typed error (stable code DATASET_INVALID) listing every problem with its row and field. */
import { ThicketError, formatIssues } from '../../core/index.ts';

/** One bad row: where it is (`line 7` of a JSONL/CSV file, `row 3` of a JSON array or Parquet file), which field, why. */
export interface RowIssue {
  /** 1-based line (JSONL, CSV/TSV) or row (JSON array, Parquet) number. */
  line: number;
  /** The field at fault (its name in the file), or `(row)` when the row itself is unreadable. */
  field: string;
  message: string;
}

export const describeRowIssue = (issue: RowIssue, unit = 'line'): string => `${unit} ${issue.line}, ${issue.field}: ${issue.message}`;

/**
 * A dataset that cannot be read (missing file, unknown format, a mapped field absent everywhere) or, with
 * `--strict`, one with bad rows. Bad input (exit 2): nothing was sent.
 */
export class DatasetError extends ThicketError {
  constructor(
    readonly path: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
  ) {
    super(
      'DATASET_INVALID',
      `Invalid dataset ${path}: ${formatIssues(issues.slice(0, 20))}${issues.length > 20 ? ` (and ${issues.length - 20} more)` : ''}`,
      'bad_input',
    );
    this.name = 'DatasetError';
  }
}
