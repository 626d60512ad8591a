/**
 * Token counting with a real BPE tokenizer (o200k_base via gpt-tokenizer, pure JS so it installs anywhere).
 * Used for budget reservations and for usage the provider did not report (marked estimated). Counts for
 * other model families differ by a few percent; the budget layer adds a safety margin for that.
 */
// countTokens counts without building the token array (same special-token rules as encode).
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

// Prompts repeat constantly (the same system prompt and query across N samples, debaters, retries, and a
// persistent chat re-sent whole every round), and BPE encoding is the most expensive step of a simulated
// call; a bounded cache makes repeats O(1) — the key is the text itself, which V8 hashes once per string.
// Bounded by estimated memory, not entries: a 1,000-agent network holds ~45k distinct messages (~19M
// characters) at once, which an entry cap keeps evicting (each eviction is a full re-encode). The estimate
// counts the key at two bytes a character (worst case) plus a Map entry's overhead; oldest entries go first,
// which suits run-after-run workloads. A single text may take at most 1/64 of the cache, so one huge prompt
// cannot flush everything else.
const CACHE_BYTE_LIMIT = 128 * 2 ** 20;
const ENTRY_OVERHEAD_BYTES = 64;
const CACHEABLE_LENGTH = CACHE_BYTE_LIMIT / 2 / 64;
const cache = new Map<string, number>();
let cachedBytes = 0;

const entryBytes = (text: string): number => 2 * text.length + ENTRY_OVERHEAD_BYTES;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const count = countO200k(text);
  if (text.length <= CACHEABLE_LENGTH) {
    const bytes = entryBytes(text);
    while (cachedBytes + bytes > CACHE_BYTE_LIMIT && cache.size > 0) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedBytes -= entryBytes(oldest);
    }
    cache.set(text, count);
    cachedBytes += bytes;
  }
  return count;
}

export interface ChatLikeMessage {
  role: string;
  content: string;
}

/** Per-message overhead of chat templates (role markers, separators), as OpenAI documents for its models. */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_REPLY_PRIMER = 3;

/**
 * Per message object: its count, valid while role and content are the strings it was counted from. A chat
 * re-sends the same message objects every turn; this makes each of them one WeakMap lookup and two pointer
 * compares, instead of two string-keyed lookups in the text cache (freed with the message).
 */
const messageCounts = new WeakMap<ChatLikeMessage, { role: string; content: string; tokens: number }>();

export function countMessageTokens(messages: readonly ChatLikeMessage[]): number {
  let total = TOKENS_PER_REPLY_PRIMER;
  for (const message of messages) {
    const cached = messageCounts.get(message);
    if (cached !== undefined && cached.content === message.content && cached.role === message.role) {
      total += cached.tokens;
      continue;
    }
    const tokens = TOKENS_PER_MESSAGE + countTokens(message.content) + countTokens(message.role);
    messageCounts.set(message, { role: message.role, content: message.content, tokens });
    total += tokens;
  }
  return total;
}
