/**
 * ops — compute operators. Each takes a budget slice (a child budget) and never spends beyond it; each
 * returns an OpResult and writes its calls and reasoning-graph nodes to the trace.
 */
export * from './context.ts';
export * from './trace.ts';
export * from './generate.ts';
export * from './answer-call.ts';
export * from './freetext.ts';
export * from './sample.ts';
export * from './corpus.ts';
export * from './retriever.ts';
export * from './search.ts';
export { thread, THREAD_DEFAULTS, type ThreadOptions } from './thread.ts';
export {
  CALCULATOR_TOOL,
  DEFAULT_THREAD_DEPTH,
  calculate,
  normalizeTool,
  pathLabel,
  renderThread,
  threadSchema,
  threadStepSchema,
  toDocument,
  type RenderOptions,
  type ThreadNode,
  type ThreadSchemaOptions,
  type ThreadStepKind,
  type ThreadStepSchemaOptions,
  type ThreadTool,
  type ThreadToolFn,
  type ThreadTools,
  type ThreadUnion,
  type TimDocument,
  type TimTask,
  type TimToolUse,
} from './thread-format.ts';
export {
  solo,
  soloSchema,
  soloMessages,
  parseTranscript,
  ASSISTANT_PERSONA,
  DEFAULT_SOLO_MAX_OUTPUT_TOKENS,
  type Persona,
  type SoloOptions,
} from './solo.ts';
export { debate, debateAsSolo, neighbours, type DebateAgent, type DebateOptions, type DebateTopology } from './debate.ts';
export * from './aggregate.ts';
export * from './verify.ts';
export * from './refine.ts';
export * from './cascade.ts';
