/**
 * The simulated fleet's policy for `purpose: 'search-step'` calls (the ops `search` operator's tool loop):
 * given the question and the evidence gathered so far, the simulated model either answers or asks for
 * another search, as a real tool-using model would.
 *
 * - If the task's canonical answer appears in a passage of the evidence, it answers. The oracle difficulty of a
 *   registered task measures closed-book difficulty; with the fact on the page what is left is reading
 *   comprehension, so the answer is drawn with the ordinary accuracy model at the task's *open-book*
 *   difficulty (default 0.5) plus the usual context bonus (each supporting passage counts as a supporting
 *   claim). It cites the supporting passages when it is right.
 * - Otherwise it searches with high probability, with a keyword query built from the question's key terms —
 *   for multi-hop tasks, from the current hop's terms plus the entities it has "learned" from evidence so far
 *   (the bridge entities of hops already resolved). Occasionally it answers prematurely from memory.
 * - With no searches left, or after PATIENCE searches, it answers anyway (closed-book odds, possibly wrong).
 *
 * The prompt protocol it reads is the operator's (see src/ops/search.ts): passages as `[n] id=<id> · <title>`
 * followed by one line of text, and a status line `Searches used: U; searches left: L.` Randomness comes only
 * from the per-call Rng the provider derives from the seed and the call identity.
 */
import { countTokens, normalizeAnswer, type ChatLikeMessage, type Rng } from '../../core/index.ts';
import { contextBonus, drawAnswer, probabilityCorrect, scanContext, selfConfidence, type ContextEvidence } from './accuracy.ts';
import { CLOSING_TOKENS, structuredText } from './output.ts';
import type { SimProfile } from './profiles.ts';
import type { FinishReason, JsonSchema } from '../spec.ts';
import { parseSearchPrompt, type SearchPromptPassage } from '../../formats/index.ts';
import type { ResolvedTask, SimTask } from './tasks.ts';

/** One hop of a multi-hop task: what to search for, and the entity that hop discovers. */
export interface SimSearchHop {
  /** Key terms of this hop's query (e.g. `['capital', 'Veloria']`). */
  terms: string[];
  /** Entity the hop finds (a bridge for the next hop); the last hop defaults to the task's answer. */
  finds?: string;
}

/** Optional search-related fields a registered SimTask may carry (read defensively: they are not validated on registration). */
export interface SimSearchFields {
  hops?: SimSearchHop[];
  /** Query terms for single-hop search; default: the question's words minus stop words. */
  searchTerms?: string[];
  /** Difficulty once the supporting passage is in the prompt (default 0.5 per hop). */
  openBookDifficulty?: number;
}

export type SimSearchTask = SimTask & SimSearchFields;

/** Probability of answering from memory while searches remain and nothing supports an answer yet. */
const PREMATURE_ANSWER = 0.06;
/** After this many searches without support the simulated model stops searching and guesses. */
const PATIENCE = 5;
const OPEN_BOOK_DIFFICULTY = 0.5;
/** A search decision is short compared with a worked answer. */
const SEARCH_LENGTH_SHARE = 0.35;

const STOP_WORDS = new Set(
  (
    'a an and are as at be been by can could did do does for from had has have how in into is it its of on or that the their these this those through ' +
    'to under was were what when where which who whom whose why will with within'
  ).split(' '),
);

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/** The search fields of a task, validated here because registration does not know about them. */
export function searchFieldsOf(task: SimTask | undefined): {
  hops: SimSearchHop[];
  searchTerms: string[] | undefined;
  openBookDifficulty: number | undefined;
} {
  const record = (task ?? {}) as Record<string, unknown>;
  const hops: SimSearchHop[] = [];
  if (Array.isArray(record['hops'])) {
    for (const hop of record['hops'] as unknown[]) {
      const terms = strings((hop as Record<string, unknown> | null)?.['terms']);
      const finds = (hop as Record<string, unknown> | null)?.['finds'];
      if (terms) hops.push({ terms, ...(typeof finds === 'string' && finds.length > 0 ? { finds } : {}) });
    }
  }
  const difficulty = record['openBookDifficulty'];
  return {
    hops,
    searchTerms: strings(record['searchTerms']),
    openBookDifficulty: typeof difficulty === 'number' && Number.isFinite(difficulty) ? difficulty : undefined,
  };
}

