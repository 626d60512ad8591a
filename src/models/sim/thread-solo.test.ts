/** The sim's structured behaviours for the thread (`thread-step`) and solo (`solo`) operators. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../core/index.ts';
import type { GenerateRequest } from '../spec.ts';
import { DEFAULT_SIM_PROFILES, PLACEHOLDER_PREFIX, SOLO_LOGIT_BONUS, SimProvider, TaskOracleRegistry, arithmeticSteps } from './index.ts';

const sim = (name: string): SimProvider =>
  new SimProvider({
    profileName: name,
    profile: DEFAULT_SIM_PROFILES[name]!,
    seed: 7,
    clock: new VirtualClock(),
    tasks: new TaskOracleRegistry(),
  });

const object = (properties: Record<string, unknown>): Record<string, unknown> => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});
const calculator = {
  anyOf: [
    object({ tool_name: { type: 'string', const: 'calculator' }, parameters: object({ expression: { type: 'string' } }) }),
    { type: 'null' },
  ],
};
const taskSchema = object({
  thought: { type: 'string' },
  tooluse: calculator,
  subtasks: { type: 'boolean' },
  conclusion: { type: 'string' },
  more: { type: 'boolean' },
});

function step(tree: string, position: string, schema: Record<string, unknown>, question = 'What is (12+7)*3 - 4?'): GenerateRequest {
  return {
    messages: [
      {
        role: 'user',
        content: `Thread so far:\n${tree}\n\nNext: write the task at Position: ${position} (depth 1 of 3).\n\nQuestion: ${question}`,
      },
    ],
    maxOutputTokens: 400,
    responseSchema: { name: 'step', schema },
    metadata: { stepId: 's', tags: { purpose: 'thread-step' } },
  };
}

describe('sim: arithmetic decomposition', () => {
  it('lists single operations in evaluation order with references to earlier steps', () => {
    const steps = arithmeticSteps('(12+7)*3 - 4')!;
    assert.deepEqual(
      steps.map((s) => [s.index, s.op, s.value]),
      [
        [1, '+', '19'],
        [2, '*', '57'],
        [3, '-', '53'],
      ],
    );
    assert.deepEqual(steps[1]!.left, { kind: 'step', index: 1 });
    assert.deepEqual(
      arithmeticSteps('-(2+3)*4')!.map((s) => s.value),
      ['5', '-5', '-20'],
    );
    assert.equal(arithmeticSteps('hello'), undefined);
  });
});

describe('sim: thread steps', () => {
  it('opens subtasks for a multi-step item and answers with JSON restricted to the schema', async () => {
    const response = await sim('medium').doGenerate(step('{"reasoning":[]}', 'reasoning[0]', taskSchema));
    const fields = JSON.parse(response.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(fields), ['thought', 'tooluse', 'subtasks', 'conclusion', 'more']);
    assert.equal(fields['subtasks'], true);
    assert.equal(response.simulated, true);
  });

  it('reads operands from the conclusions in view and copies a tool result', async () => {
    const tree = JSON.stringify({
      reasoning: [
        {
          thought: 'Work out steps s1 to s3.',
          tooluse: null,
          subtasks: [
            { thought: 's1: 12 plus 7.', tooluse: null, conclusion: 's1 result: 19' },
            { thought: 's2: 19 times 3.', tooluse: { tool_name: 'calculator', parameters: { expression: '19*3' }, tool_result: '57' } },
          ],
        },
      ],
    });
    const conclude = object({ conclusion: { type: 'string' }, more: { type: 'boolean' } });
    // With depth 3 the plan for three operations is [[s1, s2], s3]: s2 ends its list (more: false).
    let copied = 0;
    for (let index = 0; index < 50; index++) {
      const response = await sim('small').doGenerate({
        ...step(tree, 'reasoning[0].subtasks[1]', conclude),
        metadata: { stepId: `s${index}`, tags: { purpose: 'thread-step' } },
      });
      const fields = JSON.parse(response.text) as { conclusion: string; more: boolean };
      assert.equal(fields.more, false);
      if (fields.conclusion === 's2 result: 57') copied++;
    }
    // The tool result is copied, with a rare transcription slip.
    assert.ok(copied >= 45, `copied ${copied}/50`);
    const leaf = await sim('large').doGenerate(
      step(
        tree.replace('"s1 result: 19"', '"s1 result: 20"'),
        'reasoning[0].subtasks[1]',
        object({ thought: { type: 'string' }, tooluse: { type: 'null' }, conclusion: { type: 'string' }, more: { type: 'boolean' } }),
      ),
    );
    // A wrong earlier conclusion propagates: the next step works from the value it can see.
    assert.match((JSON.parse(leaf.text) as { thought: string }).thought, /^s2: 20 times 3\./);
  });

  it('gives a placeholder answer when there is no oracle', async () => {
    const response = await sim('small').doGenerate(
      step('{"reasoning":[]}', 'reasoning[0]', object({ answer: { type: 'string' } }), 'Which colour is best?'),
    );
    assert.deepEqual(JSON.parse(response.text), { answer: PLACEHOLDER_PREFIX });
  });
});

describe('sim: solo transcripts', () => {
  it('small models unconstrained often stop after the participants; the tier bonus is none for small', async () => {
    let stopped = 0;
    for (let index = 0; index < 40; index++) {
      const response = await sim('small').doGenerate({
        messages: [{ role: 'user', content: `Task: What is ${index + 13}*17?` }],
        maxOutputTokens: 2000,
        metadata: { stepId: `s${index}`, tags: { purpose: 'solo' } },
      });
      if ((response.raw as { earlyStop?: boolean }).earlyStop) stopped++;
    }
    assert.ok(stopped > 12 && stopped < 36, `stopped ${stopped}`);
    assert.equal(SOLO_LOGIT_BONUS.small, 0);
    assert.ok(SOLO_LOGIT_BONUS.large > SOLO_LOGIT_BONUS.medium);
  });
});
