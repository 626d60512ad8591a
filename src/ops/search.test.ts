/**
 * The search operator on the simulated fleet, with registered tasks whose answers live in the test corpus:
 * accuracy against a closed-book call, citations, multi-hop, budget degradation, evidence cap, replay.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, VirtualClock, normalizeAnswer } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import {
  Fleet,
  FleetResolver,
  TaskOracleRegistry,
  parseFleetConfig,
  type CallRecorder,
  type RecordedCall,
  type SimTask,
} from '../models/index.ts';
import type { OpContext } from './context.ts';
import { generate } from './generate.ts';
import { openCorpus, type Retriever } from './retriever.ts';
import { search, type SearchOptions } from './search.ts';
import { Trace } from './trace.ts';

const FOLDER = fileURLToPath(new URL('./testing/corpus/northreach', import.meta.url));
const retriever = await openCorpus(FOLDER);

/** Optional search fields the sim's search policy reads (hop structure); see src/models/sim/search-policy.ts. */
type SearchTask = SimTask & { hops?: Array<{ terms: string[]; finds?: string }> };

/** Fictional facts: closed-book no model can know them (difficulty 4.5); the corpus states each one. */
const fact = (id: string, prompt: string, answer: string, wrong?: string[], extra: Partial<SearchTask> = {}): SearchTask => ({
  id: `nr/${id}`,
  prompt,
  answer,
  difficulty: 4.5,
  ...(wrong ? { distractors: wrong.map((entry, index) => ({ answer: entry, weight: wrong.length - index })) } : {}),
  ...extra,
});

const TWO_HOP = fact('oska', 'Which river flows through the capital of Veloria?', 'Oska', ['Lamm', 'Vire', 'Sel'], {
  hops: [{ terms: ['capital', 'Veloria'], finds: 'Marnhold' }, { terms: ['river'] }],
});

const TASKS: SearchTask[] = [
  fact('capital-veloria', 'What is the capital of Veloria?', 'Marnhold', ['Quellen', 'Talsen']),
  fact('capital-tarsia', 'What is the capital of Tarsia?', 'Quellen', ['Marnhold', 'Talsen']),
  fact('capital-brevia', 'What is the capital of Brevia?', 'Talsen', ['Quellen', 'Marnhold']),
  fact('currency-veloria', 'What is the currency of Veloria?', 'drel', ['sorn', 'lune']),
  fact('currency-tarsia', 'What is the currency of Tarsia?', 'sorn', ['lune', 'drel']),
  fact('currency-brevia', 'What is the currency of Brevia?', 'lune', ['drel', 'sorn']),
  fact('river-quellen', 'Which river flows through Quellen?', 'Lamm', ['Vire', 'Sel']),
  fact('river-talsen', 'Which river flows through Talsen?', 'Vire', ['Lamm', 'Dune']),
  fact('kessra-height', 'How high is the summit of Mount Kessra in metres?', '4210'),
  fact('kessra-ascent', 'Who made the first recorded ascent of Mount Kessra?', 'Hedda Strom', ['Ilsa Varn', 'Orrin Dale']),
  fact('festival-month', 'In which month is the Lantern Festival of Quellen held?', 'Frostwane', ['Thawmonth', 'Harrowtide']),
  fact('tide-clock', 'Who invented the tide clock?', 'Orrin Dale', ['Benedek Saar', 'Mira Cawl']),
  fact('comet', 'Who discovered the comet Perenna?', 'Ilsa Varn', ['Hedda Strom', 'Mira Cawl']),
  fact('animal-brevia', 'What is the national animal of Brevia?', 'marsh otter', ['grey heron', 'red fox']),
  fact('orrow-depth', 'How deep is Lake Orrow in metres?', '312'),
  fact('ferry', 'Who built the first steam ferry to cross Lake Orrow?', 'Benedek Saar', ['Orrin Dale', 'Mira Cawl']),
  fact('treaty', 'In which year was the Treaty of Sel signed?', '1699'),
  fact('amarante', 'Where was Queen Amarante born?', 'Wend', ['Quellen', 'Marnhold']),
  TWO_HOP,
  fact('festival-capital', 'In which month is the festival of the capital of Tarsia held?', 'Frostwane', ['Thawmonth', 'Harrowtide'], {
    hops: [{ terms: ['capital', 'Tarsia'], finds: 'Quellen' }, { terms: ['festival', 'month'] }],
  }),
];

