import { Writable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerStores } from './route-types.js';
import { serverFixture, type ServerFixture } from './testing/server-fixture.js';

/** Collects the JSON log lines a logger writes. */
function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

// A stand-in for the MLflow dialect: mounted through the plugin slot, with its own route.
const extraPlugin: FastifyPluginAsync<{ greeting: string }> = (app, options) => {
  app.get('/hello', () => Promise.resolve({ greeting: options.greeting }));
  app.get('/boom', () => Promise.reject(new Error('secret database password leaked in a stack')));
  return Promise.resolve();
};

// A plugin that needs the stores, given them through an options function.
const storesPlugin: FastifyPluginAsync<{ stores: ServerStores }> = (app, { stores }) => {
  app.get('/default-experiment', async () => ({ name: (await stores.metadata.getExperiment('0')).name }));
  return Promise.resolve();
};

describe('buildServer', () => {
  let fx: ServerFixture;
  const logs = logSink();

  beforeAll(async () => {
    fx = await serverFixture({
      logger: { level: 'info', stream: logs.stream },
      bodyLimit: 64 * 1024,
      plugins: [
        { plugin: extraPlugin, options: { prefix: '/extra', greeting: 'hi' } },
        { plugin: storesPlugin, options: (stores) => ({ prefix: '/extra2', stores }) },
      ],
    });
  });
  afterAll(async () => {
    await fx.close();
  });

  describe('errors', () => {
    it('answers an unknown route with a 404 JSON error', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.json()).toEqual({
        error: { code: 'NOT_FOUND', message: expect.stringContaining('GET /api/v1/nothing-here;') },
      });
    });

    it('refuses malformed JSON with 400 INVALID_ARGUMENT', async () => {
      const res = await fx.app.inject({
        method: 'POST',
        url: '/api/v1/experiments',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": "x",',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toEqual({ code: 'INVALID_ARGUMENT', message: 'request body is not valid JSON' });
    });

    it('refuses an oversized JSON body with 413 RESOURCE_EXHAUSTED', async () => {
      const res = await fx.app.inject({
        method: 'POST',
        url: '/api/v1/experiments',
        payload: { name: 'x'.repeat(100 * 1024) },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('RESOURCE_EXHAUSTED');
      expect(res.json().error.message).toContain('65536 bytes');
    });

    it('names the field in a validation error', async () => {
      const res = await fx.app.inject({ method: 'POST', url: '/api/v1/experiments', payload: { name: 42 } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'body/name must be string' });
    });

    it('refuses unknown body fields and says which', async () => {
      const res = await fx.app.inject({
        method: 'POST',
        url: '/api/v1/experiments',
        payload: { name: 'ok', colour: 'blue' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toBe('body/colour is not a known field');
      expect(res.json().error.details).toEqual({ errors: [{ path: 'body/colour', message: 'is not a known field' }] });
    });

    it('answers a URL the router cannot decode in the shape of the API it belongs to', async () => {
      const v1 = await fx.app.inject({
        method: 'GET',
        url: '/api/v1/runs/%zz',
        headers: { 'x-request-id': 'bad-url-1' },
      });
      expect(v1.statusCode).toBe(400);
      expect(v1.headers['x-request-id']).toBe('bad-url-1');
      expect(v1.json()).toEqual({
        error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('malformed percent-encoding') },
      });

      const mlflow = await fx.app.inject({ method: 'GET', url: '/ajax-api/2.0/mlflow-artifacts/artifacts/1/%c0%ae' });
      expect(mlflow.statusCode).toBe(400);
      expect(mlflow.json()).toEqual({
        error_code: 'BAD_REQUEST',
        message: expect.stringContaining('not a valid url component'),
      });
    });

    it('answers a path segment longer than any route takes with 414 in the v1 shape', async () => {
      const res = await fx.app.inject({ method: 'DELETE', url: `/api/v1/experiments/1/tags/${'k'.repeat(5000)}` });
      expect(res.statusCode).toBe(414);
      expect(res.json()).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('too long') } });
    });

    it('answers an unexpected failure with a generic 500 and logs it under the request id', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/extra/boom', headers: { 'x-request-id': 'boom-1' } });
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('INTERNAL');
      expect(res.body).not.toContain('secret');
      expect(res.body).not.toContain('at ');
      const logged = logs.lines().find((l) => l['reqId'] === 'boom-1' && l['level'] === 50);
      expect((logged?.['err'] as { message?: string } | undefined)?.message).toContain('secret database password');
    });
  });

  describe('request ids', () => {
    it('keeps an incoming x-request-id and echoes it', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-abc.123' } });
      expect(res.headers['x-request-id']).toBe('trace-abc.123');
    });

    it('makes one up when none (or an unsafe one) comes in', async () => {
      const plain = await fx.app.inject({ method: 'GET', url: '/health' });
      const unsafe = await fx.app.inject({
        method: 'GET',
        url: '/health',
        headers: { 'x-request-id': 'bad id\twith spaces' },
      });
      expect(plain.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(unsafe.headers['x-request-id']).not.toBe(plain.headers['x-request-id']);
    });

    it('writes one JSON log line per request, carrying the request id, status and time', async () => {
      await fx.app.inject({
        method: 'GET',
        url: '/api/v1/experiments?maxResults=5',
        headers: { 'x-request-id': 'log-me' },
      });
      await fx.app.inject({
        method: 'GET',
        url: '/api/v1/experiments/404404',
        headers: { 'x-request-id': 'log-me-too' },
      });
      const mine = logs.lines().filter((l) => l['reqId'] === 'log-me');
      expect(mine).toEqual([
        expect.objectContaining({
          level: 30,
          msg: 'request completed',
          method: 'GET',
          url: '/api/v1/experiments?maxResults=5',
          statusCode: 200,
          responseTime: expect.any(Number),
        }),
      ]);
      // A refused request: the error handler's line, then the one request line with its status.
      const refused = logs.lines().filter((l) => l['reqId'] === 'log-me-too');
      expect(refused.map((l) => l['msg'])).toEqual(['request refused', 'request completed']);
      expect(refused[1]).toMatchObject({ statusCode: 404, method: 'GET' });
    });
  });

  describe('plugin slot', () => {
    it('mounts extra plugins with their options and prefix', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/extra/hello' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ greeting: 'hi' });
      // The server's error handler and request ids apply to plugin routes too.
      expect((await fx.app.inject({ method: 'GET', url: '/extra/boom' })).json().error.code).toBe('INTERNAL');
    });

    it('hands the stores to plugins whose options are a function', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/extra2/default-experiment' });
      expect(res.json()).toEqual({ name: 'Default' });
    });

    it('leaves plugin routes out of the v1 OpenAPI document', async () => {
      const doc = (await fx.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{
        paths: Record<string, unknown>;
      }>();
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/extra'))).toEqual([]);
    });
  });

  describe('OpenAPI and docs', () => {
    it('serves an OpenAPI document listing every v1 route', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
      expect(doc.openapi).toMatch(/^3\./);
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(routes).toEqual(
        expect.arrayContaining([
          'POST /api/v1/experiments',
          'GET /api/v1/experiments',
          'GET /api/v1/experiments/{experimentId}',
          'GET /api/v1/experiments/by-name/{name}',
          'PATCH /api/v1/experiments/{experimentId}',
          'DELETE /api/v1/experiments/{experimentId}',
          'POST /api/v1/experiments/{experimentId}/restore',
          'PUT /api/v1/experiments/{experimentId}/tags/{key}',
          'DELETE /api/v1/experiments/{experimentId}/tags/{key}',
          'POST /api/v1/runs',
          'GET /api/v1/runs/{runId}',
          'PATCH /api/v1/runs/{runId}',
          'DELETE /api/v1/runs/{runId}',
          'POST /api/v1/runs/{runId}/restore',
          'POST /api/v1/runs/{runId}/batch',
          'PUT /api/v1/runs/{runId}/tags/{key}',
          'DELETE /api/v1/runs/{runId}/tags/{key}',
          'POST /api/v1/runs/{runId}/inputs',
          'POST /api/v1/runs/search',
          'POST /api/v1/runs/compare',
          'GET /api/v1/runs/{runId}/metrics/{key}/history',
          'GET /api/v1/runs/{runId}/metrics/{key}/downsampled',
          'PUT /api/v1/runs/{runId}/artifacts/{path}',
          'GET /api/v1/runs/{runId}/artifacts/{path}',
          'DELETE /api/v1/runs/{runId}/artifacts/{path}',
          'GET /api/v1/runs/{runId}/artifacts',
          'GET /health',
          'GET /ready',
        ]),
      );
      // The schema documents the request body, unknown fields refused, and the NaN encoding.
      const create = doc.paths['/api/v1/experiments']!['post'] as {
        requestBody: { content: Record<string, { schema: unknown }> };
      };
      expect(create.requestBody.content['application/json']!.schema).toMatchObject({
        required: ['name'],
        additionalProperties: false,
      });
      expect(JSON.stringify(doc.paths['/api/v1/runs/{runId}/batch'])).toContain('"NaN"');
    });

    it('serves a browsable reference at /docs', async () => {
      const res = await fx.app.inject({ method: 'GET', url: '/docs' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('swagger-ui');
      const assets = await fx.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      expect(assets.statusCode).toBe(200);
      const spec = await fx.app.inject({ method: 'GET', url: '/docs/json' });
      expect(spec.json().paths).toHaveProperty(['/api/v1/runs/search']);
    });
  });
});
