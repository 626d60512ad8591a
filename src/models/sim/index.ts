/**
 * The simulated fleet (`sim:`): a deterministic, offline workload simulator behind the real provider
 * interface — profiles, the task oracle (registered tasks and built-in arithmetic), the accuracy model and
 * `SimProvider`. Everything it produces is marked `simulated: true`.
 */
export { SimProvider, effortMultiplier, promptTokens, type SimProviderOptions } from './sim-provider.ts';
export {
  DEFAULT_SIM_PROFILES,
  mergeSimProfile,
  type SimAgentPolicy,
  type SimConfidenceCalibration,
  type SimFaultRates,
  type SimLatency,
  type SimProfile,
  type SimProfileOverrides,
  type SimTier,
} from './profiles.ts';
export {
  TaskOracleRegistry,
  defaultDistractors,
  resolveDistractors,
  type ResolvedTask,
  type SimDistractor,
  type SimTask,
  type WeightedAnswer,
} from './tasks.ts';
export {
  arithmeticDifficulty,
  arithmeticSteps,
  arithmeticTask,
  findArithmetic,
  generateArithmeticChain,
  makeArithmeticTask,
  parseArithmetic,
  type ArithmeticChainOptions,
  type ArithmeticProblem,
  type ArithmeticStep,
  type StepOperand,
} from './arithmetic.ts';
export {
  INSTANCE_NOISE_SD,
  contextBonus,
  instanceNoise,
  probabilityCorrect,
  scanContext,
  tokenGain,
  type ContextEvidence,
} from './accuracy.ts';
export { PLACEHOLDER_PREFIX } from './output.ts';
export { SOLO_LOGIT_BONUS, SOLO_SMALL_EARLY_STOP } from './solo.ts';
/** Answer extraction/normalisation live in core so the sim (which writes answers) and the voters agree. */
export { extractAnswer, normalizeAnswer } from '../../core/index.ts';
export {
  searchStepDraft,
  searchFieldsOf,
  parseSearchPrompt,
  mentions,
  keyTerms,
  type SimSearchHop,
  type SimSearchFields,
  type SimSearchTask,
} from './search-policy.ts';
