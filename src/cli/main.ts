/**
 * The `thicket` command. Exit codes are a contract: 0 ok, 2 bad input, 3 budget exhausted, 4 cancelled,
 * 1 anything else. With `--json`, errors are printed as one JSON object on stdout too.
 */
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { exitCodeFor, toThicketError, type ThicketError } from '../core/index.ts';
import { ExitSignal, lazyModule } from './program/common.ts';
import { addSolveCommand, addWorkflowCommands } from './program/solve.ts';
import { addFleetCommands, addModelsCommands } from './program/models.ts';
import { addAgentsCommands } from './program/agents.ts';
import { addAgentsnetCommand, addEvalCommand, addSimCommands, addStudyCommand, addWorkerCommand } from './program/lab.ts';
import { addExportCommands, addGovernorCommands } from './program/governor.ts';
import { addCriticalityCommand, addRunsCommands } from './program/inspect.ts';
import { addKeysCommands, addServeCommand } from './program/gateway.ts';

/** Frees the embedded engine if a command loaded it (the models layer is loaded by then, or nothing was). */
const { disposeLlamaEngine } = lazyModule(() => import('../models/index.ts'));

export function buildProgram(): Command {
  const program = new Command('thicket')
    .description('Runtime and lab for compute-optimal multi-agent reasoning. Every run has a hard budget and a journal.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // One flag per concept: the journal is --journal everywhere; --db (and sim fit's --from-journal) are older
    // spellings kept as aliases. Commands read the resolved path as `db`.
    .hook('preAction', (_program, command) => {
      const options = command.opts<{ journal?: string; db?: string }>();
      if (options.journal !== undefined) command.setOptionValue('db', options.journal);
    });
  // Registration order is the order `thicket --help` lists the commands in.
  addSolveCommand(program);
  addFleetCommands(program);
  addWorkflowCommands(program);
  addAgentsCommands(program);
  addAgentsnetCommand(program);
  addStudyCommand(program);
  addEvalCommand(program);
  addWorkerCommand(program);
  addSimCommands(program);
  addGovernorCommands(program);
  addExportCommands(program);
  addModelsCommands(program);
  addCriticalityCommand(program);
  addServeCommand(program);
  addKeysCommands(program);
  addRunsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return handleError(error, json);
  } finally {
    // Frees the embedded engine (if a gguf: model was loaded) so the process can exit.
    await disposeLlamaEngine();
  }
}

function handleError(error: unknown, json: boolean): number {
  {
    if (error instanceof ExitSignal) return error.code;
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; anything else commander rejects is bad input.
      if (error.exitCode === 0) return 0;
      if (json) process.stdout.write(`${JSON.stringify({ status: 'error', error: { code: 'INVALID_INPUT', message: error.message } })}\n`);
      return 2;
    }
    const thicketError: ThicketError = toThicketError(error);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ status: 'error', error: thicketError.toJSON(), ...('issues' in thicketError ? { issues: thicketError.issues } : {}) })}\n`,
      );
    process.stderr.write(`${pc.red(`error ${thicketError.code}`)}: ${thicketError.message}\n`);
    if (thicketError.code === 'INTERNAL' && process.env['THICKET_DEBUG']) process.stderr.write(`${String((error as Error).stack)}\n`);
    return exitCodeFor(thicketError);
  }
}
