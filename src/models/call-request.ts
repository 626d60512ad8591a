/**
 * A model request as the fleet sees it before anything is reserved: what makes it acceptable
 * (`validateRequest`) and what makes two requests the same call (the identity hash journal keys are built
 * on). Both are fixed contracts — journals written by earlier runs resume on these hashes.
 */
import { InvalidInputError, canonicalJson, PrefixHasher, messageFields, sameMessage, type InputIssue } from '../core/index.ts';
import type { ChatMessage, GenerateRequest } from './spec.ts';

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

export function callIdentityHash(reference: string, request: GenerateRequest, simulated: boolean): string {
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
