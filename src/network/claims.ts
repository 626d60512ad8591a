/**
 * Claims: the unit of information agents exchange, and the verifying protocol's cross-check.
 *
 * A claim says `about:key=value` — "Carol:group=3", "Ann:cover=yes", "*:leader=Zoe" (`*` is the network as
 * a whole). In the verifying protocol every claim also carries provenance: `observed` (the sender's own
 * decision, so only about itself or `*`) or `relayed` with `from`, the neighbour it was heard from. The
 * same compact notation (`Carol:group=3 via Bob [confirmed]`) renders claims into prompts, so any model can
 * read them and the simulated fleet can parse them back.
 *
 * The cross-check runs on the receiver's side, before the model sees the inbox: a relayed claim is checked
 * against what the receiver observes itself (its own last claims, what the subject said directly when the
 * subject is a neighbour) or against a second neighbour, and tagged `confirmed`, `contradicted`, `conflict`
 * or `unverified`. It is mechanical and exact, so it costs no model tokens; deciding what to adopt stays
 * with the model, which the prompt tells to adopt only confirmed claims and to flag the rest.
 */
import { z } from 'zod';
import { formatClaimToken, scanClaimTokens } from '../formats/index.ts';

export type ClaimSource = 'observed' | 'relayed';

export interface Claim {
  /** Agent name the claim is about, or `*` for the network as a whole. */
  about: string;
  key: string;
  value: string;
  /** Known in the verifying protocol; plain messages carry no provenance. */
  source?: ClaimSource;
  /** For relayed claims: the neighbour the sender heard it from. */
  from?: string;
}

export type ClaimCheck = 'direct' | 'confirmed' | 'contradicted' | 'conflict' | 'unverified';

export interface CheckedClaim {
  sender: string;
  claim: Claim;
  check: ClaimCheck;
  /** Why, for contradicted/conflict/confirmed ("Carol says 1", "also from Dave"). */
  reason?: string;
}

