/**
 * `thicket study` (the main job) and `thicket sim fit`: thin wrappers over the lab's command functions,
 * which own the logic (src/lab/study-command.ts).
 */
import { simFitCommand, studyCommand, type SimFitCommandOptions, type StudyCommandOptions } from '../../lab/index.ts';

const io = () => ({
  out: (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stderr.isTTY),
});

export async function runStudyCommand(flags: StudyCommandOptions): Promise<number> {
  return (await studyCommand(flags, io())).exitCode;
}

export async function runSimFitCommand(flags: SimFitCommandOptions): Promise<number> {
  return (await simFitCommand(flags, io())).exitCode;
}
