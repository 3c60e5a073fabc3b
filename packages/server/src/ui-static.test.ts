import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from './testing/server-fixture.js';

let fx: ServerFixture | undefined;
let dir: string | undefined;
afterEach(async () => {
  await fx?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  fx = undefined;
  dir = undefined;
});

async function builtApp(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'trestle-ui-dist-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><div id="root"></div><script src="/assets/app-1a2b.js"></script>',
  );
  await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log("app")');
  return dir;
}

describe('the web UI mount', () => {
  it('serves index.html at / and at the app paths, and hashed assets cached for good', async () => {
    fx = await serverFixture({ ui: { dir: await builtApp() } });
    for (const url of ['/', '/experiments/1?filter=metrics.auc%20%3E%200.8', '/runs/abc', '/compare?runs=a&runs=b']) {
      const res = await fx.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root">');
    }
    const asset = await fx.app.inject({ url: '/assets/app-1a2b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.body).toBe('console.log("app")');
  });

  it('refuses files outside assets/ and unknown assets with a 404, and leaves API 404s in the API shape', async () => {
    fx = await serverFixture({ ui: { dir: await builtApp() } });
    for (const url of ['/assets/../index.html', '/assets/%2e%2e/%2e%2e/package.json', '/assets/nope.js']) {
      const res = await fx.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    }
    const api = await fx.app.inject({ url: '/api/v1/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.json<{ error: { message: string } }>().error.message).toContain('/api/v1/openapi.json');
  });

  it('without a build, / says how to build the UI instead of a blank page', async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-ui-empty-'));
    fx = await serverFixture({ ui: { dir } });
    const res = await fx.app.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('The web UI is not built yet');
    expect(res.body).toContain('npm install');
    expect(res.body).toContain('npm run build -w @trestle/ui');
  });

  it('with --auth the UI files are public but the data behind them needs a token', async () => {
    fx = await serverFixture({ auth: { enabled: true }, ui: { dir: await builtApp() } });
    expect((await fx.app.inject({ url: '/' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/runs/abc' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/assets/app-1a2b.js' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/api/v1/experiments' })).statusCode).toBe(401);
    // Writing is not opened up by the UI's routes.
    expect((await fx.app.inject({ method: 'POST', url: '/compare' })).statusCode).toBe(401);
  });

  it('mounts nothing with ui: false', async () => {
    fx = await serverFixture({ ui: false });
    expect((await fx.app.inject({ url: '/' })).statusCode).toBe(404);
  });
});
