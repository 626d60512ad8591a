/**
 * runNetwork — agents on a graph, talking only to their neighbours in synchronous rounds (the LOCAL model
 * of distributed computing, as AgentsNet uses it).
 *
 *   call 0: every agent writes its first messages
 *   calls 1..R−1: each reads what its neighbours sent in the previous round (and who was silent), writes anew
 *   call R: reads the last delivery and gives its final answer from an explicit valid set
 *
 * So R deliveries and R+1 calls per agent. Each agent keeps one chat (persistent history, prompt ~R²
 * tokens over a run) or, as a separate configuration, a pruned one: system prompt, its introduction and
 * first reply, and only the last few rounds. Messages are JSON (plain: `{neighbour: text}`; verifying
 * protocol: claims with provenance, cross-checked on delivery — see claims.ts); an invalid message gets one
 * retry with the problem spelled out, then the agent sends nothing that round. The final answer gets one
 * retry, then it is null (the reference's `None`).
 *
 * Budget: every call runs under the caller's budget through a child budget per agent (equal slices of the
 * parent's headroom unless limits are given) and carries the spend tag agent=<name>. An agent whose budget
 * is exhausted falls silent and answers null; the runtime itself never throws for budgets. Calls of a round
 * run concurrently (bounded); everything random lives in the models, so with `sim:` a run is reproducible.
 */
import pLimit from 'p-limit';
import { BudgetExhaustedError, CancelledError, ThicketError, addUsd } from '../core/index.ts';
import type { Budget, BudgetLimits } from '../budget/index.ts';
import type { CallRecorder, CallResult, ChatMessage, Fleet } from '../models/index.ts';
import { checkInbox, formatClaim, scanClaims, type Claim, type Flag } from './claims.ts';
import type { AgentGraph } from './graph.ts';
import { parseFinalAnswer, parsePlainMessages, parseVerifiedMessages } from './messages.ts';
import { ClaimTracker, type TrackerOptions } from './tracking.ts';

export type NetworkProtocol = 'plain' | 'verified';
export type HistoryMode = { kind: 'persistent' } | { kind: 'pruned'; keepRounds: number };

export interface AgentInfo {
  index: number;
  name: string;
  neighbours: readonly string[];
  model: string;
}

/** What an agent received in one delivery, ready for its prompt. */
export interface InboxView {
  /** JSON: sender → text (plain) or sender → checked claims in notation (verifying protocol). */
  json: string;
  /** Neighbours who sent this agent nothing. */
  silent: string[];
  /** Verifying protocol: neighbours' disputes of claims this agent sent. */
  flags: string[];
}

export interface NetworkPrompts {
  /** Identical strings across agents are counted and hashed once, so share what can be shared. */
  system(agent: AgentInfo): string;
  intro(agent: AgentInfo): string;
  round(agent: AgentInfo, round: number, inbox: InboxView): string;
  final(agent: AgentInfo, inbox: InboxView): string;
  validAnswers(agent: AgentInfo): readonly string[];
}

export interface NetworkProgress {
  round: number;
  rounds: number;
  calls: number;
}

export interface NetworkRunOptions {
  fleet: Fleet;
  budget: Budget;
  graph: AgentGraph;
  names: readonly string[];
  /** One model reference for every agent, or one per node (mixed fleets). */
  model: string | readonly string[];
  /** R: message deliveries (R+1 calls per agent). */
  rounds: number;
  prompts: NetworkPrompts;
  protocol?: NetworkProtocol;
  history?: HistoryMode;
  /** Prefix of every call's step id; must be unique within the journal run (resume replays by it). */
  stepId: string;
  /** The `purpose` tag models see (the simulated fleet acts on `agentsnet`). */
  purpose?: string;
  operator?: string;
  maxOutputTokens?: number;
  temperature?: number;
  /** Concurrent calls per round (default 64). */
  concurrency?: number;
  /** Per-agent limits; default: an equal slice of the budget's headroom per additive dimension. */
  agentBudget?: BudgetLimits;
  recorder?: CallRecorder;
  signal?: AbortSignal;
  tracking?: Omit<TrackerOptions, 'names' | 'neighbours'>;
  onProgress?: (progress: NetworkProgress) => void;
}

export interface NetworkRunResult {
  names: string[];
  answers: Array<string | null>;
  rounds: number;
  protocol: NetworkProtocol;
  history: string;
  calls: number;
  replayedCalls: number;
  simulated: boolean;
  usage: { inputTokens: number; outputTokens: number; usd: number };
  messagesDelivered: number;
  messageRetries: number;
  /** Rounds in which an agent sent nothing because its message stayed invalid after the retry. */
  messageFailures: number;
  answerRetries: number;
  answerFailures: number;
  /** Calls that failed for good (provider errors after the fleet's retries, context overflow). */
  callErrors: number;
  budgetExhaustedAgents: string[];
  flagsRaised: number;
  wrongClaimsDelivered: number;
  relayedClaimsDelivered: number;
  /** Per agent: its last message still asserted a claim that had reached it wrong. */
  heldWrongClaim: boolean[];
  roundsToAgreement: number | null;
}

