/**
 * A view of a journal for work that runs many independent solves in one run (calibration, a study's cells):
 * model calls are recorded and replayed in the run, under keys prefixed with a namespace, and the step table
 * looks empty with step writes ignored (the caller journals its own steps).
 *
 * Namespaced call keys keep the solves independent: a solver that names its steps the same every time (the
 * governor's `gov/…`) would otherwise replay, in one solve, the calls another solve recorded under a
 * different budget — or, for identical requests, record a second paid call under a key already taken.
 */
import type { CallRecorder } from './call-recorder.ts';
import type { Journal } from './journal.ts';

export function callsOnlyJournal(journal: Journal, namespace: string): Journal {
  return new Proxy(journal, {
    get(target, key) {
      if (key === 'getSteps') return () => [];
      if (key === 'upsertSteps' || key === 'upsertStep') return () => undefined;
      if (key === 'recorder') return (runId: string): CallRecorder => namespacedRecorder(target.recorder(runId), namespace);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A recorder whose call keys are prefixed with `namespace|`. */
export function namespacedRecorder(inner: CallRecorder, namespace: string): CallRecorder {
  return {
    lookup: (callKey) => inner.lookup(`${namespace}|${callKey}`),
    record: (call) => inner.record({ ...call, callKey: `${namespace}|${call.callKey}` }),
  };
}
