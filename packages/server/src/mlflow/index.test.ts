import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore, MetadataStore } from '@trestle/core';
import { loadConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import { mlflowPlugin } from './index.js';

// The plugin is registered by a server with handlers of its own: each must keep its shape.
describe('mlflowPlugin inside a server with its own error and not-found handlers', () => {
  let app: FastifyInstance;
  let home: string;
  let stores: { metadata: MetadataStore; artifacts: ArtifactStore };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-mlflow-host-'));
    stores = await openStores(loadConfig({ home }, {}));
    app = Fastify();
    app.setErrorHandler((error: Error, _request, reply) =>
      reply.code(418).send({ host: 'error', message: error.message }),
    );
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ host: 'not-found' }));
    app.post('/api/v1/echo', (request) => ({ echoed: request.body }));
    app.get('/api/v1/boom', () => Promise.reject(new Error('boom')));
    await app.register(mlflowPlugin, stores);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await stores.metadata.close();
    await stores.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('answers MLflow errors in MLflow’s shape', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/2.0/mlflow/runs/get?run_id=nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    const unknown = await app.inject({ method: 'GET', url: '/ajax-api/2.0/mlflow/nothing' });
    expect(unknown.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/create',
      payload: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.json()).toMatchObject({ error_code: 'MALFORMED_REQUEST' });
  });

  it('leaves the host’s routes, parsers and handlers alone', async () => {
    const echo = await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { a: 1 } });
    expect(echo.json()).toEqual({ echoed: { a: 1 } });
    const boom = await app.inject({ method: 'GET', url: '/api/v1/boom' });
    expect(boom.statusCode).toBe(418);
    expect(boom.json()).toEqual({ host: 'error', message: 'boom' });
    const lost = await app.inject({ method: 'GET', url: '/api/2.0/elsewhere' });
    expect(lost.json()).toEqual({ host: 'not-found' });
  });
});
