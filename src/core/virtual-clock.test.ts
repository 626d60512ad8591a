import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.ts';

/**
 * The order the VirtualClock must wake timers in, as a plain list (what the clock did before its heap):
 * earliest due first, ties in registration order; every timer due at the same instant that was registered
 * before the tick is woken in that tick, even one an earlier callback of the tick cancelled.
 */
class ReferenceClock {
  current = 0;
  private timers: Array<{ due: number; order: number; resolve: () => void }> = [];
  private sequence = 0;
  setTimer(ms: number, callback: () => void): () => void {
    const timer = { due: this.current + Math.max(0, ms), order: this.sequence++, resolve: callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((entry) => entry !== timer);
    };
  }
  /** One tick of the real clock's setImmediate loop; false when nothing is pending. */
  tick(): boolean {
    if (this.timers.length === 0) return false;
    const due = Math.min(...this.timers.map((timer) => timer.due));
    for (const timer of [...this.timers].sort((a, b) => a.order - b.order))
      if (timer.due === due) {
        this.timers = this.timers.filter((entry) => entry !== timer);
        this.current = Math.max(this.current, timer.due);
        timer.resolve();
      }
    return true;
  }
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drives both clocks through the same script: callbacks that register, cancel (each other, too) and log. */
async function scenario(seed: number): Promise<{ real: string[]; reference: string[] }> {
  const clock = new VirtualClock();
  const reference = new ReferenceClock();
  const logs = { real: [] as string[], reference: [] as string[] };
  for (const [name, target] of [
    ['real', clock],
    ['reference', reference],
  ] as const) {
    const next = random(seed);
    const log = logs[name];
    const cancels: Array<() => void> = [];
    let created = 0;
    const add = (depth: number): void => {
      const id = created++;
      // Few distinct delays, so many timers share an instant (the batch rules matter).
      const ms = Math.floor(next() * 6) * 10;
      cancels.push(
        target.setTimer(ms, () => {
          log.push(`${id}@${name === 'real' ? clock.now() : reference.current}`);
          if (depth < 3 && next() < 0.6) add(depth + 1);
          if (depth < 3 && next() < 0.3) add(depth + 1);
          // Cancel some other timer, possibly one due at this same instant.
          if (next() < 0.4) cancels[Math.floor(next() * cancels.length)]!();
        }),
      );
    };
    for (let index = 0; index < 300; index++) add(0);
    for (let index = 0; index < 60; index++) cancels[Math.floor(next() * cancels.length)]!();
    if (name === 'reference') while (reference.tick());
  }
  // The real clock ticks on setImmediate: wait until it has drained.
  for (let spins = 0; spins < 100_000 && logs.real.length < logs.reference.length; spins++)
    await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return logs;
}

test('VirtualClock wakes timers in the reference order (due, then registration; batches per instant; cancels)', async () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    const { real, reference } = await scenario(seed);
    assert.ok(reference.length > 300, `seed ${seed}: the scenario fires timers`);
    assert.deepEqual(real, reference, `seed ${seed}`);
  }
});

test('VirtualClock: a timer of the same instant cancelled by an earlier callback still fires; one cancelled before does not', async () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  let cancelB = (): void => {};
  clock.setTimer(10, () => {
    fired.push('a');
    cancelB();
  });
  cancelB = clock.setTimer(10, () => fired.push('b'));
  const cancelC = clock.setTimer(10, () => fired.push('c'));
  cancelC();
  await clock.sleep(20);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.now(), 20);
});

test('VirtualClock: thousands of cancelled timers (call timeouts) are dropped, and sleeps aborted mid-wait reject', async () => {
  const clock = new VirtualClock();
  const woken: number[] = [];
  await Promise.all(
    Array.from({ length: 2000 }, async (_, index) => {
      const cancel = clock.setTimer(60_000, () => woken.push(-index));
      await clock.sleep(1 + (index % 50));
      cancel();
      woken.push(index);
    }),
  );
  assert.equal(woken.length, 2000);
  assert.ok(
    woken.every((value) => value >= 0),
    'no cancelled timeout fired',
  );
  assert.equal(clock.now(), 50);
  const controller = new AbortController();
  const waiting = clock.sleep(100, controller.signal);
  controller.abort();
  await assert.rejects(waiting, { code: 'CANCELLED' });
  clock.advance(1000);
  assert.equal(clock.now(), 1050);
});
