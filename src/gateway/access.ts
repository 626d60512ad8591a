/**
 * Who may call what: the admin check every admin-only route shares. Its own module so that route files
 * (rest.ts, rest-registry.ts, rest-studies.ts) can use it without importing app.ts, which imports them.
 */
import type { Caller } from './context.ts';
import { GatewayError } from './errors.ts';

/** Throws 403 unless the caller holds an admin key (or the gateway is open: the local operator is admin). */
export function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw new GatewayError(403, 'permission_error', 'admin_required', 'This route needs an admin key.');
}
