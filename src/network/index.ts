/**
 * network — agent networks: agents on a graph who talk only to their neighbours in synchronous rounds
 * (runNetwork), the verifying protocol's claims and cross-checks, and the AgentsNet benchmark (five
 * distributed-computing tasks with exact scoring, seeded graph generators, runAgentsNet).
 */
export {
  equalShare,
  runNetwork,
  type AgentInfo,
  type HistoryMode,
  type InboxView,
  type NetworkProgress,
  type NetworkPrompts,
  type NetworkProtocol,
  type NetworkRunOptions,
  type NetworkRunResult,
} from './runtime.ts';
export {
  checkInbox,
  claimSchema,
  formatClaim,
  scanClaims,
  verifiedMessageSchema,
  type CheckedClaim,
  type Claim,
  type ClaimCheck,
  type ClaimSource,
  type Flag,
  type ReceiverView,
  type VerifiedMessage,
} from './claims.ts';
export { parseFinalAnswer, parsePlainMessages, parseVerifiedMessages, type ParseResult } from './messages.ts';
export { ClaimTracker, type DecisionKey, type TrackerOptions } from './tracking.ts';
export { diameter, distancesFrom, edgeCount, edgesOf, graphFromEdges, isConnected, maxDegree, type AgentGraph } from './graph.ts';
export { FIXED_NAMES, MAX_AGENTS, agentNames, generatedName } from './names.ts';
export { GRAPH_FAMILIES, generateGraph, type GraphFamily } from './agentsnet/generators.ts';
export { delaunayEdges } from './agentsnet/delaunay.ts';
export { SAMPLES_PER_FAMILY, graphInstances, taskInstance, type GraphInstance, type TaskInstance } from './agentsnet/instances.ts';
export { TASKS, TASK_IDS, groupsFor, parseTasks, roundsFor, type TaskSpec } from './agentsnet/tasks.ts';
export {
  agentVerdicts,
  colourOptions,
  matchingConsistency,
  scoreColoring,
  scoreConsensus,
  scoreLeaderElection,
  scoreMatching,
  scoreTask,
  scoreVertexCover,
  type Answers,
  type TaskId,
} from './agentsnet/score.ts';
export { agentsNetPrompts, type PromptSettings } from './agentsnet/prompts.ts';
export { runInstance, type InstanceResult, type InstanceRunOptions } from './agentsnet/run-instance.ts';
export {
  AGENTSNET_STEP_KIND,
  DEFAULT_AGENTSNET_SEED,
  agentsNetJsonl,
  renderAgentsNetTable,
  runAgentsNet,
  standardError,
  type AgentsNetCell,
  type AgentsNetProgress,
  type AgentsNetResult,
  type AgentsNetRunOptions,
  type AgentsNetSizeScore,
} from './run-agentsnet.ts';
