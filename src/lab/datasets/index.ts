/**
 * Datasets for `thicket eval`: the user's own evaluation sets read from JSONL, JSON, CSV/TSV or Parquet,
 * mapped to items (question, answer, choices, context) by a preset or by field names, with bad rows reported
 * by line and field.
 *
 *   const dataset = await loadDataset('fixtures/gsm8k-sample.jsonl', { preset: 'gsm8k', limit: 10 });
 *   dataset.items[0].answer; // '53'
 */
export * from './errors.ts';
export { parseDelimited, type DelimitedParse, type DelimitedRecord } from './csv.ts';
export { readRows, formatOf, DATASET_FORMATS, type DatasetFormat, type DatasetRow, type ReadRows } from './read.ts';
export * from './presets.ts';
export * from './load.ts';
export { datasetSuite, type DatasetSuiteOptions } from './suite.ts';
