#!/usr/bin/env node
// Entry point for the `thicket` bin. The sources are TypeScript run through tsx's loader, so a fresh
// `npm ci` is enough to use the CLI (no build step that could go stale against src/).
import { register } from 'tsx/esm/api';

register();
// `thicket runs ls | head`: a closed pipe is the reader being done, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
