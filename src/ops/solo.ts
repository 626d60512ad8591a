/**
 * solo — Solo Performance Prompting (SPP; Wang et al., arXiv 2307.05300): a persona/debate workflow compiled
 * into ONE call. The model lists the participants (the assistant plus personas, given or chosen for the
 * task), lets each persona brainstorm, then drafts → collects each persona's critique → revises, until all
 * agree, and ends with a final answer line.
 *
 * Why the optional schema: the paper saw no gain on GPT-3.5/Llama2-13B, and the small model often listed
 * the personas and stopped. A JSON schema (personas[], brainstorm[], rounds[{draft, critiques[], revision}],
 * final_answer) makes the transcript complete under constrained decoding, so a small model cannot stop early.
 *
 * Budget: one call. If the slice cannot cover the planned output, the output cap shrinks to what it can
 * cover (recorded in `degraded`); if it cannot cover a useful call at all, no call is made.
 * Also home of the small worst-case planning helpers the multi-call operators here share.
 */
import { BudgetExhaustedError, ThicketError, addUsd, costOf, countMessageTokens, countTokens, normalizeAnswer } from '../core/index.ts';
import type { Amount, Budget } from '../budget/index.ts';
import { CALL_PURPOSE, formatParticipantsLine, readParticipantsLine } from '../formats/index.ts';
import type { ChatMessage, JsonSchema } from '../models/index.ts';
import type { OpContext, OpResult } from './context.ts';
import { generate } from './generate.ts';

export interface Persona {
  name: string;
  description?: string;
}

export interface SoloOptions {
  question: string;
  /** Personas besides the assistant; when absent the model chooses up to `maxPersonas` for the task. */
  personas?: Array<string | Persona>;
  maxPersonas?: number;
  /** Constrain the transcript with the SPP JSON schema (default true). */
  structured?: boolean;
  /** Most draft/critique/revision rounds the schema allows (default 3). */
  maxRounds?: number;
  model?: string;
  maxOutputTokens?: number;
  temperature?: number;
  /** Extra system instructions (appended to the SPP instructions). */
  system?: string;
  /** Spend tag for the call (e.g. when a debate spec runs solo). */
  agent?: string;
  /** Step id suffix (default `solo`). */
  step?: string;
}

export const ASSISTANT_PERSONA = 'AI Assistant (you)';
export const DEFAULT_SOLO_MAX_OUTPUT_TOKENS = 1536;
/** Below this many affordable output tokens an SPP transcript cannot be written; the call is not made. */
const MIN_SOLO_OUTPUT = 96;

// The task-solving instruction of the SPP paper's prompt, followed by the format (demonstrations omitted).
const SPP_INSTRUCTION =
  'When faced with a task, begin by identifying the participants who will contribute to solving the task. Then, initiate a multi-round ' +
  'collaboration process until a final solution is reached. The participants will give critical comments and detailed suggestions whenever ' +
  'necessary.';
const TEXT_FORMAT = `Format:
${formatParticipantsLine([ASSISTANT_PERSONA, '<persona>', '<persona>'], false)}
<persona>: <brainstorm>
Start collaboration!
${ASSISTANT_PERSONA}: <draft>
<persona>: <critique>
${ASSISTANT_PERSONA}: <revision>
(repeat draft, critiques and revision until every participant agrees)
Final answer: <answer>`;
const JSON_FORMAT =
  'Write the collaboration as JSON: personas (the assistant first, then each persona with its role), brainstorm (one idea per persona), ' +
  "rounds (the draft, each persona's critique and whether it agrees, the revision; stop once all agree), final_answer (the answer alone).";

function personaOf(entry: string | Persona): Persona {
  return typeof entry === 'string' ? { name: entry } : entry;
}

/** The SPP JSON schema; all fields required, no extra properties (strict structured output). */
export function soloSchema(options: { maxPersonas?: number; maxRounds?: number } = {}): JsonSchema {
  const object = (properties: Record<string, unknown>): JsonSchema => ({
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  });
  const text = { type: 'string' };
  return object({
    personas: { type: 'array', minItems: 2, maxItems: (options.maxPersonas ?? 3) + 1, items: object({ name: text, role: text }) },
    brainstorm: { type: 'array', items: object({ persona: text, idea: text }) },
    rounds: {
      type: 'array',
      minItems: 1,
      maxItems: options.maxRounds ?? 3,
      items: object({
        draft: text,
        critiques: { type: 'array', items: object({ persona: text, critique: text, agrees: { type: 'boolean' } }) },
        revision: text,
      }),
    },
    final_answer: text,
  });
}

