// Entry of the Postgres journal's worker when Thicket runs from its TypeScript sources (tests, `node --import
// tsx`): on Node 20 a worker thread does not inherit tsx's loader from `--import tsx`, so it registers tsx here
// and then loads worker.ts. The built package (dist/) starts worker.js directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
