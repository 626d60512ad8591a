/**
 * The fleet's public shapes: what a resolver hands the fleet for a model reference, what one call takes and
 * returns, and the events it emits. Kept apart from the call path so resolvers and listeners can name them
 * without reading how a call is reserved, retried and journaled.
 */
import type { ThicketError, Clock, Usage } from '../core/index.ts';
import type { Amount, Budget, SpendTags } from '../budget/index.ts';
import type { CallRecorder } from './call-recorder.ts';
import type { RetryPolicy } from './retry.ts';
import type { ChatMessage, GenerateResponse, ModelProfile, ModelProvider } from './spec.ts';

export interface ResolvedModel {
  provider: ModelProvider;
  profile: ModelProfile;
  /** Tokens added to the counted prompt when reserving, for chat-template/tokenizer differences (0 for the sim, which counts exactly as we do). */
  promptMargin: (countedTokens: number) => number;
  /**
   * The prompt's exact length in the model's own tokens, when it can be known without the model loaded (a
   * byte-level vocabulary): planning (`worstCase`) uses it instead of the o200k count plus margin.
   */
  countPrompt?: (messages: readonly ChatMessage[]) => number;
  /**
   * Why the model cannot be called (its API key variable is unset, …): every call is refused with this error
   * before anything is reserved or sent. Listing or pricing the model still works; runs check it up front.
   */
  notReady?: ThicketError;
}

export interface ModelResolver {
  resolve(reference: string): ResolvedModel;
}

export interface CallOptions {
  budget: Budget;
  /** Spend labels (operator, axis, agent); the model tag is added by the fleet. */
  tags?: SpendTags;
  recorder?: CallRecorder;
  signal?: AbortSignal;
  /** Shrink maxOutputTokens to what the budget can still cover (default true). */
  fitOutputToBudget?: boolean;
  /** Below this many affordable output tokens the call is refused instead of shrunk (default 16). */
  minOutputTokens?: number;
  retry?: Partial<RetryPolicy>;
}

export interface CallResult extends GenerateResponse {
  model: string;
  callKey: string;
  /** Served from the journal: no provider call, no new spend. */
  replayed: boolean;
  costUsd: number;
  attempts: number;
  /** Everything billed for this call across its attempts; for a replayed call, what the original run was billed. */
  billed: Amount;
  /** The provider reported more than this call was reserved for (booked anyway): the excess. */
  overrun?: { inputTokens: number; outputTokens: number; usd: number };
}

export type FleetEvent =
  | { type: 'call-start'; model: string; callKey: string; attempt: number }
  | {
      type: 'call-end';
      model: string;
      callKey: string;
      usage: Usage;
      costUsd: number;
      replayed: boolean;
      simulated: boolean;
      /**
       * Prompt tokens the engine actually evaluated, where the provider reports it (embedded engine: shared
       * prefixes are copied, not re-evaluated).
       */
      evaluatedPromptTokens?: number;
    }
  | { type: 'call-retry'; model: string; callKey: string; attempt: number; delayMs: number; error: string }
  | { type: 'call-error'; model: string; callKey: string; error: ThicketError };

export interface FleetOptions {
  resolver: ModelResolver;
  clock: Clock;
  /** Seeds retry jitter, so simulated runs stay reproducible. */
  seed?: number;
  retry?: Partial<RetryPolicy>;
}
