/**
 * search — the search axis: a retrieval tool loop. Search steps are a budgeted axis like tokens (the seed's
 * finding: search steps scale like reasoning tokens), so `maxSteps` is this operator's slice of that axis and
 * every model call is reserved against its token/dollar slice through `generate`.
 *
 *   step 1: retrieve with the question (or, with `firstQuery: 'model'`, a query the model writes)
 *   each turn: the model sees the question + the evidence so far (numbered passages with ids) and replies
 *              `Answer: …` + `Sources: <ids>`, or `SEARCH: <query>` for another retrieval step
 *   stop: the model answers, or the step limit is reached (that turn is the forced final answer call)
 *
 * Evidence is de-duplicated (by id and by text) and capped in tokens — the weakest, then oldest passages are
 * pruned — so prompts stay bounded however many steps run. Before a turn that may lead to another search the
 * loop checks that the budget still covers this call *and* a final answer call with more evidence; if not it
 * makes this turn the final one (recorded in `degraded`), so a tight budget means fewer steps, not a missing
 * answer. A refused call ends the loop without throwing; the ledger guarantees the slice is never overspent.
 *
 * Prompt protocol (the simulated fleet's search policy reads it, as a real model would): passages appear as
 * `[n] id=<id> · <title>` followed by one line of text, and a status line `Searches used: U; searches left: L.`
 */
import { BudgetExhaustedError, InvalidInputError, countTokens, normalizeAnswer, type InputIssue } from '../core/index.ts';
import { CALL_PURPOSE, formatPassageLines, formatSearchStatus } from '../formats/index.ts';
import type { ChatMessage } from '../models/index.ts';
import type { OpContext, OpResult } from './context.ts';
import { DEFAULT_MAX_OUTPUT_TOKENS, generate, type GenerateOutcome } from './generate.ts';
import type { RetrievedPassage, Retriever } from './retriever.ts';

export interface SearchOptions {
  question: string;
  retriever: Retriever;
  /** Retrieval steps allowed (≥ 1): this operator's slice of the search axis. */
  maxSteps: number;
  /** New passages added per step. */
  k: number;
  /** Model reference; defaults to the context's model. */
  model?: string;
  /** Output cap per model call (default 512). */
  maxOutputTokens?: number;
  /** Cap on the evidence block of a prompt, in tokens (default 1500). */
  maxEvidenceTokens?: number;
  /** Step 1 retrieves with the question itself (default) or with a query the model writes first. */
  firstQuery?: 'question' | 'model';
  temperature?: number;
}

export const DEFAULT_MAX_EVIDENCE_TOKENS = 1500;

export const SEARCH_SYSTEM_PROMPT = [
  'You answer questions with a search tool over a document collection. Each turn shows the question, the passages',
  'retrieved so far (numbered, with ids) and how many searches are left.',
  '- If the passages answer the question, reply with a line "Answer: <short answer>" followed by a line',
  '  "Sources: <ids of the passages that support it>".',
  '- Otherwise reply with a single line "SEARCH: <keyword query>" naming what is still missing.',
  'When no searches are left, give your best answer with its sources.',
].join('\n');

interface EvidenceItem {
  passage: RetrievedPassage;
  /** Passage text on one line (the protocol is one line per passage). */
  text: string;
  /** Score relative to the best hit of its query: raw BM25 scores are not comparable across queries. */
  relative: number;
  step: number;
  tokens: number;
}

type Decision = { kind: 'answer' } | { kind: 'search'; query: string } | { kind: 'other' };

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function validate(options: SearchOptions): void {
  const issues: InputIssue[] = [];
  if (typeof options.question !== 'string' || options.question.trim().length === 0)
    issues.push({ path: 'question', message: 'must be a non-empty string' });
  if (!options.retriever || typeof options.retriever.search !== 'function')
    issues.push({ path: 'retriever', message: 'must implement search(query, k)' });
  if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1)
    issues.push({ path: 'maxSteps', message: `must be an integer ≥ 1, got ${String(options.maxSteps)}` });
  if (!Number.isInteger(options.k) || options.k < 1)
    issues.push({ path: 'k', message: `must be an integer ≥ 1, got ${String(options.k)}` });
  if (options.maxOutputTokens !== undefined && (!Number.isInteger(options.maxOutputTokens) || options.maxOutputTokens < 1))
    issues.push({ path: 'maxOutputTokens', message: 'must be a positive integer' });
  if (options.maxEvidenceTokens !== undefined && !(options.maxEvidenceTokens > 0))
    issues.push({ path: 'maxEvidenceTokens', message: 'must be a positive number' });
  if (issues.length > 0) throw new InvalidInputError('Invalid search options', issues);
}

