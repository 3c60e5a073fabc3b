import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ArtifactStore } from '@trestle/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRest } from './index.js';
import { sendJson, startTestServer, type TestServer } from './test-server.js';

const RUN = 'abcdef0123456789abcdef0123456789';
const key = (path: string): string => `3/${RUN}/artifacts/${path}`;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Files of the fake server, by run-relative path. */
const files = new Map<string, Buffer>();
let sendChecksum = true;
let server: TestServer;
let store: ArtifactStore;

beforeAll(async () => {
  const prefix = `/api/v1/runs/${RUN}/artifacts`;
  server = await startTestServer(
    async (req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      if (!url.pathname.startsWith(prefix))
        return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
      const rel = url.pathname
        .slice(prefix.length + 1)
        .split('/')
        .map((s) => decodeURIComponent(s))
        .join('/');
      if (req.method === 'PUT') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const bytes = Buffer.concat(chunks);
        files.set(rel, bytes);
        return sendJson(res, 200, { path: rel, size: bytes.length, sha256: sha256(bytes) });
      }
      for await (const _ of req) void _;
      if (req.method === 'DELETE') return res.writeHead(204).end();
      if (rel === '' && req.method === 'GET') {
        const dir = url.searchParams.get('path') ?? '';
        return sendJson(res, 200, {
          items: [
            { path: dir === '' ? 'plots' : `${dir}/sub`, isDir: true },
            { path: dir === '' ? 'model.json' : `${dir}/a.png`, isDir: false, size: 4 },
          ],
        });
      }
      const bytes = files.get(rel);
      if (bytes === undefined) {
        return sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `artifact '${rel}' not found`, details: { path: rel } },
        });
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': bytes.length,
        ...(sendChecksum ? { 'x-checksum-sha256': sha256(bytes) } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    },
    { streaming: true },
  );
  store = connectRest({ trackingUri: server.url, retry: { attempts: 1 } }).artifacts;
});

afterAll(() => server.close());

beforeEach(() => {
  server.requests.length = 0;
  files.clear();
  sendChecksum = true;
});

describe('RestArtifactStore', () => {
  it('maps run artifact keys to the run routes, URL-encoded, and back', async () => {
    const info = await store.put(key('plots/roc curve#1.txt'), 'hello');
    expect(info).toEqual({ path: key('plots/roc curve#1.txt'), size: 5, sha256: sha256(Buffer.from('hello')) });
    expect(server.requests[0]).toMatchObject({
      method: 'PUT',
      url: `/api/v1/runs/${RUN}/artifacts/plots/roc%20curve%231.txt`,
    });
    expect(server.requests[0]?.headers['content-type']).toBe('application/octet-stream');
    expect(files.get('plots/roc curve#1.txt')?.toString()).toBe('hello');
    // Empty and '.' segments are dropped, as the stores do.
    await store.put(`3//${RUN}/./artifacts//m.json`, new Uint8Array([1, 2]));
    expect(files.get('m.json')).toEqual(Buffer.from([1, 2]));
  });

  it('streams a multi-MB upload and download with identical bytes', async () => {
    const chunks = Array.from({ length: 48 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const all = Buffer.concat(chunks);
    const info = await store.put(key('data/big.bin'), Readable.from(chunks));
    expect(info).toEqual({ path: key('data/big.bin'), size: all.length, sha256: sha256(all) });
    expect(server.requests[0]?.headers['transfer-encoding']).toBe('chunked');
    const stream = await store.get(key('data/big.bin'));
    expect(stream).toBeInstanceOf(Readable);
    expect(sha256(await buffer(stream))).toBe(sha256(all));
  });

  it('stats with a HEAD request, and hashes a download when the server sends no checksum', async () => {
    files.set('m.json', Buffer.from('{"w":1}'));
    expect(await store.stat(key('m.json'))).toEqual({
      path: key('m.json'),
      size: 7,
      sha256: sha256(Buffer.from('{"w":1}')),
    });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD']);
    sendChecksum = false;
    expect(await store.stat(key('m.json'))).toEqual({
      path: key('m.json'),
      size: 7,
      sha256: sha256(Buffer.from('{"w":1}')),
    });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'GET']);
  });

  it('passes NOT_FOUND through from get and stat', async () => {
    await expect(store.get(key('nope.txt'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: "artifact 'nope.txt' not found",
    });
    await expect(store.stat(key('nope.txt'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists with run-relative paths from the server and returns full keys', async () => {
    expect(await store.list(`3/${RUN}/artifacts`)).toEqual([
      { path: key('plots'), isDir: true },
      { path: key('model.json'), isDir: false, size: 4 },
    ]);
    expect(await store.list(key('plots/'))).toEqual([
      { path: key('plots/sub'), isDir: true },
      { path: key('plots/a.png'), isDir: false, size: 4 },
    ]);
    expect(server.requests.map((r) => r.url)).toEqual([
      `/api/v1/runs/${RUN}/artifacts`,
      `/api/v1/runs/${RUN}/artifacts?path=plots`,
    ]);
  });

  it('deletes a file or a folder', async () => {
    await store.delete(key('plots/a b.png'));
    expect(server.requests[0]).toMatchObject({
      method: 'DELETE',
      url: `/api/v1/runs/${RUN}/artifacts/plots/a%20b.png`,
    });
  });

  it('sends X-Checksum-Sha256 with every upload whose bytes are known before sending', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trestle-sum-'));
    try {
      const file = join(dir, 'model.bin');
      const bytes = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
      await writeFile(file, bytes);
      await store.put(key('a.txt'), 'hello');
      await store.put(key('b.bin'), new Uint8Array([1, 2, 3]));
      await store.put(key('model.bin'), createReadStream(file));
      await store.put(key('generated.bin'), Readable.from([Buffer.from('made on the fly')]));
      expect(server.requests.map((r) => r.headers['x-checksum-sha256'])).toEqual([
        sha256(Buffer.from('hello')),
        sha256(Buffer.from([1, 2, 3])),
        sha256(bytes),
        undefined,
      ]);
      expect(files.get('model.bin')?.equals(bytes)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses keys outside the run convention with INVALID_ARGUMENT, sends nothing and closes the body', async () => {
    for (const bad of [
      'model.json',
      `3/${RUN}/other/x`,
      `3/${RUN}/artifacts`,
      `3/${RUN}/artifacts/a/../../../x`,
      `/3/${RUN}/artifacts/x`,
      '',
    ]) {
      const body = Readable.from([Buffer.from('x')]);
      const refused: unknown = await store.put(bad, body).catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((refused as Error).message).toContain(JSON.stringify(bad));
      expect(body.destroyed).toBe(true);
      await expect(store.get(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.stat(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.delete(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(store.list('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /is not inside a run/ });
    expect(server.requests).toHaveLength(0);
  });
});
