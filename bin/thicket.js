#!/usr/bin/env node
// Entry point for the `thicket` bin. The sources are TypeScript run through tsx's loader, so a fresh
// `npm ci` is enough to use the CLI (no build step that could go stale against src/).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
