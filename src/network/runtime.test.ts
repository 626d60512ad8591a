/** runNetwork with scripted models: rounds, locality, validation and retries, history modes, budgets, mixed fleets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../budget/index.ts';
import type { GenerateRequest } from '../models/index.ts';
import { graphFromEdges } from './graph.ts';
import { runNetwork, type NetworkPrompts, type NetworkRunOptions } from './runtime.ts';
import { ScriptedProvider, scriptedFleet, type Script } from './testing/harness.ts';

// Ann — Bob — Cat (a path): Ann and Cat never hear each other directly.
const path = graphFromEdges(3, [
  [0, 1],
  [1, 2],
]);
const names = ['Ann', 'Bob', 'Cat'];

const prompts: NetworkPrompts = {
  system: () => 'You are an agent.',
  intro: (agent) => `I am ${agent.name}; neighbours ${agent.neighbours.join(',')}. First messages?`,
  round: (_agent, round, inbox) =>
    `Round ${round}. Inbox: ${inbox.json}${inbox.silent.length ? ` Silent: ${inbox.silent.join(',')}` : ''}` +
    `${inbox.flags.length ? ` Flags: ${inbox.flags.join('|')}` : ''}`,
  final: (_agent, inbox) =>
    `Done. Inbox: ${inbox.json}${inbox.silent.length ? ` Silent: ${inbox.silent.join(',')}` : ''}` +
    `${inbox.flags.length ? ` Flags: ${inbox.flags.join('|')}` : ''} Answer?`,
  validAnswers: () => ['Yes', 'No'],
};

/** Every agent greets its neighbours by round and answers Yes. */
const polite: Script = (_request, agent, step) => {
  if (step.startsWith('final')) return '### Final Answer ### Yes';
  const neighbours = names.filter((_, index) => path.adjacency[names.indexOf(agent)]!.includes(index));
  return JSON.stringify(Object.fromEntries(neighbours.map((name) => [name, `${agent}:said=${step}`])));
};

const lastUser = (request: GenerateRequest): string => [...request.messages].reverse().find((message) => message.role === 'user')!.content;

function options(
  script: Script,
  extra: Partial<NetworkRunOptions> = {},
): { provider: ScriptedProvider; run: () => ReturnType<typeof runNetwork>; ledger: Ledger } {
  const provider = new ScriptedProvider(script);
  const fleet = scriptedFleet({ test: provider });
  const ledger = new Ledger({ clock: fleet.clock });
  return {
    provider,
    ledger,
    run: () => runNetwork({ fleet, budget: ledger.root, graph: path, names, model: 'test', rounds: 2, prompts, stepId: 'net', ...extra }),
  };
}

describe('runNetwork rounds', () => {
  it('makes R+1 calls per agent, delivers only along edges, and collects answers', async () => {
    const { provider, run } = options(polite);
    const result = await run();
    assert.equal(result.calls, 9);
    assert.equal(provider.requests.length, 9);
    assert.deepEqual(result.answers, ['Yes', 'Yes', 'Yes']);
    assert.equal(result.messagesDelivered, 8, '4 directed edges × 2 deliveries');
    const final = (agent: string): string =>
      lastUser(provider.requests.find((request) => request.metadata?.stepId === `net/${agent}/final`)!);
    assert.equal(final('Ann'), 'Done. Inbox: {"Bob":"Bob:said=r1"} Answer?');
    assert.equal(final('Bob'), 'Done. Inbox: {"Ann":"Ann:said=r1","Cat":"Cat:said=r1"} Answer?');
    const round1 = lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Cat/r1')!);
    assert.equal(round1, 'Round 1. Inbox: {"Bob":"Bob:said=r0"}');
    assert.equal(result.roundsToAgreement, null, 'no decision key configured');
    assert.equal(result.simulated, false);
  });

  it('tags every call with the agent and spends from a child budget per agent', async () => {
    const { ledger, run } = options(polite);
    await run();
    const report = ledger.report();
    assert.deepEqual(Object.keys(report.byAgent), ['Ann', 'Bob', 'Cat']);
    for (const line of Object.values(report.byAgent)) assert.equal(line.calls, 3);
    assert.deepEqual(Object.keys(report.byBudget).sort(), ['run', 'run/agent-Ann', 'run/agent-Bob', 'run/agent-Cat']);
  });
});

