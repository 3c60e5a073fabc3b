import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { openStores, type Stores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../serve.js';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';
import { BOOTSTRAP_TOKEN_NAME, routeAccessOf, WWW_AUTHENTICATE } from './auth-hook.js';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('access control off (the default)', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('serves every route without credentials and mounts no token routes', async () => {
    expect(
      (await fx.app.inject({ method: 'POST', url: '/api/v1/experiments', payload: { name: 'open' } })).statusCode,
    ).toBe(201);
    expect((await fx.app.inject({ url: '/api/2.0/mlflow/experiments/search' })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/api/v1/tokens' })).statusCode).toBe(404);
    expect(routeAccessOf(fx.app)).toEqual([]);
  });
});

describe('access control on', () => {
  let fx: ServerFixture;
  let reader: string;
  let editor: string;
  beforeAll(async () => {
    fx = await serverFixture({ auth: { enabled: true } });
    reader = (await fx.stores.metadata.tokens.createToken({ name: 'dashboards', role: 'reader' })).token;
    editor = (await fx.stores.metadata.tokens.createToken({ name: 'training', role: 'editor' })).token;
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('keeps the probes and the API reference public', async () => {
    for (const url of ['/health', '/ready', '/api/v1/openapi.json', '/docs/json']) {
      expect((await fx.app.inject({ url })).statusCode, url).toBe(200);
    }
    expect([200, 302]).toContain((await fx.app.inject({ url: '/docs' })).statusCode);
    const doc = (await fx.app.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/tokens', '/api/v1/tokens/{tokenId}']));
  });

  it('answers 401 in the v1 shape with a challenge, the request id and what to do', async () => {
    const res = await fx.app.inject({ url: '/api/v1/experiments', headers: { 'x-request-id': 'req-auth-1' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(WWW_AUTHENTICATE);
    expect(res.headers['x-request-id']).toBe('req-auth-1');
    const { error } = res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(
      /requires an API token.*Authorization: Bearer.*TRESTLE_TRACKING_TOKEN.*MLFLOW_TRACKING_TOKEN.*trestle tokens create/,
    );
  });

  it('answers 401 and 403 in the MLflow shape on every MLflow root', async () => {
    for (const url of [
      '/api/2.0/mlflow/experiments/search',
      '/ajax-api/2.0/mlflow/experiments/search',
      '/api/2.0/mlflow-artifacts/artifacts',
    ]) {
      const res = await fx.app.inject({ url, headers: { authorization: 'Bearer trestle_nope' } });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toBe(WWW_AUTHENTICATE);
      expect(res.json(), url).toEqual({
        error_code: 'UNAUTHENTICATED',
        message: expect.stringMatching(/not valid \(unknown or revoked\)/),
      });
    }
    const denied = await fx.app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/experiments/create',
      headers: { authorization: `Bearer ${reader}` },
      payload: { name: 'nope' },
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['www-authenticate']).toBeUndefined();
    expect(denied.json()).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: expect.stringMatching(
        /token 'dashboards' .* has role reader, but POST \/api\/2\.0\/mlflow\/experiments\/create needs editor/,
      ),
    });
  });

  it('says why a header is malformed, without repeating it', async () => {
    const res = await fx.app.inject({ url: '/api/v1/experiments', headers: { authorization: `Token ${editor}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/malformed: unsupported scheme 'Token'/);
    expect(res.body).not.toContain(editor);
  });

  it('accepts Basic with the token as password, whatever the user name', async () => {
    for (const user of ['alice', '', 'token']) {
      const res = await fx.app.inject({
        url: '/api/2.0/mlflow/experiments/search?max_results=5',
        headers: { authorization: basic(user, reader) },
      });
      expect(res.statusCode, user).toBe(200);
    }
    expect(
      (await fx.app.inject({ url: '/api/v1/experiments', headers: { authorization: basic(reader, '') } })).statusCode,
    ).toBe(401);
  });

  it('answers unknown paths 401 without a token and 404 with one', async () => {
    for (const [url, shape] of [
      ['/api/v1/nothing-here', { error: { code: 'NOT_FOUND' } }],
      ['/api/2.0/mlflow/nothing-here', { error_code: 'ENDPOINT_NOT_FOUND' }],
    ] as const) {
      expect((await fx.app.inject({ url })).statusCode, url).toBe(401);
      const found = await fx.app.inject({ url, headers: { authorization: `Bearer ${reader}` } });
      expect(found.statusCode, url).toBe(404);
      expect(found.json()).toMatchObject(shape);
    }
  });

  it('records the access of every route it saw, with the token routes as admin', () => {
    const table = routeAccessOf(fx.app);
    expect(table.length).toBeGreaterThan(100);
    expect(table.filter((r) => r.access === 'admin').map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /api/v1/tokens', 'GET /api/v1/tokens', 'DELETE /api/v1/tokens/:tokenId']),
    );
    expect(table.filter((r) => r.url.startsWith('/api/v1/tokens')).every((r) => r.access === 'admin')).toBe(true);
  });

  it('refuses a large upload before reading it, and closes the connection instead of draining it', async () => {
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    const address = fx.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const { runId, experimentId } = (await fx.stores.metadata.createRun({ experimentId: '0' })).info;
    const before = await fx.stores.artifacts.list(`${experimentId}/${runId}/artifacts`);
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/api/v1/runs/${runId}/artifacts/big.bin`,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(512 * 1024 * 1024),
          authorization: `Bearer ${reader}`,
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        req.destroy();
      });
      req.on('error', reject);
      // Part of the body only: the answer must come without the rest.
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(answer).toEqual({ status: 403, connection: 'close' });
    expect(await fx.stores.artifacts.list(`${experimentId}/${runId}/artifacts`)).toEqual(before);
  });
});

describe('startServer with access control', () => {
  let home: string;
  let stores: Stores;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-auth-start-'));
    stores = await openStores(loadConfig({ home }, {}));
  });
  afterAll(async () => {
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });
  const start = (auth: boolean, port = 0) =>
    startServer({ config: loadConfig({ home }, {}), stores, port, logger: false, handleSignals: false, auth });

  it('creates no token without --auth', async () => {
    const server = await start(false);
    await server.close();
    expect(server.bootstrapToken).toBeUndefined();
    expect(await stores.metadata.tokens.listTokens()).toEqual([]);
  });

  it('does not create the first admin token when the start fails', async () => {
    const first = await start(false);
    const port = Number(new URL(first.url).port);
    try {
      await expect(start(true, port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
    expect(await stores.metadata.tokens.countAdmins()).toBe(0);
  });

  it('creates the first admin token once, and it manages tokens', async () => {
    const server = await start(true);
    try {
      expect(server.bootstrapToken).toMatch(/^trestle_/);
      const listed = await stores.metadata.tokens.listTokens();
      expect(listed).toMatchObject([{ name: BOOTSTRAP_TOKEN_NAME, role: 'admin', revokedTime: null }]);
      const res = await fetch(`${server.url}/api/v1/tokens`, {
        headers: { authorization: `Bearer ${server.bootstrapToken}` },
      });
      expect(res.status).toBe(200);
      expect((await fetch(`${server.url}/api/v1/tokens`)).status).toBe(401);
    } finally {
      await server.close();
    }
    const again = await start(true);
    await again.close();
    expect(again.bootstrapToken).toBeUndefined();
    expect(await stores.metadata.tokens.countAdmins()).toBe(1);
  });
});
