/**
 * runtime — the one place a run is assembled (fleet + ledger + journal + registry + governor + executor).
 * Every surface is a thin caller: the library (`createThicket`), the CLI, and what comes next (gateway,
 * console, workers). Above governor/network/criticality, below lab and cli.
 */
export { ThicketRuntime, createRuntime, resolveThicketOptions, type ThicketOptions, type RunDetails } from './thicket.ts';
export {
  solve,
  defaultVoteSamples,
  newRunId,
  readWorkflowFile,
  type SolveOptions,
  type SolvePolicy,
  type SolveStrategy,
  type SolveEnvironment,
} from './solve.ts';
export { agentsNetRun, DEFAULT_AGENTSNET_RUN_SEED, type AgentsNetOptions, type AgentsNetRun } from './agentsnet.ts';
export { TRACE_STEP_ID, type SolveResult, type NodeSummary, type KvReport } from './result.ts';
export { EventQueue, type ThicketEvent, type ThicketEventType } from './events.ts';
export { cascadeLadder, governorBinding } from './governor-binding.ts';
export { checkFleet, type FleetCheckRow } from './fleet-check.ts';
export { openFleet, isSimulatedRun, type OpenFleetOptions, type OpenedFleet } from './fleet.ts';
export { assertModelsReady, checkDollarBudget, unpricedModels } from './readiness.ts';
export { prepareCapabilities, type CapabilityWiring } from './capabilities.ts';
