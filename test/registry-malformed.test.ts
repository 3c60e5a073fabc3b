/**
 * Malformed requests to the registry routes, REST v1 and MLflow's dialect, over a real socket:
 * each missing or invalid field is a 400 whose message names what to fix, an unknown model,
 * version or alias a 404, never a 5xx; the body is in the dialect's error shape; and none of
 * them changes the registry (every registry write records an event, so the newest event id
 * and the seeded model must be the same afterwards).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';

/** method, path (under the dialect's root), body (an object as JSON, a string as is), status, what the message must say. */
type Case = readonly [string, string, unknown, number, RegExp];

const UNKNOWN_RUN = 'f'.repeat(32);

const V1: readonly Case[] = [
  ['POST', '/registered-models', {}, 400, /name/],
  ['POST', '/registered-models', { name: 5 }, 400, /name/],
  ['POST', '/registered-models', { name: 'a/b' }, 400, /'\/'/],
  ['POST', '/registered-models', { name: 'x', tags: [{ key: '' }] }, 400, /tags|key|value/],
  ['POST', '/registered-models', '{"name":', 400, /JSON/i],
  ['POST', '/registered-models', { name: 'seeded' }, 409, /already exists/],
  ['GET', '/registered-models?maxResults=0', undefined, 400, /maxResults/],
  ['GET', '/registered-models?maxResults=abc', undefined, 400, /maxResults/],
  ['GET', '/registered-models?pageToken=garbage', undefined, 400, /token/i],
  ['GET', `/registered-models?filter=${encodeURIComponent('name =')}`, undefined, 400, /filter|value|expected/i],
  ['GET', '/registered-models?orderBy=bogus', undefined, 400, /order|bogus/i],
  ['GET', '/registered-models/nope', undefined, 404, /'nope' does not exist/],
  ['PATCH', '/registered-models/seeded', { description: 5 }, 400, /description/],
  ['PATCH', '/registered-models/seeded', { name: '' }, 400, /name/],
  ['PATCH', '/registered-models/nope', { description: 'x' }, 404, /'nope'/],
  ['DELETE', '/registered-models/nope', undefined, 404, /'nope'/],
  ['PUT', '/registered-models/seeded/tags/k', {}, 400, /value/],
  ['PUT', '/registered-models/seeded/tags/k', { value: 3 }, 400, /value/],
  ['DELETE', '/registered-models/seeded/tags/nokey', undefined, 404, /nokey/],
  ['POST', '/registered-models/seeded/versions', {}, 400, /source/],
  ['POST', '/registered-models/seeded/versions', { source: 's', status: 'BOGUS' }, 400, /status/],
  ['POST', '/registered-models/seeded/versions', { source: 's', runId: UNKNOWN_RUN }, 404, /run/],
  ['POST', '/registered-models/seeded/versions', { source: 's', aliases: ['latest'] }, 400, /latest|reserved/],
  ['POST', '/registered-models/seeded/versions', { source: 's', aliases: 'champion' }, 400, /aliases/],
  ['POST', '/registered-models/nope/versions', { source: 's' }, 404, /'nope'/],
  ['GET', '/registered-models/seeded/versions/0', undefined, 400, /version/],
  ['GET', '/registered-models/seeded/versions/-1', undefined, 400, /version/],
  ['GET', '/registered-models/seeded/versions/1.5', undefined, 400, /version/],
  ['GET', '/registered-models/seeded/versions/99999999999999999999', undefined, 400, /version/],
  ['GET', '/registered-models/seeded/versions/99', undefined, 404, /version 99/],
  ['PATCH', '/registered-models/seeded/versions/1', { stage: 'Prod' }, 400, /stage/],
  ['PATCH', '/registered-models/seeded/versions/1', { status: 'X' }, 400, /status/],
  ['DELETE', '/registered-models/seeded/versions/99', undefined, 404, /version 99/],
  ['PUT', '/registered-models/seeded/versions/1/tags/k', {}, 400, /value/],
  ['GET', '/registered-models/seeded/versions/99/lineage', undefined, 404, /version 99/],
  ['PUT', '/registered-models/seeded/aliases/champion', {}, 400, /version/],
  ['PUT', '/registered-models/seeded/aliases/champion', { version: 'one' }, 400, /version/],
  ['PUT', '/registered-models/seeded/aliases/champion', { version: 0 }, 400, /version/],
  ['PUT', '/registered-models/seeded/aliases/champion', { version: 99 }, 404, /version 99/],
  ['PUT', '/registered-models/seeded/aliases/v3', { version: 1 }, 400, /reserved|v3/],
  ['PUT', '/registered-models/seeded/aliases/champion', { version: 2 }, 412, /not READY/],
  ['GET', '/registered-models/seeded/aliases/nobody', undefined, 404, /nobody/],
  ['DELETE', '/registered-models/seeded/aliases/nobody', undefined, 404, /nobody/],
  ['POST', '/registered-models/seeded/aliases/nobody/rollback', {}, 404, /nobody/],
  ['POST', '/registered-models/seeded/aliases/champion/rollback', { reason: 5 }, 400, /reason/],
  ['GET', '/registered-models/seeded/history?limit=0', undefined, 400, /limit/],
  ['GET', '/registered-models/seeded/history?order=sideways', undefined, 400, /order/],
  ['GET', '/registered-models/seeded/history?after=-1', undefined, 400, /after/],
  ['GET', '/registered-models/nope/history', undefined, 404, /'nope'/],
  ['GET', `/model-versions?filter=${encodeURIComponent('metrics.x > 1')}`, undefined, 400, /metrics/],
  ['GET', '/model-versions?maxResults=100000', undefined, 400, /maxResults/],
  ['GET', '/registry/events?limit=100000', undefined, 400, /limit/],
  ['GET', '/registry/events?types=bogus', undefined, 400, /types|bogus/],
  ['GET', '/events?after=abc', undefined, 400, /after/],
];

