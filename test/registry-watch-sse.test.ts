/**
 * `trestle.watchRegistry()` over HTTP reads the server-sent event stream `GET /api/v1/events`
 * of a real `trestle server` (one request, not polling), survives a server restart by
 * reconnecting with `Last-Event-ID` (no event lost or repeated), and stops on abort; embedded,
 * it polls the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RegistryEvent, type TrestleConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { Trestle } from '../packages/client/src/index.js';
import { connectRest } from '../packages/client/src/rest/index.js';

/** Collects a watcher's events in the background. */
function collect(iterable: AsyncIterable<RegistryEvent>): { events: RegistryEvent[]; done: Promise<void> } {
  const events: RegistryEvent[] = [];
  const done = (async () => {
    for await (const e of iterable) events.push(e);
  })();
  return { events, done };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('watchRegistry over HTTP: the server-sent event stream', () => {
  let home: string;
  let config: TrestleConfig;
  let stores: Stores;
  let server: RunningServer;
  /** Every request the watching client sent: path and headers. */
  const sent: { path: string; headers: Record<string, string> }[] = [];
  let watcher: Trestle;
  let writer: Trestle;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-watch-sse-'));
    config = loadConfig({ home }, {});
    stores = await openStores(config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
    const recording: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      sent.push({ path: url.pathname, headers: { ...(init?.headers as Record<string, string>) } });
      return fetch(input, init);
    };
    const clientConfig = loadConfig({ trackingUri: server.url, home: join(home, 'unused') }, {});
    const w = connectRest({ trackingUri: server.url, fetch: recording, retry: { attempts: 2, baseDelayMs: 100 } });
    watcher = new Trestle(w.backend, w.artifacts, clientConfig, undefined, { registry: w.registry });
    const r = connectRest({ trackingUri: server.url, retry: { attempts: 1 } });
    writer = new Trestle(r.backend, r.artifacts, clientConfig, undefined, { registry: r.registry });
    await writer.registerModel('watched', 's3://b/m1');
    await writer.registerModel('watched', 's3://b/m2');
    await writer.registerModel('other', 's3://b/o1');
  });

  afterAll(async () => {
    await server.close();
    await stores.metadata.close();
    await stores.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('delivers an alias move within a second on one streaming request, reconnects after a restart without loss, stops on abort', async () => {
    const abort = new AbortController();
    const { events, done } = collect(
      watcher.watchRegistry({ model: 'watched', types: ['alias.set', 'alias.deleted'], signal: abort.signal }),
    );
    await until('the stream to open', () => sent.some((s) => s.path === '/api/v1/events'));
    // Give the server a moment to attach the listener before the first change.
    await new Promise((r) => setTimeout(r, 100));

    await writer.setAlias('watched', 'champion', 1, { reason: 'first' });
    await writer.setAlias('other', 'champion', 1);
    const latency = await until('the first alias event', () => events.length >= 1);
    expect(latency).toBeLessThan(1000);
    await writer.setAlias('watched', 'champion', 2, { reason: 'better' });
    await until('the second alias event', () => events.length >= 2);
    expect(events.map((e) => [e.type, e.model, e.oldVersion, e.newVersion, e.reason])).toEqual([
      ['alias.set', 'watched', undefined, 1, 'first'],
      ['alias.set', 'watched', 1, 2, 'better'],
    ]);
    // Streamed, not polled: one request to the stream, at most one read of the newest id.
    const streamRequests = sent.filter((s) => s.path === '/api/v1/events');
    expect(streamRequests).toHaveLength(1);
    expect(streamRequests[0]!.headers['accept']).toBe('text/event-stream');
    expect(sent.filter((s) => s.path === '/api/v1/registry/events').length).toBeLessThanOrEqual(1);

    // The server goes away; changes made meanwhile (straight in the store) must still arrive.
    const port = Number(new URL(server.url).port);
    const lastSeen = events.at(-1)!.id;
    await server.close();
    await stores.metadata.registry.setAlias('watched', 'champion', 1, { actor: 'ops', reason: 'rollback' });
    await stores.metadata.registry.deleteAlias('watched', 'champion', { actor: 'ops' });
    server = await startServer({ config, stores, port, logger: false, handleSignals: false });
    await until('the events made while the server was down', () => events.length >= 4, 15_000);
    expect(events.slice(2).map((e) => [e.type, e.oldVersion, e.newVersion, e.actor])).toEqual([
      ['alias.set', 2, 1, 'ops'],
      ['alias.deleted', 1, undefined, 'ops'],
    ]);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const reconnect = sent.filter((s) => s.path === '/api/v1/events').at(-1)!;
    expect(reconnect.headers['last-event-id']).toBe(String(lastSeen));

    abort.abort();
    await done;
    const after = events.length;
    await writer.setAlias('watched', 'champion', 2);
    await new Promise((r) => setTimeout(r, 400));
    expect(events.length).toBe(after);
  }, 60_000);

  it('stops with the error when the stream is refused (a bad cursor is a 400, not a retry loop)', async () => {
    const iterator = watcher.watchRegistry({ after: -5 })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('watchRegistry on the embedded store polls the change table', () => {
  it('delivers an alias move', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-watch-embedded-'));
    const config = loadConfig({ home }, {});
    const stores = await openStores(config);
    const trestle = new Trestle(stores.metadata, stores.artifacts, config, undefined, {
      registry: stores.metadata.registry,
    });
    try {
      await trestle.registerModel('m', 's3://b/m');
      const abort = new AbortController();
      const { events, done } = collect(trestle.watchRegistry({ signal: abort.signal, intervalMs: 50 }));
      await new Promise((r) => setTimeout(r, 100));
      await trestle.setAlias('m', 'prod', 1);
      await until('the alias event', () => events.length >= 1);
      expect(events[0]).toMatchObject({ type: 'alias.set', model: 'm', newVersion: 1 });
      abort.abort();
      await done;
    } finally {
      await stores.metadata.close();
      await stores.artifacts.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
