/**
 * workflow — specs (zod ↔ JSON Schema), validation with hard limits, static cost estimates and fitting to a
 * budget, and the DAG executor with per-node budget slices, journaled steps, resume and a reasoning trace.
 */
export * from './spec.ts';
export {
  validateWorkflow,
  checkWorkflow,
  withNodes,
  InvalidWorkflowError,
  DEFAULT_WORKFLOW_LIMITS,
  GENERATED_WORKFLOW_LIMITS,
} from './validate.ts';
export type { WorkflowLimits, WorkflowIssue, WorkflowIssueCode, ValidateOptions, ValidatedWorkflow, CompiledNode } from './validate.ts';
export { maxCalls, callPlan, DEFAULT_THREAD_STEPS, SEARCH_PASSAGE_TOKENS, type CallGroup } from './plan.ts';
export {
  estimateWorkflow,
  worstCall,
  ESTIMATE_ASSUMPTIONS,
  CAPABILITY_ASSUMPTION,
  EXPECTED_OUTPUT_FRACTION,
  type NodeEstimate,
  type WorkflowEstimate,
} from './estimate.ts';
export {
  fitWorkflow,
  scaleNode,
  WorkflowOverBudgetError,
  type FitMode,
  type FitOptions,
  type FitResult,
  type EstimateBasis,
  type ScaleChange,
} from './fit.ts';
export {
  buildMessages,
  renderTemplate,
  placeholders,
  clip,
  DEFAULT_SYSTEM_PROMPT,
  DEFAULT_PROMPT_TEMPLATE,
  type TemplateValue,
} from './template.ts';
export {
  defaultOperators,
  templateValues,
  generateOperator,
  aggregateOperator,
  type OperatorFn,
  type OperatorRegistry,
  type NodeInput,
  type NodeInputs,
} from './operators.ts';
export { runWorkflow } from './executor.ts';
export { StepJournal, type StepJournalOptions } from './step-journal.ts';
export {
  bindCapability,
  preflightCapabilities,
  mergeCapabilityConstraints,
  CapabilityUnresolvedError,
  type CapabilityBinding,
  type CapabilityPolicy,
  type CapabilityRequest,
  type CapabilityResolveContext,
  type CapabilityResolver,
  type CapabilityUnresolvedReason,
} from './capability.ts';
export type { RunWorkflowOptions, BudgetPolicy, WorkflowResult, NodeRecord, NodeStatus, SkipReason } from './result.ts';
export { workflowJsonSchema, workflowJsonSchemaText, WORKFLOW_SCHEMA_PATH } from './export-schema.ts';
export { computeOperators, type OperatorEnvironment } from './op-adapters.ts';
export * from './strategies.ts';
