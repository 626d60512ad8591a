/**
 * The simulated agent for AgentsNet-style networks (`purpose: 'agentsnet'` calls). It reads the prompt as a
 * model would — the `Context:` line of its introduction, the `Round t of R` / `Inbox:` lines of the current
 * round, and its own last reply (its memory) — and answers with messages in the prompt's format (both defined
 * in src/formats/agentsnet.ts, which src/network writes its prompts and claims with).
 *
 * Per call it applies the task's correct local rule with probability
 *   p = σ(a·(θ′ − d_task − load)),  load = 0.2·round + 0.25·ln(1 + degree),  θ′ = 2.4 + 2.5·(θ − 2.4) + Δgain
 * (a discrimination, θ skill stretched around the large profile's, Δgain the profile's reasoning-token gain
 * over the large profile's, d per task), otherwise a plausible mistake. Output slips (invalid JSON, a missing final-answer line) follow the same
 * curve, offset by how easy formatting is and, for the final answer, by how many options there are. The rules are the textbook ones
 * an able model proposes: smallest free group with name priority (colouring), flood the largest name
 * (leader), flood 1 (consensus), mutual smallest-name proposals (matching), step down by name priority when
 * all neighbours cover you (vertex cover; unsure agents stay coordinators). The profile's agentPolicy shapes
 * the social side:
 *   - lateAgreementRounds: before an agent settles on the shared rule (at a per-agent round drawn around this
 *     value, or on hearing a neighbour announce it) it uses a naive rule;
 *   - strategyAnnouncement: chance per round that a settled agent tells its neighbours (`*:strategy`);
 *   - uncriticalAcceptance: chance of adopting a relayed claim over what it observes itself (plain protocol),
 *     or, scaled down, an unverified one (verifying protocol, where contradicted claims are flagged instead).
 * Relays are sometimes garbled (misreported values, a misspelt leader name), and relays of changing values
 * go stale: that is how wrong claims enter the network.
 *
 * Calibration (src/network/agentsnet/calibration.test.ts; 9 graphs per size): large ≈ 0.76, reasoner-large
 * ≈ 0.76, medium ≈ 0.47, small ≈ 0.25 on 4–16 agents (published: 0.80 / 0.70 / 0.45 / 0.26), consensus
 * easiest and vertex cover hardest; at 100 agents the tasks that need every agent right collapse (the round
 * count grows with the diameter, and with it the load). Per-call work is a few small JSON parses, so
 * 1,000-agent runs stay fast.
 */
import { rngFor, type Rng } from '../../core/index.ts';
import {
  contextLineText,
  flagsLineText,
  hasContextLine,
  hasInboxLine,
  inboxLineText,
  isFinalMessage,
  readRound,
  scanClaimTokens,
  type AgentsNetContext,
} from '../../formats/index.ts';
import type { ChatMessage, FinishReason } from '../spec.ts';
import { tokenGain } from './accuracy.ts';
import type { SimProfile } from './profiles.ts';

type Ctx = AgentsNetContext;
interface Claim {
  about: string;
  key: string;
  value: string;
  from?: string;
}
interface Relay {
  claim: Claim;
  sender: string;
  check: string | undefined;
}
type Kv = Map<string, string>;

export interface AgentsNetDraftInput {
  profile: SimProfile;
  seed: number;
  rng: Rng;
  messages: readonly ChatMessage[];
  maxOutputTokens: number;
  effort: number;
  model: string;
}

