import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the test server saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Answers one request; the body has been read unless the handler was registered with `streaming`. */
export type TestHandler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => unknown;

/** A real HTTP server on a local port, for tests of the REST client. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Starts a `node:http` server on `port` (0: any free port) that records requests and lets
 * `handler` answer. With `streaming`, the handler reads the body itself (`seen.body` is empty).
 * Test support only.
 *
 * @example
 * const server = await startTestServer((_req, res) => res.end('{}'));
 */
export async function startTestServer(
  handler: TestHandler,
  options: { port?: number; streaming?: boolean } = {},
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const respond = async (): Promise<void> => {
      const chunks: Buffer[] = [];
      if (options.streaming !== true) for await (const chunk of req) chunks.push(chunk as Buffer);
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      await handler(req, res, seen);
    };
    respond().catch((err: unknown) => {
      res.statusCode = 599;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A local port that was free a moment ago and has nothing listening on it now. */
export async function freePort(): Promise<number> {
  const probe = await startTestServer(() => undefined);
  await probe.close();
  return probe.port;
}

/** Answers with JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
