/** Message parsing and validation, claims and their cross-check, names. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkInbox, formatClaim, scanClaims, type Claim } from './claims.ts';
import { parseFinalAnswer, parsePlainMessages, parseVerifiedMessages } from './messages.ts';
import { FIXED_NAMES, agentNames, generatedName } from './names.ts';

const neighbours = new Set(['Bob', 'Cat']);

describe('plain messages', () => {
  it('reads the JSON object after the chain of thought', () => {
    const parsed = parsePlainMessages('I think {braces} are fine. My messages:\n{"Bob": "hi Bob", "Cat": "hi Cat"}', neighbours);
    assert.deepEqual(parsed, {
      ok: true,
      value: new Map([
        ['Bob', 'hi Bob'],
        ['Cat', 'hi Cat'],
      ]),
    });
  });
  it('accepts leaving neighbours out, and an empty object', () => {
    assert.deepEqual(parsePlainMessages('{"Cat": "only you"}', neighbours), { ok: true, value: new Map([['Cat', 'only you']]) });
    assert.deepEqual(parsePlainMessages('{}', neighbours), { ok: true, value: new Map() });
  });
  it('rejects unknown recipients, non-string values and missing JSON, saying why', () => {
    assert.deepEqual(parsePlainMessages('{"Bobb": "hi"}', neighbours), {
      ok: false,
      problem: 'unknown recipient Bobb (your neighbours are Bob, Cat)',
    });
    assert.deepEqual(parsePlainMessages('{"Bob": 3}', neighbours), {
      ok: false,
      problem: 'every value must be a string (the message text)',
    });
    assert.deepEqual(parsePlainMessages('I will write later.', neighbours), { ok: false, problem: 'no JSON object found' });
    assert.equal(parsePlainMessages('{"Bob": "unterminated}', neighbours).ok, false);
  });
});

describe('verified messages', () => {
  it('reads claims with provenance', () => {
    const text =
      'Reasoning… {"claims": [{"about": "Ann", "key": "group", "value": "2", "source": "observed"}, {"about": "Dan", "key": "group", "value": "1", ' +
      '"source": "relayed", "from": "Cat"}], "to": {"Bob": [{"about": "*", "key": "strategy", "value": "priority", "source": "observed"}]}}';
    const parsed = parseVerifiedMessages(text, 'Ann', neighbours);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.broadcast, [
      { about: 'Ann', key: 'group', value: '2', source: 'observed' },
      { about: 'Dan', key: 'group', value: '1', source: 'relayed', from: 'Cat' },
    ]);
    assert.deepEqual(parsed.value.to.get('Bob'), [{ about: '*', key: 'strategy', value: 'priority', source: 'observed' }]);
  });
  it('enforces provenance: observed only about yourself, relayed from a neighbour', () => {
    const observedOther = parseVerifiedMessages(
      '{"claims": [{"about": "Dan", "key": "group", "value": "1", "source": "observed"}]}',
      'Ann',
      neighbours,
    );
    assert.equal(observedOther.ok, false);
    assert.match((observedOther as { problem: string }).problem, /marked observed/);
    const noFrom = parseVerifiedMessages(
      '{"claims": [{"about": "Dan", "key": "group", "value": "1", "source": "relayed"}]}',
      'Ann',
      neighbours,
    );
    assert.match((noFrom as { problem: string }).problem, /needs "from"/);
    const stranger = parseVerifiedMessages(
      '{"claims": [{"about": "Dan", "key": "group", "value": "1", "source": "relayed", "from": "Eve"}]}',
      'Ann',
      neighbours,
    );
    assert.equal(stranger.ok, false);
    const schema = parseVerifiedMessages(
      '{"claims": [{"about": "Ann", "key": "group", "value": "2", "source": "seen"}]}',
      'Ann',
      neighbours,
    );
    assert.match((schema as { problem: string }).problem, /^claims\.0\.source/);
  });
});

describe('final answers', () => {
  const groups = Array.from({ length: 12 }, (_, index) => `Group ${index + 1}`);
  it('takes the last valid answer after the marker, never a prefix of a longer option', () => {
    assert.deepEqual(parseFinalAnswer('… ### Final Answer ### Group 10', groups), { ok: true, value: 'Group 10' });
    assert.deepEqual(parseFinalAnswer('### Final Answer ### Group 1\nOn reflection:\n### Final Answer ### Group 3.', groups), {
      ok: true,
      value: 'Group 3',
    });
    assert.deepEqual(parseFinalAnswer('### Final Answer ###\n**None**', ['Bob', 'None']), { ok: true, value: 'None' });
  });
  it('rejects a missing marker or an option outside the valid set', () => {
    assert.deepEqual(parseFinalAnswer('My answer: Yes', ['Yes', 'No']), { ok: false, problem: "no '### Final Answer ###' line" });
    assert.deepEqual(parseFinalAnswer('### Final Answer ### Maybe', ['Yes', 'No']), {
      ok: false,
      problem: 'the answer must be exactly one of: Yes, No',
    });
    assert.equal(parseFinalAnswer('### Final Answer ### Group 13', groups).ok, false);
    assert.equal(parseFinalAnswer('### Final Answer ### Bobby', ['Bob', 'None']).ok, false);
  });
});

describe('claims', () => {
  it('round-trips the notation, with provenance in plain text', () => {
    const relayed: Claim = { about: 'Dan', key: 'group', value: '1', source: 'relayed', from: 'Cat' };
    assert.equal(formatClaim(relayed, 'contradicted', 'Dan says 3'), 'Dan:group=1 via Cat [contradicted: Dan says 3]');
    assert.deepEqual(scanClaims('I am in Bob:group=2; heard Dan:group=1 via Cat and *:leader=Zoe.', 'Bob'), [
      { about: 'Bob', key: 'group', value: '2', source: 'observed' },
      { about: 'Dan', key: 'group', value: '1', source: 'relayed', from: 'Cat' },
      { about: '*', key: 'leader', value: 'Zoe', source: 'relayed', from: 'Bob' },
    ]);
  });

  it('checks relayed claims against own state, the subject itself, or a second neighbour', () => {
    const inbox = new Map<string, Claim[]>([
      [
        'Bob',
        [
          { about: 'Bob', key: 'group', value: '2', source: 'observed' },
          { about: 'Cat', key: 'group', value: '1', source: 'relayed', from: 'Cat' },
          { about: 'Ann', key: 'group', value: '3', source: 'relayed', from: 'Cat' },
          { about: 'Eve', key: 'group', value: '4', source: 'relayed', from: 'Dan' },
          { about: 'Fay', key: 'group', value: '2', source: 'relayed', from: 'Dan' },
          { about: '*', key: 'leader', value: 'Zed', source: 'relayed', from: 'Dan' },
        ],
      ],
      [
        'Cat',
        [
          { about: 'Cat', key: 'group', value: '3', source: 'observed' },
          { about: 'Eve', key: 'group', value: '4', source: 'relayed', from: 'Gus' },
          { about: 'Fay', key: 'group', value: '1', source: 'relayed', from: 'Gus' },
          { about: '*', key: 'leader', value: 'Cat', source: 'observed' },
        ],
      ],
    ]);
    const checked = checkInbox({ name: 'Ann', neighbours: new Set(['Bob', 'Cat']), own: new Map([['group', '3']]) }, inbox);
    const tags = checked.map((entry) => `${entry.sender}>${formatClaim(entry.claim, entry.check, entry.reason)}`);
    assert.deepEqual(tags, [
      'Bob>Bob:group=2',
      'Bob>Cat:group=1 via Cat [contradicted: Cat says 3]',
      'Bob>Ann:group=3 via Cat [confirmed: matches your own]',
      'Bob>Eve:group=4 via Dan [confirmed: also from Cat]',
      'Bob>Fay:group=2 via Dan [conflict: Cat says 1]',
      'Bob>*:leader=Zed via Dan [unverified]',
      'Cat>Cat:group=3',
      'Cat>Eve:group=4 via Gus [confirmed: also from Bob]',
      'Cat>Fay:group=1 via Gus [conflict: Bob says 2]',
      'Cat>*:leader=Cat',
    ]);
  });
});

describe('echo detection', () => {
  it('does not count a neighbour repeating what the sender told it as a second source', () => {
    const inbox = new Map<string, Claim[]>([
      ['Bob', [{ about: '*', key: 'leader', value: 'Zed', source: 'relayed', from: 'Gus' }]],
      ['Cat', [{ about: '*', key: 'leader', value: 'Zed', source: 'relayed', from: 'Bob' }]],
    ]);
    const checks = checkInbox({ name: 'Ann', neighbours: new Set(['Bob', 'Cat']), own: new Map() }, inbox).map((entry) => entry.check);
    assert.deepEqual(checks, ['unverified', 'unverified']);
    inbox.set('Cat', [{ about: '*', key: 'leader', value: 'Zed', source: 'relayed', from: 'Hal' }]);
    assert.deepEqual(
      checkInbox({ name: 'Ann', neighbours: new Set(['Bob', 'Cat']), own: new Map() }, inbox).map((entry) => entry.check),
      ['confirmed', 'confirmed'],
    );
  });
});

describe('agent names', () => {
  it('samples the fixed list up to 200 agents, deterministically', () => {
    assert.equal(FIXED_NAMES.length, 200);
    assert.equal(new Set(FIXED_NAMES).size, 200);
    const names = agentNames(16, 1, 'ws', 0);
    assert.deepEqual(names, agentNames(16, 1, 'ws', 0));
    assert.notDeepEqual(names, agentNames(16, 2, 'ws', 0));
    assert.ok(names.every((name) => FIXED_NAMES.includes(name)));
  });
  it('stays unique past the fixed list (1,000 and 20,000 agents), with letters-only names', () => {
    for (const count of [1000, 20_000]) {
      const names = agentNames(count, 9);
      assert.equal(new Set(names).size, count);
      assert.equal(new Set(names.map((name) => name.toLowerCase())).size, count);
      assert.ok(names.every((name) => /^[A-Z][a-z]+$/.test(name)));
    }
    assert.equal(generatedName(0), generatedName(0));
    assert.notEqual(generatedName(0), generatedName(1));
  });
});