export interface AgentsNetDraft {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

/** Logit difficulty per task (consensus easiest, vertex cover hardest, as published). */
const AGENTSNET_DIFFICULTY: Readonly<Record<string, number>> = Object.freeze({
  consensus: -2.4,
  leader_election: -1.3,
  coloring: 0.45,
  matching: 0.4,
  vertex_cover: 1.5,
});
const LOAD_PER_ROUND = 0.2;
const LOAD_PER_DEGREE = 0.25;
/** Writing valid JSON / a valid final line is easier than the task itself (logit bonus). */
const FORMAT_EASE = 2.2;
/** Extra load per e-fold of answer options (k groups, a partner's name) over two. */
const OPTION_LOAD = 0.6;
const ANCHOR_SKILL = 2.4;
/** The large profile's token gain at its usual output length (0.15·ln(1 + 220/300)). */
const ANCHOR_GAIN = 0.15 * Math.log1p(220 / 300);
const SKILL_GAIN = 2.5;
/** Share of mistakes that garble a relayed claim (the rest are wrong decisions). */
const GARBLE_SHARE = 0.5;
/** Misspelling the leader's name (a fabricated candidate) is a rarer slip than misreporting a value. */
const LEADER_GARBLE_SHARE = 0.1;
/** Verifying protocol: an unverified claim is adopted at this fraction of the uncritical-acceptance rate. */
const UNVERIFIED_DISCOUNT = 0.35;
const MAX_RELAYS = 2;
/** Verifying protocol: chance, per failed rule application, of adopting a claim tagged contradicted. */
const MISREAD_CHECK = 0.1;
/** Unsure agents stay (or become) coordinators: the usual failure is too many of them, not too few. */
const VC_SAFE_MISTAKE = 0.9;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
const scan = scanClaimTokens;

/** The agent's own last parseable reply: its self-claims, the beliefs it relayed, whether it had settled. */
function ownState(messages: readonly ChatMessage[], me: string): { self: Kv; relays: Claim[]; agreed: boolean } | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role !== 'assistant') continue;
    const brace = message.content.indexOf('{');
    const value = parseJson(brace >= 0 ? message.content.slice(brace) : undefined) as Record<string, unknown> | undefined;
    if (!value || typeof value !== 'object') continue;
    const text = Array.isArray(value['claims'])
      ? (value['claims'] as Claim[])
          .map((claim) => `${claim.about}:${claim.key}=${claim.value}${claim.from ? ` via ${claim.from}` : ''}`)
          .join('; ')
      : // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a message's lone field; a non-string one simply yields no claims
        String(Object.values(value)[0] ?? '');
    const self: Kv = new Map();
    const relays: Claim[] = [];
    // Its own network-wide stance (`*:leader`) is part of its state, like its claims about itself.
    for (const claim of scan(text))
      if (claim.about === me || (claim.about === '*' && claim.key !== 'strategy')) self.set(claim.key, claim.value);
      else relays.push(claim);
    return { self, relays, agreed: message.content.includes('(strategy: priority)') };
  }
  return undefined;
}

