/**
 * The registry over HTTP: the same contract suite as the SQL stores, run through the SDK's REST
 * implementation against a real `trestle server` on a port (so routes, schemas, the client and
 * the store agree), plus what only HTTP has: status codes, the actor from the caller's token,
 * and the server-sent event stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RegistryEvent } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { registryStoreContract } from '@trestle/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Trestle } from '../packages/client/src/index.js';
import { connectRest } from '../packages/client/src/rest/index.js';

async function serverOnTemp(
  auth = false,
): Promise<{ server: RunningServer; stores: Stores; close: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-registry-rest-'));
  const config = loadConfig({ home }, {});
  const stores = await openStores(config);
  const server = await startServer({ config, stores, host: '127.0.0.1', port: 0, auth, logger: false });
  return {
    server,
    stores,
    close: async () => {
      await server.app.close();
      await stores.metadata.close();
      await stores.artifacts.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

registryStoreContract('REST client against trestle server', async () => {
  const { server, close } = await serverOnTemp();
  const { backend, registry } = connectRest({ trackingUri: server.url, retry: { attempts: 1 } });
  return { tracking: backend, registry, cleanup: close };
});

/** Reads server-sent events from `url` until `count` arrived or `ms` passed. */
async function readEvents(
  url: string,
  count: number,
  ms: number,
  headers: Record<string, string> = {},
): Promise<{ events: RegistryEvent[]; ids: number[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const events: RegistryEvent[] = [];
  const ids: number[] = [];
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) {
          ids.push(Number(id));
          events.push(JSON.parse(data) as RegistryEvent);
        }
      }
      if (events.length >= count) break;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { events, ids };
}

