/**
 * governor — where compute goes, per query: a difficulty probe on the cheapest tier, a policy that maps
 * (difficulty, budget) to an arm (stop, widen the vote, escalate through a fitted cascade, decompose, or
 * generate a workflow), a planner that writes and refines workflow specs, and the calibration/fit loop that
 * learns the policy from journaled runs. `governedSolve` is what `thicket solve --strategy auto` runs.
 */
export {
  governedSolve,
  governedTrajectory,
  routerStages,
  GOVERNOR_STEP_KIND,
  type GovernedSolveOptions,
  type GovernedSolveResult,
  type GovernorDecision,
} from './solve.ts';
export { explainFrontier, type FrontierExplanation } from './frontier-decision.ts';
export {
  TIERS,
  tierBinder,
  fleetBinder,
  fleetTiers,
  boundTiers,
  type CapabilityBinder,
  type CapabilityNeed,
  type BindConstraints,
  type BoundCapability,
  type TierBinderOptions,
} from './binder.ts';
export {
  registryBinder,
  passesPolicy,
  type RegistryBinder,
  type RegistryBinderOptions,
  type QueryPolicy,
  type BindableModel,
} from './registry-binder.ts';
export * from './policy.ts';
export {
  fitCascadePolicy,
  evaluateCascade,
  largestOnly,
  foldsOf,
  type CalibrationRecord,
  type StageObservation,
  type CascadeTarget,
  type CascadeChoice,
  type CascadeFit,
  type FitCascadeOptions,
} from './cascade-fit.ts';
export {
  allocate,
  learnAllocation,
  levelIndex,
  armKey,
  SEARCH_STEPS,
  type ArmRecord,
  type CellReport,
  type LearnOptions,
} from './allocation.ts';
export { probeDifficulty, binOf, summarise, VOTE_TEMPERATURE, type ProbeResult, type ProbeOptions } from './probe.ts';
export {
  routeCascade,
  type RouterStage,
  type RouterOptions,
  type RouterResult,
  type RouterStageReport,
  type Escalation,
} from './router.ts';
export { extendVote, threadArm, searchArm, type VoteArmResult, type ThreadArmResult, type SearchArmResult } from './arms.ts';
export { planAndExecute, costShare, type PlanOptions, type PlanOutcome, type PlanRound } from './planner.ts';
export {
  plannerSchema,
  plannerMessages,
  templateLibrary,
  PLANNER_SYSTEM,
  EXAMPLES_DIR,
  type PlanTemplate,
  type LibraryOptions,
  type PromptContext,
} from './planner-prompt.ts';
export {
  exportTrajectories,
  readTrajectories,
  parseTrajectories,
  recordPlanStep,
  recordGovernedStep,
  trajectorySchema,
  PLAN_STEP_KIND,
  GOVERNED_STEP_KIND,
  GOVERNED_STEP_ID,
  TRAJECTORY_VERSION,
  type Trajectory,
  type PlanStep,
  type GovernedStep,
  type ReadTrajectoriesOptions,
} from './trajectories.ts';
export {
  calibrate,
  readCalibration,
  DEFAULT_CANDIDATE_ARMS,
  CORPUS_CANDIDATE_ARMS,
  CALIBRATE_COMMAND,
  STAGE_STEP_KIND,
  ARM_STEP_KIND,
  type CalibrationItem,
  type CalibrateOptions,
  type CalibrateSummary,
  type CalibrationData,
} from './calibrate.ts';
export { fitGovernorPolicy, type FitPolicyOptions, type FittedPolicy } from './fit-policy.ts';
export { mixedArithmeticSuite, calibrationItems, DIFFICULTY_BANDS } from './suite.ts';
export {
  OBJECTIVES,
  FAMILIES,
  GOVERNED_CHOICE,
  ADAPTIVE_VOTE_LEAD,
  inferFamily,
  selectFrontier,
  fitFrontier,
  budgetTokensOf,
  cellForArchitecture,
  frontierSchema,
  type Objective,
  type Frontier,
  type FrontierTable,
  type FrontierEntry,
  type FrontierRecord,
  type FrontierQuery,
  type FrontierSelection,
  type CandidateFigures,
  type FitFrontierOptions,
} from './frontier.ts';
export { builtinPolicy, BUILTIN_POLICY_PATH } from './builtin-policy.ts';
