import type { GatewayApp, GatewayContext } from './context.ts';

export function registerRegistryRoutes(_app: GatewayApp, _context: GatewayContext): void {}
