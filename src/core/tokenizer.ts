/**
 * Token counting with a real BPE tokenizer (o200k_base via gpt-tokenizer, pure JS so it installs anywhere).
 * Used for budget reservations and for usage the provider did not report (marked estimated). Counts for
 * other model families differ by a few percent; the budget layer adds a safety margin for that.
 */
import { encode } from 'gpt-tokenizer/encoding/o200k_base';

// Prompts repeat constantly (the same system prompt and query across N samples, debaters, retries), and BPE
// encoding is the most expensive step of a simulated call; a bounded cache makes repeats O(1).
// Bounded by characters, not entries: a 1,000-agent network re-counts long per-agent histories, which a
// small entry cap keeps evicting. 32M characters of keys is ~64 MB at most.
const CACHE_CHARACTER_LIMIT = 32_000_000;
const CACHEABLE_LENGTH = 32_768;
const cache = new Map<string, number>();
let cachedCharacters = 0;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const count = encode(text).length;
  if (text.length <= CACHEABLE_LENGTH) {
    while (cachedCharacters + text.length > CACHE_CHARACTER_LIMIT && cache.size > 0) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedCharacters -= oldest.length;
    }
    cache.set(text, count);
    cachedCharacters += text.length;
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

export function countMessageTokens(messages: readonly ChatLikeMessage[]): number {
  let total = TOKENS_PER_REPLY_PRIMER;
  for (const message of messages) total += TOKENS_PER_MESSAGE + countTokens(message.content) + countTokens(message.role);
  return total;
}
