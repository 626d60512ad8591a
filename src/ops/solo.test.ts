/** solo: one SPP call, schema-constrained or free text, personas, answer extraction, budget behaviour. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SOLO_LOGIT_BONUS } from '../models/index.ts';
import { arithmeticTaskSet, createOpHarness, mapConcurrent, rate } from './testing/harness.ts';
import { recordRequests, userText } from './testing/thread-fixtures.ts';
import { ASSISTANT_PERSONA, parseTranscript, solo, soloSchema } from './solo.ts';

type Schema = Record<string, unknown>;

function objects(schema: unknown, out: Schema[] = []): Schema[] {
  if (typeof schema !== 'object' || schema === null) return out;
  const node = schema as Schema;
  if (node['type'] === 'object') out.push(node);
  for (const child of Object.values((node['properties'] ?? {}) as Record<string, unknown>)) objects(child, out);
  objects(node['items'], out);
  return out;
}

describe('solo (SPP)', () => {
  it('makes one schema-constrained call and extracts the final answer and the personas', async () => {
    const h = createOpHarness({ model: 'sim:large' });
    const seen = recordRequests(h.fleet);
    const { context, ledger } = h.fresh({});
    const result = await solo(context, { question: 'What is (12+7)*3 - 4?' });
    assert.equal(result.calls, 1);
    assert.equal(seen.length, 1);
    assert.equal(ledger.report().total.calls, 1);
    const request = seen[0]!.request;
    assert.equal(request.metadata?.tags?.['purpose'], 'solo');
    assert.deepEqual(request.responseSchema?.schema, soloSchema());
    const details = result.details as { personas: string[]; rounds: number; brainstorm: number; earlyStop: boolean };
    assert.ok(details.personas.length >= 2);
    assert.equal(details.personas[0], ASSISTANT_PERSONA);
    assert.ok(details.rounds >= 1 && details.brainstorm >= 1);
    assert.equal(details.earlyStop, false);
    assert.equal(result.answer, '53');
    assert.equal(result.simulated, true);
    // Drafts, critiques and the answer are in the reasoning graph.
    const kinds = new Set(context.trace.nodes.map((node) => node.kind));
    for (const kind of ['query', 'claim', 'critique', 'answer']) assert.ok(kinds.has(kind as never), kind);
    assert.equal(result.nodeId, context.trace.nodes.at(-1)?.id);
  });

  it('the schema requires every field and allows no extra ones', () => {
    const schema = soloSchema({ maxPersonas: 4, maxRounds: 2 });
    for (const object of objects(schema)) {
      assert.equal(object['additionalProperties'], false);
      assert.deepEqual([...(object['required'] as string[])].sort(), Object.keys(object['properties'] as Schema).sort());
    }
    const properties = schema['properties'] as Record<string, Schema>;
    assert.deepEqual(Object.keys(properties), ['personas', 'brainstorm', 'rounds', 'final_answer']);
    assert.equal(properties['personas']!['maxItems'], 5);
    assert.equal(properties['rounds']!['maxItems'], 2);
  });

  it('uses given personas', async () => {
    const h = createOpHarness({ model: 'sim:medium' });
    const seen = recordRequests(h.fleet);
    const result = await solo(h.fresh({}).context, {
      question: 'What is 17*23?',
      personas: ['Math Expert', { name: 'Skeptic', description: 'doubts every step' }],
    });
    assert.match(userText(seen[0]!), /Participants \(fixed\): AI Assistant \(you\); Math Expert; Skeptic/);
    assert.match(userText(seen[0]!), /- Skeptic: doubts every step/);
    assert.deepEqual((result.details as { personas: string[] }).personas, [ASSISTANT_PERSONA, 'Math Expert', 'Skeptic']);
  });

  it('small models stop after the personas without a schema, never with one', async () => {
    const tasks = arithmeticTaskSet({ count: 40, minDifficulty: 1, maxDifficulty: 2.5 });
    const h = createOpHarness({ model: 'sim:small', tasks });
    const run = (structured: boolean): Promise<boolean[]> =>
      mapConcurrent(tasks, 8, async (task) => {
        const result = await solo(h.fresh({ taskId: task.id }).context, { question: task.prompt, structured });
        return (result.details as { earlyStop: boolean }).earlyStop;
      });
    const free = rate(await run(false));
    const constrained = rate(await run(true));
    assert.ok(free > 0.4, `free-text early stops ${free}`);
    assert.equal(constrained, 0);
    assert.deepEqual(SOLO_LOGIT_BONUS, { small: 0, medium: 0.1, large: 0.25 });
  });

  it('parses a free-text transcript', () => {
    const transcript = parseTranscript(
      'Participants: AI Assistant (you); Math Expert\n\nMath Expert: check the carries.\n\nStart collaboration!\n\nAI Assistant (you): Draft: ' +
        '52\nMath Expert: That is off, recheck.\nAI Assistant (you): Revised: 53\nMath Expert: I agree.\n\nFinal answer: 53',
    );
    assert.deepEqual(
      transcript.personas.map((p) => p.name),
      ['AI Assistant (you)', 'Math Expert'],
    );
    assert.equal(transcript.brainstorm.length, 1);
    assert.equal(transcript.rounds.length, 2);
    assert.equal(transcript.rounds[0]!.critiques[0]!.agrees, false);
    assert.equal(transcript.rounds[1]!.critiques[0]!.agrees, true);
    assert.equal(transcript.final_answer, '53');
  });

  it('shrinks the output cap to the budget, or makes no call when it cannot cover one', async () => {
    const h = createOpHarness({ model: 'sim:medium' });
    const { context, ledger } = h.fresh({ limits: { totalTokens: 1200 } });
    const shrunk = await solo(context, { question: 'What is 17*23?' });
    assert.match(shrunk.degraded[0] ?? '', /^max output tokens 1536 → \d+$/);
    assert.ok(ledger.report().total.totalTokens <= 1200);
    assert.equal(shrunk.calls, 1);

    const tiny = h.fresh({ limits: { totalTokens: 300 } });
    const refused = await solo(tiny.context, { question: 'What is 17*23?' });
    assert.equal(refused.calls, 0);
    assert.equal(refused.budgetExhausted, true);
    assert.equal(refused.answer, undefined);
    assert.equal(tiny.ledger.report().total.totalTokens, 0);
  });
});