const NAME = /^(?:\*|[A-Za-z][A-Za-z0-9_-]{0,63})$/;
const KEY = /^[a-z][a-z_]{0,23}$/;
const VALUE = /^[^;[\]\n"]{1,48}$/;

export const claimSchema = z
  .object({
    about: z.string().regex(NAME, 'an agent name or "*"'),
    key: z.string().regex(KEY, 'lower-case letters and "_"'),
    value: z.string().trim().regex(VALUE, '1–48 characters without ; [ ] or quotes'),
    source: z.enum(['observed', 'relayed']),
    from: z.string().regex(NAME).optional(),
  })
  .strict();

const flagSchema = z
  .object({
    about: z.string().regex(NAME),
    key: z.string().regex(KEY),
    value: z.string().regex(VALUE),
    /** The neighbour whose claim is disputed. */
    from: z.string().regex(NAME),
    reason: z.string().max(120).optional(),
  })
  .strict();

/** The verifying protocol's message: claims for every neighbour, optional extras per neighbour, flags. */
export const verifiedMessageSchema = z
  .object({
    claims: z.array(claimSchema).max(48),
    to: z.record(z.string(), z.array(claimSchema).max(16)).optional(),
    flags: z.array(flagSchema).max(16).optional(),
    note: z.string().max(400).optional(),
  })
  .strict();

export type VerifiedMessage = z.infer<typeof verifiedMessageSchema>;
export type Flag = z.infer<typeof flagSchema>;

/** Strips zod's `| undefined` optionals into the exact-optional Claim shape. */
export function toClaim(parsed: z.infer<typeof claimSchema>): Claim {
  const claim: Claim = { about: parsed.about, key: parsed.key, value: parsed.value, source: parsed.source };
  if (parsed.from !== undefined) claim.from = parsed.from;
  return claim;
}

export const claimSignature = (claim: Pick<Claim, 'about' | 'key' | 'value'>): string =>
  `${claim.about}\u0000${claim.key}\u0000${claim.value}`;

/** `Carol:group=3`, with ` via Bob` for relayed claims and ` [check: reason]` when checked (notation: src/formats/agentsnet.ts). */
export function formatClaim(claim: Claim, check?: ClaimCheck, reason?: string): string {
  const relayedFrom = claim.source === 'relayed' ? claim.from : undefined;
  return formatClaimToken(
    { about: claim.about, key: claim.key, value: claim.value, ...(relayedFrom !== undefined ? { from: relayedFrom } : {}) },
    check !== undefined && check !== 'direct' ? check : undefined,
    reason,
  );
}

/**
 * Claims written in the notation inside free text. Without provenance (plain messages), a claim about the
 * sender itself counts as observed and anything else as relayed from the sender — that is all a receiver
 * can tell.
 */
export function scanClaims(text: string, sender: string): Claim[] {
  const claims: Claim[] = [];
  for (const token of scanClaimTokens(text)) {
    const claim: Claim = { about: token.about, key: token.key, value: token.value };
    if (token.about === sender) claim.source = 'observed';
    else {
      claim.source = 'relayed';
      claim.from = token.from ?? sender;
    }
    claims.push(claim);
  }
  return claims;
}

/** What the receiver can check against: its own latest claims and the neighbours' direct self-claims. */
export interface ReceiverView {
  name: string;
  neighbours: ReadonlySet<string>;
  /** The receiver's own latest self-claims, key → value. */
  own: ReadonlyMap<string, string>;
}

/**
 * Tags every claim in one receiver's inbox (sender → claims). A claim is `direct` when the sender speaks for
 * itself (about itself, or its own network-wide stance, marked observed); otherwise it is checked against the receiver's own state (claims about the
 * receiver), the subject's own words (subject is a neighbour), or an independent second neighbour's report.
 */
export function checkInbox(view: ReceiverView, inbox: ReadonlyMap<string, readonly Claim[]>): CheckedClaim[] {
  // Index once per receiver: (about, key) → value → reports. Inboxes are small (one entry per neighbour).
  const reports: Reports = new Map();
  for (const [sender, claims] of inbox) {
    for (const claim of claims) {
      const slot = `${claim.about}\u0000${claim.key}`;
      let values = reports.get(slot);
      if (!values) reports.set(slot, (values = new Map<string, { sender: string; from: string | undefined }[]>()));
      const report = { sender, from: claim.from };
      const list = values.get(claim.value);
      if (list) list.push(report);
      else values.set(claim.value, [report]);
    }
  }
  const checked: CheckedClaim[] = [];
  for (const [sender, claims] of inbox) {
    for (const claim of claims) checked.push(checkOne(view, inbox, reports, sender, claim));
  }
  return checked;
}

/** (about, key) → value → who reported it and whom they credit. */
type Reports = Map<string, Map<string, Array<{ sender: string; from: string | undefined }>>>;

/**
 * Two reports are independent when neither sender heard it from the other: an echo (Cat relays what Bob told
 * her, and Bob repeats it) is one source, however many neighbours repeat it.
 */
const independent = (claim: Claim, sender: string, other: { sender: string; from: string | undefined }): boolean =>
  other.sender !== sender && other.from !== sender && claim.from !== other.sender;

function checkOne(
  view: ReceiverView,
  inbox: ReadonlyMap<string, readonly Claim[]>,
  reports: Reports,
  sender: string,
  claim: Claim,
): CheckedClaim {
  // The sender's own words: about itself, or its own network-wide stance (marked observed).
  if (claim.about === sender || claim.source === 'observed') return { sender, claim, check: 'direct' };
  if (claim.about === view.name) {
    const own = view.own.get(claim.key);
    if (own === undefined) return { sender, claim, check: 'unverified' };
    return own === claim.value
      ? { sender, claim, check: 'confirmed', reason: 'matches your own' }
      : { sender, claim, check: 'contradicted', reason: `you say ${own}` };
  }
  if (view.neighbours.has(claim.about)) {
    const direct = inbox.get(claim.about)?.find((other) => other.about === claim.about && other.key === claim.key);
    if (direct) {
      return direct.value === claim.value
        ? { sender, claim, check: 'confirmed', reason: `${claim.about} says so` }
        : { sender, claim, check: 'contradicted', reason: `${claim.about} says ${direct.value}` };
    }
  }
  // A network-wide claim naming an agent the receiver can see is confirmed by its own observation.
  if (claim.about === '*' && (claim.value === view.name || view.neighbours.has(claim.value)))
    return { sender, claim, check: 'confirmed', reason: 'you can see them' };
  const values = reports.get(`${claim.about}\u0000${claim.key}`);
  const second = values?.get(claim.value)?.find((other) => independent(claim, sender, other));
  if (second !== undefined) return { sender, claim, check: 'confirmed', reason: `also from ${second.sender}` };
  // Network-wide values legitimately differ while they spread (the leader candidate grows round by round):
  // a disagreement there is not evidence against either, so only agent-specific claims can conflict.
  if (claim.about !== '*' && values) {
    for (const [value, others] of values) {
      const other = others.find((entry) => entry.sender !== sender);
      if (value !== claim.value && other !== undefined)
        return { sender, claim, check: 'conflict', reason: `${other.sender} says ${value}` };
    }
  }
  return { sender, claim, check: 'unverified' };
}