interface Agent extends AgentInfo {
  /** One object for the whole run: what stays in a chat keeps its identity, so per-message caches hit. */
  system: ChatMessage;
  neighbourSet: ReadonlySet<string>;
  budget: Budget;
  exchanges: ChatMessage[][];
  exhausted: boolean;
  /** Its own latest self-claims (key → value), for checking what others say about it. */
  own: Map<string, string>;
}

interface Outgoing {
  /** Recipient → claims it receives. */
  claims: Map<string, Claim[]>;
  /** Recipient → raw text (plain protocol). */
  texts: Map<string, string>;
  /** Everything the sender asserted this round (its stated beliefs). */
  beliefs: Claim[];
  flags: Flag[];
}

type TurnOutcome<T> = { kind: 'ok'; value: T } | { kind: 'no-reply' } | { kind: 'invalid' };

// Chain of thought plus JSON; reasoning models think for a thousand tokens or more per round.
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
const DIMENSIONS = ['inputTokens', 'outputTokens', 'totalTokens', 'usd', 'calls'] as const;

export async function runNetwork(options: NetworkRunOptions): Promise<NetworkRunResult> {
  return new NetworkRun(options).run();
}

class NetworkRun {
  private readonly options: NetworkRunOptions;
  private readonly agents: Agent[];
  private readonly protocol: NetworkProtocol;
  private readonly history: HistoryMode;
  private readonly tracker: ClaimTracker;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly result: NetworkRunResult;
  private allSimulated = true;

  constructor(options: NetworkRunOptions) {
    const { graph, names } = options;
    if (names.length !== graph.nodeCount || new Set(names).size !== names.length)
      throw new RangeError('names must be unique, one per node');
    if (!Number.isInteger(options.rounds) || options.rounds < 1)
      throw new RangeError(`rounds must be a positive integer, got ${options.rounds}`);
    this.options = options;
    this.protocol = options.protocol ?? 'plain';
    this.history = options.history ?? { kind: 'persistent' };
    this.limit = pLimit(options.concurrency ?? 64);
    const slice = options.agentBudget ?? equalShare(options.budget, graph.nodeCount);
    this.agents = names.map((name, index) => {
      const model = typeof options.model === 'string' ? options.model : options.model[index];
      if (model === undefined) throw new RangeError(`no model for agent ${index}`);
      const neighbours = graph.adjacency[index]!.map((other) => names[other]!);
      const info: AgentInfo = { index, name, neighbours, model };
      return {
        ...info,
        system: { role: 'system', content: options.prompts.system(info) },
        neighbourSet: new Set(neighbours),
        budget: options.budget.child(`agent-${name}`, { limits: slice }),
        exchanges: [],
        exhausted: false,
        own: new Map(),
      };
    });
    this.tracker = new ClaimTracker({ names, neighbours: this.agents.map((agent) => agent.neighbours), ...options.tracking });
    this.result = {
      names: [...names],
      answers: names.map(() => null),
      rounds: options.rounds,
      protocol: this.protocol,
      history: this.history.kind === 'persistent' ? 'persistent' : `pruned-${this.history.keepRounds}`,
      calls: 0,
      replayedCalls: 0,
      simulated: true,
      usage: { inputTokens: 0, outputTokens: 0, usd: 0 },
      messagesDelivered: 0,
      messageRetries: 0,
      messageFailures: 0,
      answerRetries: 0,
      answerFailures: 0,
      callErrors: 0,
      budgetExhaustedAgents: [],
      flagsRaised: 0,
      wrongClaimsDelivered: 0,
      relayedClaimsDelivered: 0,
      heldWrongClaim: [],
      roundsToAgreement: null,
    };
  }

  async run(): Promise<NetworkRunResult> {
    const { prompts, rounds } = this.options;
    let inboxes: InboxView[] = this.agents.map(() => ({ json: '{}', silent: [], flags: [] }));
    for (let round = 0; round < rounds; round++) {
      const current = inboxes;
      const outgoing = await Promise.all(
        this.agents.map((agent) =>
          this.limit(() =>
            this.messageTurn(agent, round, round === 0 ? prompts.intro(agent) : prompts.round(agent, round, current[agent.index]!)),
          ),
        ),
      );
      inboxes = this.deliver(round, outgoing);
      this.options.onProgress?.({ round: round + 1, rounds: rounds + 1, calls: this.result.calls });
    }
    const finalInboxes = inboxes;
    await Promise.all(
      this.agents.map((agent) => this.limit(() => this.answerTurn(agent, prompts.final(agent, finalInboxes[agent.index]!)))),
    );
    this.options.onProgress?.({ round: rounds + 1, rounds: rounds + 1, calls: this.result.calls });
    const result = this.result;
    result.simulated = this.allSimulated && result.calls > 0;
    result.budgetExhaustedAgents = this.agents.filter((agent) => agent.exhausted).map((agent) => agent.name);
    result.wrongClaimsDelivered = this.tracker.wrongClaimsDelivered;
    result.relayedClaimsDelivered = this.tracker.relayedClaimsDelivered;
    result.heldWrongClaim = [...this.tracker.holdsWrongClaim()];
    result.roundsToAgreement = this.tracker.roundsToAgreement();
    return result;
  }