export function agentsNetDraft(input: AgentsNetDraftInput): AgentsNetDraft {
  const { profile, rng, messages } = input;
  const intro = messages.find((message) => message.role === 'user' && hasContextLine(message.content));
  const ctx = parseJson(intro ? contextLineText(intro.content) : undefined) as Ctx | undefined;
  const raw: Record<string, unknown> = { simulated: true, kind: 'agentsnet', model: input.model };
  if (!ctx || !Array.isArray(ctx.neighbours))
    return finish(input, '[simulated] No AgentsNet context in the prompt.\n{}', 24, { ...raw, context: false });
  // The current round: the last user message carrying an inbox (or the introduction, round 0).
  let anchor = intro!.content;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === 'user' && (hasInboxLine(message.content) || message === intro)) {
      anchor = message.content;
      break;
    }
  }
  const round = readRound(anchor);
  const final = isFinalMessage(anchor);
  const me = ctx.name;
  // Typed again: Array.isArray above narrows a readonly array to any[].
  const neighbours: readonly string[] = ctx.neighbours;
  // Load grows with how far the coordination has dragged on (the round, shown in every prompt) — not with
  // the visible transcript, so a pruned history saves tokens here but is not credited with better accuracy,
  // which nothing published supports.
  const load = LOAD_PER_ROUND * round + LOAD_PER_DEGREE * Math.log(1 + neighbours.length);
  const a = profile.discrimination;
  // Coordination amplifies ability differences (published: 0.70 vs 0.45 vs 0.26 where single-task gaps are
  // smaller), so skill is stretched around the large profile's, the calibration anchor. Thinking longer helps
  // (the best published network ran a reasoning model): the profile's token gain at its usual length, over
  // the large profile's, is added unstretched.
  const skill =
    ANCHOR_SKILL + SKILL_GAIN * (profile.skill - ANCHOR_SKILL) + tokenGain(profile, profile.verbosity * input.effort) - ANCHOR_GAIN;
  const p = sigmoid(a * (skill - (AGENTSNET_DIFFICULTY[ctx.task] ?? 0.5) - load));
  const pFormat = sigmoid(a * (skill + FORMAT_EASE - load));
  const policy = profile.agentPolicy;
  Object.assign(raw, { task: ctx.task, round, final, pRule: Math.round(p * 1e4) / 1e4 });

  // What arrived: neighbours' words about themselves (direct) and everything relayed.
  const inbox = (parseJson(inboxLineText(anchor)) ?? {}) as Record<string, string | string[]>;
  const direct = new Map<string, Kv>();
  const relayed: Relay[] = [];
  let heardStrategy = false;
  for (const [sender, body] of Object.entries(inbox)) {
    for (const claim of scan(Array.isArray(body) ? body.join('; ') : String(body))) {
      if (claim.about === '*' && claim.key === 'strategy') heardStrategy = true;
      if (claim.about === sender) (direct.get(sender) ?? direct.set(sender, new Map()).get(sender)!).set(claim.key, claim.value);
      else relayed.push({ claim, sender, check: claim.check });
    }
  }
  const flagged = new Set(scan(flagsLineText(anchor) ?? '').map((claim) => `${claim.about}:${claim.key}=${claim.value}`));
  const prev = ownState(messages, me);

  // Beliefs about others: carried from the last reply, refreshed by direct words, then adopted relays.
  const beliefs = new Map<string, { value: string; from: string }>();
  for (const claim of prev?.relays ?? [])
    if (!flagged.has(`${claim.about}:${claim.key}=${claim.value}`))
      beliefs.set(`${claim.about}\u0000${claim.key}`, { value: claim.value, from: claim.from ?? claim.about });
  for (const [sender, kv] of direct) for (const [key, value] of kv) beliefs.set(`${sender}\u0000${key}`, { value, from: sender });
  const flags: Array<Claim & { from: string; reason: string }> = [];
  const adopted: Claim[] = [];
  for (const { claim, sender, check } of relayed) {
    if (claim.about === me || (claim.about === '*' && claim.key === 'strategy')) continue;
    const slot = `${claim.about}\u0000${claim.key}`;
    const observed = claim.about !== '*' && direct.get(claim.about)?.has(claim.key);
    let take: boolean;
    if (ctx.protocol === 'verified') {
      // Untagged means direct: the sender's own stance (`*:leader=<itself>`), which needs no check.
      if (check === 'confirmed' || check === undefined) take = true;
      else if (check === 'contradicted' || check === 'conflict') {
        // The check is spelled out in the inbox, so ignoring it is a rarer slip than not checking at all.
        take = rng.next() < (1 - p) * MISREAD_CHECK;
        if (!take) flags.push({ about: claim.about, key: claim.key, value: claim.value, from: sender, reason: check });
      } else take = rng.next() < policy.uncriticalAcceptance * UNVERIFIED_DISCOUNT;
    } else take = observed ? rng.next() < policy.uncriticalAcceptance : true;
    if (take && claim.about !== '*') beliefs.set(slot, { value: claim.value, from: sender });
    if (take) adopted.push({ ...claim, from: sender });
  }
  const belief = (about: string, key: string): string | undefined => beliefs.get(`${about}\u0000${key}`)?.value;

  // Settling on the shared rule: a per-agent round around lateAgreementRounds, or on hearing it announced.
  const agreeAt = rngFor(input.seed, 'agentsnet-agree', me, ctx.task, ctx.agents, ctx.rounds).int(2 * policy.lateAgreementRounds + 1);
  const agreed = (prev?.agreed ?? false) || heardStrategy || round >= agreeAt;
  const correct = rng.next() < p;
  const self: Kv = new Map(prev?.self ?? []);
  const byName = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  let answer: string | undefined;
  let note = '';

  switch (ctx.task) {
    case 'coloring': {
      const k = Math.max(1, ctx.groups);
      const used = new Set(neighbours.map((name) => belief(name, 'group')).filter((group): group is string => group !== undefined));
      const free = Array.from({ length: k }, (_, index) => String(index + 1)).filter((group) => !used.has(group));
      let group = self.get('group');
      const clash = group !== undefined && used.has(group);
      if (group === undefined) group = String(1 + rng.int(k));
      else if (!correct) group = rng.next() < 0.5 ? group : String(1 + rng.int(k));
      else if (clash && agreed && neighbours.some((name) => belief(name, 'group') === group && name < me)) group = free[0] ?? group;
      else if (clash && !agreed && rng.next() < 0.5) group = free.length > 0 ? rng.pick(free) : group;
      self.set('group', group);
      answer = `Group ${group}`;
      note = clash ? 'A neighbour shares my group.' : 'No clash with my neighbours.';
      break;
    }
    case 'leader_election': {
      let best = self.get('leader') ?? me;
      const local = [me, ...neighbours].sort(byName).at(-1)!;
      if (!agreed) best = local;
      else if (correct)
        best = [best, local, ...adopted.filter((claim) => claim.key === 'leader').map((claim) => claim.value)].sort(byName).at(-1)!;
      if (!correct && rng.next() < LEADER_GARBLE_SHARE) best = best + rng.pick(['a', 'e', 'y']);
      self.set('leader', best);
      answer = (best === me) !== (!correct && final && rng.next() < 0.3) ? 'Yes' : 'No';
      note = `Largest name I know: ${best}.`;
      break;
    }
    case 'consensus': {
      const values = neighbours.map((name) => belief(name, 'value')).filter((value) => value !== undefined);
      let value = self.get('value') ?? (rng.next() < 0.55 ? '1' : '0');
      if (round > 0 && correct) {
        const ones = values.filter((entry) => entry === '1').length + (value === '1' ? 1 : 0);
        const zeros = values.length + 1 - ones;
        value = agreed ? (ones > 0 ? '1' : '0') : ones > zeros ? '1' : zeros > ones ? '0' : value;
      } else if (!correct && rng.next() < 0.5) value = value === '1' ? '0' : '1';
      self.set('value', value);
      answer = value;
      note = `I hold ${value}.`;
      break;
    }
    case 'matching': {
      const partnerOf = (name: string): string | undefined => belief(name, 'partner');
      let partner = self.get('partner') ?? 'none';
      const proposed = self.get('propose') ?? 'none';
      if (partner !== 'none' && partnerOf(partner) !== undefined && partnerOf(partner) !== me) partner = 'none';
      if (partner === 'none' && proposed !== 'none' && (belief(proposed, 'propose') === me || partnerOf(proposed) === me))
        partner = proposed;
      const free = neighbours.filter((name) => [undefined, 'none', me].includes(partnerOf(name)));
      let propose = 'none';
      if (partner === 'none' && free.length > 0)
        propose = agreed && correct ? [...free].sort(byName)[0]! : rng.pick(correct ? free : neighbours);
      if (!correct && partner === 'none' && proposed !== 'none' && rng.next() < 0.5) partner = proposed;
      self.set('partner', partner).set('propose', propose);
      answer = partner !== 'none' ? partner : free.length > 0 && !correct ? (proposed !== 'none' ? proposed : 'None') : 'None';
      note = partner !== 'none' ? `Paired with ${partner}.` : `Proposing to ${propose}.`;
      break;
    }
    case 'vertex_cover': {
      let cover = self.get('cover') ?? (agreed || rng.next() < 0.7 ? 'yes' : 'no');
      const their = neighbours.map((name) => ({ name, cover: belief(name, 'cover'), fixed: belief(name, 'status') === 'fixed' }));
      const allYes = their.every((entry) => entry.cover !== 'no');
      if (round > 0) {
        if (!correct) cover = rng.next() < VC_SAFE_MISTAKE ? 'yes' : allYes ? 'no' : cover;
        else if (cover === 'no')
          cover = their.some((entry) => entry.cover === 'no' && (agreed ? entry.name < me : rng.next() < 0.7)) ? 'yes' : 'no';
        // Without the shared rule an agent steps down only now and then (and may collide with a neighbour doing the same).
        else if (allYes && (agreed ? their.every((entry) => entry.fixed || me < entry.name) : rng.next() < 0.25)) cover = 'no';
      }
      self.set('cover', cover).set('status', cover === 'yes' && their.some((entry) => entry.cover === 'no') ? 'fixed' : 'open');
      answer = cover === 'yes' ? 'Yes' : 'No';
      note = `Coordinator: ${cover}.`;
      break;
    }
  }
  Object.assign(raw, { correct, agreed, adopted: adopted.length });
  if (agreed) note += ' (strategy: priority)';
  if (final) {
    // Stating one option out of many (a group among k, a partner's name) slips more often than Yes/No.
    const options = ctx.task === 'coloring' ? ctx.groups : ctx.task === 'matching' ? neighbours.length + 1 : 2;
    const pAnswer = sigmoid(a * (skill + FORMAT_EASE - load - OPTION_LOAD * Math.log(options / 2)));
    return finalAnswer(input, rng, pAnswer, answer ?? 'None', note, raw);
  }
  return messagesOut(input, ctx, rng, { p, pFormat, self, beliefs, adopted, flags, agreed, note, raw });
}

