/**
 * Simulated Solo Performance Prompting (`purpose: 'solo'`): one call in which the model lists participants
 * (the assistant plus personas), lets each persona brainstorm, drafts, collects critiques and revises, then
 * gives a final answer (Wang et al., arXiv 2307.05300; see ops/solo.ts).
 *
 * What the sim reproduces from the paper: a modest accuracy gain over a single answer for larger models
 * (a logit bonus by tier), none for small ones; and small models that, without a schema forcing the
 * structure, often list the personas and then stop (no final answer). With a response schema the transcript
 * is filled in and always complete (constrained decoding). Accuracy uses the tokens of one answer, so the
 * longer transcript itself buys nothing — only the tier bonus differs. Deterministic by the call's Rng.
 */
import type { Rng } from '../../core/index.ts';
import { formatParticipantsLine, readParticipantsLine } from '../../formats/index.ts';
import type { ChatMessage, FinishReason, JsonSchema } from '../spec.ts';
import { contextBonus, drawAnswer, instanceNoise, probabilityCorrect, scanContext, selfConfidence } from './accuracy.ts';
import { PLACEHOLDER_PREFIX, conformToSchema } from './output.ts';
import type { SimProfile, SimTier } from './profiles.ts';
import type { ResolvedTask } from './tasks.ts';

/** Logit bonus of an SPP transcript over a single answer, by tier (GPT-4-class gains, none for small models). */
export const SOLO_LOGIT_BONUS: Readonly<Record<SimTier, number>> = Object.freeze({ small: 0, medium: 0.1, large: 0.25 });
/** Probability that a small model, unconstrained, stops after listing the participants. */
export const SOLO_SMALL_EARLY_STOP = 0.6;
const DEFAULT_PERSONAS = ['AI Assistant (you)', 'Domain Expert', 'Critical Reviewer'];

export interface SoloInput {
  profile: SimProfile;
  seed: number;
  rng: Rng;
  task: ResolvedTask | undefined;
  messages: readonly ChatMessage[];
  schema: JsonSchema | undefined;
  effort: number;
  maxOutputTokens: number;
  closingTokens: number;
}

export interface SoloOutput {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

export function soloTranscript(input: SoloInput): SoloOutput {
  const { profile, rng, task } = input;
  const prompt = [...input.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const personas = readParticipantsLine(prompt) ?? DEFAULT_PERSONAS;
  const others = personas.filter((name) => !/assistant/i.test(name));
  const critics = others.length > 0 ? others : ['Critical Reviewer'];
  const difficulty = task?.difficulty ?? 0;
  const multiplier = 1 + 0.4 * personas.length;
  const single = profile.verbosity * input.effort * (1 + profile.verbosityGrowth * Math.max(0, difficulty));
  const planned = Math.max(16, Math.round(single * multiplier * Math.exp(0.3 * rng.normal()))) + input.closingTokens;
  const base = { simulated: true, kind: 'solo', taskKey: task?.key, personas: personas.length, structured: input.schema !== undefined };

  if (planned > input.maxOutputTokens) {
    const partial = `${formatParticipantsLine(personas, false)}\n\n${critics[0]}: [simulated] Let me think about`;
    return {
      text: input.schema ? JSON.stringify({ personas: personas.map((name) => ({ name })) }).slice(0, 40) : partial,
      outputTokens: input.maxOutputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...base, truncated: 'maxOutputTokens' },
    };
  }
  // Small models without a schema: participants listed, then nothing (the paper's Llama2-13B failure mode).
  const stopRoll = rng.next();
  if (!input.schema && profile.tier === 'small' && stopRoll < SOLO_SMALL_EARLY_STOP) {
    const text = `${formatParticipantsLine(personas, false)}\n\n[simulated] (The transcript ends after listing the participants.)`;
    return {
      text,
      outputTokens: Math.max(16, Math.round(planned * 0.15)),
      finishReason: 'stop',
      confidence: 0,
      raw: { ...base, earlyStop: true },
    };
  }

  let draft: string;
  let final: string;
  let confidence = 0;
  let raw: Record<string, unknown>;
  if (task) {
    const noise = instanceNoise(input.seed, task.key);
    const evidence = scanContext(input.messages, task);
    const common = { profile, difficulty, instanceNoise: noise, reasoningTokens: single, contextBonus: contextBonus(evidence) };
    const pDraft = probabilityCorrect(common);
    const pFinal = probabilityCorrect({ ...common, contextBonus: common.contextBonus + SOLO_LOGIT_BONUS[profile.tier] });
    const first = drawAnswer(rng, task, pDraft, evidence);
    const revised = drawAnswer(rng, task, pFinal, evidence);
    draft = first.answer;
    final = revised.answer;
    confidence = selfConfidence(rng, profile, pFinal, revised.correct);
    raw = {
      ...base,
      answer: final,
      correct: revised.correct,
      draftCorrect: first.correct,
      pCorrect: round(pFinal),
      pSingle: round(pDraft),
    };
  } else {
    draft = final = PLACEHOLDER_PREFIX;
    raw = { ...base, placeholder: true };
  }

  const changed = draft !== final;
  const brainstorm = critics.map((persona) => ({
    persona,
    idea: `[simulated] ${persona} suggests what to check (not real model output).`,
  }));
  const agreeAll = critics.map((persona) => ({ persona, critique: '[simulated] Looks right to me.', agrees: true }));
  const maxRounds = maxItems(input.schema, 'rounds') ?? 3;
  const rounds = changed
    ? [
        {
          draft: `[simulated] Draft answer: ${draft}`,
          critiques: critics.map((persona, index) => ({
            persona,
            critique: index === 0 ? '[simulated] I think the draft is off; please recheck.' : '[simulated] Worth a second look.',
            agrees: false,
          })),
          revision: `[simulated] Revised answer: ${final}`,
        },
        ...(maxRounds >= 2
          ? [{ draft: `[simulated] Draft answer: ${final}`, critiques: agreeAll, revision: `[simulated] Revised answer: ${final}` }]
          : []),
      ]
    : [{ draft: `[simulated] Draft answer: ${final}`, critiques: agreeAll, revision: `[simulated] Revised answer: ${final}` }];
  const participants = personas.map((name) => ({
    name,
    role: /assistant/i.test(name) ? 'leads the collaboration and writes the drafts' : `[simulated] contributes as ${name}`,
  }));

  let text: string;
  if (input.schema) {
    text = JSON.stringify(conformToSchema(input.schema, { personas: participants, brainstorm, rounds, final_answer: final, confidence }));
  } else {
    const lines = [
      formatParticipantsLine(personas, false),
      '',
      ...brainstorm.map((entry) => `${entry.persona}: ${entry.idea}`),
      '',
      'Start collaboration!',
      '',
    ];
    for (const entry of rounds) {
      lines.push(
        `AI Assistant (you): ${entry.draft}`,
        ...entry.critiques.map((critique) => `${critique.persona}: ${critique.critique}`),
        `AI Assistant (you): ${entry.revision}`,
      );
    }
    lines.push('', `Final answer: ${final}`, `Confidence: ${confidence.toFixed(2)}`);
    text = lines.join('\n');
  }
  return { text, outputTokens: planned, finishReason: 'stop', confidence, raw: { ...raw, rounds: rounds.length } };
}

function maxItems(schema: JsonSchema | undefined, key: string): number | undefined {
  const property = (schema?.['properties'] as Record<string, Record<string, unknown>> | undefined)?.[key];
  const value = property?.['maxItems'];
  return typeof value === 'number' ? value : undefined;
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