  /** One message round for one agent: call, validate, one retry with the problem, else silence. */
  private async messageTurn(agent: Agent, round: number, prompt: string): Promise<Outgoing | undefined> {
    const exchange: ChatMessage[] = [{ role: 'user', content: prompt }];
    const parse = (text: string) => this.parseOutgoing(agent, text);
    const reply = await this.turn(
      agent,
      exchange,
      `r${round}`,
      parse,
      (problem) =>
        `Your messages could not be parsed (${problem}). Please check your response and try again: output your messages as JSON, as specified.`,
    );
    if (reply.kind === 'invalid') this.result.messageFailures++;
    return reply.kind === 'ok' ? reply.value : undefined;
  }

  private async answerTurn(agent: Agent, prompt: string): Promise<void> {
    const valid = this.options.prompts.validAnswers(agent);
    const exchange: ChatMessage[] = [{ role: 'user', content: prompt }];
    const reply = await this.turn(
      agent,
      exchange,
      'final',
      (text) => parseFinalAnswer(text, valid),
      (problem) =>
        `Your answer could not be parsed (${problem}). Please check your answer and try again: '### Final Answer ###' followed by ` +
        `exactly one of: ${valid.join(', ')}.`,
    );
    if (reply.kind === 'invalid') this.result.answerFailures++;
    if (reply.kind === 'ok') this.result.answers[agent.index] = reply.value;
  }

  /**
   * Call → parse → (one retry) → result. The exchange (prompt, reply, retry notice, retry reply) joins the
   * agent's history whenever the model answered at all, as it would in a real chat.
   */
  private async turn<T>(
    agent: Agent,
    exchange: ChatMessage[],
    step: string,
    parse: (text: string) => { ok: true; value: T } | { ok: false; problem: string },
    retryPrompt: (problem: string) => string,
  ): Promise<TurnOutcome<T>> {
    const first = await this.call(agent, exchange, step);
    if (!first) return { kind: 'no-reply' };
    exchange.push({ role: 'assistant', content: first.text });
    let parsed = parse(first.text);
    if (!parsed.ok) {
      if (step === 'final') this.result.answerRetries++;
      else this.result.messageRetries++;
      exchange.push({ role: 'user', content: retryPrompt(parsed.problem) });
      const second = await this.call(agent, exchange, `${step}/retry`);
      if (second) {
        exchange.push({ role: 'assistant', content: second.text });
        parsed = parse(second.text);
      } else exchange.pop();
    }
    agent.exchanges.push(exchange);
    return parsed.ok ? { kind: 'ok', value: parsed.value } : { kind: 'invalid' };
  }

  private messagesFor(agent: Agent, exchange: readonly ChatMessage[]): ChatMessage[] {
    const system = agent.system;
    const past = agent.exchanges;
    if (this.history.kind === 'persistent' || past.length <= this.history.keepRounds + 1) return [system, ...past.flat(), ...exchange];
    // Pruned: the introduction and first reply stay (who the agent is, what it set out to do), then the
    // last few rounds — role alternation stays intact, which some chat templates require.
    return [system, ...past[0]!, ...past.slice(-this.history.keepRounds).flat(), ...exchange];
  }

  private async call(agent: Agent, exchange: readonly ChatMessage[], step: string): Promise<CallResult | undefined> {
    if (agent.exhausted) return undefined;
    const { fleet, stepId, recorder, signal } = this.options;
    const operator = this.options.operator ?? 'network';
    try {
      const result = await fleet.call(
        agent.model,
        {
          messages: this.messagesFor(agent, exchange),
          maxOutputTokens: this.options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
          metadata: {
            stepId: `${stepId}/${agent.name}/${step}`,
            tags: { purpose: this.options.purpose ?? 'network', operator, axis: 'agents', agent: agent.name },
          },
        },
        {
          budget: agent.budget,
          tags: { operator, axis: 'agents', agent: agent.name },
          ...(recorder ? { recorder } : {}),
          ...(signal ? { signal } : {}),
        },
      );
      this.result.calls++;
      if (result.replayed) this.result.replayedCalls++;
      if (!result.simulated) this.allSimulated = false;
      this.result.usage.inputTokens += result.billed.inputTokens;
      this.result.usage.outputTokens += result.billed.outputTokens;
      this.result.usage.usd = addUsd(this.result.usage.usd, result.billed.usd);
      return result;
    } catch (error) {
      if (error instanceof BudgetExhaustedError) {
        agent.exhausted = true;
        return undefined;
      }
      if (error instanceof CancelledError || signal?.aborted) throw error;
      if (ThicketError.isInstance(error)) {
        this.result.callErrors++;
        return undefined;
      }
      throw error;
    }
  }

