/**
 * The sim's token and latency model: prompt tokens as a real provider would count them, how reasoning effort
 * scales output length, how long a task's answer is planned to be, and the latency a call reports: the numbers
 * budgets, reservations and schedules see, kept apart from what the answers say (response-drafts.ts).
 */
import { countMessageTokens, type Rng } from '../../core/index.ts';
import type { ChatMessage } from '../spec.ts';
import type { SimProfile } from './profiles.ts';

/**
 * Requested reasoning effort (`metadata.tags.reasoningEffort`) as a multiplier on the profile's verbosity:
 * a named level, or a number. More effort = more output tokens; only reasoners turn them into accuracy.
 */
const EFFORT: Record<string, number> = { minimal: 0.25, low: 0.5, medium: 1, high: 2.5, xhigh: 5, max: 5 };

export function effortMultiplier(value: string | undefined): number {
  if (value === undefined) return 1;
  const named = EFFORT[value.trim().toLowerCase()];
  if (named !== undefined) return named;
  const numeric = Number(value);
  return Number.isFinite(numeric) && numeric > 0 ? Math.min(20, Math.max(0.05, numeric)) : 1;
}

/**
 * Prompt tokens as a real provider would count them. The counting itself is memoised per message text in
 * the tokenizer's cache (src/core/tokenizer.ts), which is bounded by memory rather than by entry count: an
 * entry cap (sim-provider.ts used to keep its own 8,192-entry map, keyed by role + content) evicts at 1,000-agent
 * scale, where a persistent history re-sends tens of thousands of distinct messages every round, and building
 * a role + content key per message per call copied the whole history each time (O(R²) characters per agent).
 * Looking the content string itself up is O(1) once V8 has hashed it, so a call costs one lookup per message.
 */
export function promptTokens(messages: readonly ChatMessage[]): number {
  return countMessageTokens(messages);
}

/**
 * Output length a task's answer is planned at before any cut: noisy around the profile's verbosity, longer on
 * hard items (much longer for reasoners). `scale` shortens verifier calls. Draws one normal from `rng`.
 */
export function plannedOutputTokens(profile: SimProfile, scale: number, effort: number, difficulty: number, rng: Rng): number {
  return Math.max(
    8,
    Math.round(profile.verbosity * scale * effort * (1 + profile.verbosityGrowth * Math.max(0, difficulty)) * Math.exp(0.3 * rng.normal())),
  );
}

/** Reported latency is the simulated one, not a clock difference: byte-identical across clocks and schedules. */
export function simulatedLatencyMs(profile: SimProfile, outputTokens: number): number {
  return Math.round(profile.latency.ttftMs + profile.latency.perTokenMs * outputTokens);
}
