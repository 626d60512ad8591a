/** The simulated AgentsNet agent on hand-written prompts: it reads the prompt contract and applies its rules. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/index.ts';
import type { ChatMessage } from '../spec.ts';
import { agentsNetDraft } from './agent-policy.ts';
import { DEFAULT_SIM_PROFILES, mergeSimProfile } from './profiles.ts';

const expert = mergeSimProfile(DEFAULT_SIM_PROFILES['large']!, { skill: 12 });
const novice = mergeSimProfile(DEFAULT_SIM_PROFILES['small']!, { skill: -6 });

function intro(task: string, name: string, neighbours: string[], extra: Record<string, unknown> = {}): ChatMessage {
  const context = { task, name, neighbours, agents: 8, rounds: 5, protocol: 'plain', groups: 4, ...extra };
  return {
    role: 'user',
    content: `Your name is ${name}.\nContext: ${JSON.stringify(context)}\nWhat are the first messages you want to send?`,
  };
}

function draft(messages: ChatMessage[], profile = expert, seed = 1) {
  return agentsNetDraft({ profile, seed: 3, rng: createRng(seed), messages, maxOutputTokens: 4096, effort: 1, model: 'sim:test' });
}

const json = (text: string): Record<string, unknown> => JSON.parse(text.slice(text.indexOf('{'))) as Record<string, unknown>;

describe('simulated AgentsNet agent', () => {
  it('writes one message per neighbour in the plain format, stating its own group', () => {
    const out = draft([{ role: 'system', content: 'rules' }, intro('coloring', 'Dan', ['Amy', 'Bob'])]);
    assert.equal(out.finishReason, 'stop');
    const messages = json(out.text);
    assert.deepEqual(Object.keys(messages), ['Amy', 'Bob']);
    assert.match(String(messages['Amy']), /^Dan:group=[1-4](; \*:strategy=priority)?$/);
    assert.ok(out.outputTokens >= 16);
    assert.equal(out.raw['kind'], 'agentsnet');
  });

  it('colouring: yields a clash to a higher-priority neighbour by taking the smallest free group', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'rules' },
      intro('coloring', 'Dan', ['Amy', 'Bob', 'Zoe']),
      { role: 'assistant', content: '[simulated] ok (strategy: priority)\n{"Amy":"Dan:group=1","Bob":"Dan:group=1","Zoe":"Dan:group=1"}' },
      {
        role: 'user',
        content:
          'Round 1 of 5. These are the messages from your neighbours:\nInbox: {"Amy":"Amy:group=1","Bob":"Bob:group=2","Zoe":"Zoe:group=4"}\nYou ' +
          'have 4 rounds left.',
      },
    ];
    for (let seed = 1; seed <= 20; seed++)
      assert.match(
        String(json(draft(messages, expert, seed).text)['Amy']),
        /^Dan:group=3;/,
        'Amy (earlier name) keeps group 1; 1, 2, 4 are taken',
      );
  });

  it('leader election: floods the largest name and says Yes only when it is its own', () => {
    const base: ChatMessage[] = [
      { role: 'system', content: 'rules' },
      intro('leader_election', 'Kim', ['Amy', 'Bob'], { agents: 4 }),
      { role: 'assistant', content: '[simulated] ok (strategy: priority)\n{"Amy":"*:leader=Kim","Bob":"*:leader=Kim"}' },
    ];
    const round = draft([...base, { role: 'user', content: 'Round 1 of 5. x\nInbox: {"Amy":"*:leader=Amy","Bob":"*:leader=Tom"}\nmore' }]);
    assert.match(String(json(round.text)['Amy']), /^\*:leader=Tom/);
    const final = draft([
      ...base,
      {
        role: 'user',
        content: 'Round 5 of 5: message passing has finished. x\nInbox: {"Amy":"*:leader=Amy","Bob":"*:leader=Bob"}\nAre you the leader?',
      },
    ]);
    assert.match(final.text, /### Final Answer ### Yes$/);
  });

  it('verifying protocol: flags contradicted claims instead of adopting them, and marks provenance', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'rules' },
      intro('coloring', 'Dan', ['Amy', 'Bob'], { protocol: 'verified' }),
      {
        role: 'assistant',
        content: '[simulated] ok (strategy: priority)\n{"claims":[{"about":"Dan","key":"group","value":"2","source":"observed"}]}',
      },
      {
        role: 'user',
        content:
          'Round 1 of 5. x\nInbox: {"Amy":["Amy:group=1","Bob:group=2 via Bob [contradicted: Bob says 3]"],"Bob":["Bob:group=3"]}\nmore',
      },
    ];
    const message = json(draft(messages).text) as { claims: Array<Record<string, string>>; flags: Array<Record<string, string>> };
    assert.deepEqual(
      message.claims[0],
      { about: 'Dan', key: 'group', value: '2', source: 'observed' },
      'group 2 is free once the stale claim is rejected',
    );
    const aboutOthers = message.claims.filter((claim) => claim['about'] !== 'Dan' && claim['about'] !== '*');
    assert.ok(
      aboutOthers.length > 0 && aboutOthers.every((claim) => claim['source'] === 'relayed' && claim['from'] === claim['about']),
      'relays name their source',
    );
    assert.deepEqual(message.flags, [{ about: 'Bob', key: 'group', value: '2', from: 'Amy', reason: 'contradicted' }]);
  });

  it('plain protocol: an uncritical agent can adopt a relayed claim over what the neighbour itself said', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'rules' },
      intro('coloring', 'Dan', ['Amy', 'Bob']),
      { role: 'assistant', content: '[simulated] ok (strategy: priority)\n{"Amy":"Dan:group=3","Bob":"Dan:group=3"}' },
      { role: 'user', content: `Round 1 of 5. x\nInbox: {"Amy":"Amy:group=1; Bob:group=2","Bob":"Bob:group=3"}\nmore` },
    ];
    const gullible = mergeSimProfile(expert, { agentPolicy: { uncriticalAcceptance: 1 } });
    const careful = mergeSimProfile(expert, { agentPolicy: { uncriticalAcceptance: 0 } });
    // Believing Bob is in 2, the gullible agent keeps group 3 — which is Bob's: a clash from a wrong claim.
    assert.match(String(json(draft(messages, gullible).text)['Amy']), /^Dan:group=3;/);
    assert.match(String(json(draft(messages, careful).text)['Amy']), /^Dan:group=2;/);
  });

  it('slips more as skill drops: invalid messages and missing answer lines', () => {
    const finalPrompt: ChatMessage[] = [
      { role: 'system', content: 'rules' },
      intro('consensus', 'Dan', ['Amy']),
      { role: 'user', content: 'Round 5 of 5: message passing has finished.\nInbox: {"Amy":"Amy:value=1"}\nAnswer.' },
    ];
    const slips = (profile: typeof expert): number =>
      Array.from({ length: 200 }, (_, seed) => draft(finalPrompt, profile, seed)).filter(
        (out) => !out.text.includes('### Final Answer ###'),
      ).length;
    assert.equal(slips(expert), 0);
    assert.ok(slips(novice) > 100, `novice slipped ${slips(novice)} times`);
  });

  it('falls back to an empty message without the AgentsNet context', () => {
    const out = draft([{ role: 'user', content: 'Hello' }]);
    assert.equal(out.raw['context'], false);
    assert.match(out.text, /\{\}$/);
  });
});
