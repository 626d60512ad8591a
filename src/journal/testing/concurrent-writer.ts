/**
 * One of several processes writing to one journal at once (run by postgres.test.ts):
 *   node --import tsx concurrent-writer.ts <journal-url> <writer> <runs> <calls-per-run>
 * Opens the journal (all writers start together, so they also race to create and migrate a fresh schema),
 * then writes `runs` runs, each with its calls (group-committed by turns), a step per call and a finish, and
 * prints the totals it wrote as JSON.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Journal } from '../journal.ts';
import { sampleCall } from './fixtures.ts';

const [url, writerArg, runsArg, callsArg] = process.argv.slice(2);
if (url === undefined || writerArg === undefined) {
  process.stderr.write('usage: concurrent-writer.ts <journal-url> <writer> <runs> <calls-per-run>\n');
  process.exit(2);
}
const writer = Number(writerArg);
const runs = Number(runsArg ?? 5);
const callsPerRun = Number(callsArg ?? 20);

const journal = Journal.open(url);
let calls = 0;
let inputTokens = 0;
for (let run = 0; run < runs; run++) {
  const runId = `w${writer}-r${run}`;
  journal.createRun({ id: runId, command: 'ask', query: `writer ${writer} run ${run}`, simulated: false, args: { writer } });
  const recorder = journal.recorder(runId);
  for (let index = 0; index < callsPerRun; index++) {
    const call = sampleCall(writer * 100_000 + run * 1_000 + index);
    recorder.record({ ...call, callKey: `${call.callKey}/${index}` });
    calls += 1;
    inputTokens += call.response.usage.inputTokens;
    journal.upsertSteps(runId, [{ stepId: `s${index}`, kind: 'sample', status: 'ok', output: index }]);
    // Let a group commit happen now and then, as a real run's awaits do.
    if (index % 5 === 4) await nextTurn();
  }
  journal.finishRun(runId, { status: 'ok', answer: String(run) });
}
journal.close();
process.stdout.write(`${JSON.stringify({ writer, runs, calls, inputTokens })}\n`);
