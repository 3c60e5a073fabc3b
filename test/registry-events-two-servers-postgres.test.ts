/**
 * The registry's event stream across replicas: two `trestle server` processes on one PostgreSQL
 * database. An alias moved through one server reaches a listener on the other's
 * `GET /api/v1/events` (through `trestle.watchRegistry()`), within about a second, and a reader
 * that resumes on the other server after its last event id gets what happened meanwhile.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RegistryEvent } from '@trestle/core';
import { Trestle } from '../packages/client/src/index.js';
import { connectRest } from '../packages/client/src/rest/index.js';
import {
  createTestDatabase,
  postgresTests,
  type TestDatabase,
} from '../packages/store/src/metadata/postgres-test-database.js';
import { spawnServer, type ServerExit, type ServerProcess } from './support/server-process.js';

const postgres = await postgresTests('the two-server PostgreSQL registry event test');

function client(server: ServerProcess, home: string): Trestle {
  const { backend, artifacts, registry } = connectRest({ trackingUri: server.url, retry: { attempts: 2 } });
  return new Trestle(backend, artifacts, loadConfig({ trackingUri: server.url, home }, {}), undefined, { registry });
}

function collect(iterable: AsyncIterable<RegistryEvent>): { events: RegistryEvent[]; done: Promise<void> } {
  const events: RegistryEvent[] = [];
  const done = (async () => {
    for await (const e of iterable) events.push(e);
  })();
  return { events, done };
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe.skipIf(!postgres.run)('registry events across two trestle servers on one PostgreSQL database', () => {
  let database: TestDatabase | undefined;
  let dir: string | undefined;
  let servers: ServerProcess[] = [];
  let a: Trestle;
  let b: Trestle;

  beforeAll(async () => {
    postgres.assertReachable();
    database = await createTestDatabase(postgres.baseUri);
    dir = await mkdtemp(join(tmpdir(), 'trestle-events-two-servers-'));
    const env = { TRESTLE_DB: database.uri, TRESTLE_ARTIFACTS: join(dir, 'artifacts') };
    const started = await Promise.allSettled([spawnServer({ env }), spawnServer({ env })]);
    servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    a = client(servers[0]!, join(dir, 'a'));
    b = client(servers[1]!, join(dir, 'b'));
  }, 120_000);

  afterAll(async () => {
    const exits: ServerExit[] = await Promise.all(servers.map((s) => s.stop(15_000)));
    await database?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    exits.forEach((exit, i) =>
      expect(exit, `server ${i} did not shut down cleanly; output:\n${servers[i]!.output().slice(-4000)}`).toEqual({
        code: 0,
        signal: null,
        killed: false,
        loggedErrors: [],
      }),
    );
  }, 60_000);

  it('an alias moved through one server reaches a listener on the other within about a second; a reader resumes there', async () => {
    await a.registerModel('pg-events', 's3://bucket/m1');
    await a.registerModel('pg-events', 's3://bucket/m2');
    const start = await b.registry.lastEventId();
    const abort = new AbortController();
    const { events, done } = collect(
      b.watchRegistry({
        model: 'pg-events',
        types: ['alias.set', 'alias.deleted'],
        after: start,
        signal: abort.signal,
      }),
    );

    await a.setAlias('pg-events', 'champion', 1, { reason: 'first' });
    const first = await until('the first move on the other server', () => events.length >= 1);
    await a.setAlias('pg-events', 'champion', 2, { reason: 'better' });
    const second = await until('the second move on the other server', () => events.length >= 2);
    console.log(`alias moves through server A seen on server B's stream after ${first} ms and ${second} ms`);
    expect(Math.min(first, second)).toBeLessThan(1000);
    expect(Math.max(first, second)).toBeLessThan(3000);
    expect(events.map((e) => [e.type, e.model, e.alias, e.oldVersion, e.newVersion, e.reason])).toEqual([
      ['alias.set', 'pg-events', 'champion', undefined, 1, 'first'],
      ['alias.set', 'pg-events', 'champion', 1, 2, 'better'],
    ]);
    abort.abort();
    await done;

    // Changes while nobody listens, through A; a reader resumes on B after the last id it saw.
    const lastSeen = events.at(-1)!.id;
    await a.registry.rollbackAlias('pg-events', 'champion', { reason: 'regression' });
    await a.deleteAlias('pg-events', 'champion');
    const again = new AbortController();
    const resumed = collect(b.watchRegistry({ model: 'pg-events', after: lastSeen, signal: again.signal }));
    await until('the changes made while nobody listened', () => resumed.events.length >= 2);
    again.abort();
    await resumed.done;
    expect(resumed.events.map((e) => [e.type, e.oldVersion, e.newVersion, e.reason])).toEqual([
      ['alias.set', 2, 1, 'regression'],
      ['alias.deleted', 1, undefined, undefined],
    ]);
    expect(resumed.events[0]!.id).toBeGreaterThan(lastSeen);
  }, 60_000);
});
