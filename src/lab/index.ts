/**
 * lab — task suites (generated, verifiable, seeded), matched-budget studies over architectures × budgets ×
 * models × seeds (journaled, resumable), analysis (scaling fits, compute-optimal frontier, variance
 * decomposition, solo vs multi-agent, search vs tokens, coordination vs size, criticality), reports
 * (HTML/Markdown/JSON with inline SVG charts) and sim profiles fitted from real runs.
 *
 *   const study = resolveStudy({ quick: true });
 *   const run = await runStudy(study, { journal: Journal.open('lab.db') });
 *   const analysis = analyzeStudy({ studyId: study.id, simulated: run.simulated, cells: run.cells });
 *   await writeReport({ analysis, generatedAt: new Date().toISOString() }, 'thicket-lab/quick');
 */
export * from './types.ts';
export * from './suites/index.ts';
export {
  ArchitectureRegistry,
  defaultArchitectures,
  strategyArchitecture,
  solverArchitecture,
  agentsnetArchitectures,
  type ArchitectureDefinition,
  type ArchitectureFamily,
  type ArchitectureOutcome,
  type ArchitectureRunInput,
  type SolverInput,
  type SolverOutput,
  type AgentsnetRunInput,
  type AgentsnetRunOutput,
  type AgentsnetRunner,
} from './architectures.ts';
export {
  studySchema,
  parseStudy,
  readStudyFile,
  loadStudyFile,
  builtinStudyPath,
  checkStudy,
  type StudyDefinition,
  type StudyInput,
} from './study-file.ts';
export { runStudy, studyRunId, CELL_STEP_KIND, type RunStudyOptions, type StudyProgress, type StudyRun } from './runner.ts';
export * from './queue/index.ts';
export * from './analysis/index.ts';
export {
  writeReport,
  renderCharts,
  renderSvg,
  renderHtml,
  renderMarkdown,
  type ReportInput,
  type ReportFiles,
  type RunSummary,
  type Chart,
} from './report/index.ts';
export {
  fitSimProfile,
  fitSimProfileFromObservations,
  observationsFromJournal,
  type SimFitObservation,
  type SimFitOptions,
  type SimProfileFit,
} from './sim-fit.ts';
export { defaultStudyHooks, criticalityMetrics, type StudyHooks } from './hooks.ts';
export {
  studyCommand,
  simFitCommand,
  resolveStudy,
  type StudyCommandOptions,
  type StudyCommandResult,
  type SimFitCommandOptions,
  type CommandIO,
} from './study-command.ts';
export { Thicket, createThicket, type StudyRequest, type StudyResult, type EvalRequest, type EvalResult } from './thicket.ts';
export * from './tiny.ts';
export * from './tiny-thread.ts';
export * from './tiny-thread-eval.ts';
export * from './datasets/index.ts';
export * from './scorers/index.ts';
export * from './eval/index.ts';
export {
  governorCandidates,
  frontierRecords,
  fitGovernorFromStudies,
  policyFromRecords,
  type TrainingStudy,
  type FitFromStudiesOptions,
  type FittedFrontierPolicy,
} from './governor-fit.ts';
