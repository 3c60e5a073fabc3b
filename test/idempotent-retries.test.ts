import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from './support/errors.js';
import { connectRest } from '../packages/client/src/rest/index.js';

interface Seen {
  method: string;
  url: string;
  key: string | undefined;
}

/**
 * An HTTP hop in front of the server that forwards every request and, for the first POST to
 * `dropPath`, waits for the server's whole answer (the server has committed) and then drops
 * the client's connection instead of passing the answer on: the lost-answer failure.
 */
async function droppingProxy(
  upstream: string,
  dropPath: string,
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let dropped = false;
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const key = req.headers['idempotency-key'];
    seen.push({ method: req.method ?? '', url: req.url ?? '', key: typeof key === 'string' ? key : undefined });
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (!dropped && req.method === 'POST' && req.url === dropPath) {
            dropped = true;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('a POST whose answer is lost after the server committed it', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-idem-e2e-'));
    const config = loadConfig({ home }, {});
    stores = await openStores(config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
  });
  afterAll(async () => {
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('is retried by the SDK with the same Idempotency-Key and creates exactly one run', async () => {
    const experiment = await stores.metadata.createExperiment({ name: 'lost-answers' });
    const proxy = await droppingProxy(server.url, '/api/v1/runs');
    try {
      const { backend } = connectRest({
        trackingUri: proxy.url,
        retry: { attempts: 4, baseDelayMs: 10 },
        warn: () => undefined,
      });
      const run = await backend.createRun({ experimentId: experiment.experimentId, runName: 'only-one' });
      const stored = await stores.metadata.searchRuns({ experimentIds: [experiment.experimentId] });
      expect(stored.items.map((r) => r.info.runId)).toEqual([run.info.runId]);
      const posts = proxy.seen.filter((s) => s.method === 'POST' && s.url === '/api/v1/runs');
      expect(posts).toHaveLength(2);
      expect(posts[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
      expect(posts[1]!.key).toBe(posts[0]!.key);
    } finally {
      await proxy.close();
    }
  });

  it('without a key is not sent again: the caller learns it failed, and still only one run exists', async () => {
    const experiment = await stores.metadata.createExperiment({ name: 'lost-answers-unkeyed' });
    const proxy = await droppingProxy(server.url, '/api/v1/runs');
    try {
      const { backend } = connectRest({
        trackingUri: proxy.url,
        retry: { attempts: 4, baseDelayMs: 10 },
        idempotencyKeys: false,
        warn: () => undefined,
      });
      const err = await caught(backend.createRun({ experimentId: experiment.experimentId }));
      expect(err.code).toBe('UNAVAILABLE');
      expect(proxy.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
      expect((await stores.metadata.searchRuns({ experimentIds: [experiment.experimentId] })).items).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