describe('validation and retries', () => {
  it('retries an invalid message once with the problem, then falls silent for the round', async () => {
    const script: Script = (request, agent, step) => {
      if (agent === 'Ann' && step === 'r0') return '{"Bobby": "hello"}';
      if (agent === 'Bob' && step.startsWith('r1')) return 'I refuse to write JSON.';
      return polite(request, agent, step);
    };
    const { provider, run } = options(script);
    const result = await run();
    assert.equal(result.messageRetries, 2);
    assert.equal(result.messageFailures, 1);
    const annRetry = provider.requests.find((request) => request.metadata?.stepId === 'net/Ann/r0/retry')!;
    assert.match(lastUser(annRetry), /unknown recipient Bobby \(your neighbours are Bob\)/);
    assert.deepEqual(
      annRetry.messages.map((message) => message.role),
      ['system', 'user', 'assistant', 'user'],
    );
    // Ann's retry was valid, so Bob heard it; Bob stayed invalid after his retry, so round 2 heard nothing from him.
    assert.equal(
      lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Bob/r1')!),
      'Round 1. Inbox: {"Ann":"Ann:said=r0/retry","Cat":"Cat:said=r0"}',
    );
    assert.match(lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Cat/final')!), /Inbox: \{\} Silent: Bob/);
    assert.equal(result.calls, 11);
  });

  it('retries a final answer once, then records null', async () => {
    const script: Script = (request, agent, step) => {
      if (step === 'final' && agent !== 'Bob') return 'Yes, I think.';
      if (step === 'final/retry' && agent === 'Cat') return '### Final Answer ### No';
      if (step === 'final/retry') return 'Still thinking.';
      return polite(request, agent, step);
    };
    const { provider, run } = options(script);
    const result = await run();
    assert.deepEqual(result.answers, [null, 'Yes', 'No']);
    assert.equal(result.answerRetries, 2);
    assert.equal(result.answerFailures, 1);
    assert.match(
      lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Cat/final/retry')!),
      /no '### Final Answer ###' line.*exactly one of: Yes, No/,
    );
  });
});

describe('history', () => {
  const rolesAt = (provider: ScriptedProvider, step: string): string[] =>
    provider.requests.find((request) => request.metadata?.stepId === step)!.messages.map((message) => message.role);
  it('persistent: the whole chat, growing each round', async () => {
    const { provider, run } = options(polite, { rounds: 4 });
    await run();
    assert.equal(rolesAt(provider, 'net/Ann/r0').length, 2);
    assert.equal(rolesAt(provider, 'net/Ann/r2').length, 6);
    assert.equal(rolesAt(provider, 'net/Ann/final').length, 10);
  });
  it('pruned: system, introduction and first reply, then only the last rounds', async () => {
    const { provider, run } = options(polite, { rounds: 4, history: { kind: 'pruned', keepRounds: 1 } });
    const result = await run();
    assert.equal(result.history, 'pruned-1');
    assert.deepEqual(rolesAt(provider, 'net/Ann/final'), ['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    const final = provider.requests.find((request) => request.metadata?.stepId === 'net/Ann/final')!;
    assert.match(final.messages[1]!.content, /^I am Ann/);
    assert.match(final.messages[3]!.content, /^Round 3\./);
  });
});

describe('budgets', () => {
  it('never lets an agent spend past its slice, and never throws for it', async () => {
    const { ledger, run } = options(polite, { agentBudget: { calls: 2 } });
    const result = await run();
    assert.deepEqual(result.answers, [null, null, null]);
    assert.deepEqual(result.budgetExhaustedAgents, ['Ann', 'Bob', 'Cat']);
    for (const line of Object.values(ledger.report().byAgent)) assert.equal(line.calls, 2);
  });

  it('splits the parent budget into equal slices by default and keeps each agent within its own', async () => {
    const provider = new ScriptedProvider(polite);
    const fleet = scriptedFleet({ test: provider });
    const ledger = new Ledger({ clock: fleet.clock, limits: { totalTokens: 450, usd: 1 } });
    const result = await runNetwork({ fleet, budget: ledger.root, graph: path, names, model: 'test', rounds: 3, prompts, stepId: 'net' });
    const report = ledger.report();
    for (const name of names) {
      const slice = report.byBudget[`run/agent-${name}`]!;
      assert.equal(slice.limits.totalTokens, 150);
      assert.ok(slice.totalTokens <= 150, `${name} spent ${slice.totalTokens}`);
      assert.ok(slice.calls >= 1 && slice.calls < 4, `${name} made ${slice.calls} calls before its slice ran out`);
    }
    assert.ok(report.total.totalTokens <= 450);
    assert.equal(result.budgetExhaustedAgents.length, 3);
  });
});

describe('mixed fleets', () => {
  it('gives each node its own model', async () => {
    const first = new ScriptedProvider(polite, 'first');
    const second = new ScriptedProvider(polite, 'second');
    const fleet = scriptedFleet({ first, second });
    const result = await runNetwork({
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      graph: path,
      names,
      model: ['first', 'second', 'first'],
      rounds: 2,
      prompts,
      stepId: 'net',
    });
    assert.deepEqual(result.answers, ['Yes', 'Yes', 'Yes']);
    const agentsOf = (provider: ScriptedProvider): string[] =>
      [...new Set(provider.requests.map((request) => request.metadata!.stepId!.split('/')[1]!))].sort();
    assert.deepEqual(agentsOf(first), ['Ann', 'Cat']);
    assert.deepEqual(agentsOf(second), ['Bob']);
  });
});

describe('verifying protocol delivery', () => {
  it('checks relayed claims on delivery, forwards flags, and tracks wrong claims that are adopted', async () => {
    const claim = (about: string, key: string, value: string, from?: string) =>
      from ? { about, key, value, source: 'relayed', from } : { about, key, value, source: 'observed' };
    const script: Script = (_request, agent, step) => {
      if (step.startsWith('final')) return '### Final Answer ### Yes';
      // Ann adopts Bob's fabricated leader in round 1 (she re-asserts it, crediting Bob).
      if (agent === 'Ann')
        return JSON.stringify({ claims: [claim('Ann', 'group', '1'), ...(step === 'r1' ? [claim('*', 'leader', 'Zed', 'Bob')] : [])] });
      if (agent === 'Cat')
        return JSON.stringify({
          claims: [claim('Cat', 'group', '2')],
          flags: step === 'r1' ? [{ about: 'Ann', key: 'group', value: '3', from: 'Bob', reason: 'Ann is in 1' }] : [],
        });
      // Bob misreports Ann (crediting her) and invents a leader nobody is called.
      return JSON.stringify({
        claims: [
          claim('Bob', 'group', '2'),
          claim('Ann', 'group', '3', 'Ann'),
          ...(step === 'r0' ? [claim('*', 'leader', 'Zed', 'Ann')] : []),
        ],
      });
    };
    const { provider, run } = options(script, {
      protocol: 'verified',
      tracking: { decision: { about: 'self', key: 'group' }, networkClaimTruth: (entry, known) => known.has(entry.value) },
    });
    const result = await run();
    const catRound1 = lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Cat/r1')!);
    assert.equal(
      catRound1,
      'Round 1. Inbox: {"Bob":["Bob:group=2","Ann:group=3 via Ann [unverified]","*:leader=Zed via Ann [unverified]"]}',
    );
    const annRound1 = lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Ann/r1')!);
    assert.equal(
      annRound1,
      'Round 1. Inbox: {"Bob":["Bob:group=2","Ann:group=3 via Ann [contradicted: you say 1]","*:leader=Zed via Ann [unverified]"]}',
    );
    const bobFinal = lastUser(provider.requests.find((request) => request.metadata?.stepId === 'net/Bob/final')!);
    assert.match(bobFinal, / Flags: Cat disputes your Ann:group=3 \(Ann is in 1\) Answer\?$/);
    assert.equal(result.flagsRaised, 1);
    assert.equal(
      result.wrongClaimsDelivered,
      7,
      "Bob's claim about Ann to Ann and Cat in both rounds, his leader to both once, Ann's copy to Bob",
    );
    assert.deepEqual(result.heldWrongClaim, [true, false, false], 'Ann adopted it; Bob made it up, which is not propagation');
    assert.equal(result.roundsToAgreement, 1, 'decisions never changed after round 0');
  });
});