const MLFLOW: readonly Case[] = [
  ['POST', '/registered-models/create', {}, 400, /name/],
  ['POST', '/registered-models/create', { name: 3 }, 400, /name/],
  ['POST', '/registered-models/create', '{"name":', 400, /JSON/i],
  ['GET', '/registered-models/get', undefined, 400, /name/],
  ['GET', '/registered-models/get?name=nope', undefined, 404, /nope/],
  ['POST', '/registered-models/rename', { name: 'seeded' }, 400, /new_name/],
  ['PATCH', '/registered-models/update', {}, 400, /name/],
  ['DELETE', '/registered-models/delete', {}, 400, /name/],
  ['DELETE', '/registered-models/delete', { name: 'nope' }, 404, /nope/],
  ['GET', '/registered-models/search?max_results=-1', undefined, 400, /max_results/],
  ['GET', '/registered-models/search?page_token=bad', undefined, 400, /token/i],
  ['GET', `/registered-models/search?filter=${encodeURIComponent('bogus ~ 1')}`, undefined, 400, /filter|bogus/i],
  ['POST', '/registered-models/get-latest-versions', {}, 400, /name/],
  ['POST', '/registered-models/get-latest-versions', { name: 'nope' }, 404, /nope/],
  ['POST', '/registered-models/get-latest-versions', { name: 'seeded', stages: ['Bogus'] }, 400, /stage|Bogus/],
  ['POST', '/registered-models/set-tag', { name: 'seeded', key: 'k' }, 400, /value/],
  ['DELETE', '/registered-models/delete-tag', { name: 'seeded' }, 400, /key/],
  ['POST', '/registered-models/alias', { name: 'seeded', alias: 'c' }, 400, /version/],
  ['POST', '/registered-models/alias', { name: 'seeded', alias: 'c', version: 'abc' }, 400, /version/],
  ['POST', '/registered-models/alias', { name: 'seeded', alias: 'c', version: '99' }, 404, /99/],
  ['DELETE', '/registered-models/alias', { name: 'seeded', alias: 'nobody' }, 404, /nobody/],
  ['GET', '/registered-models/alias?name=seeded', undefined, 400, /alias/],
  ['GET', '/registered-models/alias?name=seeded&alias=nobody', undefined, 404, /nobody/],
  ['POST', '/model-versions/create', { name: 'seeded' }, 400, /source/],
  ['POST', '/model-versions/create', { source: 's' }, 400, /name/],
  ['POST', '/model-versions/create', { name: 'nope', source: 's' }, 404, /nope/],
  ['GET', '/model-versions/get?name=seeded&version=abc', undefined, 400, /version/],
  ['GET', '/model-versions/get?name=seeded&version=99', undefined, 404, /99/],
  ['PATCH', '/model-versions/update', { name: 'seeded' }, 400, /version/],
  ['DELETE', '/model-versions/delete', { name: 'seeded', version: '0' }, 400, /version/],
  ['GET', `/model-versions/search?filter=${encodeURIComponent('bogus = 1')}`, undefined, 400, /bogus/],
  ['GET', '/model-versions/get-download-uri?name=seeded', undefined, 400, /version/],
  [
    'POST',
    '/model-versions/transition-stage',
    { name: 'seeded', version: '1', stage: 'Prod', archive_existing_versions: false },
    400,
    /stage|Prod/,
  ],
  ['POST', '/model-versions/set-tag', { name: 'seeded', version: '1', key: 'k' }, 400, /value/],
  ['DELETE', '/model-versions/delete-tag', { name: 'seeded', version: '1' }, 400, /key/],
];

