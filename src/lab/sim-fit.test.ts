/** The sim-profile fit recovers known parameters from a synthetic journal, and reads real study journals. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, rngFor } from '../core/index.ts';
import { INSTANCE_NOISE_SD, probabilityCorrect, parseFleetConfig } from '../models/index.ts';
import { Journal } from '../journal/index.ts';
import { CELL_STEP_KIND, fitSimProfile, observationsFromJournal, parseStudy, runStudy } from './index.ts';
import { DEFAULT_SIM_PROFILES } from '../models/index.ts';

const close = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected} ± ${tolerance}, got ${actual}`);

/** A journal of `vote` cells for a "real" model whose calls follow the sim's formula with known parameters. */
function syntheticJournal(
  truth: {
    skill: number;
    discrimination: number;
    tokenGain: number;
    tokenScale: number;
    verbosity: number;
    verbosityGrowth: number;
    ttftMs: number;
    perTokenMs: number;
    priceIn: number;
    priceOut: number;
  },
  items = 400,
): Journal {
  const journal = Journal.open(':memory:');
  const runId = 'study-synthetic';
  journal.beginOrResumeRun({ id: runId, command: 'study', query: 'study:synthetic', simulated: false });
  const rng = createRng(42);
  const steps = [];
  const efforts = ['low', 'medium', 'high', 'xhigh'];
  const effortValue: Record<string, number> = { low: 0.5, medium: 1, high: 2.5, xhigh: 5 };
  for (let item = 0; item < items; item++) {
    const taskId = `arith/s1/${item}`;
    const difficulty = -1 + 6 * rng.next();
    const noise = INSTANCE_NOISE_SD * rngFor(9, 'noise', item).normal();
    const answer = String(100 + item);
    const stepId = `c/${taskId}/vote/4000/local-model`;
    steps.push({
      stepId,
      kind: CELL_STEP_KIND,
      status: 'ok',
      input: { suite: 'arith', taskId, architecture: 'vote', budget: 4000, model: 'local-model', seed: 1, answer, difficulty },
      output: {},
    });
    efforts.forEach((effort, sample) => {
      const planned =
        truth.verbosity * effortValue[effort]! * (1 + truth.verbosityGrowth * Math.max(0, difficulty)) * Math.exp(0.3 * rng.normal());
      const outputTokens = Math.round(planned) + 12;
      const p = probabilityCorrect({ profile: truth, difficulty, instanceNoise: noise, reasoningTokens: outputTokens, contextBonus: 0 });
      const correct = rng.next() < p;
      const inputTokens = 60 + rng.int(40);
      const costUsd = (inputTokens * truth.priceIn + outputTokens * truth.priceOut) / 1e6;
      journal.recordCall(runId, {
        callKey: `${taskId}#${sample}`,
        requestHash: `${taskId}-${sample}`,
        model: 'local-model',
        provider: 'openai-compatible',
        request: {
          messages: [{ role: 'user', content: `What is item ${item}?` }],
          maxOutputTokens: 8192,
          temperature: 0.7,
          metadata: { stepId: `${stepId}/vote/sample-${sample}`, taskId, tags: { purpose: 'answer', reasoningEffort: effort } },
        },
        response: {
          text: `Working.\nAnswer: ${correct ? answer : String(101 + item + items)}`,
          usage: { inputTokens, outputTokens },
          usageEstimated: false,
          finishReason: 'stop',
          latencyMs: Math.round(truth.ttftMs + truth.perTokenMs * outputTokens),
          simulated: false,
        },
        costUsd,
        attempts: 1,
        budgetPath: 'study/c0',
        tags: {},
      });
    });
  }
  journal.upsertSteps(runId, steps);
  return journal;
}

