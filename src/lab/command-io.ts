/**
 * The output and control a lab command runs with (`studyCommand`, `simFitCommand`, `evalCommand`): where its
 * text goes, whether it may draw progress bars, how it is cancelled. Injected so the CLI, the gateway's
 * study jobs and tests each supply their own.
 */
import type { StudyHooks } from './hooks.ts';
import type { StudyProgress } from './runner.ts';

export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Progress bars are drawn on stderr only on a TTY and never with --json. */
  isTTY: boolean;
  signal?: AbortSignal;
  /** Install a SIGINT handler that cancels the study (default true). */
  handleSigint?: boolean;
  /** Called with the cells done so far (the gateway's study jobs report it to the console). */
  onProgress?: (progress: StudyProgress) => void;
  hooks?: StudyHooks;
  now?: () => Date;
}
