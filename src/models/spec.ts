/**
 * The model provider interface, version 1 — Thicket's most important seam.
 *
 * Core code never calls a provider directly: the fleet does (budget reservation, journal replay, retries,
 * concurrency limits, timeouts), and calls `doGenerate`. A provider only translates one request into one
 * response or one typed error. It does not retry, does not count budget and does not cache.
 *
 * Versioned like the AI SDK's provider spec: a provider declares `specificationVersion: 'thicket.v1'`, and
 * the fleet refuses providers of another version instead of misreading them.
 */
import type { Usage } from '../core/index.ts';

export const MODEL_SPEC_VERSION = 'thicket.v1' as const;

export interface ChatMessage {
  /** `system` sets behaviour/persona, `user` is the task, `assistant` is an earlier model turn. */
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** JSON Schema (draft 2020-12 subset) for structured output. */
export type JsonSchema = Record<string, unknown>;

export interface CallMetadata {
  /** Journal run this call belongs to. */
  runId?: string;
  /** Caller's step identity, unique within a run (e.g. `vote/sample-3`). Part of the call's identity. */
  stepId?: string;
  /** Id of a verifiable task (lab suites register tasks with the simulated fleet's oracle under this id). */
  taskId?: string;
  /**
   * Labels; providers other than the simulated fleet ignore them. `operator`, `axis`, `agent` feed spend
   * reports. `purpose` (`answer` | `verify` | `thread-step` | `agentsnet` | ...), `candidate` and
   * `reasoningEffort` tell the simulated fleet what kind of call this is and how long to think. Not part of
   * the call's identity, except `purpose` and `candidate` for a simulated model (profile `simulated`), where
   * they change what a correct response is; for a real provider they are not (the fleet hashes them as
   * absent), so an operator's labels never split or shift a real call's journal key.
   */
  tags?: Record<string, string>;
  /** Set by the fleet: 0 for the first attempt, n for the n-th retry (lets seeded fault injection vary per attempt). */
  attempt?: number;
  /**
   * Set by the fleet: the call's identity within the run (request hash + occurrence). A provider with its own
   * sampler (the embedded engine) seeds it from the run seed and this when the request gives no seed, so a
   * run is reproducible from its seed while repeated samples of one prompt still differ.
   */
  callKey?: string;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /** Hard cap on output tokens. Always set: the budget reserves exactly this much output. */
  maxOutputTokens: number;
  /** Sampling temperature; omitted = provider default. */
  temperature?: number;
  /** Nucleus sampling mass; omitted = provider default. */
  topP?: number;
  /** Sequences that end generation (not included in the text). */
  stop?: string[];
  /** When given, the provider must return JSON matching it; the fleet parses it into `object`. */
  responseSchema?: { name: string; schema: JsonSchema };
  /** Provider-side sampling seed, where the provider supports one (the sim always does). */
  seed?: number;
  /** Aborts the in-flight call. Providers must reject with CancelledError / TimeoutError promptly. */
  abortSignal?: AbortSignal;
  metadata?: CallMetadata;
}

export type FinishReason = 'stop' | 'length' | 'content-filter' | 'error' | 'other';

export interface GenerateResponse {
  /** The generated text (for structured output: the raw JSON text). */
  text: string;
  /** Parsed JSON when `responseSchema` was given (set by the fleet after validation, not by providers). */
  object?: unknown;
  usage: Usage;
  /** True when usage was counted by Thicket's tokenizer because the provider did not report it. */
  usageEstimated: boolean;
  finishReason: FinishReason;
  /** Milliseconds from send to last byte, on the provider's clock (virtual for the sim). */
  latencyMs: number;
  /** True for anything produced by the simulated fleet. Never false for a `sim:` model. */
  simulated: boolean;
  /** The provider's own response body, for debugging and the journal. */
  raw?: unknown;
  /** Sim only: the simulated answer's self-reported confidence in [0, 1]. Real providers may set it from logprobs. */
  confidence?: number;
}

export interface ModelProvider {
  readonly specificationVersion: typeof MODEL_SPEC_VERSION;
  /** e.g. `sim`, `openai-compatible`. */
  readonly providerId: string;
  /** The model's name as the provider knows it. */
  readonly modelId: string;
  doGenerate(request: GenerateRequest): Promise<GenerateResponse>;
  /**
   * Optional: the exact prompt tokens `request` will be billed for, when the provider can count them before
   * sending (a local model's own tokenizer and chat template). The fleet then reserves that count instead of
   * its o200k estimate plus the model's margin — which a byte-level or unusual tokenizer can exceed.
   */
  countPromptTokens?(request: GenerateRequest): Promise<number>;
  /**
   * Optional capability: a thread whose KV cache the provider prunes for real (the embedded engine decodes the
   * whole TIM tree in one sequence and erases finished subtask lists). Operators ask for it through the fleet
   * (`fleet.model(reference).provider.kvThread`) and fall back on the chat-API thread without it. It bypasses
   * the fleet's per-call path, so the caller reserves `worstCase` (or less) from its budget and passes what
   * it reserved as `limits`.
   */
  readonly kvThread?: KvThreadCapability;
}

/** A provider's KV-pruned thread (see `ModelProvider.kvThread`). */
export interface KvThreadCapability {
  /** Tokens the thread's sequence holds: the engine's real context size. */
  contextSize(): Promise<number>;
  /** The most a thread of `maxTasks` tasks can meter (input counts prompt, injected syntax and KV cells shifted by erasures). */
  worstCase(maxTasks: number): Promise<{ inputTokens: number; outputTokens: number }>;
  /** Runs one thread. Rejects with BudgetExhaustedError, having metered at most `limits`, when a cap stops it part-way. */
  run(request: KvThreadRequest): Promise<KvThreadResponse>;
}

export interface KvThreadRequest {
  question: string;
  /** Tasks in the whole tree. */
  maxTasks: number;
  /** Task levels; finished subtask lists kept before the oldest is erased; sampling temperature (provider defaults). */
  maxDepth?: number;
  bufferSize?: number;
  temperature?: number;
  seed: number;
  /** Hard caps on the metered tokens: the thread never starts an evaluation that could cross one. */
  limits: { inputTokens: number; outputTokens: number };
  abortSignal?: AbortSignal;
  /** Called once when the run ends (finished, stopped by a cap, failed or aborted) with what was metered. */
  onUsage?: (usage: Usage) => void;
  /** Called as each task concludes (depth 1 = top level): what a thread stopped part-way can still answer from. */
  onConclusion?: (conclusion: string, depth: number) => void;
}

export interface KvThreadResponse {
  answer: string;
  /** The whole document as decoded. */
  text: string;
  usage: Usage;
  /** Engine details for the trace (metrics). */
  details: Record<string, unknown>;
}

/** What the fleet knows about a model beyond how to call it. */
export interface ModelProfile {
  /** The reference users type (`sim:small`, an alias). */
  reference: string;
  tier: 'small' | 'medium' | 'large';
  /** Dollars per million tokens. */
  priceInputPerMillion: number;
  priceOutputPerMillion: number;
  contextWindow: number;
  /** Whether extra reasoning tokens are productive (a trained reasoning model). */
  reasoning: boolean;
  maxConcurrency: number;
  /** Per-call timeout in milliseconds. */
  timeoutMs: number;
  simulated: boolean;
  /**
   * A tiny model Thicket trained itself on its synthetic tasks (`tiny:`, training/): real inference, but a
   * tiny model — results on it are labelled so.
   */
  tinyTrained?: boolean;
  /** Opt-in (config `structuredOutput`): the endpoint honours `responseSchema`, so single answers are asked for as JSON. */
  structuredOutput?: boolean;
  /**
   * True when no price is known for this real model (none in the config, none in the price table): its
   * prices are 0, so a dollar limit cannot be enforced on it (runs with one refuse it: UNPRICED_MODEL).
   */
  unpriced?: boolean;
}
