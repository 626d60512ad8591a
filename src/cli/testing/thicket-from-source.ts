/**
 * `thicket` run from the TypeScript sources (`node --import tsx src/cli/testing/thicket-from-source.ts …`), for
 * tests that need a real CLI process — signals, exit codes, a crash — without a build of dist/ first.
 */
import { main } from '../main.ts';

process.exitCode = await main(process.argv);
