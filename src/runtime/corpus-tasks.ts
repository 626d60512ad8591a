/**
 * A corpus may carry the questions the simulated fleet can answer over it. The simulated fleet grades only
 * registered tasks (it has no reader of its own), so a free-text question over a corpus would otherwise get a
 * placeholder and no answer. A folder corpus lists its tasks in `sim-tasks.jsonl` inside the folder (not
 * indexed: the corpus reads only .txt/.md files); a `.jsonl` corpus in `<name>.sim-tasks.jsonl` beside it.
 * One JSON object a line: a SimTask (`id`, `prompt`, `answer`, `difficulty`, optional `distractors`) with the
 * search policy's optional `hops` / `searchTerms`. Real models never see the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, basename } from 'node:path';
import { InvalidInputError } from '../core/index.ts';
import { TaskOracleRegistry, type SimTask } from '../models/index.ts';

export const CORPUS_SIM_TASKS_FILE = 'sim-tasks.jsonl';

/** Where a corpus's simulated tasks live (whether or not the file exists). */
export function corpusSimTasksPath(corpus: string): string {
  if (existsSync(corpus) && statSync(corpus).isDirectory()) return join(corpus, CORPUS_SIM_TASKS_FILE);
  return join(dirname(corpus), `${basename(corpus, extname(corpus))}.sim-tasks.jsonl`);
}

/** Questions compare without case, surrounding space, repeated spaces or a closing question mark. */
const questionKey = (text: string): string =>
  text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*\?+$/, '');

export interface CorpusSimTask {
  /** Every task of the corpus, registered (the fleet's oracle). */
  tasks: TaskOracleRegistry;
  /** The task whose prompt is the query. */
  taskId: string;
}

/** The corpus's simulated task for `query`, if the corpus ships one; a malformed task file is refused, named. */
export function corpusSimTask(corpus: string, query: string): CorpusSimTask | undefined {
  const path = corpusSimTasksPath(corpus);
  if (!existsSync(path)) return undefined;
  const tasks = new TaskOracleRegistry();
  const wanted = questionKey(query);
  let taskId: string | undefined;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim().length === 0) return;
      let task: SimTask;
      try {
        task = JSON.parse(line) as SimTask;
      } catch (error) {
        throw new InvalidInputError('Invalid corpus task file', [{ path: `${path}:${index + 1}`, message: (error as Error).message }]);
      }
      if (task === null || typeof task !== 'object' || Array.isArray(task))
        throw new InvalidInputError('Invalid corpus task file', [{ path: `${path}:${index + 1}`, message: 'expected a JSON object' }]);
      tasks.registerTask(task);
      if (taskId === undefined && typeof task.prompt === 'string' && questionKey(task.prompt) === wanted) taskId = task.id;
    });
  return taskId === undefined ? undefined : { tasks, taskId };
}
