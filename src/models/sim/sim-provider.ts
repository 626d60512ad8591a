/**
 * `SimProvider`: one simulated model (`sim:<profile>`) behind the real provider interface, so the fleet's
 * budget, retry, journal and timeout code runs unchanged against it.
 *
 * Determinism: every random decision comes from `rngFor(seed, purpose, callIdentity)`, where the identity is
 * a canonical hash of (model, messages, stepId, taskId, temperature, request seed, purpose, candidate) — never
 * from a shared stream — so responses are byte-identical whatever the concurrency or call order. At
 * temperature 0 the identity leaves out stepId (greedy decoding answers the same every time). Faults add the
 * attempt number, so a retry can succeed; answers deliberately do not, so the answer a retry returns is the
 * one an unfaulted call would have returned and fault rates cannot bias measured accuracy.
 *
 * This file draws the faults and picks which draft a call gets; the identity hash is call-identity.ts, token
 * counts, lengths and latency are usage-model.ts, and what a task's answer or verdict says is response-drafts.ts.
 */
import { CancelledError, ContextOverflowError, ThicketError, rngFor, type Clock } from '../../core/index.ts';
import { MODEL_SPEC_VERSION, type ChatMessage, type GenerateRequest, type GenerateResponse, type ModelProvider } from '../spec.ts';
import { CALL_PURPOSE } from '../../formats/index.ts';
import { arithmeticTask } from './arithmetic.ts';
import { callIdentityHash } from './call-identity.ts';
import { drawFaults, faultDelayMs, faultError } from './faults.ts';
import { CLOSING_TOKENS, JSON_CLOSING_TOKENS, malformedJsonText } from './output.ts';
import type { SimProfile } from './profiles.ts';
import { applyStop, placeholderDraft, taskDraft, threadStepDraft, type Draft } from './response-drafts.ts';
import { soloTranscript } from './solo.ts';
import { simPlanDraft } from './planner-policy.ts';
import { agentsNetDraft } from './agent-policy.ts';
import type { ResolvedTask, TaskOracleRegistry } from './tasks.ts';
import { effortMultiplier, promptTokens, simulatedLatencyMs } from './usage-model.ts';

export { effortMultiplier, promptTokens } from './usage-model.ts';
export { callIdentityHash } from './call-identity.ts';

export interface SimProviderOptions {
  /** Profile name; becomes the modelId (`small` for `sim:small`). */
  profileName: string;
  profile: SimProfile;
  /** Fleet seed: with the call identity, determines every simulated outcome. */
  seed: number;
  clock: Clock;
  tasks: TaskOracleRegistry;
}

/** The error an aborted call rejects with: the signal's own Cancelled/Timeout error when it carries one. */
function abortError(signal: AbortSignal): ThicketError {
  const reason: unknown = signal.reason;
  if (ThicketError.isInstance(reason) && (reason.code === 'TIMEOUT' || reason.code === 'CANCELLED')) return reason;
  return new CancelledError('The simulated call was cancelled.', { cause: reason });
}

