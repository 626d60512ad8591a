/**
 * `sim fit --write <file>` merges the fitted model into the file instead of replacing it: a missing file is
 * created with `{ version: 1, models: { <alias>: … } }`; an existing one keeps every other key and model (and,
 * for YAML, its comments and layout: the `yaml` Document API edits the one node). JSON has no comments; its
 * key order is kept and it is written back with two-space indentation.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { InvalidInputError } from '../core/index.ts';

export interface MergeResult {
  /** Whether the file existed (merged) or was created. */
  merged: boolean;
  /** Whether an entry under the alias was replaced. */
  replaced: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets `models.<alias>` in the fleet config at `path` (created when missing); every other key is kept. */
export function mergeFleetConfigModel(path: string, alias: string, entry: unknown): MergeResult {
  const yamlFile = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  if (!existsSync(path)) {
    const fresh = { version: 1, models: { [alias]: entry } };
    writeFileSync(path, yamlFile ? YAML.stringify(fresh) : `${JSON.stringify(fresh, null, 2)}\n`);
    return { merged: false, replaced: false };
  }
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const refuse = (message: string): never => {
    throw new InvalidInputError('Cannot merge the fitted model into the config', [{ path: '--write', message: `${path}: ${message}` }]);
  };
  if (yamlFile) {
    const document = YAML.parseDocument(text);
    if (document.errors.length > 0) refuse(`not valid YAML (${document.errors[0]!.message})`);
    const root: unknown = document.toJS();
    if (root !== null && root !== undefined && !isRecord(root)) refuse('expected a mapping at the top');
    const models: unknown = document.getIn(['models']);
    if (models !== undefined && !YAML.isMap(models)) refuse('"models" is not a mapping');
    const replaced = YAML.isMap(models) && models.has(alias);
    if (!isRecord(root) || root['version'] === undefined) document.set('version', 1);
    document.setIn(['models', alias], document.createNode(entry));
    writeFileSync(path, document.toString());
    return { merged: true, replaced };
  }
  let root: unknown;
  try {
    root = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    return refuse(`not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(root)) return refuse('expected a JSON object at the top');
  const models = root['models'] ?? {};
  if (!isRecord(models)) return refuse('"models" is not an object');
  const replaced = alias in models;
  const merged = { ...(root['version'] === undefined ? { version: 1 } : {}), ...root, models: { ...models, [alias]: entry } };
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return { merged: true, replaced };
}
