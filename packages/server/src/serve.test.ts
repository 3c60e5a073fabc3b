import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type TrestleConfig } from '@trestle/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer } from './serve.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Opens a new TCP connection to the server: 'connected', or the error code (ECONNREFUSED). */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

describe('startServer', () => {
  let home: string;
  let config: TrestleConfig;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-serve-'));
    config = loadConfig({ home }, {});
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('opens the configured stores, listens on a real port and stops listening on close', async () => {
    const server = await startServer({ config, port: 0, logger: false, handleSignals: false });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await fetch(`${server.url}/api/v1/experiments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'real-port-1' },
      body: JSON.stringify({ name: 'over the wire' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('real-port-1');
    expect(await tryConnect(server.url)).toBe('connected');
    expect(await readdir(home)).toContain('trestle.db');

    await server.close();
    await server.closed;
    expect(await tryConnect(server.url)).toBe('ECONNREFUSED');
    await server.close(); // idempotent
  });

  it('finishes a slow upload in flight before shutting down', async () => {
    const server = await startServer({ config, port: 0, logger: false, handleSignals: false });
    const run = await json<{ info: { runId: string; experimentId: string } }>(
      await fetch(`${server.url}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ experimentId: '0' }),
      }),
    );
    const chunk = randomBytes(256 * 1024);
    const chunks = 12;
    const digest = createHash('sha256');
    for (let i = 0; i < chunks; i++) digest.update(chunk);

    const { port } = new URL(server.url);
    let closeDone = false;
    let closing: Promise<void> | undefined;
    const response = new Promise<{ status: number; body: string; connection: string | undefined }>(
      (resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: Number(port),
            method: 'PUT',
            path: `/api/v1/runs/${run.info.runId}/artifacts/slow.bin`,
            headers: { 'content-type': 'application/octet-stream', 'content-length': chunk.length * chunks },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
          },
        );
        req.on('error', reject);
        void (async () => {
          for (let i = 0; i < chunks; i++) {
            req.write(chunk);
            if (i === 1) {
              await sleep(100); // the server is now inside the handler, writing the file
              closing = server.close().then(() => {
                closeDone = true;
              });
            }
            await sleep(50);
          }
          req.end();
        })().catch(reject);
      },
    );

    // While the upload goes on, the server accepts no new connection and has not finished closing.
    await sleep(200);
    expect(closing).toBeDefined();
    expect(await tryConnect(server.url)).toBe('ECONNREFUSED');
    expect(closeDone).toBe(false);

    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      path: 'slow.bin',
      size: chunk.length * chunks,
      sha256: digest.digest('hex'),
    });
    // The answer ends the keep-alive connection, so shutdown need not wait for the client to drop it.
    expect(res.connection).toBe('close');
    const waited = Date.now();
    await closing;
    expect(Date.now() - waited).toBeLessThan(2000);
    expect(closeDone).toBe(true);
    await server.closed;
  });

  it('shuts down on SIGTERM and removes its signal handlers', async () => {
    const before = process.listeners('SIGTERM');
    const server = await startServer({ config, port: 0, logger: false });
    const added = process.listeners('SIGTERM').filter((l) => !before.includes(l));
    expect(added).toHaveLength(1);
    expect(process.listeners('SIGINT').length).toBeGreaterThan(0);

    // Call the handler directly: emitting a real signal would also reach the test runner's own handlers.
    (added[0] as (signal: NodeJS.Signals) => void)('SIGTERM');
    await server.closed;
    expect(await tryConnect(server.url)).toBe('ECONNREFUSED');
    expect(process.listeners('SIGTERM')).toEqual(before);
  });

  it('leaves stores it was given open', async () => {
    const { openStores } = await import('@trestle/store');
    const stores = await openStores(config);
    try {
      const server = await startServer({ config, port: 0, logger: false, handleSignals: false, stores });
      await server.close();
      const experiment = await stores.metadata.getExperiment('0');
      expect(experiment.name).toBe('Default');
    } finally {
      await stores.metadata.close();
      await stores.artifacts.close();
    }
  });
});
