/** The sim's search-step policy: prompt parsing, answer-in-evidence detection, search vs answer decisions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../core/index.ts';
import type { GenerateRequest } from '../spec.ts';
import { DEFAULT_SIM_PROFILES, SimProvider, TaskOracleRegistry, extractAnswer, type SimTask } from './index.ts';
import { keyTerms, mentions, parseSearchPrompt, searchFieldsOf, type SimSearchTask } from './search-policy.ts';

const TASK: SimSearchTask = {
  id: 'river-of-capital',
  prompt: 'Which river flows through the capital of Veloria?',
  answer: 'Oska',
  difficulty: 4.5,
  distractors: [
    { answer: 'Lamm', weight: 2 },
    { answer: 'Vire', weight: 1 },
  ],
  hops: [{ terms: ['capital', 'Veloria'], finds: 'Marnhold' }, { terms: ['river'] }],
};
const SINGLE: SimTask = {
  id: 'capital',
  prompt: 'What is the capital of Veloria?',
  answer: 'Marnhold',
  difficulty: 4.5,
  distractors: [{ answer: 'Quellen', weight: 1 }],
};

const VELORIA = { id: 'countries/veloria.md', title: 'Veloria', text: 'The capital of Veloria is Marnhold.' };
const MARNHOLD = { id: 'cities/marnhold.md', title: 'Marnhold', text: "Marnhold's river is the Oska, which reaches the sea." };
const RIVERS = { id: 'geography/rivers.md', title: 'Rivers', text: 'The Sel flows through the highlands.' };

function prompt(question: string, passages: Array<{ id: string; title: string; text: string }>, used: number, left: number): string {
  const lines = [`Question: ${question}`, '', passages.length > 0 ? `Evidence (${passages.length} passages):` : 'Evidence: none yet.'];
  passages.forEach((passage, index) => lines.push(`[${index + 1}] id=${passage.id} · ${passage.title}`, passage.text, ''));
  lines.push(`Searches used: ${used}; searches left: ${left}.`);
  return lines.join('\n');
}

function provider(seed = 3): SimProvider {
  const tasks = new TaskOracleRegistry();
  tasks.registerTasks([TASK, SINGLE]);
  return new SimProvider({ profileName: 'medium', profile: DEFAULT_SIM_PROFILES['medium']!, seed, clock: new VirtualClock(), tasks });
}

const step = (task: SimTask, content: string, stepId: string, maxOutputTokens = 512): GenerateRequest => ({
  messages: [
    { role: 'system', content: 'Search tool instructions.' },
    { role: 'user', content },
  ],
  maxOutputTokens,
  metadata: { stepId, taskId: task.id, tags: { purpose: 'search-step' } },
});

describe('search policy helpers', () => {
  it('parses numbered passages and the search status line', () => {
    const parsed = parseSearchPrompt([{ role: 'user', content: prompt(TASK.prompt, [VELORIA, RIVERS], 1, 2) }]);
    assert.deepEqual(parsed.passages, [VELORIA, { ...RIVERS }]);
    assert.equal(parsed.used, 1);
    assert.equal(parsed.left, 2);
    assert.deepEqual(parseSearchPrompt([{ role: 'user', content: 'free text' }]), { passages: [], used: undefined, left: undefined });
  });

  it('finds answers on word boundaries and numbers by value', () => {
    assert.equal(mentions('the river is the Oska.', 'oska'), true);
    assert.equal(mentions('the Oskar family', 'Oska'), false);
    assert.equal(mentions('stands 4,210 metres high', '4210'), true);
    assert.equal(mentions('stands 14,210 metres high', '4210'), false);
    assert.equal(mentions('born in  Wend ,', 'wend'), true);
  });

  it('extracts key terms and reads search fields defensively', () => {
    assert.deepEqual(keyTerms('Which river flows through the capital of Veloria?'), ['river', 'flows', 'capital', 'Veloria']);
    assert.deepEqual(keyTerms("Where was Queen Amarante's mother born?"), ['Queen', 'Amarante', 'mother', 'born']);
    assert.deepEqual(searchFieldsOf(TASK).hops, TASK.hops);
    const junk = {
      ...SINGLE,
      hops: [{ terms: 'x' }, null, { terms: ['ok'], finds: 7 }],
      searchTerms: [1],
      openBookDifficulty: 'hard',
    } as unknown as SimTask;
    assert.deepEqual(searchFieldsOf(junk), { hops: [{ terms: ['ok'] }], searchTerms: undefined, openBookDifficulty: undefined });
    assert.deepEqual(searchFieldsOf(undefined).hops, []);
  });
});

describe('search-step calls', () => {
  it('searches with the current hop terms, then with the learned bridge entity', async () => {
    const sim = provider();
    const first = await sim.doGenerate(step(TASK, prompt(TASK.prompt, [], 0, 3), 'a'));
    assert.match(first.text, /\nSEARCH: capital Veloria$/);
    assert.equal(extractAnswer(first.text), undefined);
    const raw = first.raw as { kind: string; mode: string; simulated: boolean };
    assert.equal(raw.kind, 'search-step');
    assert.equal(raw.mode, 'search');
    assert.equal(first.simulated, true);
    const second = await sim.doGenerate(step(TASK, prompt(TASK.prompt, [VELORIA, RIVERS], 1, 2), 'b'));
    assert.match(second.text, /\nSEARCH: river Marnhold$/);
    assert.ok(first.usage.outputTokens < 120, 'a search decision is short');
  });

  it('answers once the answer is in the evidence, mostly correctly, citing the supporting passage', async () => {
    let correct = 0;
    for (let index = 0; index < 40; index++) {
      const response = await provider(index).doGenerate(step(TASK, prompt(TASK.prompt, [VELORIA, MARNHOLD], 2, 1), `s${index}`));
      const raw = response.raw as { mode: string; correct: boolean; cited: string[] };
      assert.equal(raw.mode, 'supported');
      assert.match(response.text, /\nAnswer: .+\nConfidence: 0\.\d\d\nSources: .+$/);
      if (raw.correct) {
        correct++;
        assert.equal(extractAnswer(response.text), 'Oska');
        assert.deepEqual(raw.cited, ['cities/marnhold.md']);
        assert.match(response.text, /Sources: cities\/marnhold\.md$/);
      }
    }
    assert.ok(correct >= 28, `${correct}/40`);
  });

  it('answers (a guess) when no searches are left, and is deterministic per call identity', async () => {
    const content = prompt(SINGLE.prompt, [RIVERS], 3, 0);
    const a = await provider().doGenerate(step(SINGLE, content, 'x'));
    const b = await provider().doGenerate(step(SINGLE, content, 'x'));
    assert.deepEqual(a, b);
    assert.equal((a.raw as { mode: string }).mode, 'forced');
    assert.ok(extractAnswer(a.text) !== undefined);
    assert.match(a.text, /Sources: none$/);
  });

  it('honours maxOutputTokens: a cut-off step has neither a query nor an answer', async () => {
    const response = await provider().doGenerate(step(TASK, prompt(TASK.prompt, [VELORIA, MARNHOLD], 2, 1), 'cut', 20));
    assert.equal(response.finishReason, 'length');
    assert.equal(response.usage.outputTokens, 20);
    assert.doesNotMatch(response.text, /SEARCH:|Answer:/);
  });
});
