/**
 * The fleet: the only way core code calls a model. One `call` is the whole reliable, budgeted path:
 *
 *   validate → journal lookup (replay: charge the recorded usage, call nothing)
 *   → per-model concurrency slot → [reserve worst case → provider.doGenerate under timeout → settle] × retries
 *   → structured-output parse/validate → journal record → events
 *
 * Every attempt reserves its own worst case before anything is sent, so retries and parallel branches can
 * never spend beyond any budget on the path to the root.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { Ajv, type ValidateFunction } from 'ajv';
import {
  BudgetExhaustedError,
  CancelledError,
  ContextOverflowError,
  InvalidInputError,
  MalformedOutputError,
  ThicketError,
  TimeoutError,
  countMessageTokens,
  countTokens,
  addUsd,
  costOf,
  canonicalJson,
  PrefixHasher,
  messageFields,
  sameMessage,
  rngFor,
  type Clock,
  type ErrorCode,
  type InputIssue,
  type Usage,
} from '../core/index.ts';
import type { Amount, Budget, Reservation, SpendTags } from '../budget/index.ts';
import type { CallRecorder, RecordedCall, RecordedCallError } from './call-recorder.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from './retry.ts';
import type { ChatMessage, GenerateRequest, GenerateResponse, ModelProfile, ModelProvider } from './spec.ts';
import { MODEL_SPEC_VERSION } from './spec.ts';

/** A provider's own report of the prompt tokens it evaluated (`raw.evaluatedPromptTokens`, the embedded engine). */
function evaluatedPrompt(raw: unknown): { evaluatedPromptTokens?: number } {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['evaluatedPromptTokens'] : undefined;
  return typeof value === 'number' ? { evaluatedPromptTokens: value } : {};
}

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

export class Fleet {
  readonly clock: Clock;
  private readonly resolver: ModelResolver;
  /** The run's seed (retry jitter; operators that sample outside the call path, like the embedded thread, derive theirs from it). */
  readonly seed: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly models = new Map<string, ResolvedModel>();
  private readonly limiters = new Map<string, LimitFunction>();
  private readonly occurrences = new WeakMap<object, Map<string, number>>();
  private readonly listeners: Array<(event: FleetEvent) => void> = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private ajv: Ajv | undefined;