  private parseOutgoing(agent: Agent, text: string): { ok: true; value: Outgoing } | { ok: false; problem: string } {
    if (this.protocol === 'plain') {
      const parsed = parsePlainMessages(text, agent.neighbourSet);
      if (!parsed.ok) return parsed;
      const claims = new Map<string, Claim[]>();
      const seen = new Map<string, Claim[]>();
      const beliefs = new Map<string, Claim>();
      for (const [recipient, body] of parsed.value) {
        let scanned = seen.get(body);
        if (!scanned) seen.set(body, (scanned = scanClaims(body, agent.name)));
        claims.set(recipient, scanned);
        for (const claim of scanned) beliefs.set(`${claim.about}\u0000${claim.key}`, claim);
      }
      return { ok: true, value: { claims, texts: parsed.value, beliefs: [...beliefs.values()], flags: [] } };
    }
    const parsed = parseVerifiedMessages(text, agent.name, agent.neighbourSet);
    if (!parsed.ok) return parsed;
    const { broadcast, to, flags } = parsed.value;
    const claims = new Map<string, Claim[]>();
    for (const neighbour of agent.neighbours) claims.set(neighbour, [...broadcast, ...(to.get(neighbour) ?? [])]);
    return { ok: true, value: { claims, texts: new Map(), beliefs: [...broadcast, ...[...to.values()].flat()], flags } };
  }

  /** Hands round `round`'s messages to their recipients and builds each agent's next inbox. */
  private deliver(round: number, outgoing: ReadonlyArray<Outgoing | undefined>): InboxView[] {
    this.tracker.sent(
      round,
      outgoing.map((message) => message?.beliefs),
    );
    outgoing.forEach((message, index) => {
      if (!message) return;
      const own = this.agents[index]!.own;
      for (const claim of message.beliefs) if (claim.about === this.agents[index]!.name) own.set(claim.key, claim.value);
    });
    const flagsFor = new Map<string, string[]>();
    if (this.protocol === 'verified') {
      outgoing.forEach((message, index) => {
        for (const flag of message?.flags ?? []) {
          this.result.flagsRaised++;
          const text = `${this.agents[index]!.name} disputes your ${formatClaim(flag)}${flag.reason ? ` (${flag.reason})` : ''}`;
          const list = flagsFor.get(flag.from);
          if (list) list.push(text);
          else flagsFor.set(flag.from, [text]);
        }
      });
    }
    return this.agents.map((agent) => {
      const silent: string[] = [];
      const received = new Map<string, Claim[]>();
      const texts: Record<string, string> = {};
      for (const senderIndex of this.options.graph.adjacency[agent.index]!) {
        const sender = this.agents[senderIndex]!.name;
        const message = outgoing[senderIndex];
        const claims = message?.claims.get(agent.name);
        if (!message || !claims) {
          silent.push(sender);
          continue;
        }
        this.result.messagesDelivered++;
        received.set(sender, claims);
        this.tracker.delivered(agent.index, sender, claims);
        if (this.protocol === 'plain') texts[sender] = message.texts.get(agent.name)!;
      }
      if (this.protocol === 'plain') return { json: JSON.stringify(texts), silent, flags: [] };
      const checked = checkInbox({ name: agent.name, neighbours: agent.neighbourSet, own: agent.own }, received);
      const rendered: Record<string, string[]> = {};
      for (const entry of checked) (rendered[entry.sender] ??= []).push(formatClaim(entry.claim, entry.check, entry.reason));
      return { json: JSON.stringify(rendered), silent, flags: flagsFor.get(agent.name) ?? [] };
    });
  }
}

/**
 * An equal share of a budget's current headroom per additive dimension, for one of `parts` children. Seconds
 * are left out on purpose: a deadline is shared wall-clock time, which children inherit whole.
 */
export function equalShare(budget: Budget, parts: number): BudgetLimits {
  const room = budget.remaining();
  const limits: BudgetLimits = {};
  for (const dimension of DIMENSIONS) {
    const value = room[dimension];
    if (Number.isFinite(value)) limits[dimension] = dimension === 'usd' ? value / parts : Math.floor(value / parts);
  }
  return limits;
}