// The prompt's evidence and status lines are defined (and parsed) in src/formats/search.ts, which ops/search writes them with.
export { parseSearchPrompt, type SearchPrompt, type SearchPromptPassage } from '../../formats/index.ts';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `text` states `answer`: numbers compared as numbers (`4,210` = `4210`), words on word boundaries. */
export function mentions(text: string, answer: string): boolean {
  const wanted = normalizeAnswer(answer);
  if (wanted.length === 0) return false;
  if (/^-?\d+(?:\.\d+)?$/.test(wanted))
    return (text.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? []).some((number) => normalizeAnswer(number) === wanted);
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])${escape(wanted)}(?:$|[^\\p{L}\\p{N}])`, 'iu').test(text.replace(/\s+/g, ' '));
}

/** The question's content words, original case, de-duplicated. */
export function keyTerms(question: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const word of question.split(/[^\p{L}\p{N}'-]+/u)) {
    const clean = word.replace(/^['-]+|['-]+$/g, '').replace(/'s$/i, '');
    const key = clean.toLowerCase();
    if (clean.length < 2 || STOP_WORDS.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push(clean);
  }
  return out;
}

export interface SearchStepInput {
  rng: Rng;
  profile: SimProfile;
  task: ResolvedTask;
  /** The registered task (for its optional search fields). */
  spec: SimTask | undefined;
  messages: readonly ChatLikeMessage[];
  instanceNoise: number;
  /** The provider's planned output length for an answer to this task (closed-book difficulty, effort, noise). */
  plannedTokens: number;
  maxOutputTokens: number;
  /** Set when a truncation fault hit this call: fraction of the output produced. */
  truncateAt: number | undefined;
  responseSchema: JsonSchema | undefined;
  /** Common raw fields (simulated, model, task, …) to extend. */
  base: Record<string, unknown>;
}

export interface SearchStepDraft {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

type Mode = 'supported' | 'forced' | 'gave-up' | 'premature' | 'search';

/** One search-step decision (see the module comment). Draws a fixed number of uniforms per path. */
export function searchStepDraft(input: SearchStepInput): SearchStepDraft {
  const { rng, profile, task } = input;
  const fields = searchFieldsOf(input.spec);
  const prompt = parseSearchPrompt(input.messages);
  const evidenceText = (passage: SearchPromptPassage): string => `${passage.title} ${passage.text}`;
  const supporting = prompt.passages.filter((passage) => mentions(evidenceText(passage), task.answer));
  // Hops resolved so far: their entity is on the page. The last hop's entity is the answer itself.
  const hopFinds = fields.hops.map((hop, index) => hop.finds ?? (index === fields.hops.length - 1 ? task.answer : ''));
  const resolved = hopFinds.map(
    (entity) => entity.length > 0 && prompt.passages.some((passage) => mentions(evidenceText(passage), entity)),
  );
  const learned = hopFinds.filter((entity, index) => resolved[index] && normalizeAnswer(entity) !== task.normalizedAnswer);
  const used = prompt.used ?? 0;

  const decide = rng.next();
  const mode: Mode =
    supporting.length > 0
      ? 'supported'
      : prompt.left === 0
        ? 'forced'
        : used >= PATIENCE
          ? 'gave-up'
          : decide < PREMATURE_ANSWER
            ? 'premature'
            : 'search';

  const hopCount = Math.max(1, fields.hops.length);
  const openBook = fields.openBookDifficulty ?? OPEN_BOOK_DIFFICULTY * hopCount;
  const difficulty = mode === 'supported' ? Math.min(task.difficulty, openBook) : task.difficulty;
  // Reading a passage is shorter work than recalling a hard fact: scale the planned length to the difficulty used.
  const growth = profile.verbosityGrowth;
  const planned = Math.max(
    8,
    Math.round((input.plannedTokens * (1 + growth * Math.max(0, difficulty))) / (1 + growth * Math.max(0, task.difficulty))),
  );
  const base = {
    ...input.base,
    kind: 'search-step',
    mode,
    passages: prompt.passages.length,
    supportingPassages: supporting.map((passage) => passage.id),
    searchesUsed: used,
    searchesLeft: prompt.left ?? null,
  };

  if (mode === 'search') {
    const hop = fields.hops.findIndex((_, index) => !resolved[index]);
    const terms =
      hop >= 0 ? [...(fields.hops[hop] as SimSearchHop).terms, ...learned] : [...(fields.searchTerms ?? keyTerms(task.prompt)), ...learned];
    const query = [...new Set(terms)].join(' ') || task.prompt;
    const line = `SEARCH: ${query}`;
    const needed = Math.max(8, Math.round(planned * SEARCH_LENGTH_SHARE)) + countTokens(line);
    const lead =
      '[simulated] The evidence so far does not settle the question; searching again (simulated decision, not real model output).';
    const text = input.responseSchema
      ? structuredText(input.responseSchema, { action: 'search', query, search: query })
      : `${lead}\n${line}`;
    return finish(input, needed, text, lead, 0.5, { ...base, query, hop: hop >= 0 ? hop : null, learned });
  }

  const scanned = scanContext(input.messages, task);
  const evidence: ContextEvidence = {
    support: scanned.support + supporting.length,
    partial: scanned.partial + learned.length,
    wrong: scanned.wrong,
    wrongClaims: scanned.wrongClaims,
  };
  const bonus = contextBonus(evidence);
  const pCorrect = probabilityCorrect({
    profile,
    difficulty,
    instanceNoise: input.instanceNoise,
    reasoningTokens: planned,
    contextBonus: bonus,
  });
  const drawn = drawAnswer(rng, task, pCorrect, evidence);
  const confidence = selfConfidence(rng, profile, pCorrect, drawn.correct);
  // Right answers cite what supports them; a wrong answer read off the page cites the passage it misread.
  const misread = prompt.passages.find((passage) => mentions(evidenceText(passage), drawn.answer)) ?? prompt.passages[0];
  const cited = drawn.correct ? supporting.map((passage) => passage.id) : mode === 'supported' && misread ? [misread.id] : [];
  const lead = `[simulated] Simulated reading of ${prompt.passages.length === 1 ? 'one passage' : 'the evidence passages'} (not real model output).`;
  const closing = `Answer: ${drawn.answer}\nConfidence: ${confidence.toFixed(2)}\nSources: ${cited.length > 0 ? cited.join(', ') : 'none'}`;
  const text = input.responseSchema
    ? structuredText(input.responseSchema, { action: 'answer', answer: drawn.answer, confidence, sources: cited, reasoning: lead })
    : `${lead}\n${closing}`;
  const needed = planned + CLOSING_TOKENS + countTokens(cited.join(', '));
  return finish(input, needed, text, lead, confidence, {
    ...base,
    answer: drawn.answer,
    correct: drawn.correct,
    pCorrect: Math.round(pCorrect * 10_000) / 10_000,
    contextBonus: Math.round(bonus * 10_000) / 10_000,
    openBookDifficulty: difficulty,
    propagated: drawn.propagated,
    cited,
  });
}

/** Applies the output limit and truncation faults the way the provider does for answers: cut text, no decision line. */
function finish(
  input: SearchStepInput,
  needed: number,
  text: string,
  lead: string,
  confidence: number,
  raw: Record<string, unknown>,
): SearchStepDraft {
  if (needed > input.maxOutputTokens) {
    return {
      text: input.responseSchema ? '{"reasoning": "' : lead,
      outputTokens: input.maxOutputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, reasoningTokens: input.maxOutputTokens, truncated: 'maxOutputTokens', answered: false },
    };
  }
  if (input.truncateAt !== undefined) {
    return {
      text: input.responseSchema ? '{"reasoning": "' : lead,
      outputTokens: Math.max(1, Math.floor(needed * input.truncateAt)),
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, truncated: 'fault', answered: false },
    };
  }
  return { text, outputTokens: needed, finishReason: 'stop', confidence, raw: { ...raw, reasoningTokens: needed } };
}
