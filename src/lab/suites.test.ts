/** Task suites: seeded, verifiable, registrable with the oracle; multi-hop questions answerable by search. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAnswer } from '../core/index.ts';
import { TaskOracleRegistry, mentions } from '../models/index.ts';
import {
  agentsnetSuite,
  arithmeticSuite,
  generateWorld,
  logicSuite,
  multihopCheck,
  multihopSuite,
  registerSuiteTasks,
  worldDocuments,
} from './index.ts';

describe('arithmetic suite', () => {
  it('is seeded, spreads items over the operation range, and its answers are exact', () => {
    const suite = arithmeticSuite({ name: 'arith', items: 12, seed: 3, operations: [2, 5] });
    assert.deepEqual(arithmeticSuite({ name: 'arith', items: 12, seed: 3, operations: [2, 5] }).tasks, suite.tasks);
    assert.notDeepEqual(
      arithmeticSuite({ name: 'arith', items: 12, seed: 4, operations: [2, 5] }).tasks.map((task) => task.prompt),
      suite.tasks.map((task) => task.prompt),
    );
    assert.deepEqual(
      suite.tasks.map((task) => task.meta['operations']),
      [2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5],
    );
    for (const task of suite.tasks) {
      const expression = String(task.meta['expression']);
      // An independent evaluator: the expressions are generated digits, operators and parentheses only.
      assert.match(expression, /^[\d\s+\-*/()]+$/);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the test's own evaluator; the expression was just matched to digits and operators
      const value = (new Function(`return (${expression});`) as () => number)();
      assert.equal(Number(task.answer), Math.round(value * 1e6) / 1e6);
      assert.equal(suite.check(task, ` ${task.answer}.`), 1);
      assert.equal(suite.check(task, undefined), 0);
    }
    const banded = arithmeticSuite({ name: 'band', items: 6, seed: 1, minDifficulty: 1, maxDifficulty: 2 });
    assert.ok(banded.tasks.every((task) => task.difficulty >= 1 && task.difficulty <= 2));
  });
});

describe('logic suite', () => {
  it('states chains whose answer an independent evaluator agrees with; harder with more steps', () => {
    const suite = logicSuite({ name: 'logic', items: 14, seed: 2, steps: [2, 8] });
    for (const task of suite.tasks) {
      // Evaluate the prompt's statements independently of the generator.
      const values = new Map<string, boolean>();
      for (const [, name, rest] of task.prompt.matchAll(/(p\d+) is ([^.]+)\./g)) {
        const v = (ref: string): boolean => values.get(ref)!;
        const parts = rest!.split(' ');
        const value =
          rest === 'true'
            ? true
            : rest === 'false'
              ? false
              : parts[0] === 'NOT'
                ? !v(parts[1]!)
                : parts[0] === 'the'
                  ? v(parts[3]!)
                  : parts[1] === 'AND'
                    ? v(parts[0]!) && v(parts[2]!)
                    : parts[1] === 'OR'
                      ? v(parts[0]!) || v(parts[2]!)
                      : v(parts[0]!) !== v(parts[2]!);
        values.set(name!, value);
      }
      const asked = /What is the value of (p\d+)\?/.exec(task.prompt)![1]!;
      assert.equal(task.answer, String(values.get(asked)));
      assert.deepEqual(task.distractors, [{ answer: task.answer === 'true' ? 'false' : 'true', weight: 1 }]);
    }
    const bySteps = (steps: number): number[] => suite.tasks.filter((task) => task.meta['steps'] === steps).map((task) => task.difficulty);
    assert.ok(Math.max(...bySteps(2)) < Math.min(...bySteps(8)));
  });
});