class MemoryRecorder implements CallRecorder {
  readonly calls = new Map<string, RecordedCall>();
  lookup(callKey: string): RecordedCall | undefined {
    return this.calls.get(callKey);
  }
  record(call: RecordedCall): void {
    this.calls.set(call.callKey, structuredClone(call));
  }
}

interface Setup {
  context: OpContext;
  ledger: Ledger;
  fleet: Fleet;
}

function setup(
  task: SearchTask,
  options: { seed?: number; model?: string; limits?: BudgetLimits; slice?: BudgetLimits; recorder?: CallRecorder } = {},
): Setup {
  const clock = new VirtualClock();
  const seed = options.seed ?? 1;
  const tasks = new TaskOracleRegistry();
  tasks.registerTask(task);
  const fleet = new Fleet({ resolver: new FleetResolver({ config: parseFleetConfig({ version: 1 }), clock, seed, tasks }), clock, seed });
  const ledger = new Ledger({ clock, ...(options.limits ? { limits: options.limits } : {}) });
  const budget = options.slice ? ledger.root.child('search', { limits: options.slice }) : ledger.root;
  const context: OpContext = {
    fleet,
    budget,
    trace: new Trace(clock),
    stepId: `q/${task.id}`,
    model: options.model ?? 'sim:medium',
    taskId: task.id,
    ...(options.recorder ? { recorder: options.recorder } : {}),
  };
  return { context, ledger, fleet };
}

const ask = (task: SearchTask, rest: Partial<SearchOptions> = {}): SearchOptions => ({
  question: task.prompt,
  retriever,
  maxSteps: 3,
  k: 3,
  ...rest,
});
const isCorrect = (task: SearchTask, answer: string | undefined): boolean =>
  answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(task.answer);

describe('search operator (simulated fleet)', () => {
  it('answers far more often with search than a single closed-book call, citing the supporting passage', async () => {
    let withSearch = 0;
    let closedBook = 0;
    let items = 0;
    let citedWhenCorrect = 0;
    let totalSteps = 0;
    for (const seed of [1, 2, 3]) {
      for (const task of TASKS) {
        items++;
        const searched = await search(setup(task, { seed }).context, ask(task));
        const steps = searched.details['steps'] as number;
        assert.ok(steps >= 1 && steps <= 3, `${task.id}: ${steps} steps`);
        totalSteps += steps;
        if (isCorrect(task, searched.answer)) {
          withSearch++;
          if (searched.details['citedSupport'] === true) citedWhenCorrect++;
        }
        const closed = await generate(setup(task, { seed }).context, {
          step: 'closed-book',
          prompt: task.prompt,
          operator: 'baseline',
          axis: 'width',
        });
        if (isCorrect(task, closed.answer)) closedBook++;
      }
    }
    const searchAccuracy = withSearch / items;
    const closedAccuracy = closedBook / items;
    console.log(
      `search accuracy ${searchAccuracy.toFixed(3)} vs closed-book ${closedAccuracy.toFixed(3)} over ${items} items; mean steps ` +
        `${(totalSteps / items).toFixed(2)}; correct answers citing support ${citedWhenCorrect}/${withSearch}`,
    );
    assert.ok(searchAccuracy >= 0.7, `search accuracy ${searchAccuracy}`);
    assert.ok(closedAccuracy <= 0.25, `closed-book accuracy ${closedAccuracy}`);
    assert.ok(searchAccuracy - closedAccuracy >= 0.5);
    assert.equal(citedWhenCorrect, withSearch, 'every correct answer cites a passage that states it');
  });
});

