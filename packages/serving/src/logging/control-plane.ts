/**
 * Where serving ships inference logs and window summaries: `trestle server`'s
 * `POST /api/v1/inference-logs` and `POST /api/v1/inference-windows` (contract 4).
 */
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TrestleError } from '@trestle/core';

/** Paths of the two monitoring routes. */
export const INFERENCE_LOGS_PATH = '/api/v1/inference-logs';
export const INFERENCE_WINDOWS_PATH = '/api/v1/inference-windows';

/** Why a shipment failed: `transient` is kept and retried; `refused` (a 4xx) is dropped and counted. */
export class ShipError extends Error {
  override readonly name = 'ShipError';
  constructor(
    readonly kind: 'transient' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

/** Path of a version's reference profile on the control plane. */
export function referencePath(name: string, version: string): string {
  return `/api/v1/monitoring/references/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
}

/** Sends one JSON body; resolves when the control plane accepted it, throws `ShipError` otherwise. */
export interface ControlPlane {
  /** Sends `body`, with an `Idempotency-Key` header when a key is given. */
  post(path: string, body: string, idempotencyKey?: string): Promise<void>;
  /** Replaces a document (the reference profile of a version). */
  put(path: string, body: string): Promise<void>;
}

/**
 * The control plane over HTTP: node:http(s) on a keep-alive agent, a deadline per request, an
 * optional bearer token. Not `fetch`: for a 180 kB shipment undici copied the body through web
 * streams, about twice the CPU of a plain request, on the serving process's only thread.
 */
export class HttpControlPlane implements ControlPlane {
  private readonly url: URL;
  private readonly base: string;
  private readonly agent: Agent;
  private readonly request: typeof httpRequest;

  constructor(
    baseUrl: string,
    private readonly token?: string,
    private readonly timeoutMs = 5000,
  ) {
    if (!/^https?:\/\//.test(baseUrl)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the control plane URL must start with http:// or https://, got '${baseUrl}'`,
      );
    }
    this.base = baseUrl.replace(/\/+$/, '');
    this.url = new URL(this.base);
    const https = this.url.protocol === 'https:';
    // Free sockets are unref'd by the agent, so an idle connection never keeps the process up.
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
      : new Agent({ keepAlive: true, maxSockets: 4 });
    this.request = https ? httpsRequest : httpRequest;
  }

  post(path: string, body: string, idempotencyKey?: string): Promise<void> {
    return this.send('POST', path, body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });
  }

  put(path: string, body: string): Promise<void> {
    return this.send('PUT', path, body, {});
  }

  private async send(method: string, path: string, body: string, extra: Record<string, string>): Promise<void> {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...extra,
    };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let answer: { status: number; text: string };
    try {
      answer = await this.exchange(method, path, body, headers);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { reused?: boolean };
      // The server closed an idle kept-alive connection as this request went out: send it again
      // once on a new connection (the route skips request ids it has, windows carry a key).
      if (e.reused !== true || e.code !== 'ECONNRESET') throw this.unreachable(e);
      try {
        answer = await this.exchange(method, path, body, headers);
      } catch (again) {
        throw this.unreachable(again as Error);
      }
    }
    if (answer.status >= 200 && answer.status < 300) return;
    const kind = answer.status === 429 || answer.status >= 500 || answer.status === 404 ? 'transient' : 'refused';
    throw new ShipError(kind, `${this.base}${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  }

  private unreachable(err: Error): ShipError {
    return new ShipError('transient', `${this.base} is unreachable (${err.message})`);
  }

  /** One request and its answer (the first 4 kB of its body), within the deadline. */
  private exchange(
    method: string,
    path: string,
    body: string,
    headers: Record<string, string | number>,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port,
          path: this.url.pathname.replace(/\/+$/, '') + path,
          method,
          headers,
          agent: this.agent,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 4096) text += chunk;
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        reject(Object.assign(err, { reused: req.reusedSocket }));
      }
      req.on('error', fail);
      req.end(body);
    });
  }
}
