/**
 * Runs and their steps: creating a run, resuming it (only with the command, query, owner and settings it was
 * begun with), finishing and listing runs, and writing steps. Steps written in a batch go through the group
 * commit with every call buffered so far: a step is never committed finished without the calls it made.
 */
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import { unknownRun } from './errors.ts';
import type { GroupCommit } from './group-commit.ts';
import type { JournalHandle } from './journal-handle.ts';
import { RunLister, checkRunFilter } from './run-list.ts';
import { toRunRow, toStepRow, toTotals, type RunDbRow, type StepDbRow } from './rows.ts';
import type { FinishRun, NewRun, RunFilter, RunRow, RunSummary, StepInput, StepRow } from './types.ts';
import { finishValues, requireId, runValues, stepValues, type RunValues } from './validation.ts';

/** A checked step with its JSON columns. */
type StepValues = { step: StepInput } & ReturnType<typeof stepValues>;

export class RunRecords {
  private runLister: RunLister | undefined;

  constructor(
    private readonly handle: JournalHandle,
    private readonly commit: GroupCommit,
  ) {}

  create(run: NewRun): RunRow {
    const values = runValues(run);
    return this.handle.guard(`Cannot create run "${run.id}"`, () => this.handle.tx(() => this.insertRun(values)));
  }

  get(id: string): RunRow | undefined {
    this.commit.flush();
    requireId(id, 'id', 'Cannot read run');
    return this.handle.guard(`Cannot read run "${id}"`, () => {
      const row = this.handle.stmts().getRun.get(id);
      return row === undefined ? undefined : toRunRow(row);
    });
  }

  beginOrResume(run: NewRun): { run: RunRow; resumed: boolean } {
    const values = runValues(run);
    return this.handle.guard(`Cannot begin run "${run.id}"`, () =>
      this.handle.tx(() => {
        const existing = this.handle.stmts().getRun.get(values.id);
        if (existing === undefined) return { run: this.insertRun(values), resumed: false };
        const issues = resumeIssues(existing, values);
        if (issues.length > 0)
          throw new InvalidInputError(`Run "${values.id}" cannot be resumed with a different command, query or settings`, issues);
        this.handle.stmts().resumeRun.run(values.budgetJson, this.handle.isoNow(), values.id);
        return { run: this.readRun(values.id), resumed: true };
      }),
    );
  }

  finish(id: string, outcome: FinishRun, steps: readonly StepInput[]): RunRow {
    const { errorJson, usageJson } = finishValues(id, outcome);
    const values = steps.map((step) => ({ step, ...stepValues(id, step) }));
    this.handle.assertOpen();
    const now = this.handle.isoNow();
    return this.commit.writeBatch(
      () => `Cannot finish run "${id}"`,
      () => {
        this.writeSteps(id, values, now);
        const changes = this.handle.stmts().finishRun.run(outcome.status, outcome.answer ?? null, errorJson, usageJson, now, id).changes;
        if (changes === 0) throw unknownRun(id, 'Cannot finish run');
        return this.readRun(id);
      },
    );
  }

  list(filter: RunFilter): RunSummary[] {
    this.commit.flush();
    const issues = checkRunFilter(filter);
    if (issues.length > 0) throw new InvalidInputError('Cannot list runs', issues);
    return this.handle.guard('Cannot list runs', () => {
      this.runLister ??= new RunLister(this.handle.db);
      return this.runLister.list(filter).map((row) => ({ ...toRunRow(row), totals: toTotals(row) }));
    });
  }

  upsertStep(runId: string, step: StepInput): StepRow {
    const values = stepValues(runId, step);
    return this.handle.guard(`Cannot record step "${step.stepId}" of run "${runId}"`, () =>
      this.handle.tx(() => {
        this.writeSteps(runId, [{ step, ...values }], this.handle.isoNow());
        return toStepRow(this.handle.stmts().getStep.get(runId, step.stepId) as StepDbRow);
      }),
    );
  }

  upsertSteps(runId: string, steps: readonly StepInput[]): void {
    const values = steps.map((step) => ({ step, ...stepValues(runId, step) }));
    const now = this.handle.isoNow();
    this.handle.assertOpen();
    // With every call recorded so far, in the same transaction: a step (a node, a study cell) is never
    // committed finished without the calls it made — a crash or full disk loses both or neither.
    this.commit.writeBatch(
      () => `Cannot record ${steps.length} step(s) of run "${runId}"`,
      () => this.writeSteps(runId, values, now),
    );
  }

  getSteps(runId: string): StepRow[] {
    requireId(runId, 'runId', 'Cannot read steps');
    return this.handle.guard(`Cannot read steps of run "${runId}"`, () => this.handle.stmts().getSteps.all(runId).map(toStepRow));
  }

  private writeSteps(runId: string, values: readonly StepValues[], now: string): void {
    const statement = this.handle.stmts().upsertStep;
    for (const { step, input, output, usage } of values) {
      const open = step.status === 'pending' || step.status === 'running';
      statement.run({
        runId,
        stepId: step.stepId,
        kind: step.kind,
        status: step.status,
        input,
        output,
        usage,
        startedAt: step.startedAt ?? null,
        endedAt: step.endedAt ?? null,
        open: open ? 1 : 0,
        now,
      });
    }
  }

  private insertRun(values: RunValues): RunRow {
    const at = this.handle.isoNow();
    this.handle
      .stmts()
      .insertRun.run(
        values.id,
        values.command,
        values.query,
        values.argsJson,
        values.seed,
        values.simulated,
        values.budgetJson,
        values.owner,
        at,
        at,
      );
    return this.readRun(values.id);
  }

  /** A run known to exist (written earlier in the same transaction). */
  private readRun(id: string): RunRow {
    return toRunRow(this.handle.stmts().getRun.get(id) as RunDbRow);
  }
}

/**
 * Why a stored run cannot be resumed as `values` (empty when it can): each mismatched field, named. The budget
 * may change; everything that shapes the calls may not.
 */
function resumeIssues(existing: RunDbRow, values: RunValues): InputIssue[] {
  const issues: InputIssue[] = [];
  if (existing.command !== values.command)
    issues.push({
      path: 'command',
      message: `the journal has ${JSON.stringify(existing.command)}, got ${JSON.stringify(values.command)}`,
    });
  // A run billed to one owner (gateway key) is never resumed, nor its calls replayed, by another.
  if ((existing.owner ?? null) !== values.owner) issues.push({ path: 'owner', message: 'the run belongs to another owner' });
  if (existing.query !== values.query)
    issues.push({ path: 'query', message: `the journal has ${JSON.stringify(existing.query)}, got ${JSON.stringify(values.query)}` });
  // Settings that shape the calls (model, samples, seed, …) must match too, or the replayed calls would
  // belong to a different experiment than the one the run row describes. The budget may change.
  const storedArgs = (existing.args_json === null ? {} : JSON.parse(existing.args_json)) as Record<string, unknown>;
  const givenArgs = (values.argsJson === null ? {} : JSON.parse(values.argsJson)) as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(storedArgs), ...Object.keys(givenArgs)])].sort()) {
    if (JSON.stringify(storedArgs[key]) !== JSON.stringify(givenArgs[key])) {
      issues.push({
        path: `args.${key}`,
        message: `the journal has ${JSON.stringify(storedArgs[key]) ?? 'nothing'}, got ${JSON.stringify(givenArgs[key]) ?? 'nothing'}`,
      });
    }
  }
  return issues;
}
