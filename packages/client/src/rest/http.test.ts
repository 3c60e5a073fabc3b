import { Readable } from 'node:stream';
import { isTrestleError, TrestleError } from '@trestle/core';
import { afterEach, describe, expect, it } from 'vitest';
import { codeForStatus, HttpClient, pathSegment, UPLOAD_REPLAY_BYTES } from './http.js';
import { freePort, sendJson, startTestServer, type TestServer } from './test-server.js';
import { isTransientError } from '../transient.js';

const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
let servers: TestServer[] = [];

async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function caught(promise: Promise<unknown>): Promise<TrestleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isTrestleError(err)) throw new Error(`expected a TrestleError, got ${String(err)}`);
  return err;
}

describe('URL building', () => {
  it('encodes path segments and refuses the ones URL parsing would resolve', () => {
    expect(pathSegment('a/b c#?%', 'tag key')).toBe('a%2Fb%20c%23%3F%25');
    for (const bad of ['.', '..', '']) {
      expect(() => pathSegment(bad, 'tag key')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('keeps a path prefix of the tracking URI and repeats array query parameters', () => {
    const http = new HttpClient({ trackingUri: 'https://ml.example.com/trestle///' });
    expect(http.baseUrl).toBe('https://ml.example.com/trestle');
    expect(
      http.url('/api/v1/experiments', { orderBy: ['name ASC', 'creation_time DESC'], maxResults: 5, f: undefined }),
    ).toBe(
      'https://ml.example.com/trestle/api/v1/experiments?orderBy=name+ASC&orderBy=creation_time+DESC&maxResults=5',
    );
  });

  it('refuses bad tracking URIs at construction, without any I/O', () => {
    let calls = 0;
    const spy: typeof fetch = () => {
      calls++;
      return Promise.reject(new Error('no'));
    };
    for (const uri of ['localhost:5000', 'ftp://host', 'not a url', 'http://user:secret@host']) {
      const err = (() => {
        try {
          new HttpClient({ trackingUri: uri, fetch: spy });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(String((err as Error).message)).not.toContain('secret');
    }
    expect(calls).toBe(0);
  });

  it('maps statuses without a Trestle error body to codes', () => {
    expect(codeForStatus(400)).toBe('INVALID_ARGUMENT');
    expect(codeForStatus(401)).toBe('UNAUTHENTICATED');
    expect(codeForStatus(403)).toBe('PERMISSION_DENIED');
    expect(codeForStatus(404)).toBe('NOT_FOUND');
    expect(codeForStatus(409)).toBe('CONFLICT');
    expect(codeForStatus(412)).toBe('FAILED_PRECONDITION');
    expect(codeForStatus(413)).toBe('RESOURCE_EXHAUSTED');
    expect(codeForStatus(429)).toBe('RATE_LIMITED');
    expect(codeForStatus(507)).toBe('STORAGE_FULL');
    expect(codeForStatus(500)).toBe('INTERNAL');
    expect(codeForStatus(502)).toBe('UNAVAILABLE');
  });
});

describe('HttpClient against a real HTTP server', () => {
  it('sends the bearer token when one is set, and no Authorization header otherwise', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, { ok: true }));
    await new HttpClient({ trackingUri: server.url, token: 's3cret' }).json({ method: 'GET', path: '/x' });
    await new HttpClient({ trackingUri: server.url }).json({ method: 'GET', path: '/x' });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(server.requests[1]?.headers.authorization).toBeUndefined();
  });

  it('retries 503 with the same JSON body until the server answers', async () => {
    const server = await serve((_req, res, seen) => {
      if (server.requests.length < 3) sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'busy' } });
      else sendJson(res, 200, { echoed: JSON.parse(seen.body.toString()) as unknown });
    });
    const http = new HttpClient({ trackingUri: server.url, retry: fast });
    const out = await http.json<{ echoed: unknown }>({ method: 'POST', path: '/api/v1/runs', json: { v: NaN } });
    expect(out.echoed).toEqual({ v: 'NaN' });
    expect(server.requests.map((r) => r.body.toString())).toEqual(Array(3).fill('{"v":"NaN"}'));
  });

  it('retries 502 and 504 too, and gives up with UNAVAILABLE after the last attempt', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(server.requests.length % 2 === 0 ? 502 : 504, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const http = new HttpClient({ trackingUri: server.url, retry: fast });
    const err = await caught(http.empty({ method: 'DELETE', path: '/api/v1/runs/abc' }));
    expect(server.requests).toHaveLength(4);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(
      /^cannot reach the Trestle server at http:\/\/127\.0\.0\.1:\d+: HTTP 50[24] .*; is 'trestle server' running\?$/,
    );
  });

  it('keeps the server error of a 503 that outlasts the retries', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 503, {
        error: { code: 'UNAVAILABLE', message: 'database is locked; try again', details: { db: 'x' } },
      }),
    );
    const err = await caught(
      new HttpClient({ trackingUri: server.url, retry: fast }).json({ method: 'GET', path: '/' }),
    );
    expect(server.requests).toHaveLength(4);
    expect(err.toJSON()).toEqual({
      code: 'UNAVAILABLE',
      message: 'database is locked; try again',
      details: { db: 'x' },
    });
  });

  it('never retries 4xx and rebuilds the server error with its code, message and details', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 400, {
        error: {
          code: 'CONFLICT',
          message: "param 'l2' is already 0.1",
          details: { key: 'l2', old: '0.1', new: '0.2' },
        },
      }),
    );
    const err = await caught(
      new HttpClient({ trackingUri: server.url, retry: fast }).empty({ method: 'POST', path: '/b', json: {} }),
    );
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(TrestleError);
    expect(err.toJSON()).toEqual({
      code: 'CONFLICT',
      message: "param 'l2' is already 0.1",
      details: { key: 'l2', old: '0.1', new: '0.2' },
    });
  });

  it('turns non-JSON error bodies into errors coded by status, without retrying 500', async () => {
    const server = await serve((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end('no  such\nthing');
    });
    const http = new HttpClient({ trackingUri: server.url, retry: fast });
    const notFound = await caught(http.json({ method: 'GET', path: '/missing' }));
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain('GET /missing with HTTP 404 Not Found: no such thing');
    expect(notFound.details).toMatchObject({ status: 404 });
    const internal = await caught(http.json({ method: 'GET', path: '/boom' }));
    expect(internal.code).toBe('INTERNAL');
    expect(server.requests).toHaveLength(2);
  });

  it('reports a 200 answer that is not JSON as a wrong server', async () => {
    const server = await serve((_req, res) => res.end('<html>hello</html>'));
    const err = await caught(new HttpClient({ trackingUri: server.url }).json({ method: 'GET', path: '/api/v1/x' }));
    expect(err.message).toMatch(/not JSON.*is the tracking URI a Trestle server\?/);
  });

  it('retries a refused connection until the server comes up, for POST and for an unsent stream', async () => {
    const port = await freePort();
    let calls = 0;
    const errors: unknown[] = [];
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      try {
        return await fetch(input, init);
      } catch (err) {
        errors.push(err);
        // The server starts only after two attempts were refused.
        if (errors.length === 2)
          await serve((_req, res, seen) => sendJson(res, 200, { got: seen.body.toString() }), { port });
        throw err;
      }
    };
    const http = new HttpClient({ trackingUri: `http://127.0.0.1:${port}`, fetch: flaky, retry: fast });
    const out = await http.json<{ got: string }>({ method: 'POST', path: '/api/v1/runs/r/batch', json: { n: 1 } });
    expect(out.got).toBe('{"n":1}');
    expect(calls).toBe(3);
    expect(errors[0]).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });

    await servers.pop()?.close();
    errors.length = 0;
    calls = 0;
    const upload = await http.json<{ got: string }>({
      method: 'PUT',
      path: '/api/v1/runs/r/artifacts/a.txt',
      body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
    });
    expect(upload.got).toBe('hello world');
    expect(calls).toBe(3);
  });

  it('gives up on a refused connection with UNAVAILABLE naming the URL and the cause', async () => {
    const port = await freePort();
    const source = Readable.from([Buffer.from('x')]);
    const http = new HttpClient({ trackingUri: `http://127.0.0.1:${port}`, retry: { attempts: 3, baseDelayMs: 1 } });
    const err = await caught(http.json({ method: 'PUT', path: '/a', body: source }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe(
      `cannot reach the Trestle server at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; is 'trestle server' running?`,
    );
    expect(err.details).toMatchObject({ attempts: 3, cause: 'ECONNREFUSED', method: 'PUT' });
    expect(source.destroyed).toBe(true);
  });

  it('retries a small streamed upload whole, and a large one not at all once it has been sent', async () => {
    const server = await serve((_req, res, seen) =>
      seen.url === '/small' && server.requests.length === 1
        ? sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'restarting' } })
        : seen.url === '/small'
          ? sendJson(res, 200, { size: seen.body.length, first: seen.body[0], last: seen.body.at(-1) })
          : sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'restarting' } }),
    );
    const http = new HttpClient({ trackingUri: server.url, retry: fast });
    let produced = 0;
    function source(chunks: number): Readable {
      return Readable.from(
        (function* () {
          for (let i = 0; i < chunks; i++) {
            produced++;
            yield Buffer.alloc(64 * 1024, i);
          }
        })(),
      );
    }
    // 256 KiB fits in the replay log: sent twice, the second time from its first byte.
    const small = await http.json({ method: 'PUT', path: '/small', body: source(4) });
    expect(small).toEqual({ size: 4 * 64 * 1024, first: 0, last: 3 });
    expect(server.requests.map((r) => r.body.length)).toEqual([4 * 64 * 1024, 4 * 64 * 1024]);
    expect(produced).toBe(4);

    // 2 MiB does not: the 503 is final.
    produced = 0;
    const big = source(32);
    const err = await caught(http.json({ method: 'PUT', path: '/big', body: big }));
    expect(err.toJSON()).toEqual({ code: 'UNAVAILABLE', message: 'restarting' });
    expect(server.requests.filter((r) => r.url === '/big')).toHaveLength(1);
    expect(big.destroyed).toBe(true);
    expect(32 * 64 * 1024).toBeGreaterThan(UPLOAD_REPLAY_BYTES);
  });

  it('retries an upload of bytes, which can be sent again', async () => {
    const server = await serve((_req, res, seen) =>
      server.requests.length === 1 ? sendJson(res, 503, {}) : sendJson(res, 200, { size: seen.body.length }),
    );
    const out = await new HttpClient({ trackingUri: server.url, retry: fast }).json<{ size: number }>({
      method: 'PUT',
      path: '/a',
      body: new Uint8Array(1000),
    });
    expect(out.size).toBe(1000);
    expect(server.requests.map((r) => r.body.length)).toEqual([1000, 1000]);
  });

  it('streams an upload: the server gets the first bytes before the source has produced the rest', async () => {
    let firstChunkArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (firstChunkArrived = resolve));
    const server = await serve(
      async (req, res) => {
        let size = 0;
        for await (const chunk of req) {
          if (size === 0) firstChunkArrived();
          size += (chunk as Buffer).length;
        }
        sendJson(res, 200, {
          size,
          encoding: req.headers['transfer-encoding'] ?? null,
          type: req.headers['content-type'],
        });
      },
      { streaming: true },
    );
    const chunk = Buffer.alloc(1 << 20, 7);
    async function* source(): AsyncGenerator<Buffer> {
      yield chunk;
      // A client that buffered the whole body before sending would wait here forever.
      await arrived;
      for (let i = 1; i < 32; i++) yield chunk;
    }
    const out = await new HttpClient({ trackingUri: server.url, timeoutMs: 10_000 }).json<{
      size: number;
      encoding: string | null;
      type: string;
    }>({ method: 'PUT', path: '/a', body: Readable.from(source()) });
    expect(out).toEqual({ size: 32 << 20, encoding: 'chunked', type: 'application/octet-stream' });
  });

  it("reports the source stream's own error when it fails mid-upload", async () => {
    const server = await serve(
      async (req, res) => {
        for await (const _ of req) void _;
        sendJson(res, 200, {});
      },
      { streaming: true },
    );
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('disk went away'));
      },
    });
    await expect(
      new HttpClient({ trackingUri: server.url, retry: fast }).json({ method: 'PUT', path: '/a', body: source }),
    ).rejects.toThrow('disk went away');
  });

  it('times out a request with no answer: GET and a POST with an idempotency key are retried, a POST without one is not', async () => {
    const server = await serve(() => undefined /* never answers */);
    const options = {
      trackingUri: server.url,
      timeoutMs: 100,
      retry: { attempts: 2, baseDelayMs: 1 },
      warn: () => undefined,
    };
    const http = new HttpClient(options);
    const get = await caught(http.json({ method: 'GET', path: '/slow' }));
    expect(get.code).toBe('UNAVAILABLE');
    expect(get.message).toMatch(/no answer to GET \/slow within 100 ms/);
    expect(server.requests).toHaveLength(2);
    const keyed = await caught(http.json({ method: 'POST', path: '/slow', json: {} }));
    expect(keyed.code).toBe('UNAVAILABLE');
    expect(server.requests).toHaveLength(4);
    const unkeyed = await caught(
      new HttpClient({ ...options, idempotencyKeys: false }).json({ method: 'POST', path: '/slow', json: {} }),
    );
    expect(unkeyed.code).toBe('UNAVAILABLE');
    expect(server.requests).toHaveLength(5);
  });

  it('sends one Idempotency-Key per POST or PATCH, the same on every attempt, and none on requests marked idempotent', async () => {
    const server = await serve((_req, res) =>
      server.requests.length % 2 === 1 ? sendJson(res, 503, {}) : sendJson(res, 200, {}),
    );
    const http = new HttpClient({ trackingUri: server.url, retry: fast, warn: () => undefined });
    await http.json({ method: 'POST', path: '/api/v1/runs', json: {} });
    await http.json({ method: 'POST', path: '/api/v1/runs', json: {} });
    await http.json({ method: 'PATCH', path: '/api/v1/experiments/1', json: {} });
    await http.json({ method: 'POST', path: '/api/v1/runs/search', json: {}, idempotent: true });
    await http.json({ method: 'GET', path: '/api/v1/runs/x' });
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    for (const k of keys.slice(0, 6))
      expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).toBe(keys[3]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[4]).toBe(keys[5]);
    expect(keys.slice(6)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('without a key, sends a POST again only when it provably did not arrive (refused, 429, 503), never after a reset or a 502', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      else if (req.url === '/502') sendJson(res, 502, {});
      else if (server.requests.filter((r) => r.url === req.url).length === 1) {
        res.writeHead(req.url === '/429' ? 429 : 503, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end('{}');
      } else sendJson(res, 200, { ok: true });
    });
    const http = new HttpClient({
      trackingUri: server.url,
      retry: fast,
      idempotencyKeys: false,
      warn: () => undefined,
    });
    const count = (url: string): number => server.requests.filter((r) => r.url === url).length;
    expect((await caught(http.json({ method: 'POST', path: '/reset', json: {} }))).code).toBe('UNAVAILABLE');
    expect(count('/reset')).toBe(1);
    expect((await caught(http.json({ method: 'POST', path: '/502', json: {} }))).code).toBe('UNAVAILABLE');
    expect(count('/502')).toBe(1);
    expect(await http.json({ method: 'POST', path: '/429', json: {} })).toEqual({ ok: true });
    expect(count('/429')).toBe(2);
    expect(await http.json({ method: 'POST', path: '/503', json: {} })).toEqual({ ok: true });
    expect(count('/503')).toBe(2);
    // The same reset is retried for a request that may be sent again.
    expect((await caught(http.json({ method: 'GET', path: '/reset' }))).code).toBe('UNAVAILABLE');
    expect(count('/reset')).toBe(1 + fast.attempts);
  });

  it('says once per outage on stderr that it is retrying', async () => {
    let down = true;
    const server = await serve((_req, res) => (down ? sendJson(res, 503, {}) : sendJson(res, 200, {})));
    const lines: string[] = [];
    const http = new HttpClient({ trackingUri: server.url, retry: fast, warn: (m) => lines.push(m) });
    await caught(http.json({ method: 'GET', path: '/a' }));
    await caught(http.json({ method: 'GET', path: '/b' }));
    expect(lines).toEqual([`trestle: the Trestle server at ${server.url} is not answering (HTTP 503); retrying`]);
    down = false;
    await http.json({ method: 'GET', path: '/c' });
    down = true;
    await caught(http.json({ method: 'GET', path: '/d' }));
    expect(lines).toHaveLength(2);
  });

  it('marks a final 429 as transient, so that buffered writers retry it later instead of dropping points', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '0' });
      res.end('slow down');
    });
    const err = await caught(
      new HttpClient({ trackingUri: server.url, retry: fast, warn: () => undefined }).json({
        method: 'GET',
        path: '/',
      }),
    );
    expect(err.code).toBe('RATE_LIMITED');
    expect(isTransientError(err)).toBe(true);
    expect(server.requests).toHaveLength(fast.attempts);
  });

  it('reports a connection that breaks while the answer is read, without sending again', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"items": [');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await caught(
      new HttpClient({ trackingUri: server.url, retry: fast }).json({ method: 'POST', path: '/q', json: {} }),
    );
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/broke while reading the answer to POST \/q/);
    expect(server.requests).toHaveLength(1);
  });

  it('returns a download as a Node stream', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.from('abc'));
      setTimeout(() => res.end(Buffer.from('def')), 20);
    });
    const { body } = await new HttpClient({ trackingUri: server.url }).stream({ method: 'GET', path: '/f' });
    expect(body).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
    expect(Buffer.concat(chunks).toString()).toBe('abcdef');
  });
});
