/**
 * The embedded engine through the real `thicket` command (issue #4's done criterion): the project writes its
 * random-weight GGUF fixture with `thicket models fixture`, then `thicket solve … --model gguf:<fixture>
 * --strategy thread --json` decodes a TIM thread on llama.cpp in-process. The text is gibberish; what is
 * checked is the mechanics: exit code, a real (not simulated) run, usage from the engine's token meter, the
 * KV report, the journal, and that a bad gguf: path is rejected before anything is journaled. (Here the
 * random model decides the tree and closes it without subtasks, so nothing is erased; the erasures
 * themselves are checked token by token in src/models/llama/kv-thread.test.ts on fixed trees.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SolveResult } from '../runtime/index.ts';
import { countRuns, describeResult, makeTempDir, parseSingleJson, runCli, withJournalReadonly, type TempDir } from './testing/run-cli.ts';

let dir: TempDir;
let fixture: string;
before(async () => {
  dir = makeTempDir('thicket-embedded-');
  fixture = dir.file('fixture.gguf');
  const written = await runCli(['models', 'fixture', fixture], { cwd: dir.path });
  assert.equal(written.code, 0, describeResult(written));
});
after(() => dir.remove());

describe('thicket solve on the embedded engine (gguf: fixture)', () => {
  it('runs a thread on the engine (pruning on) end to end and reports what it did to the KV cache', async () => {
    assert.ok(existsSync(fixture) && statSync(fixture).size < 2_000_000, 'the fixture is a small file the project writes itself');
    const db = dir.file('journal.db');
    const result = await runCli(['solve', 'What is 17*23?', '--model', `gguf:${fixture}`, '--strategy', 'thread', '--json', '--db', db], {
      cwd: dir.path,
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, describeResult(result));
    const solved = parseSingleJson<SolveResult>(result);
    assert.equal(solved.status, 'ok');
    assert.equal(solved.simulated, false);
    assert.equal(typeof solved.answer, 'string');
    const node = solved.nodes['thread']!;
    assert.equal(node.status, 'ok');
    const kv = node.kv!;
    assert.ok(kv, 'the thread node carries a KV report');
    // Usage is the engine's token meter: evaluated tokens, plus cells shifted by erasures (metered as input).
    assert.ok(kv.tokensProcessed > 0 && kv.tokensGenerated > 0);
    assert.ok(solved.usage.totalTokens >= kv.tokensProcessed);
    assert.equal(solved.usage.calls, 1);
    assert.equal(solved.usage.usd, 0);
    assert.ok(kv.peakKvTokens <= kv.unprunedTokens && kv.finalKvTokens <= kv.peakKvTokens);
    assert.equal(
      kv.unprunedTokens - kv.tokensErased - kv.finalKvTokens,
      1,
      'what is left = what was written − what was erased (the closing brace is never evaluated)',
    );
    assert.ok(kv.overTime.length >= 1);
    assert.deepEqual(
      kv.overTime.map((sample) => sample.finishedTasks),
      kv.overTime.map((_, index) => index + 1),
    );
    assert.equal(countRuns(db), 1);
    const recorded = withJournalReadonly(
      db,
      (handle) => handle.prepare('SELECT status, simulated FROM runs').get() as { status: string; simulated: number },
    );
    assert.deepEqual(recorded, { status: 'ok', simulated: 0 });
  });

  it('samples the thread from the run seed: the same --seed decodes the same tree, another seed another', async () => {
    const db = dir.file('seeds.db');
    const solveWith = async (seed: number) => {
      const result = await runCli(
        ['solve', 'What is 17*23?', '--model', `gguf:${fixture}`, '--strategy', 'thread', '--json', '--db', db, '--seed', String(seed)],
        { cwd: dir.path, timeoutMs: 120_000 },
      );
      assert.equal(result.code, 0, describeResult(result));
      return parseSingleJson<SolveResult>(result);
    };
    const [first, again, other] = [await solveWith(5), await solveWith(5), await solveWith(6)];
    assert.equal(again.answer, first.answer);
    assert.deepEqual(again.nodes['thread']!.kv!.tokensProcessed, first.nodes['thread']!.kv!.tokensProcessed);
    assert.notEqual(other.answer, first.answer);
  });

  it('keeps the thread within the run budget: stopped part-way (exit 3), never past the caps', async () => {
    const db = dir.file('budget.db');
    // Token caps are decided by the seeded engine alone (no clock): seed 1 decodes a 4-task tree, which none of
    // these caps can hold, so each stops the thread part-way on any machine and under any load.
    const caps = [
      ['--budget-output-tokens', 100],
      ['--budget-input-tokens', 300],
      ['--budget-tokens', 200],
    ] as const;
    const solve = (flag: string, value: number) =>
      runCli(
        [
          'solve',
          'What is 17*23?',
          '--model',
          `gguf:${fixture}`,
          '--strategy',
          'thread',
          '--json',
          '--db',
          db,
          '--seed',
          '1',
          flag,
          String(value),
        ],
        { cwd: dir.path, timeoutMs: 120_000 },
      );
    for (const [flag, value] of caps) {
      const result = await solve(flag, value);
      assert.equal(result.code, 3, describeResult(result));
      const solved = parseSingleJson<SolveResult>(result);
      assert.equal(solved.status, 'budget_exhausted');
      const spent =
        flag === '--budget-output-tokens'
          ? solved.usage.outputTokens
          : flag === '--budget-input-tokens'
            ? solved.usage.inputTokens
            : solved.usage.totalTokens;
      assert.ok(spent <= value, `${flag} ${value}: spent ${spent}`);
      assert.ok(
        solved.degraded.some((note) => /thread (stopped part-way|skipped)/.test(note)),
        solved.degraded.join('; '),
      );
    }
    // A time budget is wall time: whether it runs out before the thread starts or part-way depends on the
    // machine's load (both are checked on a virtual clock in src/workflow/kv-thread-op.test.ts). 1 ms cannot
    // hold loading the model and decoding a 4-task tree on any machine, so here the outcome is certain: the
    // run ends budget_exhausted and the thread did not run to completion.
    const timed = await solve('--budget-seconds', 0.001);
    assert.equal(timed.code, 3, describeResult(timed));
    const solved = parseSingleJson<SolveResult>(timed);
    assert.equal(solved.status, 'budget_exhausted');
    assert.ok(
      solved.degraded.some((note) => /thread:? (stopped part-way|skipped)/.test(note)),
      solved.degraded.join('; '),
    );
  });

  it('models ls: the pins and whether each is in the cache (a verified file found by its sidecar, no hashing)', async () => {
    const cache = dir.file('models-cache');
    mkdirSync(cache);
    const list = async () => {
      const result = await runCli(['models', 'ls', '--json'], { cwd: dir.path, env: { THICKET_MODELS_DIR: cache } });
      assert.equal(result.code, 0, describeResult(result));
      return parseSingleJson<{
        cache: string;
        models: Array<{ name: string; default: boolean; pulled: boolean; reference: string | null; sizeBytes: number; sha256: string }>;
      }>(result);
    };
    const empty = await list();
    assert.equal(empty.cache, cache);
    const pin = empty.models.find((model) => model.default)!;
    assert.deepEqual([pin.pulled, pin.reference], [false, null]);
    // A sparse file of the pinned size plus the sidecar `models pull` writes after verifying it.
    const file = join(cache, 'qwen2.5-0.5b-instruct-q4_k_m.gguf');
    writeFileSync(file, '');
    truncateSync(file, pin.sizeBytes);
    writeFileSync(
      `${file}.verified.json`,
      JSON.stringify({ sha256: pin.sha256, sizeBytes: pin.sizeBytes, mtimeMs: statSync(file).mtimeMs }),
    );
    const pulled = (await list()).models.find((model) => model.default)!;
    assert.deepEqual([pulled.pulled, pulled.reference], [true, 'gguf:default']);
  });

  it('solve with nothing configured uses the pulled default (gguf:default), and says how to get one when none is', async () => {
    const none = await runCli(['solve', 'What is 17*23?', '--json', '--db', dir.file('none.db')], {
      cwd: dir.path,
      env: { THICKET_MODELS_DIR: dir.file('no-models') },
    });
    assert.equal(none.code, 2, describeResult(none));
    assert.match(parseSingleJson<{ error: { code: string; message: string } }>(none).error.message, /thicket models pull/);
    // A stand-in for the pulled model: the fixture padded (sparsely) to the pin's size, with the sidecar `models
    // pull` writes after verifying — so the lookup, the default and gguf:default's resolution are all real.
    const cache = dir.file('pulled-cache');
    mkdirSync(cache);
    const file = join(cache, 'qwen2.5-0.5b-instruct-q4_k_m.gguf');
    copyFileSync(fixture, file);
    const listed = await runCli(['models', 'ls', '--json'], { cwd: dir.path, env: { THICKET_MODELS_DIR: cache } });
    const pin = parseSingleJson<{ models: Array<{ default: boolean; sizeBytes: number; sha256: string }> }>(listed).models.find(
      (model) => model.default,
    )!;
    truncateSync(file, pin.sizeBytes);
    writeFileSync(
      `${file}.verified.json`,
      JSON.stringify({ sha256: pin.sha256, sizeBytes: pin.sizeBytes, mtimeMs: statSync(file).mtimeMs }),
    );
    const result = await runCli(['solve', 'What is 17*23?', '--strategy', 'thread', '--json', '--db', dir.file('default.db')], {
      cwd: dir.path,
      env: { THICKET_MODELS_DIR: cache },
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, describeResult(result));
    const solved = parseSingleJson<SolveResult>(result);
    assert.deepEqual(Object.keys(solved.spendByModel), ['gguf:default']);
    assert.equal(solved.simulated, false);
    assert.ok(solved.nodes['thread']!.kv, 'the thread ran on the embedded engine');
  });

  it('rejects a missing or non-GGUF model file with exit 2 before a run is journaled', async () => {
    const db = dir.file('rejected.db');
    const missing = dir.file('missing.gguf');
    const notes = dir.file('notes.gguf');
    writeFileSync(notes, 'not a model\n');
    for (const [path, why] of [
      [missing, /No model file at .*missing\.gguf.*thicket models pull/],
      [notes, /notes\.gguf is not a GGUF file/],
    ] as const) {
      const result = await runCli(['solve', 'What is 17*23?', '--model', `gguf:${path}`, '--strategy', 'thread', '--json', '--db', db], {
        cwd: dir.path,
      });
      assert.equal(result.code, 2, describeResult(result));
      const body = parseSingleJson<{ status: string; error: { code: string; message: string } }>(result);
      assert.equal(body.error.code, 'UNKNOWN_MODEL');
      assert.match(body.error.message, why);
    }
    assert.equal(countRuns(db), 0);
  });
});