describe('fitSimProfile', () => {
  it('recovers skill, discrimination, token gain, verbosity, latency and prices from a synthetic journal', () => {
    const truth = {
      skill: 1.4,
      discrimination: 1.3,
      tokenGain: 0.8,
      tokenScale: 250,
      verbosity: 420,
      verbosityGrowth: 0.2,
      ttftMs: 220,
      perTokenMs: 7,
      priceIn: 0.2,
      priceOut: 0.8,
    };
    const journal = syntheticJournal(truth);
    const { observations, simulated } = observationsFromJournal(journal, { model: 'local-model' });
    assert.equal(observations.length, 1600);
    assert.equal(simulated, false);
    const fit = fitSimProfile(journal, { model: 'local-model', baseProfile: 'reasoner-small' });
    close(fit.parameters.skill, truth.skill, 0.3, 'skill θ');
    close(fit.parameters.discrimination, truth.discrimination, 0.3, 'discrimination a');
    close(fit.parameters.tokenGain, truth.tokenGain, 0.25, 'token gain γ');
    assert.equal(fit.parameters.tokenScale, 250);
    close(fit.parameters.verbosity, truth.verbosity, 25, 'verbosity');
    close(fit.parameters.verbosityGrowth, truth.verbosityGrowth, 0.03, 'verbosity growth');
    close(fit.parameters.latency.ttftMs, truth.ttftMs, 1, 'ttft');
    close(fit.parameters.latency.perTokenMs, truth.perTokenMs, 0.01, 'per-token latency');
    close(fit.parameters.priceInputPerMillion, truth.priceIn, 1e-6, 'input price');
    close(fit.parameters.priceOutputPerMillion, truth.priceOut, 1e-6, 'output price');
    assert.ok(fit.standardErrors.skill > 0 && fit.standardErrors.skill < 0.3, `se(θ) = ${fit.standardErrors.skill}`);
    assert.ok(fit.standardErrors.tokenGain !== undefined);
    // The snippet is a loadable fleet-config entry.
    const config = parseFleetConfig(fit.fleetConfig);
    assert.deepEqual(Object.keys(config.models), ['twin-local-model']);
    assert.equal(fit.snippet.provider, 'sim');
    assert.equal(fit.snippet.profile, 'reasoner-small');
    assert.equal(fit.snippet.overrides['reasoning'], true);
    journal.close();
  });

  it('keeps the token gain from the base profile when output lengths barely vary', () => {
    const truth = {
      skill: 2.0,
      discrimination: 1.0,
      tokenGain: 0.12,
      tokenScale: 300,
      verbosity: 170,
      verbosityGrowth: 0.08,
      ttftMs: 300,
      perTokenMs: 12,
      priceIn: 0.5,
      priceOut: 1.5,
    };
    const journal = Journal.open(':memory:');
    journal.beginOrResumeRun({ id: 'study-narrow', command: 'study', query: 'study:narrow', simulated: false });
    const rng = createRng(1);
    const steps = [];
    for (let item = 0; item < 60; item++) {
      const stepId = `c/x/s1/${item}/single/1000/m`;
      steps.push({
        stepId,
        kind: CELL_STEP_KIND,
        status: 'ok',
        input: { architecture: 'single', model: 'm', taskId: `x/s1/${item}`, answer: 'yes', difficulty: rng.next() * 4 },
        output: {},
      });
      journal.recordCall('study-narrow', {
        callKey: `k${item}`,
        requestHash: `h${item}`,
        model: 'm',
        provider: 'p',
        request: {
          messages: [],
          maxOutputTokens: 512,
          temperature: 0,
          metadata: { stepId: `${stepId}/answer/call`, tags: { purpose: 'answer' } },
        },
        response: {
          text: `Answer: ${rng.next() < 0.6 ? 'yes' : 'no'}`,
          usage: { inputTokens: 50, outputTokens: 180 + rng.int(5) },
          usageEstimated: false,
          finishReason: 'stop',
          latencyMs: 2500,
          simulated: false,
        },
        costUsd: 0.0003,
        attempts: 1,
        budgetPath: 'study',
        tags: {},
      });
    }
    journal.upsertSteps('study-narrow', steps);
    const fit = fitSimProfile(journal, { model: 'm', baseProfile: 'medium' });
    assert.equal(fit.parameters.tokenGain, truth.tokenGain);
    assert.match(fit.kept['tokenGain']!, /vary too little/);
    assert.equal(fit.standardErrors.tokenGain, undefined);
    journal.close();
  });

  it('round-trips the simulated fleet: a study of sim:medium yields a twin close to its profile', async () => {
    const journal = Journal.open(':memory:');
    const study = parseStudy({
      version: 1,
      id: 'twin',
      suites: [
        { kind: 'arithmetic', items: 40, operations: [2, 7] },
        { kind: 'logic', items: 30 },
      ],
      architectures: ['vote'],
      budgets: [4000],
      models: ['sim:medium'],
    });
    await runStudy(study, { journal });
    const fit = fitSimProfile(journal, { model: 'sim:medium' });
    const truth = DEFAULT_SIM_PROFILES['medium']!;
    assert.equal(fit.baseProfile, 'medium');
    assert.equal(fit.simulatedSource, true);
    close(fit.parameters.skill, truth.skill, 0.45, 'skill θ');
    close(fit.parameters.discrimination, truth.discrimination, 0.3, 'discrimination a');
    close(fit.parameters.verbosity, truth.verbosity, 25, 'verbosity');
    assert.deepEqual(
      [fit.parameters.priceInputPerMillion, fit.parameters.priceOutputPerMillion],
      [truth.priceInputPerMillion, truth.priceOutputPerMillion],
    );
    assert.deepEqual(fit.parameters.latency, truth.latency);
    journal.close();
  });
});
