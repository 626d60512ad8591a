/**
 * The lab's architectures: what a study can compare. An architecture takes one task under one hard
 * per-query budget and returns an answer (or a score) plus what it spent along which axis.
 *
 * Built in: every named workflow strategy (single, vote, refine, thread, search, debate, solo, cascade), run
 * through the workflow executor exactly as `thicket solve --strategy` runs it. Later layers plug in with one
 * line each in `defaultArchitectures()` (and nothing else in the lab changes) — `auto` (the governor's
 * `governedSolve`) and AgentsNet (`agentsnetArchitectures`, over the network layer) are registered that way.
 *
 * Each family is its own module: the contract and registry (./architecture-registry.ts), the strategies and
 * their `@n` knobs (./strategy-architectures.ts), the solvers (./solver-architectures.ts) and AgentsNet
 * (./agentsnet-architectures.ts). Their names are exported from here too, where the lab's surface and callers
 * import them.
 */
import { STRATEGIES } from '../workflow/index.ts';
import { ArchitectureRegistry } from './architecture-registry.ts';
import { strategyArchitecture } from './strategy-architectures.ts';
import { adaptiveVoteSolver, autoSolver, governedSolver, routerSolver, solverArchitecture } from './solver-architectures.ts';
import { agentsnetArchitectures, agentsnetRunner } from './agentsnet-architectures.ts';

export {
  ArchitectureRegistry,
  type ArchitectureDefinition,
  type ArchitectureFamily,
  type ArchitectureOutcome,
  type ArchitectureRunInput,
} from './architecture-registry.ts';
export { strategyArchitecture } from './strategy-architectures.ts';
export { solverArchitecture, type SolverInput, type SolverOutput } from './solver-architectures.ts';
export {
  agentsnetArchitectures,
  type AgentsnetRunInput,
  type AgentsnetRunOutput,
  type AgentsnetRunner,
} from './agentsnet-architectures.ts';

/**
 * The lab's architectures: the workflow strategies, the governor (`auto`) and AgentsNet (plain, verified).
 * Registering a name makes its `plan` line stop applying.
 */
export function defaultArchitectures(): ArchitectureRegistry {
  const registry = new ArchitectureRegistry();
  for (const strategy of STRATEGIES) registry.register(strategyArchitecture(strategy));
  registry.register(
    solverArchitecture(
      'auto',
      'governed',
      'the governor probes difficulty and allocates compute (thicket solve --strategy auto)',
      autoSolver,
    ),
  );
  // The governor's own arms, as candidates its frontier tables are fitted from (and to compare against).
  registry.register(
    solverArchitecture(
      'adaptive-vote',
      'governed',
      "width that stops once decided: the probe's samples reused, up to n, stopped when the leader is 3 ahead",
      adaptiveVoteSolver,
      { name: 'samples', min: 3, max: 64 },
    ),
  );
  registry.register(
    solverArchitecture('router', 'governed', 'the confidence router: probe the small model, escalate while unsure', routerSolver),
  );
  registry.register(
    solverArchitecture(
      'governed',
      'governed',
      "the governor's probe → difficulty bin → allocation path (no frontier table)",
      governedSolver,
    ),
  );
  for (const entry of agentsnetArchitectures(agentsnetRunner)) registry.register(entry);
  return registry;
}
