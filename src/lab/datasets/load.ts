/**
 * From rows to evaluation items: field mapping (preset defaults or --input/--answer/--choices/--context/--id),
 * the preset's answer reading, then split, seeded sample and limit. Bad rows are collected with their line and
 * field and skipped — or, with `strict`, the whole dataset is refused (DatasetError) before anything runs. A
 * bad row is never turned into an item that would be scored as wrong.
 */
import { createRng, normalizeAnswer } from '../../core/index.ts';
import { DatasetError, describeRowIssue, type RowIssue } from './errors.ts';
import {
  PRESETS,
  PRESET_NAMES,
  aliasList,
  boxedAnswer,
  choiceLetter,
  contextParagraphs,
  gsm8kAnswer,
  mcPrompt,
  readChoices,
  type ContextParagraph,
  type Preset,
  type PresetName,
  type Reading,
} from './presets.ts';
import { readRows, type DatasetFormat } from './read.ts';

export interface DatasetItem {
  /** Unique within the dataset: the --id field's value, else `row-<line>`. */
  id: string;
  line: number;
  /** The question as in the file. */
  input: string;
  /** What the model is asked (the question, with choices listed for multiple choice). */
  prompt: string;
  /** Canonical answer (a choice letter for multiple choice). */
  answer: string;
  /** Every accepted answer (aliases; the canonical answer first). */
  aliases: string[];
  /** The answer field's value as read (an object for JSON answers). */
  expected: unknown;
  choices?: string[];
  context?: ContextParagraph[];
  /** The row as read, for custom scorers and the JSON scorer. */
  record: Record<string, unknown>;
}

export interface FieldMapping {
  input?: string;
  answer?: string;
  /** One field holding the list, or several comma-separated fields each holding one choice (MMLU CSV: `A,B,C,D`). */
  choices?: string;
  context?: string;
  id?: string;
}

export interface LoadDatasetOptions extends FieldMapping {
  preset?: string;
  format?: string;
  split?: string;
  /** Keep the first N items (after sampling). */
  limit?: number;
  /** Keep N items drawn without replacement by `seed` (in file order). */
  sample?: number;
  seed?: number;
  /** Refuse the dataset when any row is bad (default: skip bad rows and report them). */
  strict?: boolean;
}

export interface LoadedDataset {
  path: string;
  format: DatasetFormat;
  preset: PresetName;
  unit: 'line' | 'row';
  /** Rows read (after split), bad ones included. */
  rows: number;
  items: DatasetItem[];
  /** Bad rows: skipped (or, with strict, refused). */
  issues: RowIssue[];
}

/** The value at a dotted path (`answer.value`); undefined when any step is missing. */
export function fieldAt(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const present = (value: unknown): boolean => value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');

/** The first of `names` the record has (for messages: the first name when none is present). */
function pick(record: Record<string, unknown>, names: readonly string[]): { name: string; value: unknown } {
  for (const name of names) {
    const value = fieldAt(record, name);
    if (present(value)) return { name, value };
  }
  return { name: names[0]!, value: undefined };
}

export function presetOf(name: string | undefined): Preset {
  const key = (name ?? 'none') as PresetName;
  if (!(PRESET_NAMES as readonly string[]).includes(key))
    throw new DatasetError('preset', [{ path: '--preset', message: `unknown preset "${name}" (use ${PRESET_NAMES.join(', ')})` }]);
  return PRESETS[key];
}

const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);

type Built = { item: Omit<DatasetItem, 'id' | 'line' | 'record'> } | { issue: Omit<RowIssue, 'line'> };

