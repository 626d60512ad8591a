/**
 * What a report is rendered from, in its own module so that the HTML and Markdown writers and the
 * report index can all import it without importing one another.
 */
import type { StudyAnalysis } from '../analysis/index.ts';
import type { StudyRun } from '../runner.ts';

/** The run summary a report shows (a StudyRun without its cells). */
export type RunSummary = Omit<StudyRun, 'cells'>;

export interface ReportInput {
  analysis: StudyAnalysis;
  run?: RunSummary;
  /** ISO timestamp shown in the report (a parameter so reports are reproducible in tests). */
  generatedAt: string;
}
