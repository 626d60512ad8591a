/**
 * Shared set-up of the journal's test files: fresh database paths under one temp folder (removed after the
 * file's tests), a journal opened and closed around a function, and small assertion helpers.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError } from '../../core/index.ts';
import { Journal } from '../journal.ts';
import type { CallRow } from '../types.ts';
import type { RecordedCall } from '../call-recorder.ts';

export interface TempJournals {
  /** A fresh database path inside a not-yet-existing folder (open must create it). */
  freshPath: () => string;
  withJournal: <T>(fn: (journal: Journal, path: string) => T, options?: { now?: () => number }) => T;
}

/** Registers the temp folder's hooks for the calling test file. */
export function useTempJournals(): TempJournals {
  let root = '';
  let counter = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'thicket-journal-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const freshPath = (): string => {
    counter += 1;
    return join(root, `case-${counter}`, 'nested', 'journal.db');
  };
  return {
    freshPath,
    withJournal: (fn, options = {}) => {
      const path = freshPath();
      const journal = Journal.open(path, options);
      try {
        return fn(journal, path);
      } finally {
        journal.close();
      }
    },
  };
}

/** The RecordedCall part of a CallRow (without the flattened listing fields). */
export function recordedOf(row: CallRow): RecordedCall {
  const { callKey, requestHash, model, provider, request, response, costUsd, attempts, budgetPath, tags } = row;
  return { callKey, requestHash, model, provider, request, response, costUsd, attempts, budgetPath, tags };
}

export const baseRun = {
  id: 'run-1',
  command: 'ask',
  query: 'What is 2+2?',
  args: { model: 'sim:small', n: 3 },
  seed: 42,
  simulated: true,
  budget: { usd: 0.5, tokens: 10_000 },
};

export function assertCode(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(ThicketError.isInstance(error), `expected a ThicketError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}
