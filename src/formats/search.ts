/**
 * The machine-readable parts of the search operator's step prompt (src/ops/search.ts), read by the simulated
 * fleet (src/models/sim/search-policy.ts): evidence passages as `[n] id=<id> · <title>` followed by one line
 * of text, and a status line `Searches used: U; searches left: L.`
 */
import type { ChatLikeMessage } from '../core/index.ts';

/** A passage's two lines (`[n] id=… · title`, then its text on one line). */
export const formatPassageLines = (index: number | string, id: string, title: string, text: string): [string, string] => [
  `[${index}] id=${id} · ${title}`,
  text,
];

export const formatSearchStatus = (used: number, left: number): string => `Searches used: ${used}; searches left: ${left}.`;

export interface SearchPromptPassage {
  id: string;
  title: string;
  text: string;
}

export interface SearchPrompt {
  passages: SearchPromptPassage[];
  used: number | undefined;
  left: number | undefined;
}

const PASSAGE = /^\[\d+\][ \t]+id=(\S+)(?:[ \t]+·[ \t]+([^\n]*))?\n([^\n]*)/gm;

/** Reads the evidence and search status from the last user message. */
export function parseSearchPrompt(messages: readonly ChatLikeMessage[]): SearchPrompt {
  const last = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const passages = [...last.matchAll(PASSAGE)].map((match) => ({
    id: match[1] as string,
    title: (match[2] ?? '').trim(),
    text: match[3] ?? '',
  }));
  const used = /searches used:\s*(\d+)/i.exec(last)?.[1];
  const left = /searches left:\s*(\d+)/i.exec(last)?.[1];
  return { passages, used: used === undefined ? undefined : Number(used), left: left === undefined ? undefined : Number(left) };
}
