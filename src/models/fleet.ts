/**
 * The fleet: the only way core code calls a model. One `call` is the whole reliable, budgeted path:
 *
 *   validate → journal lookup (replay: charge the recorded usage, call nothing)
 *   → per-model concurrency slot → [reserve worst case → provider.doGenerate under timeout → settle] × retries
 *   → structured-output parse/validate → journal record → events
 *
 * Every attempt reserves its own worst case before anything is sent, so retries and parallel branches can
 * never spend beyond any budget on the path to the root.
 *
 * This file sequences the call; its parts live beside it: the public types (fleet-types.ts), request validation
 * and call identity (call-request.ts), reservation arithmetic (call-accounting.ts), one attempt under its
 * deadline (call-attempt.ts), journal records (call-journal.ts) and structured output (structured-output.ts).
 */
import pLimit, { type LimitFunction } from 'p-limit';
import {
  ContextOverflowError,
  InvalidInputError,
  countMessageTokens,
  countTokens,
  costOf,
  rngFor,
  type Clock,
  type ThicketError,
} from '../core/index.ts';
import type { Reservation, SpendTags } from '../budget/index.ts';
import type { RecordedCall, RecordedCallError } from './call-recorder.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from './retry.ts';
import type { GenerateRequest, GenerateResponse } from './spec.ts';
import { MODEL_SPEC_VERSION } from './spec.ts';
import type { CallOptions, CallResult, FleetEvent, FleetOptions, ModelResolver, ResolvedModel } from './fleet-types.ts';
import { callIdentityHash, validateRequest } from './call-request.ts';
import { addOverrun, closeFailedAttempt, fitOutputToBudget, settleAnswered, type Overrun, type Pricing } from './call-accounting.ts';
import { secondsExhausted, sendAttempt, throwIfAborted } from './call-attempt.ts';
import { recordedError, replayedError, stripForJournal } from './call-journal.ts';
import { StructuredOutputValidator } from './structured-output.ts';

export type { CallOptions, CallResult, FleetEvent, FleetOptions, ModelResolver, ResolvedModel } from './fleet-types.ts';
export { validateRequest } from './call-request.ts';

/** A provider's own report of the prompt tokens it evaluated (`raw.evaluatedPromptTokens`, the embedded engine). */
function evaluatedPrompt(raw: unknown): { evaluatedPromptTokens?: number } {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['evaluatedPromptTokens'] : undefined;
  return typeof value === 'number' ? { evaluatedPromptTokens: value } : {};
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
  private readonly structured = new StructuredOutputValidator();

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
      pricing: Pricing;
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
      let overrun: Overrun | undefined;
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
          const maxOutputTokens = fitOutputToBudget(outputCap, promptTokens, pricing, options, tags);
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
            const response = await sendAttempt(
              this.clock,
              provider,
              { ...request, maxOutputTokens, metadata: { ...request.metadata, attempt, callKey } },
              options,
              profile.timeoutMs,
            );
            const costUsd = settleAnswered(reservation, response.usage, pricing, billed);
            if (reservation.overrun) overrun = addOverrun(overrun, reservation.overrun);
            answered = { response, costUsd };
            if (request.responseSchema) response.object = this.structured.parse(request.responseSchema, response.text);
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
            const error = closeFailedAttempt(reservation, caught, pricing, billed);
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
              throw secondsExhausted(options.budget, this.clock, delay);
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
