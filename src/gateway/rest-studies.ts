import type { GatewayApp, GatewayContext } from './context.ts';

export function registerStudyRoutes(_app: GatewayApp, _context: GatewayContext): void {}