export function soloMessages(options: SoloOptions): ChatMessage[] {
  const personas = (options.personas ?? []).map(personaOf);
  const structured = options.structured ?? true;
  const system = [SPP_INSTRUCTION, structured ? JSON_FORMAT : TEXT_FORMAT, options.system].filter((part) => part).join('\n\n');
  const cast =
    personas.length > 0
      ? formatParticipantsLine([ASSISTANT_PERSONA, ...personas.map((persona) => persona.name)], true) +
        (personas.some((p) => p.description) ? `\n${personas.map((p) => `- ${p.name}: ${p.description ?? ''}`).join('\n')}` : '')
      : `Choose up to ${options.maxPersonas ?? 3} personas suited to the task.`;
  return [
    { role: 'system', content: system },
    { role: 'user', content: `${cast}\n\nTask: ${options.question}` },
  ];
}

interface Transcript {
  personas: Array<{ name: string; role?: string }>;
  brainstorm: Array<{ persona: string; idea: string }>;
  rounds: Array<{ draft: string; critiques: Array<{ persona: string; critique: string; agrees: boolean }>; revision: string }>;
  final_answer: string;
}

export async function solo(context: OpContext, options: SoloOptions): Promise<OpResult> {
  const model = options.model ?? context.model;
  const step = options.step ?? 'solo';
  const structured = options.structured ?? true;
  const messages = soloMessages(options);
  const schema = structured ? soloSchema(options) : undefined;
  const planned = options.maxOutputTokens ?? DEFAULT_SOLO_MAX_OUTPUT_TOKENS;
  const stepId = `${context.stepId}/${step}`;
  const degraded: string[] = [];
  const query = context.trace.addNode(stepId, 'query', options.question);
  const result = (fields: Partial<OpResult> & { details: Record<string, unknown> }): OpResult => ({
    answer: undefined,
    confidence: undefined,
    text: '',
    nodeId: undefined,
    calls: 0,
    degraded,
    budgetExhausted: false,
    simulated: false,
    ...fields,
    details: { operator: 'solo', structured, ...fields.details },
  });

  // Plan: the whole transcript is one call, so the only degradation is a shorter output cap.
  const worst = callWorstCase(context, model, messages, planned, schema);
  let maxOutputTokens = planned;
  if (!budgetCovers(context.budget, worst)) {
    const pricing = context.fleet.model(model).profile;
    maxOutputTokens = Math.min(
      planned,
      context.budget.maxAffordableOutputTokens(worst.inputTokens, {
        inputPerMillion: pricing.priceInputPerMillion,
        outputPerMillion: pricing.priceOutputPerMillion,
      }),
    );
    if (maxOutputTokens < MIN_SOLO_OUTPUT) {
      degrade(context, stepId, degraded, `solo call not affordable (needs ${worst.inputTokens} + ${MIN_SOLO_OUTPUT} tokens)`);
      return result({ budgetExhausted: true, details: { personas: [], rounds: 0 } });
    }
    degrade(context, stepId, degraded, `max output tokens ${planned} → ${maxOutputTokens}`);
  }

  let outcome;
  try {
    outcome = await generate(context, {
      step,
      model,
      messages,
      maxOutputTokens,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(schema ? { schema: { name: 'solo_performance', schema } } : {}),
      purpose: CALL_PURPOSE.solo,
      operator: 'solo',
      axis: 'agents',
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      node: null,
    });
  } catch (error) {
    if (ThicketError.isInstance(error) && error.category === 'cancelled') throw error;
    const exhausted = error instanceof BudgetExhaustedError;
    if (exhausted) degrade(context, stepId, degraded, 'solo call refused by the budget');
    return result({
      budgetExhausted: exhausted,
      details: { personas: [], rounds: 0, error: ThicketError.isInstance(error) ? error.code : String(error) },
    });
  }

  const transcript = structured ? (outcome.call.object as Transcript) : parseTranscript(outcome.text);
  const answer = transcript.final_answer.trim() === '' ? undefined : transcript.final_answer.trim();
  const nodeId = recordGraph(context, stepId, query, transcript, answer);
  const lastRound = transcript.rounds.at(-1);
  return result({
    answer,
    confidence: outcome.confidence,
    text: outcome.text,
    nodeId,
    calls: 1,
    simulated: outcome.call.simulated,
    details: {
      personas: transcript.personas.map((persona) => persona.name),
      brainstorm: transcript.brainstorm.length,
      rounds: transcript.rounds.length,
      agreed: lastRound ? lastRound.critiques.every((critique) => critique.agrees) : false,
      // Unconstrained small models often stop after the participants: no final answer line.
      earlyStop: answer === undefined,
      finishReason: outcome.call.finishReason,
      maxOutputTokens,
    },
  });
}

