/**
 * The web console at `/`: the single-page app built by `npm run build` (console/ → dist/console) served as
 * static files. The page and its assets hold no data — every figure it shows comes from the /v1 API with the
 * caller's Bearer key, so the console has exactly the API's auth. The content security policy keeps it to
 * this origin (no CDN, nothing fetched from elsewhere: it works offline).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayApp } from './context.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Inline styles are React Flow's node positions; scripts and connections stay on this origin. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/** dist/console beside the compiled gateway (dist/gateway), or the build output when running from src/ (tests). */
export function consoleDirectory(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'console'), join(here, '..', '..', 'dist', 'console')])
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  return null;
}

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Thicket console</title></head><body>' +
  '<main><h1>The console is not built</h1><p>Run <code>npm run build</code> in the Thicket checkout, then reload. ' +
  'The API is at <a href="/openapi.json">/openapi.json</a>.</p></main></body></html>';

export function registerConsoleRoutes(app: GatewayApp, directory: string | null = consoleDirectory()): void {
  const security = {
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  app.get('/', (c) => {
    const index = directory === null ? null : join(directory, 'index.html');
    const body = index !== null && existsSync(index) ? readFileSync(index, 'utf8') : NOT_BUILT;
    return c.body(body, 200, { ...security, 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' });
  });
  app.get('/assets/:file', (c) => {
    if (directory === null) return c.notFound();
    const assets = join(directory, 'assets');
    const path = normalize(join(assets, c.req.param('file')));
    // The name comes from the URL: it must stay a file directly inside assets/.
    if (dirname(path) !== assets || path.includes(`${sep}..`) || !existsSync(path) || !statSync(path).isFile()) return c.notFound();
    return c.body(readFileSync(path), 200, {
      ...security,
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      // Vite names assets by content hash: a name never changes content.
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
}