  constructor(options: FleetOptions) {
    this.resolver = options.resolver;
    this.clock = options.clock;
    this.seed = options.seed ?? 0;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  onEvent(listener: (event: FleetEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Resolves (and caches) a model reference. Throws UnknownModelError for references nobody knows. */
  model(reference: string): ResolvedModel {
    let resolved = this.models.get(reference);
    if (!resolved) {
      resolved = this.resolver.resolve(reference);
      if (resolved.provider.specificationVersion !== MODEL_SPEC_VERSION) {
        throw new InvalidInputError('Unsupported provider', [
          {
            path: reference,
            message: `implements spec ${String(resolved.provider.specificationVersion)}, expected ${String(MODEL_SPEC_VERSION)}`,
          },
        ]);
      }
      this.models.set(reference, resolved);
      this.limiters.set(reference, pLimit(resolved.profile.maxConcurrency));
    }
    return resolved;
  }

  /**
   * The reservation one call would make: prompt tokens (with the model's margin), output cap and dollars.
   * Operators use it to plan (how many samples fit?) and the workflow estimator to price specs.
   */
  worstCase(
    reference: string,
    messages: GenerateRequest['messages'],
    maxOutputTokens: number,
  ): { inputTokens: number; outputTokens: number; totalTokens: number; usd: number } {
    const resolved = this.model(reference);
    const counted = resolved.countPrompt ? undefined : countMessageTokens(messages);
    const inputTokens = counted === undefined ? resolved.countPrompt!(messages) : counted + resolved.promptMargin(counted);
    const outputTokens = Math.max(0, Math.min(maxOutputTokens, resolved.profile.contextWindow - inputTokens));
    const usd = costOf(
      { inputTokens, outputTokens },
      { inputPerMillion: resolved.profile.priceInputPerMillion, outputPerMillion: resolved.profile.priceOutputPerMillion },
    );
    return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, usd };
  }

  async call(reference: string, request: GenerateRequest, options: CallOptions): Promise<CallResult> {
    validateRequest(request);
    const resolved = this.model(reference);
    const { provider, profile } = resolved;
    const requestHash = callIdentityHash(reference, request, profile.simulated);
    const callKey = `${requestHash}#${this.nextOccurrence(options.recorder ?? options.budget.ledger, requestHash)}`;
    const tags: SpendTags = { ...options.tags, model: reference };
    const pricing = { inputPerMillion: profile.priceInputPerMillion, outputPerMillion: profile.priceOutputPerMillion };

    const recorded = options.recorder?.lookup(callKey);
    if (recorded) {
      const usage = recorded.response.usage;
      // Charge what the original invocation was billed, failed attempts included, so a resumed run's total
      // stays the run's real total (and within its budget).
      const billed = recorded.billed ?? {
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        usd: recorded.costUsd,
        calls: recorded.attempts,
      };
      options.budget.charge(billed, tags);
      // Settled again on the shared ledger with what was billed: a no-op when the original process settled it
      // (idempotent per call id), the only booking when it died after journaling and before settling.
      const shared = options.budget.ledger.shared;
      if (shared) await shared.settle(callKey, undefined, billed);
      if (recorded.error) {
        // A call that failed after spending is replayed as that same failure (never as a success).
        const error = replayedError(recorded.error, recorded.response.text);
        this.emit({ type: 'call-error', model: reference, callKey, error });
        throw error;
      }
      this.emit({
        type: 'call-end',
        model: reference,
        callKey,
        usage,
        costUsd: recorded.costUsd,
        replayed: true,
        simulated: recorded.response.simulated,
      });
      return { ...recorded.response, model: reference, callKey, replayed: true, costUsd: recorded.costUsd, attempts: 0, billed };
    }

    // Not callable (e.g. no API key): refused before any reservation or request; replays above need no key.
    if (resolved.notReady) {
      this.emit({ type: 'call-error', model: reference, callKey, error: resolved.notReady });
      throw resolved.notReady;
    }

    // A provider that can count its prompt exactly is reserved exactly; others get the o200k count plus margin.
    const counted =
      countMessageTokens(request.messages) + (request.responseSchema ? countTokens(JSON.stringify(request.responseSchema.schema)) : 0);
    const promptTokens = provider.countPromptTokens ? await provider.countPromptTokens(request) : counted + resolved.promptMargin(counted);
    if (promptTokens >= profile.contextWindow) throw new ContextOverflowError(reference, promptTokens, profile.contextWindow);
    const outputCap = Math.min(request.maxOutputTokens, profile.contextWindow - promptTokens);
    const policy = { ...this.retryPolicy, ...options.retry };
    const limiter = this.limiters.get(reference) as LimitFunction;
    // Intents (a durable note of each attempt before it is sent) matter only where a provider bills: a crash
    // between send and record must not let a resumed run buy the call again unseen. The simulated fleet bills
    // nobody, and skipping it keeps its journal writes group-committed.
    const recorder = options.recorder;
    const intents = recorder?.intend !== undefined && !profile.simulated ? recorder : undefined;
    return limiter(async () => {
      let sent = false;
      let recorded = false;
      try {
        return await this.attempts(reference, request, options, resolved, {
          requestHash,
          callKey,
          tags,
          pricing,
          promptTokens,
          outputCap,
          policy,
          beforeSend: (attempt, reservation) => {
            if (!intents) return;
            const amount = reservation.amount;
            const purpose = (tags as Record<string, string | undefined>)['purpose'] ?? tags.operator ?? null;
            intents.intend!({
              callKey,
              attempt,
              model: reference,
              purpose,
              budgetPath: options.budget.path,
              inputTokens: amount.inputTokens,
              outputTokens: amount.outputTokens,
              usd: amount.usd,
            });
            sent = true;
          },
          onRecord: () => (recorded = true),
        });
      } catch (error) {
        // Ended without a result to record: the intents are resolved as unbilled — except when the user
        // cancelled mid-call, where the provider may still bill what was sent (counted on resume).
        if (intents && sent && !recorded && !options.signal?.aborted) intents.abandon?.(callKey);
        throw error;
      }
    });
  }

  /** The attempts of one call (inside its concurrency slot): reserve → intent → send → settle, retried. */
  private async attempts(
    reference: string,
    request: GenerateRequest,
    options: CallOptions,
    resolved: ResolvedModel,
    call: {
      requestHash: string;
      callKey: string;
      tags: SpendTags;
      pricing: { inputPerMillion: number; outputPerMillion: number };
      promptTokens: number;
      outputCap: number;
      policy: RetryPolicy;
      beforeSend: (attempt: number, reservation: Reservation) => void;
      onRecord: () => void;
    },
  ): Promise<CallResult> {
    const { provider, profile } = resolved;
    const { requestHash, callKey, tags, pricing, promptTokens, outputCap, policy } = call;
    const shared = options.budget.ledger.shared;
    {
      // Everything billed across attempts (failed ones included), journaled so a replay charges the same.
      const billed = { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 };
      let overrun: { inputTokens: number; outputTokens: number; usd: number } | undefined;
      const record = (recordedCall: RecordedCall): void => {
        options.recorder?.record(recordedCall);
        call.onRecord();
      };
      const callRecord = (
        response: GenerateResponse,
        costUsd: number,
        attempt: number,
        maxOutputTokens: number,
        error?: RecordedCallError,
      ): RecordedCall => ({
        callKey,
        requestHash,
        model: reference,
        provider: provider.providerId,
        request: { ...request, abortSignal: undefined, maxOutputTokens },
        response: stripForJournal(response),
        costUsd,
        attempts: attempt + 1,
        billed: { ...billed },
        budgetPath: options.budget.path,
        tags: tags as Record<string, string>,
        ...(error ? { error } : {}),
        ...(overrun ? { overrun: { ...overrun } } : {}),
      });
      // The last attempt the provider answered (and billed) that then failed, until the call is journaled: a
      // retry refused by the budget, a cancel or a deadline ends the call there, and that spend must still be
      // journaled (as a failed call with the answered attempt's error), or the journal would miss a paid call.
      let unjournaled:
        { response: GenerateResponse; costUsd: number; attempt: number; maxOutputTokens: number; error: ThicketError } | undefined;
      try {
        for (let attempt = 0; ; attempt++) {
          throwIfAborted(options.signal);
          // Fitted per attempt, after the concurrency slot is granted: other branches may have spent meanwhile.
          const maxOutputTokens = this.fitOutput(outputCap, promptTokens, pricing, options, tags);
          const worstCase = { inputTokens: promptTokens, outputTokens: maxOutputTokens };
          const reservation = options.budget.reserve({ ...worstCase, usd: costOf(worstCase, pricing), calls: 1 }, tags);
          // The shared budgets (other processes spend from them too) are asked only once the local ones agreed.
          const holdId = shared?.holdId(callKey, attempt);
          if (shared && holdId !== undefined) {
            try {
              await shared.reserve(holdId, reservation.amount);
            } catch (error) {
              reservation.release();
              throw error;
            }
          }
          try {
            call.beforeSend(attempt, reservation);
          } catch (error) {
            // No durable intent, no request: nothing was sent, so nothing is spent.
            reservation.release();
            if (shared && holdId !== undefined) await shared.release(holdId);
            throw error;
          }
          this.emit({ type: 'call-start', model: reference, callKey, attempt });
          // This attempt's response and cost once the provider answered: a failure after that point (truncated or
          // malformed structured output) has still spent, and is journaled as a failed call if it ends the call.
          let answered: { response: GenerateResponse; costUsd: number } | undefined;
          let succeeded: CallResult | undefined;
          try {
            const response = await this.attempt(
              provider,
              { ...request, maxOutputTokens, metadata: { ...request.metadata, attempt, callKey } },
              options,
              profile.timeoutMs,
            );
            const costUsd = this.settle(reservation, response.usage, pricing, billed);
            if (reservation.overrun) overrun = addOverrun(overrun, reservation.overrun);
            answered = { response, costUsd };
            if (request.responseSchema) response.object = this.parseStructured(request.responseSchema, response.text);
            const result: CallResult = {
              ...response,
              model: reference,
              callKey,
              replayed: false,
              costUsd,
              attempts: attempt + 1,
              billed: { ...billed },
              ...(overrun ? { overrun: { ...overrun } } : {}),
            };
            unjournaled = undefined;
            record(callRecord(response, costUsd, attempt, maxOutputTokens));
            this.emit({
              type: 'call-end',
              model: reference,
              callKey,
              usage: response.usage,
              costUsd,
              replayed: false,
              simulated: response.simulated,
              ...evaluatedPrompt(response.raw),
            });
            succeeded = result;
          } catch (caught) {
            const error = this.closeFailedAttempt(reservation, caught, pricing, billed);
            if (answered) unjournaled = { ...answered, attempt, maxOutputTokens, error };
            // Before any retry or throw: the attempt's spend is booked on the shared budgets and its hold dropped.
            if (shared) await shared.settle(callKey, holdId, billed);
            const delay = retryDelayMs(error, attempt + 1, policy, rngFor(this.seed, callKey, attempt));
            if (delay === undefined) {
              // The provider answered and billed, but the output failed (truncated, malformed): journal the spend as
              // a failed call, so the journal's totals agree with the ledger and a resume replays the failure.
              if (answered) {
                unjournaled = undefined;
                record(callRecord(answered.response, answered.costUsd, attempt, maxOutputTokens, recordedError(error)));
              }
              this.emit({ type: 'call-error', model: reference, callKey, error });
              throw error;
            }
            if (delay >= options.budget.remainingMs()) {
              throw new BudgetExhaustedError({
                budget: options.budget.path,
                dimension: 'seconds',
                limit: options.budget.limits.seconds ?? 0,
                committed: (this.clock.now() - options.budget.ledger.startedAt) / 1000,
                requested: delay / 1000,
              });
            }
            this.emit({ type: 'call-retry', model: reference, callKey, attempt: attempt + 1, delayMs: delay, error: error.message });
            await this.clock.sleep(delay, options.signal);
          }
          if (succeeded) {
            // Outside the try above: a shared ledger that fails here must not make the (journaled) call retry. The
            // error ends the run; its hold lapses within the lease and a resume settles the call by replaying it.
            if (shared) await shared.settle(callKey, holdId, succeeded.billed);
            return succeeded;
          }
        }
      } catch (error) {
        if (unjournaled) {
          const { response, costUsd, attempt, maxOutputTokens } = unjournaled;
          record(callRecord(response, costUsd, attempt, maxOutputTokens, recordedError(unjournaled.error)));
        }
        throw error;
      }
    }
  }

  private fitOutput(
    outputCap: number,
    promptTokens: number,
    pricing: { inputPerMillion: number; outputPerMillion: number },
    options: CallOptions,
    tags: SpendTags,
  ): number {
    if (!(options.fitOutputToBudget ?? true)) return outputCap;
    const affordable = options.budget.maxAffordableOutputTokens(promptTokens, pricing);
    if (affordable < Math.min(options.minOutputTokens ?? 16, outputCap)) {
      // Reserving the smallest useful call throws the precise BudgetExhaustedError naming the limit that refused.
      const smallest = { inputTokens: promptTokens, outputTokens: Math.min(options.minOutputTokens ?? 16, outputCap) };
      options.budget.reserve({ ...smallest, usd: costOf(smallest, pricing), calls: 1 }, tags).release();
    }
    return Math.min(outputCap, affordable);
  }

  private async attempt(
    provider: ModelProvider,
    request: GenerateRequest,
    options: CallOptions,
    timeoutMs: number,
  ): Promise<GenerateResponse> {
    const remaining = options.budget.remainingMs();
    const limitMs = Math.min(timeoutMs, remaining);
    const deadlineBound = remaining < timeoutMs;
    const controller = new AbortController();
    const onOuterAbort = (): void =>
      controller.abort(options.signal?.reason instanceof CancelledError ? options.signal.reason : new CancelledError());
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const cancelTimer = this.clock.setTimer(limitMs, () =>
      controller.abort(
        new TimeoutError(
          deadlineBound
            ? `The run's time budget ran out during a call to ${provider.modelId}.`
            : `Call to ${provider.modelId} timed out after ${limitMs} ms.`,
        ),
      ),
    );
    try {
      return await provider.doGenerate({ ...request, abortSignal: controller.signal });
    } catch (error) {
      if (deadlineBound && error instanceof TimeoutError) {
        throw new BudgetExhaustedError({
          budget: options.budget.path,
          dimension: 'seconds',
          limit: options.budget.limits.seconds ?? 0,
          committed: (this.clock.now() - options.budget.ledger.startedAt) / 1000,
          requested: 0,
        });
      }
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      cancelTimer();
    }
  }

  private settle(
    reservation: Reservation,
    usage: Usage,
    pricing: { inputPerMillion: number; outputPerMillion: number },
    billed: Amount,
  ): number {
    const settled = reservation.settle({
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      usd: costOf(usage, pricing),
      calls: 1,
    });
    addAmount(billed, settled);
    return settled.usd;
  }

  /** A failed attempt is billed only when the provider billed it (an error that carries usage); otherwise it costs one call. */
  private closeFailedAttempt(
    reservation: Reservation,
    caught: unknown,
    pricing: { inputPerMillion: number; outputPerMillion: number },
    billed: Amount,
  ): ThicketError {
    const error = ThicketError.isInstance(caught)
      ? caught
      : new ThicketError('INTERNAL', caught instanceof Error ? caught.message : String(caught), 'other', { cause: caught });
    const usage = (error as { usage?: Usage }).usage;
    if (reservation.isOpen)
      addAmount(
        billed,
        reservation.settle(
          usage ? { ...usage, usd: costOf(usage, pricing), calls: 1 } : { inputTokens: 0, outputTokens: 0, usd: 0, calls: 1 },
        ),
      );
    return error;
  }

  private parseStructured(schema: { name: string; schema: Record<string, unknown> }, text: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new MalformedOutputError(`Structured output for "${schema.name}" is not valid JSON: ${(error as Error).message}`, text);
    }
    const key = JSON.stringify(schema.schema);
    let validate = this.validators.get(key);
    if (!validate) {
      this.ajv ??= new Ajv({ allErrors: true, strict: false });
      validate = this.ajv.compile(schema.schema);
      this.validators.set(key, validate);
    }
    if (!validate(value)) {
      const problems = (validate.errors ?? []).map((issue) => `${issue.instancePath || '/'} ${issue.message ?? ''}`).join('; ');
      throw new MalformedOutputError(`Structured output for "${schema.name}" does not match its schema: ${problems}`, text);
    }
    return value;
  }

  private nextOccurrence(scope: object, requestHash: string): number {
    let counts = this.occurrences.get(scope);
    if (!counts) this.occurrences.set(scope, (counts = new Map<string, number>()));
    const next = counts.get(requestHash) ?? 0;
    counts.set(requestHash, next + 1);
    return next;
  }

  private emit(event: FleetEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/**
 * The call's identity hash: sha256 of the JSON of the positional array
 *   [reference, [[role, content], …], maxOutputTokens, temperature, topP, stop, canonical schema, seed,
 *    stepId, taskId, purpose, candidate]
 * (positional, so it is canonical without sorting keys). `purpose` and `candidate` are the simulated fleet's
 * request tags: they change what a correct SIMULATED response is (a verification of candidate 2 is not an
 * answer), but a real provider never reads tags, so for a model whose profile is not simulated both are
 * hashed as null — the same request gets the same identity whatever an operator labelled it (issue 15). Journals resume on these keys, so the bytes hashed
 * must never change (src/models/call-key.test.ts pins known keys). The messages part is hashed incrementally
 * per history prefix (`PrefixHasher`): an agent's history grows by a message or two per round and used to be
 * re-serialised and re-hashed whole on every call, O(R²) bytes per agent.
 */
const identityMessages = new PrefixHasher<ChatMessage>(
  (message) => JSON.stringify([message.role, message.content]),
  messageFields,
  ',',
  sameMessage,
);

function callIdentityHash(reference: string, request: GenerateRequest, simulated: boolean): string {
  const state = identityMessages.stateAfter(`[${JSON.stringify(reference)},[`, request.messages);
  const rest = [
    request.maxOutputTokens,
    request.temperature ?? null,
    request.topP ?? null,
    request.stop ?? null,
    request.responseSchema ? canonicalJson(request.responseSchema) : null,
    request.seed ?? null,
    request.metadata?.stepId ?? null,
    request.metadata?.taskId ?? null,
    simulated ? (request.metadata?.tags?.['purpose'] ?? null) : null,
    simulated ? (request.metadata?.tags?.['candidate'] ?? null) : null,
  ];
  // JSON.stringify(rest) is `[a,b,…]`; dropping its `[` gives exactly the tail of the whole array's JSON.
  return state.update(`],${JSON.stringify(rest).slice(1)}`).digest('hex');
}

function recordedError(error: ThicketError): RecordedCallError {
  return { name: error.name, code: error.code, category: error.category, message: error.message, isRetryable: error.isRetryable };
}

/** The error a recorded failed call ended with, thrown again on replay (same code, category, message and flag). */
function replayedError(recorded: RecordedCallError, text: string): ThicketError {
  const options = { isRetryable: recorded.isRetryable ?? false };
  const error =
    recorded.code === 'MALFORMED_OUTPUT'
      ? new MalformedOutputError(recorded.message, text, options)
      : new ThicketError(recorded.code as ErrorCode, recorded.message, recorded.category, options);
  if (error.name !== recorded.name) error.name = recorded.name;
  return error;
}

function addAmount(total: Amount, amount: Amount): void {
  total.inputTokens += amount.inputTokens;
  total.outputTokens += amount.outputTokens;
  total.usd = addUsd(total.usd, amount.usd);
  total.calls += amount.calls;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof CancelledError ? signal.reason : new CancelledError();
}

function stripForJournal(response: GenerateResponse): GenerateResponse {
  const { raw, ...rest } = response;
  return raw === undefined ? rest : { ...rest, raw };
}

export function validateRequest(request: GenerateRequest): void {
  const issues: InputIssue[] = [];
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    issues.push({ path: 'messages', message: 'must be a non-empty list' });
  else
    request.messages.forEach((message, index) => {
      if (!['system', 'user', 'assistant'].includes(message.role))
        issues.push({ path: `messages[${index}].role`, message: `must be system, user or assistant, got ${String(message.role)}` });
      if (typeof message.content !== 'string') issues.push({ path: `messages[${index}].content`, message: 'must be a string' });
    });
  if (!Number.isInteger(request.maxOutputTokens) || request.maxOutputTokens <= 0)
    issues.push({ path: 'maxOutputTokens', message: `must be a positive integer, got ${String(request.maxOutputTokens)}` });
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2))
    issues.push({ path: 'temperature', message: 'must be in [0, 2]' });
  if (request.topP !== undefined && !(request.topP > 0 && request.topP <= 1)) issues.push({ path: 'topP', message: 'must be in (0, 1]' });
  if (issues.length > 0) throw new InvalidInputError('Invalid model request', issues);
}

/** Sums the overruns of a call's attempts (the excess over each attempt's reservation). */
function addOverrun(
  total: { inputTokens: number; outputTokens: number; usd: number } | undefined,
  over: Amount,
): { inputTokens: number; outputTokens: number; usd: number } {
  return {
    inputTokens: (total?.inputTokens ?? 0) + over.inputTokens,
    outputTokens: (total?.outputTokens ?? 0) + over.outputTokens,
    usd: (total?.usd ?? 0) + over.usd,
  };
}
