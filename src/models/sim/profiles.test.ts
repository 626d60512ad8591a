/** Default profiles, override merging and the task registry. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../core/index.ts';
import {
  DEFAULT_SIM_PROFILES,
  TaskOracleRegistry,
  defaultDistractors,
  extractAnswer,
  mergeSimProfile,
  normalizeAnswer,
  tokenGain,
} from './index.ts';

describe('sim profiles', () => {
  it('ships the five default profiles with sane, ordered parameters', () => {
    assert.deepEqual(Object.keys(DEFAULT_SIM_PROFILES).sort(), ['large', 'medium', 'reasoner-large', 'reasoner-small', 'small']);
    const { small, medium, large } = DEFAULT_SIM_PROFILES as Record<string, (typeof DEFAULT_SIM_PROFILES)[string]>;
    assert.ok(small!.skill < medium!.skill && medium!.skill < large!.skill);
    assert.ok(small!.priceOutputPerMillion < medium!.priceOutputPerMillion && medium!.priceOutputPerMillion < large!.priceOutputPerMillion);
    assert.ok(small!.confidence.bias > large!.confidence.bias, 'small is over-confident');
    for (const profile of Object.values(DEFAULT_SIM_PROFILES)) {
      assert.deepEqual(
        [
          profile.faults.rateLimit,
          profile.faults.serverError,
          profile.faults.timeout,
          profile.faults.malformedJson,
          profile.faults.truncated,
        ],
        [0, 0, 0, 0, 0],
      );
    }
    assert.ok(DEFAULT_SIM_PROFILES['reasoner-small']!.verbosity > 2 * small!.verbosity, 'reasoners are verbose');
  });

  it('gain(tokens) saturates, and is much flatter for non-reasoners', () => {
    const reasoner = DEFAULT_SIM_PROFILES['reasoner-small']!;
    const plain = DEFAULT_SIM_PROFILES['medium']!;
    assert.equal(tokenGain(reasoner, 0), 0);
    assert.ok(tokenGain(reasoner, 2000) - tokenGain(reasoner, 500) > 5 * (tokenGain(plain, 2000) - tokenGain(plain, 500)));
    assert.ok(
      tokenGain(reasoner, 4000) - tokenGain(reasoner, 2000) < tokenGain(reasoner, 2000) - tokenGain(reasoner, 0),
      'diminishing returns',
    );
  });

  it('merges overrides field-wise without touching the base', () => {
    const base = DEFAULT_SIM_PROFILES['small']!;
    const merged = mergeSimProfile(base, { skill: 3, faults: { rateLimit: 0.5 }, latency: { ttftMs: 10 } });
    assert.equal(merged.skill, 3);
    assert.equal(merged.faults.rateLimit, 0.5);
    assert.equal(merged.faults.retryAfterMs, base.faults.retryAfterMs);
    assert.equal(merged.latency.ttftMs, 10);
    assert.equal(merged.latency.perTokenMs, base.latency.perTokenMs);
    assert.equal(base.faults.rateLimit, 0);
    // Fleet-level keys that travel with overrides are ignored.
    assert.equal(mergeSimProfile(base, { maxConcurrency: 4, timeoutMs: 1000 }).skill, base.skill);
  });

  it('reports every bad override at once as INVALID_CONFIG', () => {
    assert.throws(
      () =>
        mergeSimProfile(DEFAULT_SIM_PROFILES['small']!, { skil: 2, tier: 'huge', faults: { rateLimit: 2, typo: 1 }, contextWindow: -5 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.code, 'INVALID_CONFIG');
        assert.deepEqual(error.issues.map((issue) => issue.path).sort(), [
          'contextWindow',
          'faults.rateLimit',
          'faults.typo',
          'skil',
          'tier',
        ]);
        return true;
      },
    );
  });
});

describe('task oracle registry', () => {
  it('registers, looks up and resolves tasks with normalised distractors', () => {
    const registry = new TaskOracleRegistry();
    registry.registerTask({
      id: 'q1',
      prompt: 'Pick one',
      answer: 'B',
      difficulty: 1,
      distractors: [
        { answer: 'C', weight: 3 },
        { answer: 'a', weight: 1 },
        { answer: 'b', weight: 5 },
      ],
    });
    assert.equal(registry.size, 1);
    assert.equal(registry.getTask('q1')?.answer, 'B');
    const resolved = registry.resolve('q1')!;
    assert.deepEqual(
      resolved.distractors.map((entry) => [entry.normalized, entry.weight]),
      [
        ['c', 0.75],
        ['a', 0.25],
      ],
      'the correct answer is dropped from distractors, weights normalised',
    );
    assert.equal(registry.resolve('q1'), resolved, 'resolved once');
    assert.equal(registry.resolve('missing'), undefined);
  });

  it('is idempotent for identical tasks and refuses conflicting ones', () => {
    const registry = new TaskOracleRegistry();
    const task = { id: 'q', prompt: 'p', answer: '4', difficulty: 0 };
    registry.registerTask(task);
    registry.registerTask({ ...task });
    assert.throws(() => registry.registerTask({ ...task, answer: '5' }), InvalidInputError);
    assert.throws(
      () => registry.registerTask({ id: '', prompt: 'p', answer: '', difficulty: Number.NaN }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 3,
    );
  });

  it('generates concentrated default distractors deterministically from the id', () => {
    const a = defaultDistractors('1250', 'task:x');
    assert.deepEqual(defaultDistractors('1250', 'task:x'), a);
    assert.ok(a[0]!.weight >= 0.45 && a[0]!.weight <= 0.75);
    assert.ok(a.every((entry) => /^-?\d+$/.test(entry.answer) && entry.answer !== '1250'));
    assert.deepEqual(defaultDistractors('yes', 'task:y'), [{ answer: 'no', weight: 1 }]);
    assert.ok(defaultDistractors('C', 'task:z').every((entry) => /^[ABDE]$/.test(entry.answer)));
    assert.ok(defaultDistractors('Paris', 'task:w').every((entry) => entry.answer.startsWith('[distractor')));
  });
});

describe('answer helpers', () => {
  it('extracts the Answer line, else the last number', () => {
    assert.equal(extractAnswer('[simulated] x\nAnswer: 391\nConfidence: 0.80'), '391');
    assert.equal(extractAnswer('so it is 12, then 57'), '57');
    assert.equal(extractAnswer('no answer here'), undefined);
  });

  it('normalises answers for voting', () => {
    assert.equal(normalizeAnswer(' 1,234.0. '), '1234');
    assert.equal(normalizeAnswer('"Paris"'), 'paris');
    assert.equal(normalizeAnswer('**391**'), '391');
  });
});
