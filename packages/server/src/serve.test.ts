import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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

  it('drops connections still open at the shutdown deadline, so a stalled upload cannot hold it open', async () => {
    const server = await startServer({ config, port: 0, logger: false, handleSignals: false, shutdownTimeoutMs: 300 });
    const run = await json<{ info: { runId: string } }>(
      await fetch(`${server.url}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ experimentId: '0' }),
      }),
    );
    const { port } = new URL(server.url);
    // A client that announces 10 MB, sends 64 kB and then stalls for ever.
    const dropped = new Promise<string>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: Number(port),
        method: 'PUT',
        path: `/api/v1/runs/${run.info.runId}/artifacts/stalled.bin`,
        headers: { 'content-type': 'application/octet-stream', 'content-length': 10 * 1024 * 1024 },
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.on('response', () => resolve('answered'));
      req.write(randomBytes(64 * 1024));
    });
    await sleep(150);
    const started = Date.now();
    await server.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    expect(await dropped).toBe('ECONNRESET');
    expect(await tryConnect(server.url)).toBe('ECONNREFUSED');
  });

  it('removes at start-up the temporary file of an upload whose server was killed with -9', async () => {
    // A real server in a child process, killed mid-upload.
    const script = join(home, 'server-child.mts');
    const serve = pathToFileURL(fileURLToPath(new URL('./serve.ts', import.meta.url))).href;
    const core = pathToFileURL(fileURLToPath(new URL('../../core/src/index.ts', import.meta.url))).href;
    await writeFile(
      script,
      `import { startServer } from ${JSON.stringify(serve)};
import { loadConfig } from ${JSON.stringify(core)};
const server = await startServer({ config: loadConfig({ home: process.argv[2] }, {}), port: 0, logger: false });
console.log(server.url);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`server child exited ${code}`)));
    });
    const run = await json<{ info: { runId: string; experimentId: string } }>(
      await fetch(`${url}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ experimentId: '0' }),
      }),
    );
    const req = httpRequest(`${url}/api/v1/runs/${run.info.runId}/artifacts/big.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 50 * 1024 * 1024 },
    });
    req.on('error', () => undefined);
    req.write(randomBytes(1024 * 1024));
    // The temporary file is written in the deepest folder of the target that exists (the run has
    // no artifact folder yet), so it is looked for in the whole artifact tree.
    const artifactRoot = join(home, 'artifacts');
    const temps = async (): Promise<string[]> =>
      (await readdir(artifactRoot, { recursive: true }).catch(() => [] as string[])).filter((f) =>
        basename(f).startsWith('.big.bin.tmp-'),
      );
    for (let i = 0; i < 100 && (await temps()).length === 0; i++) await sleep(50);
    expect(await temps()).toHaveLength(1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    req.destroy();
    expect(await temps()).toHaveLength(1); // what kill -9 leaves behind

    // A restart with the default age keeps a leftover this young (it could be a live writer's)…
    const young = await startServer({ config, port: 0, logger: false, handleSignals: false });
    expect(await young.startupCleanup).toEqual({ removed: 0, bytes: 0 });
    await young.close();
    expect(await temps()).toHaveLength(1);
    // …and removes it once it is older than the age.
    const server = await startServer({
      config,
      port: 0,
      logger: false,
      handleSignals: false,
      abandonedWrites: { olderThanMs: 0 },
    });
    const cleaned = await server.startupCleanup;
    expect(cleaned?.removed).toBe(1);
    expect(cleaned?.bytes).toBeGreaterThan(0);
    expect(await temps()).toEqual([]);
    await server.close();
  }, 30_000);
});
