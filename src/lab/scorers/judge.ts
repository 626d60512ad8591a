/**
 * The LLM judge: a model asked whether the system's answer matches the reference, run through the fleet
 * under its own budget slice (a Ledger of its own, with the slice as its hard limit) so that judging can never
 * spend the system under test's budget, nor more than the slice: every judge call reserves its worst case on
 * the slice before it is sent, and a call the slice cannot cover is refused (BUDGET_EXHAUSTED) — that cell is
 * reported as failed and runs again on resume with a larger slice; it is never scored as wrong.
 *
 * Calls are journaled in the eval's run under keys prefixed `judge|`, so a resumed eval replays its verdicts
 * instead of paying for them again. The same (item, answer) is judged once per process.
 *
 * On the simulated fleet the judge is simulated too: each verdict is a registered oracle task whose correct
 * answer is the normalised match against the aliases, so a `sim:` judge errs as often as its profile would on
 * an easy task — it exercises the machinery and budget, not real judgement.
 */
import { normalizeAnswer, sha256Hex, type Clock } from '../../core/index.ts';
import { Ledger, type BudgetLimits } from '../../budget/index.ts';
import type { CallRecorder, Fleet, TaskOracleRegistry } from '../../models/index.ts';
import type { Journal } from '../../journal/index.ts';
import type { DatasetItem } from '../datasets/load.ts';
import { anyOfScorer, type Scorer } from './builtin.ts';
import { ScorerError } from './errors.ts';

export interface JudgeOptions {
  model: string;
  /** The judge's own fleet (its calls are not counted as the system under test's). */
  fleet: Fleet;
  clock: Clock;
  /** The judge's slice: a hard limit on all judging together. */
  limits: BudgetLimits;
  /** Registers simulated verdict tasks (when the judge is a `sim:` model). */
  oracle?: TaskOracleRegistry;
  journal?: { journal: Journal; runId: string };
  /** Per verdict (default JUDGE_MAX_OUTPUT_TOKENS); each call reserves it on the slice before it is sent. */
  maxOutputTokens?: number;
}

export interface JudgeScorer extends Scorer {
  /** What judging has spent so far (replayed verdicts charge what they were billed), kept apart from the system's spend. */
  spent(): { inputTokens: number; outputTokens: number; totalTokens: number; usd: number; calls: number };
  limits: BudgetLimits;
  verdicts: { judged: number; cached: number };
}

/** Room for a reasoning judge (and the simulated fleet's stand-in reasoning, ~330 tokens) before its verdict. */
export const JUDGE_MAX_OUTPUT_TOKENS = 512;

const SYSTEM =
  'You grade answers. Given a question, the reference answer(s) and a candidate answer, decide whether the candidate ' +
  'means the same as a reference answer. Reply with one word: CORRECT or INCORRECT.';

export const judgePrompt = (item: DatasetItem, answer: string): string =>
  `Question: ${item.prompt}\nReference answer${item.aliases.length > 1 ? 's' : ''}: ${item.aliases.join(' | ')}\n` +
  `Candidate answer: ${answer}\nIs the candidate answer correct? Reply CORRECT or INCORRECT.`;

/** The verdict in a judge's reply: the last CORRECT/INCORRECT word, or undefined when it gave none. */
export function parseVerdict(text: string): boolean | undefined {
  const matches = [...text.matchAll(/\b(in)?correct\b/gi)];
  const last = matches.at(-1);
  return last === undefined ? undefined : last[1] === undefined;
}

/** Namespaces the journal's recorder so judge calls never collide with the cells' calls. */
function judgeRecorder(journal: Journal, runId: string): CallRecorder {
  const inner = journal.recorder(runId);
  return {
    lookup: (callKey) => inner.lookup(`judge|${callKey}`),
    record: (call) => inner.record({ ...call, callKey: `judge|${call.callKey}` }),
    ...(inner.intend ? { intend: (intent) => inner.intend!({ ...intent, callKey: `judge|${intent.callKey}` }) } : {}),
    ...(inner.abandon ? { abandon: (callKey) => inner.abandon!(`judge|${callKey}`) } : {}),
  };
}

export function judgeScorer(options: JudgeOptions): JudgeScorer {
  const ledger = new Ledger({ clock: options.clock, limits: options.limits, rootName: 'judge' });
  // Made on the first verdict: the eval's run is begun by the runner, after the scorer is built.
  let recorder: CallRecorder | undefined;
  const recorderOf = (): CallRecorder | undefined =>
    options.journal ? (recorder ??= judgeRecorder(options.journal.journal, options.journal.runId)) : undefined;
  const simulated = options.fleet.model(options.model).profile.simulated;
  const cache = new Map<string, Promise<number>>();
  const verdicts = { judged: 0, cached: 0 };
  const name = `judge:${options.model}`;

  const judge = async (answer: string, item: DatasetItem): Promise<number> => {
    const prompt = judgePrompt(item, answer);
    const taskId = `judge/${sha256Hex(prompt).slice(0, 24)}`;
    if (simulated && options.oracle) {
      const truth = anyOfScorer.score(answer, item) === 1 ? 'correct' : 'incorrect';
      options.oracle.registerTask({
        id: taskId,
        prompt,
        answer: truth,
        difficulty: -1,
        distractors: [{ answer: truth === 'correct' ? 'incorrect' : 'correct', weight: 1 }],
      });
    }
    const callRecorder = recorderOf();
    const result = await options.fleet.call(
      options.model,
      {
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: prompt },
        ],
        maxOutputTokens: options.maxOutputTokens ?? JUDGE_MAX_OUTPUT_TOKENS,
        temperature: 0,
        metadata: { taskId, stepId: taskId },
      },
      {
        budget: ledger.root,
        tags: { operator: 'judge', axis: 'judge' },
        ...(callRecorder ? { recorder: callRecorder } : {}),
        fitOutputToBudget: false,
      },
    );
    verdicts.judged++;
    const verdict = parseVerdict(result.text);
    if (verdict === undefined) throw new ScorerError(name, `the judge's reply on item ${item.id} has no CORRECT/INCORRECT verdict`);
    return verdict ? 1 : 0;
  };

  return {
    name,
    binary: true,
    limits: options.limits,
    verdicts,
    spent: () => ledger.root.spent(),
    score(answer, item) {
      if (answer === undefined || normalizeAnswer(answer) === '') return 0;
      const key = `${item.id}\u0000${answer}`;
      let verdict = cache.get(key);
      if (verdict) verdicts.cached++;
      else {
        cache.set(key, (verdict = judge(answer, item)));
        // A failed verdict is not remembered: a later cell (or a resume) asks again.
        verdict.catch(() => cache.delete(key));
      }
      return verdict;
    },
  };
}
