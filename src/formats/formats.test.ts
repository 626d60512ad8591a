/**
 * Every format's writer and reader agree: what ops/network/governor write with the `format…` functions, the
 * simulated fleet reads back with the `read…`/`parse…` ones (a change of format is one edit, in this layer).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGENTSNET_FINAL_MARKER,
  CALCULATOR_TOOL_NAME,
  PLANNER_OUTCOME_INCORRECT,
  contextLineText,
  countMarker,
  flagsLineText,
  formatBudgetLimits,
  formatClaimToken,
  formatContextLine,
  formatFlagsLine,
  formatInboxLine,
  formatParticipantsLine,
  formatPassageLines,
  formatPositionLine,
  formatRoundHeading,
  formatSearchStatus,
  formatTierLine,
  hasContextLine,
  hasInboxLine,
  inboxLineText,
  isFinalMessage,
  parseSearchPrompt,
  pathLabel,
  readBudgetTotalTokens,
  readParticipantsLine,
  readPositionLine,
  readRound,
  readTierLine,
  readTreeLine,
  scanClaimTokens,
  type AgentsNetContext,
} from './index.ts';

describe('formats: writers and readers agree', () => {
  it('AgentsNet: context, round, inbox and flags lines, the final marker', () => {
    const context: AgentsNetContext = {
      task: 'coloring',
      name: 'Ann',
      neighbours: ['Bob', 'Cy'],
      agents: 3,
      rounds: 4,
      protocol: 'plain',
      groups: 3,
    };
    const intro = `Your name is Ann.\n${formatContextLine(context)}\nWhat next?`;
    assert.ok(hasContextLine(intro));
    assert.deepEqual(JSON.parse(contextLineText(intro)!), context);
    const round = `${formatRoundHeading(2, 4)}. Messages:\n${formatInboxLine('{"Bob":"hi"}')}\n${formatFlagsLine('["x"]')}\nReply.`;
    assert.equal(readRound(round), 2);
    assert.ok(hasInboxLine(round) && !isFinalMessage(round));
    assert.equal(inboxLineText(round), '{"Bob":"hi"}');
    assert.equal(flagsLineText(round), '["x"]');
    assert.ok(isFinalMessage(`${formatRoundHeading(4, 4)}: ${AGENTSNET_FINAL_MARKER}.`));
    assert.equal(readRound('no heading'), 0);
  });

  it('AgentsNet: the claim notation, with provenance and checks', () => {
    const text = [
      formatClaimToken({ about: 'Carol', key: 'group', value: '3' }),
      formatClaimToken({ about: 'Dan', key: 'leader', value: 'Zoe', from: 'Bob' }, 'confirmed'),
      formatClaimToken({ about: '*', key: 'x', value: '0.5' }, 'conflict', 'Carol says 1'),
    ].join('; ');
    assert.equal(text, 'Carol:group=3; Dan:leader=Zoe via Bob [confirmed]; *:x=0.5 [conflict: Carol says 1]');
    assert.deepEqual(scanClaimTokens(text), [
      { about: 'Carol', key: 'group', value: '3', check: undefined },
      { about: 'Dan', key: 'leader', value: 'Zoe', from: 'Bob', check: 'confirmed' },
      { about: '*', key: 'x', value: '0.5', check: 'conflict' },
    ]);
  });

  it('planner: tier line, budget line and feedback markers', () => {
    const system = `${formatTierLine([
      ['small', 'sim:small'],
      ['large', 'openai:gpt-x'],
    ])}. Put "tier" on a node.\nBudget: ${formatBudgetLimits({ totalTokens: 12_000.7, usd: 0.5, calls: undefined, seconds: Infinity })}.`;
    assert.match(system, /totalTokens ≤ 12000, usd ≤ 0\.500000\./);
    assert.deepEqual(readTierLine([system]), { small: 'sim:small', large: 'openai:gpt-x' });
    assert.equal(readBudgetTotalTokens(['nothing', system]), 12_000);
    assert.equal(readTierLine(['no tiers']), undefined);
    assert.equal(countMarker(`a ${PLANNER_OUTCOME_INCORRECT}. b ${PLANNER_OUTCOME_INCORRECT}.`, PLANNER_OUTCOME_INCORRECT), 2);
  });

  it('thread: position and tree lines', () => {
    assert.equal(pathLabel([1, 0, 2]), 'reasoning[1].subtasks[0].subtasks[2]');
    const prompt = `Thread so far:\n{"reasoning":[]}\n\nNext: x\n${formatPositionLine([1, 0], 4)}`;
    assert.deepEqual(readPositionLine(prompt), { path: [1, 0], maxDepth: 4 });
    assert.deepEqual(readPositionLine('none'), { path: [0], maxDepth: 3 });
    assert.equal(readTreeLine(prompt), '{"reasoning":[]}');
    assert.equal(CALCULATOR_TOOL_NAME, 'calculator');
  });

  it('search: passages and status', () => {
    const content = [
      'Question: q',
      ...formatPassageLines(1, 'p-1', 'Rivers', 'The Nile is long.'),
      '',
      ...formatPassageLines(2, 'p-2', 'Lakes', 'Baikal is deep.'),
      '',
      formatSearchStatus(1, 2),
    ].join('\n');
    assert.deepEqual(parseSearchPrompt([{ role: 'user', content }]), {
      passages: [
        { id: 'p-1', title: 'Rivers', text: 'The Nile is long.' },
        { id: 'p-2', title: 'Lakes', text: 'Baikal is deep.' },
      ],
      used: 1,
      left: 2,
    });
  });

  it('solo: participants line, fixed or not', () => {
    assert.deepEqual(readParticipantsLine(`Task\n${formatParticipantsLine(['AI Assistant (you)', 'Poet'], true)}`), [
      'AI Assistant (you)',
      'Poet',
    ]);
    assert.deepEqual(readParticipantsLine(formatParticipantsLine(['A', 'B'], false)), ['A', 'B']);
    assert.equal(readParticipantsLine('participants: a'), undefined);
    assert.deepEqual(readParticipantsLine('participants: a', { ignoreCase: true }), ['a']);
  });
});