describe('search operator: multi-hop, graph, evidence', () => {
  it('a 2-hop question needs 2 searches: the second query carries the bridge entity from the first evidence', async () => {
    const { context } = setup(TWO_HOP);
    const result = await search(context, ask(TWO_HOP));
    assert.equal(result.answer, 'Oska');
    assert.equal(result.details['steps'], 2);
    assert.deepEqual(result.details['queries'], ['Which river flows through the capital of Veloria?', 'river Marnhold']);
    assert.deepEqual(result.details['decisions'], ['search', 'answer']);
    assert.equal(result.calls, 2);
    assert.deepEqual(result.details['citations'], ['cities/marnhold.md']);
    assert.equal(result.details['supported'], true);
    assert.equal(result.details['stopReason'], 'answered');
    const seen = result.details['passagesSeen'] as string[];
    assert.deepEqual(
      seen.slice(0, 3),
      ['geography/rivers.md', 'countries/veloria.md', 'cities/quellen.md'],
      'step 1 evidence (no answer in it)',
    );
    assert.equal(seen[3], 'cities/marnhold.md');
    assert.equal(new Set(seen).size, seen.length, 'evidence de-duplicated');
    assert.equal(result.simulated, true);

    // Graph: evidence nodes derived from the query; the answer derived from (and supported by) the cited passage.
    const graph = context.trace.toJSON().graph;
    const evidence = graph.nodes.filter((node) => node.kind === 'evidence');
    assert.equal(evidence.length, seen.length);
    const answerNode = graph.nodes.find((node) => node.id === result.nodeId);
    assert.equal(answerNode?.kind, 'answer');
    assert.equal(answerNode?.answer, 'oska');
    const marnhold = evidence.find((node) => node.text.startsWith('[cities/marnhold.md]'));
    assert.ok(marnhold);
    assert.deepEqual(
      graph.edges.filter((edge) => edge.from === result.nodeId || edge.to === result.nodeId).map((edge) => [edge.from, edge.to, edge.kind]),
      [
        [result.nodeId, marnhold.id, 'derived-from'],
        [marnhold.id, result.nodeId, 'supports'],
      ],
    );
    const query = graph.nodes.find((node) => node.kind === 'query');
    assert.ok(
      evidence.every((node) => graph.edges.some((edge) => edge.from === node.id && edge.to === query?.id && edge.kind === 'derived-from')),
    );
    const tools = context.trace.events.filter((event) => event.type === 'tool');
    assert.deepEqual(
      tools.map((event) => event.data['query']),
      result.details['queries'],
    );
  });

  it('with maxSteps 1 the first turn is the forced final answer; more steps answer the 2-hop question more often', async () => {
    let oneStep = 0;
    let threeSteps = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const single = await search(setup(TWO_HOP, { seed }).context, ask(TWO_HOP, { maxSteps: 1 }));
      assert.equal(single.details['steps'], 1);
      assert.equal(single.calls, 1);
      assert.deepEqual(single.details['decisions'], ['answer']);
      assert.equal(single.details['stopReason'], 'max-steps');
      assert.deepEqual(single.details['citations'], [], 'a forced guess cites nothing');
      assert.deepEqual(single.degraded, []);
      if (isCorrect(TWO_HOP, single.answer)) oneStep++;
      if (isCorrect(TWO_HOP, (await search(setup(TWO_HOP, { seed }).context, ask(TWO_HOP))).answer)) threeSteps++;
    }
    console.log(`2-hop question over 8 seeds: ${oneStep}/8 correct with 1 search step, ${threeSteps}/8 with up to 3`);
    assert.ok(threeSteps >= oneStep + 3, `${oneStep} → ${threeSteps}`);
  });

  it('lets the model write the first query when asked (firstQuery: model)', async () => {
    const task = TASKS[12] as SearchTask;
    const result = await search(setup(task).context, ask(task, { firstQuery: 'model' }));
    assert.deepEqual(result.details['queries'], ['discovered comet Perenna']);
    assert.deepEqual(result.details['decisions'], ['search', 'answer']);
    assert.equal(result.details['steps'], 1);
    assert.equal(result.calls, 2);
    assert.deepEqual(result.details['citations'], ['history/chronicle.txt#2']);
  });

  it('caps evidence tokens by pruning the weakest passages, so prompts stay bounded', async () => {
    const { context } = setup(TWO_HOP);
    const result = await search(context, ask(TWO_HOP, { maxEvidenceTokens: 320 }));
    assert.ok((result.details['evidenceTokens'] as number) <= 320);
    assert.ok((result.details['pruned'] as string[]).length > 0);
    assert.equal(result.answer, 'Oska');
    assert.ok((result.details['evidence'] as string[]).includes('cities/marnhold.md'), 'the best hit of the last step is kept');
  });

  it('rejects invalid options, listing every problem', async () => {
    const { context } = setup(TWO_HOP);
    await assert.rejects(
      search(context, { question: ' ', retriever: {} as Retriever, maxSteps: 0, k: 1.5, maxOutputTokens: -1 }),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        error.issues.map((issue) => issue.path).join(',') === 'question,retriever,maxSteps,k,maxOutputTokens',
    );
  });
});

