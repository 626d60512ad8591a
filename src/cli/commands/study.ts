/**
 * `thicket study` (the main job) and `thicket sim fit`: thin wrappers over the lab's command functions,
 * which own the logic (src/lab/study-command.ts). Before a study on non-simulated models spends anything, it
 * names them and asks (or takes `--yes`), as `governor calibrate` does.
 */
import { loadFleetConfig } from '../../models/index.ts';
import { openFleet } from '../../runtime/index.ts';
import {
  resolveStudy,
  simFitCommand,
  studyCommand,
  type SimFitCommandOptions,
  type StudyCommandOptions,
  type StudyDefinition,
} from '../../lab/index.ts';
import { confirmSpend } from '../spend-guard.ts';

const io = () => ({
  out: (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stderr.isTTY),
});

export async function runStudyCommand(flags: StudyCommandOptions & { yes?: boolean }): Promise<number> {
  const { yes, ...options } = flags;
  await confirmStudySpend(options, Boolean(yes));
  return (await studyCommand(options, io())).exitCode;
}

/**
 * Consent for a study whose models are not all simulated. A study or config the lab would reject is left to
 * the lab (it reports every problem with its path): this check only runs on what resolves.
 */
async function confirmStudySpend(options: StudyCommandOptions, yes: boolean): Promise<void> {
  let study: StudyDefinition;
  let fleet: ReturnType<typeof openFleet>['fleet'];
  try {
    study = resolveStudy(options);
    const config = options.fleetConfig ?? loadFleetConfig(options.config ?? study.config).config;
    fleet = openFleet({ config, seed: 0, models: study.models, simulatedClock: 'virtual' }).fleet;
    for (const model of study.models) fleet.model(model);
  } catch {
    return;
  }
  const cells = study.suites.length * study.architectures.length * study.budgets.length * study.models.length * study.seeds.length;
  await confirmSpend({
    command: 'study',
    fleet,
    models: study.models,
    plan: `${cells} cells (suites × architectures × budgets × models × seeds)`,
    yes,
    announceSimulated: false,
  });
}

export async function runSimFitCommand(flags: SimFitCommandOptions): Promise<number> {
  return (await simFitCommand(flags, io())).exitCode;
}
