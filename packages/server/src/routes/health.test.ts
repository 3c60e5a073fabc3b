import type { MetadataStore } from '@trestle/core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../app.js';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';
import { READY_TIMEOUT_MS } from './health.js';

describe('health routes', () => {
  let fx: ServerFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('GET /health answers ok', async () => {
    fx = await serverFixture();
    const res = await fx.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready answers ok while the metadata store answers', async () => {
    fx = await serverFixture();
    const res = await fx.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready answers 503 when the metadata store fails, without its error text', async () => {
    fx = await serverFixture();
    const broken = Object.create(fx.stores.metadata) as MetadataStore;
    broken.getExperiment = () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432 user=admin'));
    const app = await buildServer({ stores: { metadata: broken, artifacts: fx.stores.artifacts } });
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().status).toBe('unavailable');
      expect(ready.body).not.toContain('10.0.0.7');
      // Liveness does not depend on the store.
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('GET /ready gives up on a store that hangs', async () => {
    fx = await serverFixture();
    const hanging = Object.create(fx.stores.metadata) as MetadataStore;
    hanging.getExperiment = () => new Promise(() => undefined);
    const app = await buildServer({ stores: { metadata: hanging, artifacts: fx.stores.artifacts } });
    try {
      const started = Date.now();
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(READY_TIMEOUT_MS - 50);
      expect(Date.now() - started).toBeLessThan(READY_TIMEOUT_MS + 2000);
    } finally {
      await app.close();
    }
  });
});
