/** One gateway per journal: a live holder refuses a second one; a lock left by a dead process is taken over. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../core/index.ts';
import { lockJournalForGateway } from './journal-lock.ts';

describe('the gateway lock on a journal', () => {
  it('refuses while a live process holds it, takes it over from a dead one, and releases it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'thicket-gateway-lock-'));
    try {
      const journal = join(dir, 'journal.db');
      const lock = `${journal}.gateway.lock`;
      // A live process other than this one (the parent of this test runner is alive for as long as it runs).
      writeFileSync(lock, String(process.ppid));
      assert.throws(
        () => lockJournalForGateway(journal),
        (error: unknown) => error instanceof InvalidInputError && /served by the gateway of process/.test(error.message),
      );
      // A process that has exited: its pid is free (a child that ran and ended).
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
      writeFileSync(lock, dead);
      const release = lockJournalForGateway(journal);
      assert.equal(readFileSync(lock, 'utf8'), String(process.pid));
      release();
      assert.equal(existsSync(lock), false);
      assert.equal(lockJournalForGateway(':memory:')(), undefined, 'a private in-memory journal needs no lock');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