/** Reads a free-text SPP transcript: participants line, persona lines, drafts/revisions, final answer line. */
export function parseTranscript(text: string): Transcript {
  const personas = (readParticipantsLine(text, { ignoreCase: true }) ?? []).map((name) => ({ name }));
  const final = [...text.matchAll(/(?:^|\n)\s*(?:final answer|answer)\s*[:=]\s*(.+)/gi)].at(-1)?.[1]?.trim() ?? '';
  const [before, after = ''] = text.split(/Start collaboration!/i);
  const turns = (source: string): Array<{ who: string; said: string }> =>
    [...source.matchAll(/(?:^|\n)([^:\n]{1,60}):\s*(.+)/g)]
      .map((m) => ({ who: (m[1] as string).trim(), said: (m[2] as string).trim() }))
      .filter((turn) => !/^(participants|final answer|answer|confidence)/i.test(turn.who));
  const brainstorm = turns(before ?? '').map((turn) => ({ persona: turn.who, idea: turn.said }));
  const rounds: Transcript['rounds'] = [];
  let current: Transcript['rounds'][number] | undefined;
  for (const turn of turns(after)) {
    if (/assistant/i.test(turn.who)) {
      if (current && current.critiques.length > 0 && current.revision === '') current.revision = turn.said;
      else rounds.push((current = { draft: turn.said, critiques: [], revision: '' }));
    } else if (current) {
      // A critique after a revision opens the next round, whose draft is that revision.
      if (current.revision !== '') rounds.push((current = { draft: current.revision, critiques: [], revision: '' }));
      current.critiques.push({
        persona: turn.who,
        critique: turn.said,
        agrees: /\bagree|looks right|correct\b/i.test(turn.said) && !/disagree|off\b|wrong/i.test(turn.said),
      });
    }
  }
  for (const round of rounds) if (round.revision === '') round.revision = round.draft;
  return { personas, brainstorm, rounds, final_answer: final };
}

/** Brainstorm ideas and drafts/revisions become claims, critiques critiques; the final answer derives from the last revision. */
function recordGraph(
  context: OpContext,
  by: string,
  query: string,
  transcript: Transcript,
  answer: string | undefined,
): string | undefined {
  const trace = context.trace;
  const answerOf = (text: string): string | undefined => {
    const value = /answer\s*[:=]?\s*(.+)$/i.exec(text)?.[1] ?? /(-?\d[\d,]*(?:\.\d+)?)(?!.*\d)/.exec(text)?.[1];
    return value === undefined ? undefined : normalizeAnswer(value);
  };
  const ideas = transcript.brainstorm.map((entry) => trace.addNode(by, 'claim', `${entry.persona}: ${entry.idea}`));
  for (const idea of ideas) trace.derive(idea, [query]);
  let previous = ideas.length > 0 ? ideas : [query];
  for (const round of transcript.rounds) {
    const draft = trace.addNode(by, 'claim', round.draft, answerOf(round.draft));
    trace.derive(draft, previous);
    const critiques = round.critiques.map((critique) => trace.addNode(by, 'critique', `${critique.persona}: ${critique.critique}`));
    for (const critique of critiques) trace.derive(critique, [draft]);
    const revision = trace.addNode(by, 'claim', round.revision || round.draft, answerOf(round.revision || round.draft));
    trace.derive(revision, [draft, ...critiques]);
    previous = [revision];
  }
  if (answer === undefined) return undefined;
  const node = trace.addNode(by, 'answer', transcript.final_answer, normalizeAnswer(answer));
  trace.derive(node, previous);
  return node;
}

export function degrade(context: OpContext, stepId: string, degraded: string[], what: string): void {
  degraded.push(what);
  context.trace.event(stepId, 'degrade', { what });
}

/**
 * What one call would reserve: prompt (+ the schema, which the fleet counts too, + the model's margin) and
 * the output cap, priced. The fleet reserves exactly this, so planning with it never leads to a refusal.
 */
export function callWorstCase(
  context: OpContext,
  model: string,
  messages: readonly ChatMessage[],
  maxOutputTokens: number,
  schema?: JsonSchema,
): Amount {
  const resolved = context.fleet.model(model);
  const counted = countMessageTokens(messages) + (schema ? countTokens(JSON.stringify(schema)) : 0);
  const inputTokens = counted + resolved.promptMargin(counted);
  const outputTokens = Math.max(0, Math.min(maxOutputTokens, resolved.profile.contextWindow - inputTokens));
  const usd = costOf(
    { inputTokens, outputTokens },
    { inputPerMillion: resolved.profile.priceInputPerMillion, outputPerMillion: resolved.profile.priceOutputPerMillion },
  );
  return { inputTokens, outputTokens, usd, calls: 1 };
}

export function addAmounts(...amounts: Amount[]): Amount {
  return amounts.reduce(
    (sum, amount) => ({
      inputTokens: sum.inputTokens + amount.inputTokens,
      outputTokens: sum.outputTokens + amount.outputTokens,
      usd: addUsd(sum.usd, amount.usd),
      calls: sum.calls + amount.calls,
    }),
    { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 },
  );
}

/** Whether the budget (and every budget above it) can still take `amount` on top of what is committed. */
export function budgetCovers(budget: Budget, amount: Amount): boolean {
  const room = budget.remaining();
  return (
    room.seconds > 0 &&
    amount.inputTokens <= room.inputTokens &&
    amount.outputTokens <= room.outputTokens &&
    amount.inputTokens + amount.outputTokens <= room.totalTokens &&
    amount.usd <= room.usd + 1e-12 &&
    amount.calls <= room.calls
  );
}
