import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

/** Every file under `dir`, relative, or [] when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A raw HTTP request whose path is sent exactly as given (no URL normalisation). */
function rawRequest(
  port: number,
  method: string,
  path: string,
  body?: (req: ReturnType<typeof httpRequest>) => Promise<void>,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/octet-stream' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body === undefined) req.end();
    else body(req).then(() => req.end(), reject);
  });
}

describe('artifacts routes', () => {
  let fx: ServerFixture;
  let port: number;
  beforeAll(async () => {
    fx = await serverFixture();
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (fx.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await fx.close();
  });
  const inject = (options: InjectOptions) => fx.app.inject(options);
  const url = (runId: string, path: string) => `/api/v1/runs/${runId}/artifacts/${path}`;

  it('uploads, lists, downloads and deletes files under the run key', async () => {
    const { runId, experimentId } = await fx.run();
    const put = await inject({
      method: 'PUT',
      url: url(runId, 'model/weights.bin'),
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from('0123456789'),
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ path: 'model/weights.bin', size: 10, sha256: sha256(Buffer.from('0123456789')) });
    await inject({
      method: 'PUT',
      url: url(runId, 'README.md'),
      payload: '# notes',
      headers: { 'content-type': 'text/markdown' },
    });

    // The file lives under <experimentId>/<runId>/artifacts/<path>, as the SDK writes it.
    expect(await filesUnder(join(fx.artifactDir, experimentId, runId))).toEqual([
      'artifacts/README.md',
      'artifacts/model/weights.bin',
    ]);

    const root = await inject({ method: 'GET', url: `/api/v1/runs/${runId}/artifacts` });
    expect(root.json()).toEqual({
      items: [
        { path: 'README.md', isDir: false, size: 7 },
        { path: 'model', isDir: true },
      ],
    });
    const folder = await inject({ method: 'GET', url: `/api/v1/runs/${runId}/artifacts?path=model` });
    expect(folder.json()).toEqual({ items: [{ path: 'model/weights.bin', isDir: false, size: 10 }] });

    const get = await inject({ method: 'GET', url: url(runId, 'model/weights.bin') });
    expect(get.statusCode).toBe(200);
    expect(get.headers['content-type']).toBe('application/octet-stream');
    expect(get.headers['content-length']).toBe('10');
    expect(get.headers['x-checksum-sha256']).toBe(sha256(Buffer.from('0123456789')));
    expect(get.body).toBe('0123456789');
    const head = await inject({ method: 'HEAD', url: url(runId, 'model/weights.bin') });
    expect(head.statusCode).toBe(200);
    expect(head.headers['x-checksum-sha256']).toBe(sha256(Buffer.from('0123456789')));
    expect(head.body).toBe('');

    expect((await inject({ method: 'DELETE', url: url(runId, 'model') })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: url(runId, 'model/weights.bin') })).statusCode).toBe(404);
    expect(await filesUnder(join(fx.artifactDir, experimentId, runId))).toEqual(['artifacts/README.md']);
  });

  it('checks X-Checksum-Sha256: a mismatch is 400 and the old file stays; a match (any case) is stored', async () => {
    const { runId, experimentId } = await fx.run();
    const good = Buffer.from('the good model');
    const put = (payload: Buffer, checksum: string) =>
      inject({
        method: 'PUT',
        url: url(runId, 'model.bin'),
        headers: { 'content-type': 'application/octet-stream', 'x-checksum-sha256': checksum },
        payload,
      });
    expect((await put(good, sha256(good).toUpperCase())).statusCode).toBe(200);

    const corrupted = Buffer.from('the good modem');
    const refused = await put(corrupted, sha256(good));
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('does not match its checksum'),
      details: { expected: sha256(good), received: sha256(corrupted) },
    });
    const after = await inject({ method: 'GET', url: url(runId, 'model.bin') });
    expect(after.body).toBe('the good model');
    expect(after.headers['x-checksum-sha256']).toBe(sha256(good));

    const malformed = await put(good, 'not-a-checksum');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toContain('64 hex digits');
    // Nothing but the one good file, and no temporary file left behind.
    expect(await filesUnder(join(fx.artifactDir, experimentId, runId))).toEqual(['artifacts/model.bin']);
  });

  it('answers a malformed checksum with its 400 over a real connection, not a dropped socket', async () => {
    const { runId } = await fx.run();
    // The store destroys a body it refuses unread; handed the request itself, that closed the
    // socket before the answer went out.
    const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: url(runId, 'model.bin'),
          headers: { 'content-type': 'application/octet-stream', 'x-checksum-sha256': 'abc', 'content-length': 5 },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end('bytes');
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('64 hex digits, got "abc"'),
    });
  });

  it('stores a JSON upload as bytes, unparsed', async () => {
    const { runId } = await fx.run();
    const text = '{"b": 1,   "a": [1,2]}';
    const put = await inject({
      method: 'PUT',
      url: url(runId, 'config.json'),
      headers: { 'content-type': 'application/json' },
      payload: text,
    });
    expect(put.statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: url(runId, 'config.json') })).body).toBe(text);
  });

  it('accepts an empty file', async () => {
    const { runId } = await fx.run();
    const put = await inject({ method: 'PUT', url: url(runId, 'empty.txt') });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ size: 0, sha256: sha256(new Uint8Array()) });
  });

  it('answers 404 for an unknown run, and for a missing file', async () => {
    const unknown = await inject({ method: 'PUT', url: url('9'.repeat(32), 'x.txt'), payload: 'x' });
    expect(unknown.statusCode).toBe(404);
    const { runId } = await fx.run();
    const missing = await inject({ method: 'GET', url: url(runId, 'nope.txt') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('refuses writes to a deleted run and writes nothing', async () => {
    const { runId, experimentId } = await fx.run();
    await inject({ method: 'DELETE', url: `/api/v1/runs/${runId}` });
    const put = await inject({ method: 'PUT', url: url(runId, 'late.txt'), payload: 'late' });
    expect(put.statusCode).toBe(412);
    expect(put.json().error.code).toBe('FAILED_PRECONDITION');
    expect(put.json().error.message).toContain('restore');
    expect(await filesUnder(join(fx.artifactDir, experimentId, runId))).toEqual([]);
  });

  it('streams a multi-megabyte upload and download with matching sha256', async () => {
    const { runId } = await fx.run();
    const chunk = randomBytes(1024 * 1024);
    const chunks = 24;
    const expected = createHash('sha256');
    for (let i = 0; i < chunks; i++) expected.update(chunk);
    const digest = expected.digest('hex');
    let sawPartialWrite = false;

    const put = await rawRequest(port, 'PUT', url(runId, 'data/big.bin'), async (req) => {
      for (let i = 0; i < chunks; i++) {
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        // Half-way through, the server must already be writing to disk: it streams, not buffers.
        // (The temporary file sits in the deepest folder that exists until the upload is whole.)
        if (i === chunks / 2) {
          for (let tries = 0; tries < 100 && !sawPartialWrite; tries++) {
            sawPartialWrite = (await filesUnder(fx.artifactDir)).some((f) => f.includes('.big.bin.tmp-'));
            if (!sawPartialWrite) await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
    });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.body.toString())).toEqual({
      path: 'data/big.bin',
      size: chunks * chunk.length,
      sha256: digest,
    });
    expect(sawPartialWrite).toBe(true);

    const get = await rawRequest(port, 'GET', url(runId, 'data/big.bin'));
    expect(get.status).toBe(200);
    expect(get.headers['content-length']).toBe(String(chunks * chunk.length));
    expect(get.headers['x-checksum-sha256']).toBe(digest);
    expect(sha256(get.body)).toBe(digest);
  });

  describe('path traversal', () => {
    // In process: the router decodes %2f and %5c into the wildcard; the check refuses them.
    it.each([
      ['..%2fescape.txt'],
      ['a%2f..%2f..%2fescape.txt'],
      ['%252e%252e/escape.txt'],
      ['a%5c..%5cescape.txt'],
      ['/etc/passwd'],
      ['%2fetc%2fpasswd'],
      ['C:%5cwindows%5cescape.txt'],
    ])('refuses %s with 400 and writes nothing', async (path) => {
      const { runId } = await fx.run();
      const before = await filesUnder(fx.artifactDir);
      const res = await inject({ method: 'PUT', url: url(runId, path), payload: 'evil' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
      expect(await filesUnder(fx.artifactDir)).toEqual(before);
      expect((await inject({ method: 'GET', url: url(runId, path) })).statusCode).toBe(400);
      expect((await inject({ method: 'DELETE', url: url(runId, path) })).statusCode).toBe(400);
      // The path is checked first, before even looking the run up.
      expect((await inject({ method: 'PUT', url: url('9'.repeat(32), path), payload: 'evil' })).statusCode).toBe(400);
    });

    // Over a socket, paths reach the server as sent: no client-side `..` resolution.
    it.each([
      ['../escape.txt'],
      ['%2e%2e/escape.txt'],
      ['..\\escape.txt'],
      ['../../../../escape.txt'],
      ['%2e%2e%2f%2e%2e%2fescape.txt'],
    ])('refuses raw %s with 400 and writes nothing', async (path) => {
      const { runId } = await fx.run();
      const before = await filesUnder(fx.artifactDir);
      const res = await rawRequest(port, 'PUT', url(runId, path), (req) => {
        req.write('evil');
        return Promise.resolve();
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString()).error.code).toBe('INVALID_ARGUMENT');
      expect(await filesUnder(fx.artifactDir)).toEqual(before);
    });

    it('refuses a listing outside the run', async () => {
      const { runId } = await fx.run();
      const res = await inject({
        method: 'GET',
        url: `/api/v1/runs/${runId}/artifacts?path=${encodeURIComponent('../..')}`,
      });
      expect(res.statusCode).toBe(400);
    });
  });
});
