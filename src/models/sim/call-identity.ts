/**
 * The identity of a simulated call: the canonical hash every random decision of the sim is seeded from (with
 * the fleet seed and a purpose). It is `hashValue` of the identity fields, computed incrementally so a chat
 * that re-sends its whole history each turn is not re-hashed from the start — see `callIdentityHash`.
 */
import { createHash, type Hash } from 'node:crypto';
import { canonicalJson, PrefixHasher, messageFields, sameMessage } from '../../core/index.ts';
import type { ChatMessage } from '../spec.ts';

/** The parts of a simulated call that decide its outcome (see sim-provider.ts for which are left out when). */
export interface CallIdentity {
  model: string;
  messages: readonly ChatMessage[];
  stepId: string | undefined;
  taskId: string | undefined;
  temperature: number | undefined;
  seed: number | undefined;
  purpose: string | undefined;
  candidate: string | undefined;
}

/** A message's canonical JSON (sorted keys): the fast form for plain { role, content } messages. */
function messageJson(message: ChatMessage): string {
  const keys = Object.keys(message);
  const plain =
    keys.length === 2 &&
    typeof message.role === 'string' &&
    typeof message.content === 'string' &&
    keys.includes('role') &&
    keys.includes('content');
  return plain ? `{"content":${JSON.stringify(message.content)},"role":${JSON.stringify(message.role)}}` : canonicalJson(message);
}

/**
 * The hash state after `{"messages":[m0,…,mi` for a chat prefix, cached per message object by the shared
 * incremental hasher (core `PrefixHasher`): a chat re-sends its whole history every turn, so only what is new
 * since the previous call is hashed (O(R) instead of O(R²) per agent).
 */
const messagesPrefix = new PrefixHasher<ChatMessage>(messageJson, messageFields, ',', sameMessage);
const MESSAGES_ROOT = '{"messages":[';

function messagesPrefixState(messages: readonly ChatMessage[]): Hash {
  return messagesPrefix.stateAfter(MESSAGES_ROOT, messages);
}

/**
 * `hashValue(identity)`, byte for byte (keys in sorted order, undefined fields left out; a test holds the
 * two equal), without canonicalJson's per-node replacer and without re-hashing a chat's earlier messages.
 */
export function callIdentityHash(identity: CallIdentity): string {
  let state: Hash;
  if (identity.candidate === undefined) state = messagesPrefixState(identity.messages);
  else {
    // Verifier calls (a candidate sorts before the messages): rare and short, hashed whole.
    state = createHash('sha256').update(
      `{"candidate":${JSON.stringify(identity.candidate)},"messages":[${identity.messages.map(messageJson).join(',')}`,
    );
  }
  let tail = `],"model":${JSON.stringify(identity.model)}`;
  if (identity.purpose !== undefined) tail += `,"purpose":${JSON.stringify(identity.purpose)}`;
  if (identity.seed !== undefined) tail += `,"seed":${JSON.stringify(identity.seed)}`;
  if (identity.stepId !== undefined) tail += `,"stepId":${JSON.stringify(identity.stepId)}`;
  if (identity.taskId !== undefined) tail += `,"taskId":${JSON.stringify(identity.taskId)}`;
  if (identity.temperature !== undefined) tail += `,"temperature":${JSON.stringify(identity.temperature)}`;
  return state.update(`${tail}}`).digest('hex');
}
