/**
 * The package surface of `thicket`: what `import { … } from 'thicket'` gives a library user. Each line
 * re-exports one layer's own surface (its index.ts), except `createThicket` and the runtime's types. Layers
 * not listed (formats, registry, governor, network, criticality, the rest of lab, cli) are the runtime's and
 * the CLI's, reachable from the source tree but not promised API.
 *
 * Nothing here may load an optional peer dependency (node-llama-cpp, usearch, vega, vega-lite,
 * @modelcontextprotocol/sdk) when imported: each is loaded on first use by the feature that needs it, which
 * throws an OptionalDependencyMissingError (code OPTIONAL_DEPENDENCY_MISSING) naming the install command
 * when it is absent. src/package.test.ts checks this on the packed tarball.
 */
/** Typed errors and codes, seeded randomness, clocks, hashing, token counting, usage types. */
export * from './core/index.ts';
/** Hard budgets: the Ledger and its reservations. */
export * from './budget/index.ts';
/** Model providers (simulated fleet, OpenAI-compatible endpoints, embedded GGUF), the Fleet, fleet config. */
export * from './models/index.ts';
/** The SQLite journal of runs, steps, calls and spend. */
export * from './journal/index.ts';
/** Budgeted reasoning operators: sample, vote, debate, verify, refine, cascade, search, thread. */
export * from './ops/index.ts';
/** Workflow specs, validation, cost estimates and the executor; the built-in strategies. */
export * from './workflow/index.ts';
/** The main entry: `createThicket()` → solve, stream, runWorkflow, agentsnet, study, runs, registry, close. */
export { createThicket, Thicket, type StudyRequest, type StudyResult, type EvalRequest, type EvalResult } from './lab/index.ts';
/** The runtime instance `Thicket` extends, and the types of its options, results and events. */
export {
  ThicketRuntime,
  TRACE_STEP_ID,
  type ThicketOptions,
  type SolveOptions,
  type SolvePolicy,
  type SolveStrategy,
  type SolveResult,
  type NodeSummary,
  type KvReport,
  type ThicketEvent,
  type ThicketEventType,
  type AgentsNetOptions,
  type AgentsNetRun,
  type RunDetails,
} from './runtime/index.ts';
/** The OpenAI-compatible gateway (`thicket serve`) for embedding in a host process: startGateway / createGateway, keys, telemetry. */
export * from './gateway/index.ts';
