import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HttpControlPlane, ShipError } from './control-plane.js';

/** A control plane stand-in answering each request with `answer(path)`; records what it got and on which connection. */
async function stub(answer: (path: string) => { status: number; body?: string; delayMs?: number }) {
  const got: { method: string; path: string; headers: IncomingHttpHeaders; body: string; connection: number }[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body,
        connection: (req.socket as unknown as { n: number }).n,
      });
      const a = answer(req.url!);
      setTimeout(
        () => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '{}'),
        a.delayMs ?? 0,
      );
    });
  });
  server.on('connection', (s) => Object.assign(s, { n: ++connections }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got };
}

async function shipError(p: Promise<void>): Promise<ShipError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ShipError);
  return err as ShipError;
}

describe('HttpControlPlane', () => {
  it('sends the body, its headers and the token, reusing one kept-alive connection', async () => {
    const cp = await stub(() => ({ status: 200 }));
    const plane = new HttpControlPlane(cp.url, 'tok');
    await plane.post('/api/v1/inference-logs', '{"a":"é"}');
    await plane.post('/api/v1/inference-windows', '{}', 'key-1');
    await plane.put('/api/v1/monitoring/references/m/1', '{"profile":{}}');
    expect(cp.got.map((g) => [g.method, g.path, g.body])).toEqual([
      ['POST', '/api/v1/inference-logs', '{"a":"é"}'],
      ['POST', '/api/v1/inference-windows', '{}'],
      ['PUT', '/api/v1/monitoring/references/m/1', '{"profile":{}}'],
    ]);
    expect(cp.got.map((g) => g.headers['idempotency-key'])).toEqual([undefined, 'key-1', undefined]);
    expect(cp.got.every((g) => g.headers['authorization'] === 'Bearer tok')).toBe(true);
    expect(cp.got.every((g) => g.headers['content-type'] === 'application/json')).toBe(true);
    expect(new Set(cp.got.map((g) => g.connection)).size).toBe(1);
  });

  it('a 4xx is refused (dropped), 5xx, 429 and 404 are transient (spooled), and so are no answer and no server', async () => {
    const cp = await stub((path) =>
      path === '/bad'
        ? { status: 400, body: '{"error":"no such column"}' }
        : path === '/slow'
          ? { status: 200, delayMs: 1000 }
          : { status: Number(path.slice(1)) },
    );
    const plane = new HttpControlPlane(cp.url, undefined, 200);
    const bad = await shipError(plane.post('/bad', '{}'));
    expect(bad.kind).toBe('refused');
    expect(bad.message).toContain('answered 400: {"error":"no such column"}');
    for (const status of [500, 503, 429, 404])
      expect((await shipError(plane.post(`/${status}`, '{}'))).kind).toBe('transient');
    const slow = await shipError(plane.post('/slow', '{}'));
    expect(slow.kind).toBe('transient');
    expect(slow.message).toContain('no answer within 200 ms');
    const away = await shipError(new HttpControlPlane('http://127.0.0.1:9', undefined, 200).post('/x', '{}'));
    expect(away.kind).toBe('transient');
    expect(away.message).toMatch(/127\.0\.0\.1:9 is unreachable \(.*ECONNREFUSED/);
  });
});