interface Outgoing {
  p: number;
  pFormat: number;
  self: Kv;
  beliefs: Map<string, { value: string; from: string }>;
  adopted: Claim[];
  flags: Array<Claim & { from: string; reason: string }>;
  agreed: boolean;
  note: string;
  raw: Record<string, unknown>;
}

function messagesOut(input: AgentsNetDraftInput, ctx: Ctx, rng: Rng, out: Outgoing): AgentsNetDraft {
  const me = ctx.name;
  const claims: Claim[] = [...out.self].map(([key, value]) => ({ about: me, key, value }));
  if (out.agreed && rng.next() < input.profile.agentPolicy.strategyAnnouncement)
    claims.push({ about: '*', key: 'strategy', value: 'priority' });
  // Relays say what the agent believes about the neighbours it decides by: relayed beliefs it adopted first
  // (that is how adoption shows), then what neighbours said of themselves; gossip about others last.
  const relays: Claim[] = [];
  const candidates = [...out.beliefs].map(([slot, { value, from }]) => {
    const [about, key] = slot.split('\u0000') as [string, string];
    return { about, key, value, from, rank: ctx.neighbours.includes(about) ? (from !== about ? 0 : 1) : 2 };
  });
  candidates.sort((x, y) => x.rank - y.rank);
  for (const { about, key, value, from } of candidates) {
    if (relays.length >= MAX_RELAYS) break;
    if (about !== me && about !== '*' && key !== 'status') relays.push({ about, key, value, from });
  }
  let garbled = 0;
  for (const relay of relays) {
    if (rng.next() < (1 - out.p) * GARBLE_SHARE) {
      relay.value = garble(relay, ctx, rng);
      garbled++;
    }
  }
  const leader = out.self.get('leader');
  if (leader !== undefined) {
    // The leader belief is a network-wide claim; only its holder's own name is an observation.
    const own = claims.find((claim) => claim.key === 'leader')!;
    own.about = '*';
    if (leader !== me)
      own.from = ctx.neighbours.includes(leader)
        ? leader
        : (out.adopted.find((claim) => claim.key === 'leader' && claim.value === leader)?.from ?? ctx.neighbours[0]!);
  }
  const all = [...claims, ...relays];
  let body: string;
  if (ctx.protocol === 'verified') {
    const structured = all.map((claim) => ({
      about: claim.about,
      key: claim.key,
      value: claim.value,
      ...(claim.from !== undefined && claim.about !== me ? { source: 'relayed', from: claim.from } : { source: 'observed' }),
    }));
    body = JSON.stringify(out.flags.length > 0 ? { claims: structured, flags: out.flags.slice(0, 8) } : { claims: structured });
  } else {
    const text = all.map((claim) => `${claim.about}:${claim.key}=${claim.value}`).join('; ');
    body = JSON.stringify(Object.fromEntries(ctx.neighbours.map((name) => [name, text])));
  }
  Object.assign(out.raw, { garbled, relays: relays.length });
  if (rng.next() >= out.pFormat) {
    // A plausible format slip: a misspelt recipient (plain) or a claim without provenance (verifying).
    body =
      ctx.protocol === 'verified'
        ? body.replace('"source":"relayed",', '').replace('"source":"observed"', '"source":"seen"')
        : body.replace(`"${ctx.neighbours[0]}"`, `"${ctx.neighbours[0]}x"`);
    out.raw['formatSlip'] = true;
  }
  const extra = ctx.protocol === 'verified' ? 12 * all.length : 0;
  return finish(input, `[simulated] ${out.note}\n${body}`, extra, out.raw);
}

