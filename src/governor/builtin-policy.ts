/**
 * The policy `--strategy auto` uses when none is given: the shipped `policies/governor.json` — DEFAULT_POLICY's
 * probe, cascade and allocation plus frontier tables fitted on training seeds of the built-in studies (`npm run
 * fit:governor`, scripts/fit-governor.ts) — validated on load. Without the file (a source checkout before the
 * first fit) it is DEFAULT_POLICY, and the decision says which. `THICKET_GOVERNOR_POLICY` names another policy
 * file instead (one `thicket governor frontier` fitted): every process that reads it — the CLI, the gateway,
 * `thicket worker`s — then runs the same `auto`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_POLICY, readPolicy, type GovernorPolicy } from './policy.ts';

export const BUILTIN_POLICY_PATH = fileURLToPath(new URL('../../policies/governor.json', import.meta.url));

let cached: { policy: GovernorPolicy; source: string; path: string | undefined } | undefined;

export function builtinPolicy(): { policy: GovernorPolicy; source: string } {
  const chosen = process.env['THICKET_GOVERNOR_POLICY'];
  if (cached && cached.path === chosen) return cached;
  // A named file that does not load is an error (readPolicy says why), never a silent fallback to the default.
  cached = chosen
    ? { policy: readPolicy(chosen), source: `THICKET_GOVERNOR_POLICY (${chosen})`, path: chosen }
    : existsSync(BUILTIN_POLICY_PATH)
      ? { policy: readPolicy(BUILTIN_POLICY_PATH), source: 'built-in (policies/governor.json)', path: chosen }
      : { policy: DEFAULT_POLICY, source: 'default', path: chosen };
  return cached;
}
