/**
 * The gate between a generated spec and the executor: a planner's spec runs only once it is a valid workflow
 * (GENERATED_WORKFLOW_LIMITS, known operators, models that resolve, no capability nodes) and its expected
 * cost fits what is left of the budget; otherwise its issues go back to the planner. When the planner's
 * retries are spent, the fallback is a library template for the query's difficulty, checked the same way
 * and scaled to the budget.
 */
import type { OpContext } from '../ops/index.ts';
import {
  checkWorkflow,
  fitWorkflow,
  strategySpec,
  WorkflowOverBudgetError,
  type ValidatedWorkflow,
  type WorkflowIssue,
  type WorkflowLimits,
} from '../workflow/index.ts';
import { PLANNER_TOO_EXPENSIVE } from '../formats/index.ts';
import { TIERS } from './binder.ts';
import type { PlanTemplate } from './planner-prompt.ts';
import type { PlanOptions } from './plan-types.ts';

/** The spec as a runnable, affordable workflow — or every issue that keeps it from being one. */
export function validateAndFit(
  raw: unknown,
  context: OpContext,
  options: PlanOptions,
  limits: WorkflowLimits,
): { workflow: ValidatedWorkflow | undefined; issues: WorkflowIssue[] } {
  const checked = checkWorkflow(raw, {
    limits,
    operators: options.operators,
    requireModels: true,
    fleet: context.fleet,
    model: options.defaultModel,
    tierModels: options.tiers,
  });
  if (!checked.workflow) return { workflow: undefined, issues: checked.issues };
  // The governor binds generated workflows by tier (its binder already applied the query's policy); it runs them
  // without a capability resolver, so a capability node would only fail at run time — send it back instead.
  const capabilityIssues: WorkflowIssue[] = checked.workflow.nodes.flatMap((node, index) =>
    node.capability === undefined
      ? []
      : [
          {
            code: 'capability' as const,
            path: `nodes[${index}].capability`,
            message: 'generated workflows choose models by tier (small, medium, large) or name; capability needs are not available here',
          },
        ],
  );
  if (capabilityIssues.length > 0) return { workflow: undefined, issues: capabilityIssues };
  try {
    const fit = fitWorkflow(checked.workflow, context.fleet, { query: options.query, budget: context.budget, mode: 'reject' });
    return { workflow: fit.workflow, issues: [] };
  } catch (error) {
    if (!(error instanceof WorkflowOverBudgetError)) throw error;
    return { workflow: undefined, issues: [{ code: 'limit', path: 'nodes', message: `${PLANNER_TOO_EXPENSIVE}: ${error.message}` }] };
  }
}

/** The template for the query's difficulty, scaled to the budget; undefined when not even its minimum fits. */
export function fallbackWorkflow(
  context: OpContext,
  options: PlanOptions,
  templates: readonly PlanTemplate[],
  limits: WorkflowLimits,
): ValidatedWorkflow | undefined {
  const preferred =
    options.bin === 'hard'
      ? ['strategy:cascade', 'strategy:vote', 'strategy:single']
      : options.bin === 'medium'
        ? ['strategy:vote', 'strategy:single']
        : ['strategy:single'];
  const model = TIERS.map((tier) => options.tiers[tier]).find((reference) => reference !== undefined) ?? options.defaultModel;
  for (const name of preferred) {
    const spec =
      templates.find((template) => template.name === name)?.spec ??
      strategySpec('single', { model, samples: 1, maxOutputTokens: options.maxOutputTokens });
    const checked = checkWorkflow(spec, {
      limits,
      operators: options.operators,
      requireModels: true,
      fleet: context.fleet,
      model: options.defaultModel,
      tierModels: options.tiers,
    });
    if (!checked.workflow) continue;
    try {
      return fitWorkflow(checked.workflow, context.fleet, { query: options.query, budget: context.budget, mode: 'scale' }).workflow;
    } catch (error) {
      if (!(error instanceof WorkflowOverBudgetError)) throw error;
    }
  }
  return undefined;
}