describe('search operator: budget', () => {
  const spentOn = (ledger: Ledger, path: string) => ledger.report().byBudget[path];

  it('degrades to fewer steps when the slice cannot cover another step plus a final answer, without overspending', async () => {
    const cases: Array<[limit: number, steps: number]> = [
      [100_000, 2],
      [3000, 2],
      [1800, 1],
    ];
    for (const [limit, steps] of cases) {
      const { context, ledger } = setup(TWO_HOP, { limits: { totalTokens: 1_000_000 }, slice: { totalTokens: limit } });
      const result = await search(context, ask(TWO_HOP, { maxSteps: 4 }));
      assert.equal(result.details['steps'], steps, `limit ${limit}`);
      assert.equal(result.budgetExhausted, false);
      assert.ok(result.answer !== undefined, 'still answers');
      const slice = spentOn(ledger, 'run/search');
      assert.ok(slice && slice.totalTokens <= limit, `spent ${slice?.totalTokens} of ${limit}`);
      const report = ledger.report();
      assert.equal(report.byOperator['search']?.totalTokens, slice?.totalTokens);
      assert.equal(report.byAxis['search']?.totalTokens, slice?.totalTokens);
      assert.equal(report.overrun.totalTokens, 0);
      if (limit === 100_000) assert.deepEqual(result.degraded, []);
      else {
        assert.deepEqual(result.degraded, [`search steps 4 → ${steps} (budget)`]);
        assert.equal(result.details['stopReason'], 'budget');
        assert.ok(context.trace.events.some((event) => event.type === 'degrade'));
      }
    }
  });

  it('a calls limit is a search-step limit too: one call left means answer now', async () => {
    const { context, ledger } = setup(TWO_HOP, { slice: { calls: 1 } });
    const result = await search(context, ask(TWO_HOP));
    assert.equal(result.calls, 1);
    assert.equal(result.details['steps'], 1);
    assert.deepEqual(result.degraded, ['search steps 3 → 1 (budget)']);
    assert.equal(spentOn(ledger, 'run/search')?.calls, 1);
  });

  it('when the budget refuses even the first call it reports budgetExhausted instead of throwing', async () => {
    const { context, ledger } = setup(TWO_HOP, { slice: { totalTokens: 400 } });
    const result = await search(context, ask(TWO_HOP));
    assert.equal(result.budgetExhausted, true);
    assert.equal(result.answer, undefined);
    assert.equal(result.calls, 0);
    assert.equal(result.details['stopReason'], 'budget');
    assert.equal(result.degraded.length, 2);
    assert.equal(spentOn(ledger, 'run/search')?.totalTokens, 0);
  });
});

describe('search operator: journal replay', () => {
  it('a resumed run replays every call from the recorder: identical result, no provider call, same booked spend', async () => {
    const recorder = new MemoryRecorder();
    const first = setup(TWO_HOP, { recorder });
    const original = await search(first.context, ask(TWO_HOP));
    assert.equal(recorder.calls.size, 2);

    const second = setup(TWO_HOP, { recorder });
    let providerCalls = 0;
    second.fleet.onEvent((event) => {
      if (event.type === 'call-start') providerCalls++;
    });
    const resumed = await search(second.context, ask(TWO_HOP));
    assert.equal(providerCalls, 0);
    assert.equal(resumed.details['replayedCalls'], 2);
    assert.deepEqual({ ...resumed, details: { ...resumed.details, replayedCalls: 0 } }, original);
    assert.deepEqual(second.ledger.report().total, first.ledger.report().total);
    assert.deepEqual(second.context.trace.toJSON().graph, first.context.trace.toJSON().graph);
  });

  it('resuming after the first call replays it and makes only the second one', async () => {
    const full = new MemoryRecorder();
    const original = await search(setup(TWO_HOP, { recorder: full }).context, ask(TWO_HOP));
    const partial = new MemoryRecorder();
    const [firstCall] = [...full.calls.values()];
    assert.ok(firstCall);
    partial.record(firstCall);
    const resumed = setup(TWO_HOP, { recorder: partial });
    const result = await search(resumed.context, ask(TWO_HOP));
    assert.equal(result.details['replayedCalls'], 1);
    assert.equal(result.answer, original.answer);
    assert.equal(result.text, original.text);
    assert.equal(partial.calls.size, 2);
  });
});