export class SimProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'sim';
  readonly modelId: string;
  readonly profile: SimProfile;
  private readonly seed: number;
  private readonly clock: Clock;
  private readonly tasks: TaskOracleRegistry;

  constructor(options: SimProviderOptions) {
    this.modelId = options.profileName;
    this.profile = options.profile;
    this.seed = options.seed;
    this.clock = options.clock;
    this.tasks = options.tasks;
  }

  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    const signal = request.abortSignal;
    if (signal?.aborted) throw abortError(signal);
    const profile = this.profile;
    const model = `sim:${this.modelId}`;

    const inputTokens = promptTokens(request.messages);
    if (inputTokens + request.maxOutputTokens > profile.contextWindow)
      throw new ContextOverflowError(model, inputTokens, profile.contextWindow);

    const metadata = request.metadata;
    const tags = metadata?.tags;
    const purpose = tags?.['purpose'] === CALL_PURPOSE.verify ? 'verify' : 'answer';
    const candidate = purpose === 'verify' ? tags?.['candidate'] : undefined;
    const identity = callIdentityHash({
      model: this.modelId,
      messages: request.messages,
      stepId: request.temperature === 0 ? undefined : metadata?.stepId,
      taskId: metadata?.taskId,
      temperature: request.temperature,
      seed: request.seed,
      purpose: tags?.['purpose'],
      candidate: tags?.['candidate'],
    });

    const attempt = typeof metadata?.attempt === 'number' ? metadata.attempt : Number(tags?.['attempt'] ?? 0) || 0;
    const faults = drawFaults(rngFor(this.seed, 'fault', identity, attempt), profile.faults);
    if (faults.call) {
      await this.wait(faultDelayMs(faults.call, profile.latency.ttftMs), signal);
      throw faultError(faults.call, model);
    }

    // AgentsNet agents read their own prompt format (agent-policy.ts); the arithmetic oracle is not consulted.
    const task = tags?.['purpose'] === CALL_PURPOSE.agentsnet ? undefined : this.findTask(request);
    const structured = request.responseSchema !== undefined;
    const closing = structured ? JSON_CLOSING_TOKENS : CLOSING_TOKENS;
    const effort = effortMultiplier(tags?.['reasoningEffort']);
    const rng = rngFor(this.seed, 'sample', identity);

    let draft: Draft;
    const purposeTag = tags?.['purpose'];
    if (purposeTag === CALL_PURPOSE.agentsnet) {
      draft = agentsNetDraft({
        profile,
        seed: this.seed,
        rng,
        messages: request.messages,
        maxOutputTokens: request.maxOutputTokens,
        effort,
        model,
      });
    } else if (purposeTag === CALL_PURPOSE.threadStep && request.responseSchema) {
      draft = threadStepDraft({
        profile,
        seed: this.seed,
        model,
        rng,
        request,
        task,
        effort,
        truncateAt: faults.output.truncated ? faults.output.truncateAt : undefined,
      });
    } else if (purposeTag === CALL_PURPOSE.solo) {
      const solo = soloTranscript({
        profile,
        seed: this.seed,
        rng,
        task,
        messages: request.messages,
        schema: request.responseSchema?.schema,
        effort,
        maxOutputTokens: request.maxOutputTokens,
        closingTokens: closing,
      });
      draft = { ...solo, raw: { ...solo.raw, model } };
    } else if (purposeTag === CALL_PURPOSE.plan) {
      // Governor planner calls: a workflow spec chosen by the task's difficulty (planner-policy.ts).
      draft = simPlanDraft({
        profile,
        model,
        seed: this.seed,
        identity,
        task,
        messages: request.messages,
        maxOutputTokens: request.maxOutputTokens,
      });
    } else if (!task) {
      draft = placeholderDraft(purpose, model, request, closing);
    } else {
      draft = taskDraft({
        profile,
        seed: this.seed,
        model,
        rng,
        request,
        task,
        purpose,
        candidate,
        effort,
        closing,
        outputFaults: faults.output,
        tasks: this.tasks,
      });
    }

    if (structured && faults.output.malformedJson && draft.finishReason === 'stop') {
      draft = { ...draft, text: malformedJsonText(draft.text), raw: { ...draft.raw, malformedJson: true } };
    }
    if (request.stop && request.stop.length > 0 && draft.finishReason === 'stop') draft = applyStop(draft, request.stop, closing);

    const latencyMs = simulatedLatencyMs(profile, draft.outputTokens);
    await this.wait(latencyMs, signal);
    return {
      text: draft.text,
      usage: { inputTokens, outputTokens: draft.outputTokens },
      usageEstimated: false,
      finishReason: draft.finishReason,
      latencyMs,
      simulated: true,
      raw: draft.raw,
      confidence: draft.confidence,
    };
  }

  /** Registered task by metadata id first; else the arithmetic oracle over the last user message. */
  private findTask(request: GenerateRequest): ResolvedTask | undefined {
    const taskId = request.metadata?.taskId;
    if (taskId !== undefined) {
      const registered = this.tasks.resolve(taskId);
      if (registered) return registered;
    }
    for (let index = request.messages.length - 1; index >= 0; index--) {
      const message = request.messages[index] as ChatMessage;
      if (message.role === 'user') return arithmeticTask(message.content);
    }
    return undefined;
  }

  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.clock.sleep(ms, signal);
    } catch (error) {
      throw signal?.aborted ? abortError(signal) : error;
    }
  }
}