describe('malformed registry requests (REST v1 and MLflow), over a real socket', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let lastEventId: number;
  let seeded: unknown;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-registry-malformed-'));
    const config = loadConfig({ home }, {});
    stores = await openStores(config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
    const registry = stores.metadata.registry;
    await registry.createModelVersion({
      name: 'seeded',
      source: 's3://b/m1',
      createModel: true,
      aliases: ['champion'],
    });
    await registry.createModelVersion({ name: 'seeded', source: 's3://b/m2', status: 'PENDING_REGISTRATION' });
    await registry.setRegisteredModelTag('seeded', 'team', 'risk');
    lastEventId = await registry.lastEventId();
    seeded = { model: await registry.getRegisteredModel('seeded'), v1: await registry.getModelVersion('seeded', 1) };
  });

  afterAll(async () => {
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  async function send(root: string, [method, path, body]: Case): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${server.url}${root}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  it.each(V1)('v1 %s %s %j → %i', async (...c) => {
    const { status, json } = await send('/api/v1', c);
    const error = (json as { error?: { code?: string; message?: string } }).error;
    expect(status, JSON.stringify(json)).toBe(c[3]);
    expect(typeof error?.code).toBe('string');
    expect(error?.message).toMatch(c[4]);
    expect(error?.message).not.toMatch(/\n\s+at /);
  });

  it.each(MLFLOW)('MLflow %s %s %j → %i', async (...c) => {
    const { status, json } = await send('/api/2.0/mlflow', c);
    const { error_code: code, message } = json as { error_code?: string; message?: string };
    expect(status, JSON.stringify(json)).toBe(c[3]);
    if (c[3] === 404) expect(code).toBe('RESOURCE_DOES_NOT_EXIST');
    else expect(['INVALID_PARAMETER_VALUE', 'MALFORMED_REQUEST', 'BAD_REQUEST']).toContain(code);
    expect(typeof code).toBe('string');
    expect(message).toMatch(c[4]);
  });

  it('changed nothing: no registry event was recorded and the seeded model is as it was', async () => {
    const registry = stores.metadata.registry;
    expect(await registry.lastEventId()).toBe(lastEventId);
    expect({
      model: await registry.getRegisteredModel('seeded'),
      v1: await registry.getModelVersion('seeded', 1),
    }).toEqual(seeded);
  });
});
