/**
 * The machine-readable parts of AgentsNet prompts and messages — written by src/network/agentsnet/prompts.ts
 * and src/network/claims.ts, read by the simulated agent (src/models/sim/agent-policy.ts), which reads
 * prompts as a model would:
 *   - the introduction has a line `Context: {"task", "name", "neighbours", "agents", "rounds", "protocol", "groups"}`;
 *   - each round message starts `Round t of R` and has a line `Inbox: <JSON>`, optionally `Flags: <JSON array>`;
 *   - the final message contains `message passing has finished`;
 *   - claims are written `about:key=value`, ` via X` when relayed, ` [check]` or ` [check: reason]` when checked.
 */

/** The introduction's `Context:` line, as JSON. */
export interface AgentsNetContext {
  task: string;
  name: string;
  neighbours: readonly string[];
  agents: number;
  rounds: number;
  protocol: string;
  groups: number;
}

const CONTEXT_PREFIX = 'Context: ';
const INBOX_PREFIX = 'Inbox: ';
const FLAGS_PREFIX = 'Flags: ';
export const AGENTSNET_FINAL_MARKER = 'message passing has finished';

export const formatContextLine = (context: AgentsNetContext): string => `${CONTEXT_PREFIX}${JSON.stringify(context)}`;
export const formatInboxLine = (inboxJson: string): string => `${INBOX_PREFIX}${inboxJson}`;
export const formatFlagsLine = (flagsJson: string): string => `${FLAGS_PREFIX}${flagsJson}`;
export const formatRoundHeading = (round: number, rounds: number): string => `Round ${round} of ${rounds}`;

/** Whether a message holds a `Context:` line (on a line of its own, after the first). */
export const hasContextLine = (text: string): boolean => text.includes(`\n${CONTEXT_PREFIX}`);
/** Whether a message holds an `Inbox:` line (on a line of its own, after the first). */
export const hasInboxLine = (text: string): boolean => text.includes(`\n${INBOX_PREFIX}`);
/** The round a message starts with (`Round t of R`), 0 when none. */
export const readRound = (text: string): number => Number(/^Round (\d+) of/.exec(text)?.[1] ?? 0);
export const isFinalMessage = (text: string): boolean => text.includes(AGENTSNET_FINAL_MARKER);

function lineAfter(text: string, prefix: string): string | undefined {
  const marker = `\n${prefix}`;
  const start = text.indexOf(marker);
  if (start < 0) return undefined;
  const end = text.indexOf('\n', start + marker.length);
  return text.slice(start + marker.length, end < 0 ? undefined : end);
}

/** The rest of a message's `Context:` / `Inbox:` / `Flags:` line (not parsed), when it has one. */
export const contextLineText = (text: string): string | undefined => lineAfter(text, CONTEXT_PREFIX);
export const inboxLineText = (text: string): string | undefined => lineAfter(text, INBOX_PREFIX);
export const flagsLineText = (text: string): string | undefined => lineAfter(text, FLAGS_PREFIX);

/** A claim in the notation: who it is about (`*` = the network), key, value, and who relayed it. */
export interface ClaimToken {
  about: string;
  key: string;
  value: string;
  from?: string;
}

/** `Carol:group=3`, with ` via Bob` when `from` is given and ` [check]` / ` [check: reason]` when checked. */
export function formatClaimToken(claim: ClaimToken, check?: string, reason?: string): string {
  let text = `${claim.about}:${claim.key}=${claim.value}`;
  if (claim.from !== undefined) text += ` via ${claim.from}`;
  if (check !== undefined) text += reason ? ` [${check}: ${reason}]` : ` [${check}]`;
  return text;
}

// Global scan rather than a strict grammar: plain messages are free text, and a model may embed the
// notation in prose ("I am in Ann:group=2 now"). Only tokens in the notation are claims.
// Values may hold inner dots (0.5) but not a sentence's full stop.
const CLAIM_TOKEN =
  /(\*|\b[A-Z][A-Za-z0-9_-]*):([a-z][a-z_]*)=([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(?: via ([A-Z][A-Za-z0-9_-]*))?(?: \[([a-z]+))?/g;

/** The claims written in the notation inside free text, with the check word when one follows. */
export function scanClaimTokens(text: string): Array<ClaimToken & { check: string | undefined }> {
  const claims: Array<ClaimToken & { check: string | undefined }> = [];
  for (const match of text.matchAll(CLAIM_TOKEN))
    claims.push({ about: match[1]!, key: match[2]!, value: match[3]!, ...(match[4] ? { from: match[4] } : {}), check: match[5] });
  return claims;
}