describe('registry over HTTP', () => {
  let ctx: Awaited<ReturnType<typeof serverOnTemp>>;
  let url: string;
  beforeAll(async () => {
    ctx = await serverOnTemp();
    url = ctx.server.url;
  });
  afterAll(async () => {
    await ctx.close();
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field below
  type Json = Record<string, any>;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
  };

  it('answers with the status table: 201, 404 unknown, 409 duplicate, 412 not READY, 400 bad input', async () => {
    expect((await call('POST', '/registered-models', { name: 'http-a' })).status).toBe(201);
    const dup = await call('POST', '/registered-models', { name: 'http-a' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((await call('GET', '/registered-models/nope')).status).toBe(404);
    expect((await call('GET', '/registered-models/http-a/versions/7')).status).toBe(404);
    const created = await call('POST', '/registered-models/http-a/versions', {
      source: 'file:///m',
      status: 'PENDING_REGISTRATION',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'http-a', version: 1, status: 'PENDING_REGISTRATION' });
    const alias = await call('PUT', '/registered-models/http-a/aliases/champion', { version: 1 });
    expect(alias.status).toBe(412);
    expect(alias.body.error.code).toBe('FAILED_PRECONDITION');
    expect(alias.body.error.message).toMatch(/not READY/);
    const badAlias = await call('PUT', '/registered-models/http-a/aliases/latest', { version: 1 });
    expect(badAlias.status).toBe(400);
    expect((await call('POST', '/registered-models/http-a/versions', {})).status).toBe(400);
    const badVersion = await call('GET', '/registered-models/http-a/versions/abc');
    expect(badVersion.status).toBe(400);
    const badFilter = await fetch(`${url}/api/v1/registered-models?filter=${encodeURIComponent('metrics.x > 1')}`);
    expect(badFilter.status).toBe(400);
    expect((await call('GET', '/datasets/none/lineage')).body).toEqual({ digest: 'none', runs: [], versions: [] });
  });

  it('records the actor and reason sent by the SDK', async () => {
    await call('POST', '/registered-models/http-b/versions', { source: 's', createModel: true });
    await call(
      'PUT',
      '/registered-models/http-b/aliases/champion',
      { version: 1, reason: 'ship it' },
      {
        'x-trestle-actor': 'alice',
      },
    );
    const history = await call('GET', '/registered-models/http-b/history');
    expect(history.body.items[0]).toMatchObject({
      type: 'alias.set',
      actor: 'alice',
      reason: 'ship it',
      newVersion: 1,
    });
    const openapi = await call('GET', '/openapi.json');
    expect(Object.keys(openapi.body['paths'] as object)).toEqual(
      expect.arrayContaining([
        '/api/v1/registered-models',
        '/api/v1/registered-models/{name}/aliases/{alias}',
        '/api/v1/events',
      ]),
    );
  });

  it('streams events as they happen and resumes after Last-Event-ID', async () => {
    const trestle = new Trestle(
      ...(() => {
        const { backend, artifacts, registry } = connectRest({ trackingUri: url, retry: { attempts: 1 } });
        return [backend, artifacts, loadConfig({}, {}), undefined, { registry }] as const;
      })(),
    );
    const listening = readEvents(`${url}/api/v1/events?model=http-sse`, 3, 5000);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await trestle.registerModel('http-sse', 'file:///1');
    await trestle.setAlias('http-sse', 'champion', 1, { actor: 'ci' });
    const { events, ids } = await listening;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events.map((e) => e.type)).toEqual(['model.created', 'version.created', 'alias.set']);
    expect(events[2]).toMatchObject({ model: 'http-sse', alias: 'champion', newVersion: 1, actor: 'ci' });

    await trestle.registerModel('http-sse', 'file:///2');
    await trestle.setAlias('http-sse', 'champion', 2);
    const resumed = await readEvents(`${url}/api/v1/events?model=http-sse`, 2, 3000, {
      'last-event-id': String(ids[2]),
    });
    expect(resumed.events.map((e) => [e.type, e.version])).toEqual([
      ['version.created', 2],
      ['alias.set', 2],
    ]);
    const polled = await call('GET', `/events?after=${ids[0]!}&model=http-sse`);
    expect((polled.body['items'] as RegistryEvent[]).map((e) => e.type)).toEqual([
      'version.created',
      'alias.set',
      'version.created',
      'alias.set',
    ]);

    const controller = new AbortController();
    const seen: RegistryEvent[] = [];
    const watching = (async () => {
      for await (const e of trestle.watchRegistry({ model: 'http-sse', signal: controller.signal, intervalMs: 50 })) {
        seen.push(e);
        if (seen.length === 1) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    await trestle.registry.rollbackAlias('http-sse', 'champion', { reason: 'bad' });
    await watching;
    expect(seen[0]).toMatchObject({ type: 'alias.set', oldVersion: 2, newVersion: 1, reason: 'bad' });
    expect((await trestle.resolveModelUri('models:/http-sse@champion')).version).toBe(1);
    expect((await trestle.resolveModelUri('models:/http-sse/latest')).version).toBe(2);
    expect((await trestle.resolveModelUri('models:/http-sse/2')).source).toBe('file:///2');
  });
});

describe('registry over HTTP with access control', () => {
  let ctx: Awaited<ReturnType<typeof serverOnTemp>>;
  beforeAll(async () => {
    ctx = await serverOnTemp(true);
  });
  afterAll(async () => {
    await ctx.close();
  });

  it("records the caller's token name as the actor, whatever X-Trestle-Actor claims", async () => {
    const { token } = await ctx.stores.metadata.tokens.createToken({ name: 'ci-deployer', role: 'editor' });
    const { registry } = connectRest({ trackingUri: ctx.server.url, token, retry: { attempts: 1 } });
    await registry.createModelVersion({ name: 'guarded', source: 's', createModel: true }, { actor: 'mallory' });
    await registry.setAlias('guarded', 'champion', 1, { actor: 'mallory', reason: 'go' });
    const [last] = await registry.listEvents({ model: 'guarded', order: 'desc', limit: 1 });
    expect(last).toMatchObject({ type: 'alias.set', actor: 'ci-deployer', reason: 'go' });
    expect((await registry.getModelVersion('guarded', 1)).userId).toBe('ci-deployer');
  });
});
