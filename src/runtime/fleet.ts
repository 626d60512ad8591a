/**
 * One way to put a fleet together for a run: whether the run is simulated (every model it can call is `sim:`),
 * the clock that follows from it (virtual for simulated runs unless real waiting is asked for), and the fleet.
 */
import { VirtualClock, systemClock, type Clock } from '../core/index.ts';
import { Fleet, FleetResolver, type FleetConfig, type TaskOracleRegistry } from '../models/index.ts';
import { assertModelsReady } from './readiness.ts';

export interface OpenFleetOptions {
  config: FleetConfig;
  seed: number;
  /** Every model the run can call; the run is simulated only when all of them are. */
  models: readonly string[];
  /** `virtual` (default): simulated latency costs no time. `real`: simulated runs wait as real ones do. */
  simulatedClock?: 'virtual' | 'real';
  /** The oracle of registered tasks the simulated fleet grades by (lab suites, calibration). */
  tasks?: TaskOracleRegistry;
  /** Overrides the clock choice (tests, benchmarks). */
  clock?: Clock;
}

export interface OpenedFleet {
  fleet: Fleet;
  clock: Clock;
  simulated: boolean;
}

/** Whether every one of `models` resolves to a simulated model (an unknown reference throws, typed). */
export function isSimulatedRun(config: FleetConfig, models: readonly string[], seed = 0): boolean {
  const probe = new FleetResolver({ config, clock: systemClock, seed });
  return models.every((reference) => probe.resolve(reference).profile.simulated);
}

/**
 * Every one of `models` must be callable: a model that is not (its API key variable is unset) is refused
 * here, before any call and before the caller opens a journal run (MISSING_API_KEY, exit 2).
 */
export function openFleet(options: OpenFleetOptions): OpenedFleet {
  const { config, seed } = options;
  const simulated = isSimulatedRun(config, options.models, seed);
  const clock = options.clock ?? (simulated && options.simulatedClock !== 'real' ? new VirtualClock() : systemClock);
  const resolver = new FleetResolver({ config, clock, seed, ...(options.tasks ? { tasks: options.tasks } : {}) });
  const fleet = new Fleet({ resolver, clock, seed });
  assertModelsReady(fleet, options.models);
  return { fleet, clock, simulated };
}