function buildItem(record: Record<string, unknown>, preset: Preset, mapping: FieldMapping): Built {
  const input = pick(record, mapping.input !== undefined ? [mapping.input] : preset.input);
  if (!present(input.value)) return { issue: { field: input.name, message: 'missing or empty' } };
  const question = text(input.value).trim();
  const answerField = pick(record, mapping.answer !== undefined ? [mapping.answer] : preset.answer);
  if (!present(answerField.value)) return { issue: { field: answerField.name, message: 'missing or empty' } };
  const fail = (field: string, reading: { problem: string }): Built => ({ issue: { field, message: reading.problem } });

  // Choices: one field with a list, or several fields with one choice each.
  const choiceNames = mapping.choices
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  let choices: { texts: string[]; labels?: string[] } | undefined;
  if (choiceNames && choiceNames.length > 1) {
    const missing = choiceNames.find((name) => !present(fieldAt(record, name)));
    if (missing !== undefined) return { issue: { field: missing, message: 'missing choice' } };
    choices = { texts: choiceNames.map((name) => text(fieldAt(record, name))) };
  } else {
    const names = choiceNames ?? (preset.name === 'mc' ? preset.choices : undefined);
    if (names) {
      const field = pick(record, names);
      const read = readChoices(field.value);
      if ('problem' in read) return fail(field.name, field.value === undefined ? { problem: 'missing' } : read);
      choices = read.value;
    }
  }

  let answer: Reading<string[]>;
  if (choices) {
    const letter = choiceLetter(answerField.value, choices);
    answer = 'problem' in letter ? letter : { value: [letter.value] };
  } else if (preset.name === 'gsm8k') {
    const read = gsm8kAnswer(text(answerField.value));
    answer = 'problem' in read ? read : { value: [read.value] };
  } else if (preset.name === 'math') {
    // A MATH row may carry the short answer itself (`answer`) or only the worked solution.
    const raw = text(answerField.value);
    const read = /\\(?:boxed|fbox)/.test(raw) || answerField.name === 'solution' ? boxedAnswer(raw) : { value: raw.trim() };
    answer = 'problem' in read ? read : { value: [read.value] };
  } else
    answer =
      preset.name === 'trivia' || Array.isArray(answerField.value)
        ? aliasList(answerField.value)
        : { value: [text(answerField.value).trim()] };
  if ('problem' in answer) return fail(answerField.name, answer);
  // The simulated fleet (and every comparison) needs an answer that survives normalisation (`"?"` does not).
  if (normalizeAnswer(answer.value[0]!) === '')
    return { issue: { field: answerField.name, message: 'the answer is empty once normalised' } };

  let context: ContextParagraph[] | undefined;
  const contextNames = mapping.context !== undefined ? [mapping.context] : preset.context;
  if (contextNames) {
    const field = pick(record, contextNames);
    if (present(field.value)) {
      const read = contextParagraphs(field.value);
      if ('problem' in read) return fail(field.name, read);
      context = read.value;
    } else if (preset.name === 'hotpot' || mapping.context !== undefined) return { issue: { field: field.name, message: 'missing' } };
  }
  return {
    item: {
      input: question,
      prompt: choices ? mcPrompt(question, choices.texts) : question,
      answer: answer.value[0]!,
      aliases: answer.value,
      expected: answerField.value,
      ...(choices ? { choices: choices.texts } : {}),
      ...(context ? { context } : {}),
    },
  };
}

/** Up to `count` rows chosen by a seeded partial Fisher–Yates shuffle, kept in file order (reproducible). */
export function seededSample<T>(items: readonly T[], count: number, seed: number): T[] {
  if (count >= items.length) return [...items];
  const indexes = items.map((_item, index) => index);
  const rng = createRng(seed);
  for (let index = 0; index < count; index++) {
    const swap = index + rng.int(indexes.length - index);
    [indexes[index], indexes[swap]] = [indexes[swap]!, indexes[index]!];
  }
  return indexes
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((index) => items[index]!);
}

export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const preset = presetOf(options.preset);
  const read = await readRows(path, {
    ...(options.format !== undefined ? { format: options.format } : {}),
    ...(options.split !== undefined ? { split: options.split } : {}),
  });
  const issues: RowIssue[] = [...read.issues];
  const items: DatasetItem[] = [];
  const ids = new Map<string, number>();
  const mapping: FieldMapping = options;
  for (const row of read.rows) {
    const built = buildItem(row.record, preset, mapping);
    if ('issue' in built) {
      issues.push({ line: row.line, ...built.issue });
      continue;
    }
    let id = `row-${row.line}`;
    if (options.id !== undefined) {
      const value = fieldAt(row.record, options.id);
      if (!present(value)) {
        issues.push({ line: row.line, field: options.id, message: 'missing id' });
        continue;
      }
      id = text(value).trim();
      const first = ids.get(id);
      if (first !== undefined) {
        issues.push({ line: row.line, field: options.id, message: `duplicate id "${id}" (first at ${read.unit} ${first})` });
        continue;
      }
      ids.set(id, row.line);
    }
    items.push({ id, line: row.line, record: row.record, ...built.item });
  }
  issues.sort((a, b) => a.line - b.line);
  if (options.strict === true && issues.length > 0)
    throw new DatasetError(
      path,
      issues.map((issue) => ({
        path: `${read.unit} ${issue.line}`,
        message: describeRowIssue(issue, read.unit).replace(/^\S+ \d+, /, ''),
      })),
    );
  if (read.rows.length > 0 && items.length === 0)
    throw new DatasetError(path, [
      { path, message: `no usable row (${issues.length} bad; first: ${issues[0] ? describeRowIssue(issues[0], read.unit) : 'none'})` },
    ]);
  if (read.rows.length === 0)
    throw new DatasetError(path, [{ path, message: options.split !== undefined ? `no row in split "${options.split}"` : 'no rows' }]);
  let kept = options.sample !== undefined ? seededSample(items, options.sample, options.seed ?? 1) : items;
  if (options.limit !== undefined) kept = kept.slice(0, options.limit);
  return { path, format: read.format, preset: preset.name, unit: read.unit, rows: read.rows.length, items: kept, issues };
}
