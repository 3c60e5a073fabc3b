/**
 * Where serving ships inference logs and window summaries: `trestle server`'s
 * `POST /api/v1/inference-logs` and `POST /api/v1/inference-windows` (contract 4).
 */
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

/** The control plane over HTTP (`fetch`, a timeout per request, an optional bearer token). */
export class HttpControlPlane implements ControlPlane {
  private readonly base: string;
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
  }

  post(path: string, body: string, idempotencyKey?: string): Promise<void> {
    return this.send('POST', path, body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });
  }

  put(path: string, body: string): Promise<void> {
    return this.send('PUT', path, body, {});
  }

  private async send(method: string, path: string, body: string, extra: Record<string, string>): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ShipError('transient', `${this.base} is unreachable (${(err as Error).message})`);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const kind = res.status === 429 || res.status >= 500 || res.status === 404 ? 'transient' : 'refused';
    throw new ShipError(kind, `${this.base}${path} answered ${res.status}: ${text.slice(0, 300)}`);
  }
}
