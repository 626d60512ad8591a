/**
 * Reading what an agent wrote: its outgoing messages (plain: `{neighbour: text}`; verifying protocol:
 * claims with provenance) and its final answer. Each parser returns the problem in words when it fails,
 * because the runtime sends that back in its one retry — a model fixes "unknown recipient Bobb" more
 * reliably than "could not be parsed".
 */
import { z } from 'zod';
import { toClaim, verifiedMessageSchema, type Claim, type Flag } from './claims.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface OutgoingMessages {
  /** Recipient → what it receives (plain: the text; verifying: the rendered claims). */
  perRecipient: Map<string, string>;
  /** Claims per recipient (verifying: structured; plain: scanned from the text). */
  claims: Map<string, Claim[]>;
  /** Claims the sender broadcast to everybody (its stated beliefs this round). */
  broadcast: Claim[];
  flags: Flag[];
}

const plainSchema = z.record(z.string(), z.string());

/**
 * Every `{…}` span that starts at a `{` and ends at the last `}`, earliest first — the reference's parse
 * (models put chain of thought before the JSON and sometimes braces inside it).
 */
function* jsonCandidates(text: string): Generator<unknown> {
  const end = text.lastIndexOf('}');
  if (end < 0) return;
  for (let start = text.indexOf('{'); start >= 0 && start < end; start = text.indexOf('{', start + 1)) {
    try {
      yield JSON.parse(text.slice(start, end + 1)) as unknown;
    } catch {
      // Not JSON from this brace; try the next one.
    }
  }
}

/** Plain protocol: a JSON object whose keys are neighbour names and whose values are strings. */
export function parsePlainMessages(text: string, neighbours: ReadonlySet<string>): ParseResult<Map<string, string>> {
  let problem = 'no JSON object found';
  for (const candidate of jsonCandidates(text)) {
    const parsed = plainSchema.safeParse(candidate);
    if (!parsed.success) {
      problem = 'every value must be a string (the message text)';
      continue;
    }
    const unknown = Object.keys(parsed.data).filter((name) => !neighbours.has(name));
    if (unknown.length > 0) {
      problem = `unknown recipient${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (your neighbours are ${[...neighbours].join(', ')})`;
      continue;
    }
    return { ok: true, value: new Map(Object.entries(parsed.data)) };
  }
  return { ok: false, problem };
}

/**
 * Verifying protocol: `{claims, to?, flags?, note?}` (claimSchema), plus the provenance rules the schema
 * cannot express: an observed claim is about the sender or `*`; a relayed claim names the neighbour it came
 * from; extras go only to neighbours.
 */
export function parseVerifiedMessages(
  text: string,
  sender: string,
  neighbours: ReadonlySet<string>,
): ParseResult<{ broadcast: Claim[]; to: Map<string, Claim[]>; flags: Flag[] }> {
  let problem = 'no JSON object found';
  for (const candidate of jsonCandidates(text)) {
    const parsed = verifiedMessageSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problem = issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid message';
      continue;
    }
    const broadcast = parsed.data.claims.map(toClaim);
    const to = new Map<string, Claim[]>();
    for (const [name, claims] of Object.entries(parsed.data.to ?? {})) to.set(name, claims.map(toClaim));
    const issue = provenanceProblem(sender, neighbours, broadcast, to);
    if (issue) {
      problem = issue;
      continue;
    }
    const flags = (parsed.data.flags ?? []).filter((flag) => neighbours.has(flag.from));
    return { ok: true, value: { broadcast, to, flags } };
  }
  return { ok: false, problem };
}

function provenanceProblem(
  sender: string,
  neighbours: ReadonlySet<string>,
  broadcast: Claim[],
  to: Map<string, Claim[]>,
): string | undefined {
  for (const name of to.keys()) if (!neighbours.has(name)) return `"to" names ${name}, who is not your neighbour`;
  for (const claim of [broadcast, ...to.values()].flat()) {
    if (claim.source === 'observed' && claim.about !== sender && claim.about !== '*')
      return `claim about ${claim.about} is marked observed; only claims about yourself or "*" are observed — mark it relayed with "from"`;
    if (claim.source === 'relayed' && (claim.from === undefined || !neighbours.has(claim.from)))
      return `relayed claim ${claim.about}:${claim.key} needs "from": the neighbour you heard it from`;
  }
  return undefined;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The answer after the last `### Final Answer ###` that is one of `valid`. Longer options are tried first
 * and must end at a word boundary, so `Group 10` is never read as `Group 1`.
 */
export function parseFinalAnswer(text: string, valid: readonly string[]): ParseResult<string> {
  const options = [...valid].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`###\\s*Final Answer\\s*###\\s*[*"'\`]*\\s*(${options.join('|')})(?![A-Za-z0-9])`, 'g');
  let answer: string | undefined;
  for (const match of text.matchAll(pattern)) answer = match[1];
  if (answer !== undefined) return { ok: true, value: answer };
  return {
    ok: false,
    problem: text.includes('Final Answer') ? `the answer must be exactly one of: ${valid.join(', ')}` : "no '### Final Answer ###' line",
  };
}
