import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OpenAPIHono } from '@hono/zod-openapi';
import { CONSOLE_CSP, registerConsoleRoutes } from './console-assets.ts';
import type { GatewayApp } from './context.ts';

describe('console assets', () => {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-console-assets-'));
  const built = join(folder, 'console');
  mkdirSync(join(built, 'assets'), { recursive: true });
  writeFileSync(
    join(built, 'index.html'),
    '<!doctype html><title>Thicket console</title><script type="module" src="./assets/app-1.js"></script>',
  );
  writeFileSync(join(built, 'assets', 'app-1.js'), 'console.log(1);');
  writeFileSync(join(folder, 'secret.txt'), 'not for the web');
  after(() => rmSync(folder, { recursive: true, force: true }));

  const appFor = (directory: string | null): GatewayApp => {
    const app = new OpenAPIHono() as unknown as GatewayApp;
    registerConsoleRoutes(app, directory);
    return app;
  };

  it('serves the page at / with a same-origin content security policy', async () => {
    const response = await appFor(built).request('/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /connect-src 'self'/);
    assert.match(await response.text(), /assets\/app-1\.js/);
  });

  it('serves hashed assets as immutable, and nothing outside assets/', async () => {
    const app = appFor(built);
    const script = await app.request('/assets/app-1.js');
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(script.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await script.text(), 'console.log(1);');
    for (const path of ['/assets/..%2F..%2Fsecret.txt', '/assets/..%2Findex.html', '/assets/missing.js'])
      assert.equal((await app.request(path)).status, 404, path);
  });

  it('says how to build the console when it is not built', async () => {
    const response = await appFor(null).request('/');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /npm run build/);
  });
});
