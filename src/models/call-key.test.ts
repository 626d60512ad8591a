/**
 * Pins the fleet's call keys. Resuming a journal depends on a call getting the same key it got when it was
 * recorded, so these values were computed by the fleet BEFORE its identity hashing became incremental and must
 * never change (a change here orphans every existing journal's recorded calls).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, countMessageTokens } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Fleet, type ModelResolver } from './fleet.ts';
import { MODEL_SPEC_VERSION, type ChatMessage, type GenerateRequest, type GenerateResponse, type ModelProvider } from './spec.ts';

const provider: ModelProvider = {
  specificationVersion: MODEL_SPEC_VERSION,
  providerId: 'pin',
  modelId: 'pin-model',
  doGenerate: async (request: GenerateRequest): Promise<GenerateResponse> => ({
    text: request.responseSchema ? '{"ok":true}' : 'Answer: 1',
    usage: { inputTokens: countMessageTokens(request.messages), outputTokens: 3 },
    usageEstimated: false,
    finishReason: 'stop',
    latencyMs: 0,
    simulated: true,
  }),
};

function fleet(simulated = true): Fleet {
  const resolver: ModelResolver = {
    resolve: (reference) => ({
      provider,
      profile: {
        reference,
        tier: 'small',
        priceInputPerMillion: 1,
        priceOutputPerMillion: 4,
        contextWindow: 100_000,
        reasoning: false,
        maxConcurrency: 4,
        timeoutMs: 10_000,
        simulated,
      },
      promptMargin: () => 0,
    }),
  };
  return new Fleet({ resolver, clock: new VirtualClock(), seed: 3 });
}

/** Requests covering every identity field, unicode and escapes, and a history that grows call by call. */
function requests(): Array<[string, GenerateRequest]> {
  const history: ChatMessage[] = [{ role: 'system', content: 'You are agent "A".\nBe brief.' }];
  const out: Array<[string, GenerateRequest]> = [];
  for (let round = 0; round < 3; round++) {
    history.push({ role: 'user', content: `round ${round}: colour? ünïcødé \u2028 \\ "q"` });
    out.push([
      'sim:large',
      { messages: history, maxOutputTokens: 128, metadata: { stepId: `agent-A/round-${round}`, taskId: 't1', tags: { purpose: 'agent' } } },
    ]);
    history.push({ role: 'assistant', content: `{"colour": ${round}}` });
  }
  out.push(['sim:small', { messages: [{ role: 'user', content: 'What is 6*7?' }], maxOutputTokens: 64 }]);
  out.push(['sim:small', { messages: [{ role: 'user', content: 'What is 6*7?' }], maxOutputTokens: 64 }]);
  out.push([
    'openai:gpt',
    {
      messages: [
        { role: 'system', content: 'judge' },
        { role: 'user', content: 'x' },
      ],
      maxOutputTokens: 32,
      temperature: 0.7,
      topP: 0.9,
      stop: ['\n\n', 'END'],
      seed: 11,
      responseSchema: { name: 'verdict', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
      metadata: { stepId: 'v', taskId: 'q9', tags: { purpose: 'verify', candidate: '2' } },
    },
  ]);
  return out;
}

async function keys(): Promise<string[]> {
  const f = fleet();
  const ledger = new Ledger({ clock: f.clock });
  const result: string[] = [];
  for (const [reference, request] of requests()) result.push((await f.call(reference, request, { budget: ledger.root })).callKey);
  return result;
}

const PINNED = [
  'e7a142ab4cabd6c331e6b7df5d91a7796fd64be1c2d6254ed8da95db149dc75d#0',
  'afff44af150cfa654e7ce7de666634cef9e8fc2566e438190893ff6c9fd14260#0',
  '1a789eb88a54cc25d4b63c0e786b305964ef2943f39809d9a354a89159a24eb6#0',
  '32a2327741089226e58af37c6ea184db5a47a60db6f13de3c3e61f6c013b9ea8#0',
  '32a2327741089226e58af37c6ea184db5a47a60db6f13de3c3e61f6c013b9ea8#1',
  '4e9943cf5e3f761519f5a89f7d544ca980ea7e2e86e59c071860aa0faabb46c6#0',
];

describe('fleet call keys', () => {
  it('are byte-for-byte the keys the fleet has always computed (journals resume on them)', async () => {
    assert.deepEqual(await keys(), PINNED);
  });

  it('do not depend on whether earlier prefixes of a history were seen before', async () => {
    // A fresh fleet with fresh message objects (nothing cached) must agree with one that saw the prefixes grow.
    const fresh: string[] = [];
    for (const [reference, request] of requests()) {
      const f = fleet();
      const copy = structuredClone(request);
      fresh.push((await f.call(reference, copy, { budget: new Ledger({ clock: f.clock }).root })).callKey.replace(/#\d+$/, '#?'));
    }
    assert.deepEqual(
      fresh,
      PINNED.map((key) => key.replace(/#\d+$/, '#?')),
    );
  });

  it('change when a cached message is edited in place', async () => {
    const f = fleet();
    const ledger = new Ledger({ clock: f.clock });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ];
    const first = (await f.call('m', { messages, maxOutputTokens: 8 }, { budget: ledger.root })).callKey;
    messages[1]!.content = 'c';
    const edited = (await f.call('m', { messages, maxOutputTokens: 8 }, { budget: ledger.root })).callKey;
    const fresh = (
      await fleet().call('m', { messages: structuredClone(messages), maxOutputTokens: 8 }, { budget: new Ledger({ clock: f.clock }).root })
    ).callKey;
    assert.notEqual(edited, first);
    assert.equal(edited, fresh);
  });

  it("for a real (not simulated) model do not depend on the simulator's tags: purpose, candidate, reasoningEffort", async () => {
    const base: GenerateRequest = {
      messages: [{ role: 'user', content: 'Is 391 right?' }],
      maxOutputTokens: 16,
      metadata: { stepId: 's' },
    };
    const tagged = (tags: Record<string, string>): GenerateRequest => ({ ...base, metadata: { stepId: 's', tags } });
    const variants = [
      base,
      tagged({ purpose: 'verify', candidate: '391' }),
      tagged({ purpose: 'answer' }),
      tagged({ purpose: 'verify', candidate: '17', reasoningEffort: 'high', operator: 'verify' }),
    ];
    const hashes = async (simulated: boolean): Promise<string[]> => {
      const out: string[] = [];
      for (const request of variants) {
        const f = fleet(simulated);
        out.push((await f.call('m', request, { budget: new Ledger({ clock: f.clock }).root })).callKey);
      }
      return out;
    };
    const real = await hashes(false);
    assert.equal(new Set(real).size, 1, 'one identity for a real model');
    // The simulated fleet reads purpose and candidate (a verification is not an answer): they stay in its identity.
    const sim = await hashes(true);
    assert.equal(new Set(sim).size, 4);
    assert.equal(sim[0], real[0], 'untagged requests hash the same either way');
    // reasoningEffort is not identity even for the sim (journals recorded so far did not hash it).
    const effort = await (async () => {
      const f = fleet(true);
      return (await f.call('m', tagged({ purpose: 'verify', candidate: '17' }), { budget: new Ledger({ clock: f.clock }).root })).callKey;
    })();
    assert.equal(effort, sim[3]);
  });

  it('repeated identical requests to a real model are told apart by occurrence, whatever their tags', async () => {
    const f = fleet(false);
    const ledger = new Ledger({ clock: f.clock });
    const request = (purpose: string): GenerateRequest => ({
      messages: [{ role: 'user', content: 'x' }],
      maxOutputTokens: 8,
      metadata: { tags: { purpose } },
    });
    const first = (await f.call('m', request('answer'), { budget: ledger.root })).callKey;
    const second = (await f.call('m', request('verify'), { budget: ledger.root })).callKey;
    assert.equal(first.replace(/#\d+$/, ''), second.replace(/#\d+$/, ''));
    assert.deepEqual([first.slice(-2), second.slice(-2)], ['#0', '#1']);
  });
});