function garble(claim: Claim, ctx: Ctx, rng: Rng): string {
  switch (claim.key) {
    case 'group':
      return String(1 + rng.int(Math.max(1, ctx.groups)));
    case 'cover':
      return claim.value === 'yes' ? 'no' : 'yes';
    case 'value':
      return claim.value === '1' ? '0' : '1';
    case 'partner':
    case 'propose':
      return claim.value === 'none' ? rng.pick(ctx.neighbours) : 'none';
    default:
      return claim.value;
  }
}

function finalAnswer(
  input: AgentsNetDraftInput,
  rng: Rng,
  pFormat: number,
  answer: string,
  note: string,
  raw: Record<string, unknown>,
): AgentsNetDraft {
  // A slip at the final line: the answer without the required '### Final Answer ###' marker.
  const slip = rng.next() >= pFormat;
  const line = slip ? `My answer: ${answer}` : `### Final Answer ### ${answer}`;
  return finish(input, `[simulated] ${note}\n${line}`, 0, { ...raw, answer, formatSlip: slip });
}

function finish(input: AgentsNetDraftInput, text: string, extraTokens: number, raw: Record<string, unknown>): AgentsNetDraft {
  const { profile, rng, effort } = input;
  const planned = Math.max(16, Math.round(profile.verbosity * effort * Math.exp(0.25 * rng.normal())) + extraTokens);
  if (planned > input.maxOutputTokens) {
    return {
      text: text.slice(0, Math.floor(text.length / 2)),
      outputTokens: input.maxOutputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, truncated: 'maxOutputTokens' },
    };
  }
  return { text, outputTokens: planned, finishReason: 'stop', confidence: 0.5, raw };
}