describe('multi-hop suite', () => {
  it('generates a world with unique names none of which prefixes another', () => {
    const world = generateWorld(5, 10);
    const names = [
      ...world.countries.map((country) => country.name),
      ...world.cities.keys(),
      ...world.rivers.keys(),
      ...world.mountains.keys(),
    ].map((name) => name.toLowerCase());
    assert.equal(new Set(names).size, names.length);
    for (const a of names) for (const b of names) if (a !== b) assert.ok(!b.startsWith(a), `${a} prefixes ${b}`);
    assert.equal(worldDocuments(world).length, 10 + 20 + world.rivers.size + world.mountains.size + world.people.size);
  });

  it('asks 1–3 hop questions whose hop chain leads through the corpus to the answer', () => {
    const suite = multihopSuite({ name: 'hops', items: 18, seed: 7, hops: [1, 3] });
    assert.deepEqual([...new Set(suite.tasks.map((task) => task.meta['hops']))].sort(), [1, 2, 3]);
    assert.ok(suite.retriever && suite.retriever.size > 30);
    for (const task of suite.tasks) {
      assert.equal(task.hops!.length, task.meta['hops']);
      assert.ok(task.difficulty >= 5, 'fictional facts: closed-book difficulty is high');
      assert.ok(task.distractors!.every((distractor) => normalizeAnswer(distractor.answer) !== normalizeAnswer(task.answer)));
      // Follow the hops as the sim's search policy does: hop terms plus every bridge entity found so far.
      const learned: string[] = [];
      let found = false;
      task.hops!.forEach((hop, index) => {
        const target = hop.finds ?? task.answer;
        const query = [...hop.terms, ...learned].join(' ');
        const passages = (suite.retriever!.search(query, 3) as Array<{ title: string; text: string }>).map(
          (passage) => `${passage.title} ${passage.text}`,
        );
        assert.ok(
          passages.some((text) => mentions(text, target)),
          `hop ${index + 1} of "${task.prompt}" (query "${query}") finds ${target}`,
        );
        if (hop.finds) learned.push(hop.finds);
        else found = true;
      });
      assert.ok(found);
    }
  });

  it('accepts an answer with a title or article, and nothing else', () => {
    const suite = multihopSuite({ name: 'hops', items: 6, seed: 1, hops: [3, 3] });
    const task = suite.tasks.find((entry) => entry.meta['template'] === 'capital-river-source') ?? suite.tasks[0]!;
    assert.equal(multihopCheck(task, task.answer.toUpperCase()), 1);
    if (task.meta['template'] === 'capital-river-source') assert.equal(multihopCheck(task, `Mount ${task.answer}`), 1);
    assert.equal(multihopCheck(task, `${task.answer}x`), 0);
  });
});

describe('oracle registration and AgentsNet instances', () => {
  it('registers every generated task with the simulated fleet oracle (idempotently)', () => {
    const registry = new TaskOracleRegistry();
    const suites = [
      arithmeticSuite({ name: 'a', items: 3, seed: 1 }),
      logicSuite({ name: 'l', items: 3, seed: 1 }),
      multihopSuite({ name: 'm', items: 3, seed: 1 }),
    ];
    for (const suite of suites) registerSuiteTasks(registry, suite);
    for (const suite of suites) registerSuiteTasks(registry, suite);
    assert.equal(registry.size, 9);
    const hop = registry.getTask('m/s1/0') as { hops?: unknown };
    assert.ok(Array.isArray(hop.hops), 'search fields survive registration');
  });

  it('lays out the AgentsNet grid (task × size × family × sample) without oracle tasks', () => {
    const suite = agentsnetSuite({
      name: 'net',
      seed: 1,
      tasks: ['consensus', 'coloring'],
      sizes: [4, 16],
      families: ['ws', 'ba'],
      instances: 2,
    });
    assert.equal(suite.tasks.length, 2 * 2 * 2 * 2);
    assert.equal(suite.network, true);
    const registry = new TaskOracleRegistry();
    registerSuiteTasks(registry, suite);
    assert.equal(registry.size, 0);
    assert.deepEqual(suite.tasks[0]!.meta, { task: 'consensus', networkSize: 4, family: 'ws', seed: 1, sample: 0 });
  });
});
