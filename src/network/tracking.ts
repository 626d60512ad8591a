/**
 * What the network runtime measures about the information flow, from the claims alone (so it works for
 * any model that writes claims, real or simulated):
 *
 * - **wrong claims**: a relayed claim is wrong when, at the moment it is delivered, it disagrees with what
 *   its subject is saying about itself in the same round (stale or garbled), names an agent that does not
 *   exist, or fails the task's own test for network-wide claims (a leader candidate nobody is called);
 * - **adoption**: an agent adopted a wrong claim when its next message asserts, as its belief, a claim that
 *   had just reached it wrong (from the neighbour it names as the source, when it names one), and it keeps
 *   holding it while it asserts it and it stays wrong;
 * - **rounds to agreement**: the number of message rounds until every agent's decision (the task's decision
 *   key, e.g. its group) stopped changing.
 */
import { claimSignature, type Claim } from './claims.ts';

export interface DecisionKey {
  /** `self`: the agent's claim about itself (`Ann:group`); `*`: its network-wide claim (`*:leader`). */
  about: 'self' | '*';
  key: string;
}

export interface TrackerOptions {
  names: readonly string[];
  /** Neighbour names per agent (index-aligned with `names`). */
  neighbours: ReadonlyArray<readonly string[]>;
  decision?: DecisionKey;
  /** Truth of a network-wide (`*`) claim; undefined when such a claim cannot be wrong. */
  networkClaimTruth?: (claim: Claim, names: ReadonlySet<string>) => boolean | undefined;
}

export class ClaimTracker {
  private readonly names: readonly string[];
  private readonly nameSet: ReadonlySet<string>;
  private readonly indexOf: ReadonlyMap<string, number>;
  private readonly options: TrackerOptions;
  /** Each agent's latest self-claims (key → value): the ground truth relayed claims are judged against. */
  private readonly latestSelf: Array<Map<string, string>>;
  /** Wrong claims in each agent's latest delivery: signature → senders. */
  private wrongInbox: Array<Map<string, Set<string>>>;
  /** Wrong claims each agent currently holds (asserted, received wrong). */
  private readonly held: Array<Set<string>>;
  private readonly decisions: Array<string | undefined>;
  private readonly heldWrong: boolean[];
  private readonly neighbours: ReadonlyArray<ReadonlySet<string>>;
  private lastDecisionChange = -1;
  private sawDecision = false;
  wrongClaimsDelivered = 0;
  relayedClaimsDelivered = 0;
  adoptions = 0;

  constructor(options: TrackerOptions) {
    this.options = options;
    this.names = options.names;
    this.nameSet = new Set(options.names);
    this.indexOf = new Map(options.names.map((name, index) => [name, index]));
    this.latestSelf = options.names.map(() => new Map<string, string>());
    this.wrongInbox = options.names.map(() => new Map<string, Set<string>>());
    this.held = options.names.map(() => new Set());
    this.decisions = options.names.map(() => undefined);
    this.heldWrong = options.names.map(() => false);
    this.neighbours = options.neighbours.map((list) => new Set(list));
  }

  /**
   * Records round `round`'s outgoing beliefs (agent index → the claims it asserted; undefined when it sent
   * nothing, which keeps its previous state). Call before `delivered` for the same round.
   */
  sent(round: number, outgoing: ReadonlyArray<readonly Claim[] | undefined>): void {
    outgoing.forEach((claims, agent) => {
      if (claims === undefined) return;
      const name = this.names[agent]!;
      // Wrong by what the agent could know: the subjects' claims of the previous round (judged before this
      // round's are recorded, so relaying a neighbour's last state is not counted against it). Only claims
      // about what the agent decides on count: its neighbours, or the network as a whole.
      const neighbours = this.neighbours[agent]!;
      const inbox = this.wrongInbox[agent]!;
      const before = this.held[agent]!;
      const now = new Set<string>();
      for (const claim of claims) {
        if (claim.about === name || (claim.about !== '*' && !neighbours.has(claim.about))) continue;
        const signature = claimSignature(claim);
        const senders = inbox.get(signature);
        const justReceived = senders !== undefined && (claim.from === undefined || claim.from === name || senders.has(claim.from));
        if ((justReceived || before.has(signature)) && this.isWrong(claim)) now.add(signature);
      }
      if (now.size > 0 && before.size === 0) this.adoptions++;
      this.held[agent] = now;
      this.heldWrong[agent] = now.size > 0;
      const decision = this.decisionOf(name, claims);
      if (decision !== undefined) {
        this.sawDecision = true;
        // First statements count as changes too: agreement is reached when the last decision settled.
        if (this.decisions[agent] !== decision) this.lastDecisionChange = round;
        this.decisions[agent] = decision;
      }
    });
    // Then this round's self-claims: the truth the claims delivered next are judged against (a relay of an
    // older state is stale, i.e. wrong, by the time it arrives).
    outgoing.forEach((claims, agent) => {
      const name = this.names[agent]!;
      for (const claim of claims ?? []) if (claim.about === name) this.latestSelf[agent]!.set(claim.key, claim.value);
    });
    this.wrongInbox = this.names.map(() => new Map<string, Set<string>>());
  }

  /** Records that `recipient` received `claims` from `sender` (judged against the subjects' latest self-claims). */
  delivered(recipient: number, sender: string, claims: readonly Claim[]): void {
    for (const claim of claims) {
      if (claim.about === sender) continue;
      this.relayedClaimsDelivered++;
      if (this.isWrong(claim)) {
        this.wrongClaimsDelivered++;
        const signature = claimSignature(claim);
        const inbox = this.wrongInbox[recipient]!;
        const senders = inbox.get(signature);
        if (senders) senders.add(sender);
        else inbox.set(signature, new Set([sender]));
      }
    }
  }

  isWrong(claim: Claim): boolean {
    if (claim.about === '*') return this.options.networkClaimTruth?.(claim, this.nameSet) === false;
    const subject = this.indexOf.get(claim.about);
    if (subject === undefined) return true;
    const truth = this.latestSelf[subject]!.get(claim.key);
    return truth !== undefined && truth !== claim.value;
  }

  /** Whether each agent's latest message still asserted a claim that had reached it wrong. */
  holdsWrongClaim(): readonly boolean[] {
    return this.heldWrong;
  }

  /** Message rounds until decisions stopped changing; null when no agent ever stated a decision. */
  roundsToAgreement(): number | null {
    if (!this.sawDecision) return null;
    return this.lastDecisionChange + 1;
  }

  private decisionOf(name: string, claims: readonly Claim[]): string | undefined {
    const key = this.options.decision;
    if (!key) return undefined;
    const about = key.about === 'self' ? name : '*';
    for (const claim of claims) if (claim.about === about && claim.key === key.key) return claim.value;
    return undefined;
  }
}
