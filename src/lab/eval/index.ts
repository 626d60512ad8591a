/**
 * `thicket eval`: matched-budget studies on the user's own datasets, models and scorers (see eval-command.ts).
 */
export * from './eval-file.ts';
export * from './eval-report.ts';
export { evalCommand, resolveEval, evalStudy, plannedCells, type EvalCommandOptions, type EvalCommandResult } from './eval-command.ts';
