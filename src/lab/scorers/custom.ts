/**
 * A custom scorer: a JS/TS module the user writes, exporting `score` (or a default function) as
 *
 *   export default function score(answer: string | undefined, item: { id, input, answer, aliases, choices?,
 *     context?, record }, reply?: string): number | boolean | Promise<number | boolean>;
 *
 * (`reply`: the model's raw text the answer was extracted from, when the strategy has one.)
 *
 * A boolean counts 1/0; a number must lie in [0, 1]. A module that cannot be loaded or has no such function is
 * refused before the eval runs; a scorer that throws or returns anything else fails that cell (SCORER_FAILED,
 * reported and retried on resume) — it is never counted as a wrong answer.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatasetItem } from '../datasets/load.ts';
import type { Scorer } from './builtin.ts';
import { ScorerError } from './errors.ts';

type ScoreFunction = (answer: string | undefined, item: Readonly<DatasetItem>, reply?: string) => unknown;

export const CUSTOM_SCORER_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];

export const isScorerModulePath = (spec: string): boolean => CUSTOM_SCORER_EXTENSIONS.some((extension) => spec.endsWith(extension));

async function importModule(path: string, name: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    // Node 20 cannot load TypeScript by itself: with tsx installed, register its loader and try once more.
    if ((error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.m?ts$/.test(path)) {
      const specifier = 'tsx/esm/api';
      try {
        const tsx = (await import(specifier)) as { register: () => unknown };
        tsx.register();
        return (await import(url)) as Record<string, unknown>;
      } catch (retry) {
        throw new ScorerError(
          name,
          'TypeScript scorer modules need Node ≥ 22.6 (type stripping) or the "tsx" package installed; or compile it to .js ' +
            `(${(retry as Error).message})`,
          { cause: retry },
        );
      }
    }
    throw new ScorerError(name, `cannot load the module (${(error as Error).message})`, { cause: error });
  }
}

export async function loadCustomScorer(spec: string, cwd = process.cwd()): Promise<Scorer> {
  const path = resolve(cwd, spec);
  if (!existsSync(path)) throw new ScorerError(spec, `no file at ${path}`);
  const module = await importModule(path, spec);
  const candidate = typeof module['score'] === 'function' ? module['score'] : module['default'];
  if (typeof candidate !== 'function')
    throw new ScorerError(spec, 'the module must export a function named "score" or a default function (answer, item) => number | boolean');
  const score = candidate as ScoreFunction;
  return {
    name: spec,
    binary: module['binary'] === true,
    async score(answer, item, reply) {
      let value: unknown;
      try {
        value = await score(answer, item, reply);
      } catch (error) {
        throw new ScorerError(spec, `threw on item ${item.id} (${(error as Error).message})`, { cause: error });
      }
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return value;
      throw new ScorerError(spec, `returned ${JSON.stringify(value)} for item ${item.id}: a score is a number in [0, 1] or a boolean`);
    },
  };
}