function userPrompt(question: string, evidence: readonly EvidenceItem[], used: number, left: number): string {
  const lines = [`Question: ${oneLine(question)}`, ''];
  if (evidence.length === 0) lines.push('Evidence: none yet.', '');
  else {
    lines.push(`Evidence (${evidence.length} passages):`);
    evidence.forEach((item, index) =>
      lines.push(...formatPassageLines(index + 1, item.passage.id, oneLine(item.passage.title), item.text), ''),
    );
  }
  lines.push(formatSearchStatus(used, left));
  // Worded without "answer:"-style phrases: the sim (like a careless model) would read those as claims.
  lines.push(
    left > 0 ? 'Reply in the format from the instructions.' : 'No searches left: reply now with your best conclusion and its sources.',
  );
  return lines.join('\n');
}

function decide(text: string): Decision {
  if (/(?:^|\n)\s*(?:final\s+)?answer\s*[:=]/i.test(text)) return { kind: 'answer' };
  const query = [...text.matchAll(/(?:^|\n)\s*\**search\**\s*:\s*([^\n]*)/gi)].at(-1)?.[1];
  if (query !== undefined) return { kind: 'search', query: oneLine(query.replace(/^["'`]+|["'`]+$/g, '')).slice(0, 300) };
  return { kind: 'other' };
}

/** Ids from a `Sources:` line: passage ids, or `[n]` / `n` meaning the n-th passage of the prompt. */
function citationsOf(text: string, prompt: readonly EvidenceItem[], known: ReadonlySet<string>): string[] {
  const line = [...text.matchAll(/(?:^|\n)\s*(?:sources?|citations?)\s*:\s*([^\n]*)/gi)].at(-1)?.[1] ?? '';
  const out: string[] = [];
  for (const token of line.split(/[\s,;]+/)) {
    const clean = token.replace(/^[[(]+|[\]).]+$/g, '');
    const byNumber = /^\d+$/.test(clean) ? prompt[Number(clean) - 1]?.passage.id : undefined;
    const id = known.has(clean) ? clean : byNumber;
    if (id !== undefined && !out.includes(id)) out.push(id);
  }
  return out;
}

/** Whether a passage states the answer: numbers compared as numbers (`4,210` = `4210`), words on word boundaries. */
function states(text: string, answer: string): boolean {
  const wanted = normalizeAnswer(answer);
  if (wanted.length === 0) return false;
  if (/^-?\d+(?:\.\d+)?$/.test(wanted))
    return (text.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? []).some((number) => normalizeAnswer(number) === wanted);
  const escaped = wanted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])${escaped}(?:$|[^\\p{L}\\p{N}])`, 'iu').test(oneLine(text));
}

/** Drops the weakest (then oldest) passages until the evidence fits `cap`; a lone oversized passage is shortened. */
function prune(evidence: EvidenceItem[], cap: number): string[] {
  const removed: string[] = [];
  let total = evidence.reduce((sum, item) => sum + item.tokens, 0);
  while (total > cap && evidence.length > 1) {
    let worst = 0;
    for (let index = 1; index < evidence.length; index++) {
      const a = evidence[index] as EvidenceItem;
      const b = evidence[worst] as EvidenceItem;
      if (a.relative < b.relative || (a.relative === b.relative && a.step < b.step)) worst = index;
    }
    const [item] = evidence.splice(worst, 1) as [EvidenceItem];
    total -= item.tokens;
    removed.push(item.passage.id);
  }
  const only = evidence[0];
  if (only && only.tokens > cap) {
    const words = only.text.split(' ');
    only.text = `${words.slice(0, Math.max(1, Math.floor((words.length * cap) / only.tokens) - 8)).join(' ')} …`;
    only.tokens = countTokens(only.text) + 8;
  }
  return removed;
}

export async function search(context: OpContext, options: SearchOptions): Promise<OpResult> {
  validate(options);
  const { trace, stepId } = context;
  const model = options.model ?? context.model;
  const maxOutputTokens = options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const cap = options.maxEvidenceTokens ?? DEFAULT_MAX_EVIDENCE_TOKENS;
  trace.event(stepId, 'op-start', { operator: 'search', model, maxSteps: options.maxSteps, k: options.k, maxEvidenceTokens: cap });
  const queryNode = trace.addNode(stepId, 'query', options.question);

  const evidence: EvidenceItem[] = [];
  const shown: EvidenceItem[] = [];
  const shownIds = new Set<string>();
  const seenIds = new Set<string>();
  const seenTexts = new Set<string>();
  const queries: string[] = [];
  const decisions: string[] = [];
  const pruned: string[] = [];
  const degraded: string[] = [];
  let steps = 0;
  let stepLimit = options.maxSteps;
  let calls = 0;
  let replayed = 0;
  let simulated = false;
  let budgetExhausted = false;
  let largestPassage = 0;
  let final: GenerateOutcome | undefined;
  let finalPrompt: EvidenceItem[] = [];
  let stopReason: 'answered' | 'max-steps' | 'budget' | 'no-answer';
  let query: string | undefined = options.firstQuery === 'model' ? undefined : options.question;

  for (let turn = 1; ; turn++) {
    if (query !== undefined) {
      steps++;
      queries.push(query);
      // Ask for enough hits that k of them are new: a repeated query pages on instead of re-reading.
      const results = await options.retriever.search(query, options.k + seenIds.size);
      const best = results[0]?.score ?? 0;
      const added: string[] = [];
      for (const passage of results) {
        if (added.length >= options.k) break;
        const text = oneLine(passage.text);
        if (seenIds.has(passage.id) || seenTexts.has(text)) continue;
        seenIds.add(passage.id);
        seenTexts.add(text);
        const tokens = countTokens(formatPassageLines('00', passage.id, passage.title, text).join('\n')) + 2;
        largestPassage = Math.max(largestPassage, tokens);
        evidence.push({ passage, text, relative: best > 0 ? passage.score / best : 0, step: steps, tokens });
        added.push(passage.id);
      }
      const dropped = prune(evidence, cap);
      pruned.push(...dropped);
      trace.event(stepId, 'tool', {
        tool: 'retriever',
        step: steps,
        query,
        returned: results.map((passage) => passage.id),
        added,
        pruned: dropped,
      });
    }

    let left = stepLimit - steps;
    let messages = buildMessages(options.question, evidence, steps, left);
    if (
      left > 0 &&
      !affordable(
        context,
        model,
        messages,
        maxOutputTokens,
        Math.min(Math.max(0, cap - evidenceTokens(evidence)), options.k * largestPassage),
      )
    ) {
      // Keep enough for a final answer: this turn becomes the final one instead of risking an unanswered stop.
      degraded.push(`search steps ${options.maxSteps} → ${steps} (budget)`);
      trace.event(stepId, 'degrade', { operator: 'search', reason: 'budget', maxSteps: options.maxSteps, steps });
      stepLimit = steps;
      left = 0;
      messages = buildMessages(options.question, evidence, steps, left);
    }
    for (const item of evidence) {
      if (shownIds.has(item.passage.id)) continue;
      shownIds.add(item.passage.id);
      shown.push(item);
    }

    let outcome: GenerateOutcome;
    try {
      outcome = await generate(context, {
        step: `step-${turn}`,
        model,
        messages,
        maxOutputTokens,
        purpose: CALL_PURPOSE.searchStep,
        operator: 'search',
        axis: 'search',
        node: null,
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      });
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      budgetExhausted = true;
      stopReason = 'budget';
      degraded.push(`stopped after ${steps} search step${steps === 1 ? '' : 's'}: budget refused the next call`);
      trace.event(stepId, 'degrade', { operator: 'search', reason: 'budget-exhausted', steps });
      break;
    }
    calls++;
    if (outcome.call.replayed) replayed++;
    simulated ||= outcome.call.simulated;
    const decision = decide(outcome.text);
    decisions.push(decision.kind);
    if (decision.kind === 'search' && left > 0) {
      query = decision.query.length > 0 ? decision.query : options.question;
      continue;
    }
    // A search request with no searches left carries no answer (its last number would be part of the query).
    if (decision.kind !== 'search') final = outcome;
    finalPrompt = [...evidence];
    stopReason = final?.answer === undefined ? 'no-answer' : left > 0 ? 'answered' : stepLimit < options.maxSteps ? 'budget' : 'max-steps';
    break;
  }

  const answer = final?.answer;
  const normalized = final?.normalized;
  const citations = final ? citationsOf(final.text, finalPrompt, shownIds) : [];
  const supporting =
    answer === undefined
      ? []
      : finalPrompt.filter((item) => states(`${item.passage.title} ${item.text}`, answer)).map((item) => item.passage.id);

  // Graph: the question, the passages the model was shown (derived from the question's search), and the
  // answer derived from the passages it cites — or, citing none, from everything it was shown last.
  const evidenceNodes = new Map<string, string>();
  for (const item of shown) {
    const carries = answer !== undefined && states(`${item.passage.title} ${item.text}`, answer);
    const node = trace.addNode(
      stepId,
      'evidence',
      `[${item.passage.id}] ${item.passage.title}: ${item.text}`,
      carries ? normalized : undefined,
    );
    trace.derive(node, [queryNode]);
    evidenceNodes.set(item.passage.id, node);
  }
  let nodeId: string | undefined;
  if (final) {
    nodeId = trace.addNode(stepId, 'answer', final.text, normalized);
    const sources = citations.length > 0 ? citations : finalPrompt.map((item) => item.passage.id);
    trace.derive(
      nodeId,
      sources.map((id) => evidenceNodes.get(id)).filter((id): id is string => id !== undefined),
    );
  }
  const details = {
    model,
    steps,
    maxSteps: options.maxSteps,
    k: options.k,
    queries,
    decisions,
    passagesSeen: shown.map((item) => item.passage.id),
    evidence: finalPrompt.map((item) => item.passage.id),
    pruned,
    evidenceTokens: evidenceTokens(finalPrompt),
    citations,
    supportingPassages: supporting,
    supported: supporting.length > 0,
    citedSupport: citations.some((id) => supporting.includes(id)),
    stopReason,
    replayedCalls: replayed,
  };
  trace.event(stepId, 'op-end', {
    operator: 'search',
    answer: normalized,
    steps,
    calls,
    supported: details.supported,
    stopReason,
    budgetExhausted,
  });
  return { answer, confidence: final?.confidence, text: final?.text ?? '', nodeId, calls, degraded, budgetExhausted, simulated, details };
}

function buildMessages(question: string, evidence: readonly EvidenceItem[], used: number, left: number): ChatMessage[] {
  return [
    { role: 'system', content: SEARCH_SYSTEM_PROMPT },
    { role: 'user', content: userPrompt(question, evidence, used, left) },
  ];
}

const evidenceTokens = (evidence: readonly EvidenceItem[]): number => evidence.reduce((sum, item) => sum + item.tokens, 0);

/**
 * Can the slice pay for this call and one more (the final answer, whose prompt may carry `growth` more
 * evidence tokens)? Worst cases, as the fleet will reserve them; the fleet still enforces the real limits.
 */
function affordable(context: OpContext, model: string, messages: ChatMessage[], maxOutputTokens: number, growth: number): boolean {
  const worst = context.fleet.worstCase(model, messages, maxOutputTokens);
  const price = context.fleet.model(model).profile.priceInputPerMillion;
  const room = context.budget.remaining();
  const input = 2 * worst.inputTokens + growth;
  const output = 2 * worst.outputTokens;
  const usd = 2 * worst.usd + (growth * price) / 1_000_000;
  return (
    room.seconds > 0 &&
    room.calls >= 2 &&
    room.inputTokens >= input &&
    room.outputTokens >= output &&
    room.totalTokens >= input + output &&
    room.usd >= usd - 1e-12
  );
}
