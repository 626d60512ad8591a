/**
 * Scorers for `thicket eval`: how an answer to a dataset item is scored, chosen by `--scorer`:
 *
 *   exact | any-of | numeric[:tolerance] | regex[:pattern] | mc | f1 | json[:schema.json] | judge:<model> | ./scorer.(js|ts)
 *
 * Built-in scorers are synchronous and pure; a custom module and the LLM judge are asynchronous (the judge is
 * built by the eval, which owns the fleet and the judge's budget slice).
 */
import { readUserFile } from '../../core/index.ts';
import { anyOfScorer, exactScorer, f1Scorer, jsonScorer, mcScorer, numericScorer, regexScorer, type Scorer } from './builtin.ts';
import { isScorerModulePath, loadCustomScorer } from './custom.ts';
import { ScorerError } from './errors.ts';

export * from './builtin.ts';
export * from './errors.ts';
export { loadCustomScorer, isScorerModulePath, CUSTOM_SCORER_EXTENSIONS } from './custom.ts';
export { judgeScorer, judgePrompt, parseVerdict, JUDGE_MAX_OUTPUT_TOKENS, type JudgeOptions, type JudgeScorer } from './judge.ts';

export const SCORER_NAMES = ['exact', 'any-of', 'numeric', 'regex', 'mc', 'f1', 'json', 'judge'] as const;

/** A --scorer value split into its kind and option (`numeric:0.01` → numeric, 0.01; `judge:sim:small` → judge, sim:small). */
export function parseScorerSpec(spec: string): { kind: string; option?: string } {
  if (isScorerModulePath(spec)) return { kind: 'module', option: spec };
  const colon = spec.indexOf(':');
  return colon < 0 ? { kind: spec } : { kind: spec.slice(0, colon), option: spec.slice(colon + 1) };
}

/** Builds any scorer but the judge (which needs the eval's fleet: see `judgeScorer`). */
export async function resolveScorer(spec: string, cwd = process.cwd()): Promise<Scorer> {
  const { kind, option } = parseScorerSpec(spec);
  switch (kind) {
    case 'module':
      return loadCustomScorer(option!, cwd);
    case 'exact':
      return exactScorer;
    case 'any-of':
      return anyOfScorer;
    case 'mc':
      return mcScorer;
    case 'f1':
      return f1Scorer;
    case 'numeric':
      return numericScorer(option);
    case 'regex':
      return regexScorer(option);
    case 'json': {
      if (option === undefined) return jsonScorer(undefined);
      let schema: unknown;
      try {
        schema = readUserFile(option, { what: 'JSON schema' });
      } catch (error) {
        throw new ScorerError(spec, (error as Error).message, { cause: error });
      }
      if (typeof schema !== 'object' || schema === null) throw new ScorerError(spec, 'the schema file must hold a JSON object');
      return jsonScorer(schema, spec);
    }
    case 'judge':
      throw new ScorerError(spec, 'the judge is built by the eval (it needs a fleet and a budget slice)');
    default:
      throw new ScorerError(spec, `unknown scorer (use ${SCORER_NAMES.join(', ')}, or a path to a .js/.ts module)`);
  }
}
