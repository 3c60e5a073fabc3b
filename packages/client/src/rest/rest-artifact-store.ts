import { createHash } from 'node:crypto';
import { createReadStream, ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  TrestleError,
  type ArtifactBody,
  type ArtifactEntry,
  type ArtifactInfo,
  type PutOptions,
  type ArtifactStore,
} from '@trestle/core';
import { API_V1_PREFIX, CHECKSUM_HEADER, type WireArtifactInfo, type WireArtifactList } from '@trestle/core/rest';
import { pathSegment, type HttpClient, type HttpRequest } from './http.js';

/** A store key of the run convention, split: `<experimentId>/<runId>/artifacts/<path>`. */
interface RunArtifactKey {
  experimentId: string;
  runId: string;
  /** Relative to the run's artifact root, normal form (`''` is the root). */
  path: string;
}

function parseKey(key: string, allowRoot: boolean): RunArtifactKey {
  const refuse = (why: string): never => {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `artifact key ${JSON.stringify(key)} ${why}; over HTTP, keys must be run artifact keys '<experimentId>/<runId>/artifacts/<path>'`,
      { path: key },
    );
  };
  if (typeof key !== 'string') refuse('is not a string');
  const segments = key.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) refuse("has '..' segments");
  const [experimentId, runId, artifacts, ...rest] = segments;
  if (experimentId === undefined || runId === undefined || artifacts !== 'artifacts') {
    refuse('is not inside a run');
  }
  if (rest.length === 0 && !allowRoot) refuse("names the run's artifact folder, not a file");
  return { experimentId: experimentId!, runId: runId!, path: rest.join('/') };
}

function fullKey(key: RunArtifactKey, relative: string): string {
  const rel = relative.replace(/^\/+/, '');
  return `${key.experimentId}/${key.runId}/artifacts${rel === '' ? '' : `/${rel}`}`;
}

async function sha256Of(source: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/**
 * The SHA-256 of a body known before it is sent: bytes and text are hashed at once, a whole
 * file opened with `createReadStream(path)` is read once more first; other streams cannot be
 * known in advance (`undefined`).
 */
async function checksumOf(body: ArtifactBody): Promise<string | undefined> {
  if (typeof body === 'string' || body instanceof Uint8Array) return createHash('sha256').update(body).digest('hex');
  if (body instanceof ReadStream) {
    const { path, start, end } = body as ReadStream & { start?: number; end?: number };
    const whole = (start === undefined || start === 0) && (end === undefined || end === Infinity);
    if (typeof path === 'string' && whole && body.bytesRead === 0) return sha256Of(createReadStream(path));
  }
  return undefined;
}

function artifactsPath(key: RunArtifactKey): string {
  const base = `${API_V1_PREFIX}/runs/${pathSegment(key.runId, 'runId')}/artifacts`;
  return `${base}/${key.path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;
}

/**
 * The {@link ArtifactStore} port over HTTP, for run artifacts: a key
 * `<experimentId>/<runId>/artifacts/<path>` (as `runArtifactKey` builds it) maps to
 * `/api/v1/runs/<runId>/artifacts/<path>` on the server, which stores it wherever the run's
 * artifact location is. Other key shapes are `INVALID_ARGUMENT`. Uploads and downloads stream:
 * no file is held in memory whole. Constructing it does no I/O.
 *
 * @example
 * const store = new RestArtifactStore(new HttpClient({ trackingUri: 'http://localhost:5000' }));
 * await store.put(`0/${runId}/artifacts/model.json`, createReadStream('model.json'));
 * const stream = await store.get(`0/${runId}/artifacts/model.json`);
 */
export class RestArtifactStore implements ArtifactStore {
  /** The server's base URL; keys are run artifact keys below it. */
  readonly rootUri: string;
  readonly #http: HttpClient;
  #closed = false;

  constructor(http: HttpClient) {
    this.#http = http;
    this.rootUri = http.baseUrl;
  }

  async put(path: string, body: ArtifactBody, options?: PutOptions): Promise<ArtifactInfo> {
    let key: RunArtifactKey;
    try {
      this.#assertOpen();
      key = parseKey(path, false);
      if (!(body instanceof Readable) && !(body instanceof Uint8Array) && typeof body !== 'string') {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `artifact body must be a Readable, a Uint8Array or a string, got ${typeof body}`,
        );
      }
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      throw err;
    }
    let sha256: string | undefined;
    try {
      // The caller's own expectation wins: the server then checks the bytes against it.
      sha256 = options?.sha256 ?? (await checksumOf(body));
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      throw new TrestleError('INVALID_ARGUMENT', `cannot read the artifact to upload: ${(err as Error).message}`, {
        path,
      });
    }
    const info = await this.#http.json<WireArtifactInfo>({
      method: 'PUT',
      path: artifactsPath(key),
      body,
      ...(sha256 === undefined ? {} : { headers: { [CHECKSUM_HEADER]: sha256 } }),
    });
    // Hex digits compare without case: the caller may give the checksum in upper case.
    if (sha256 !== undefined && info.sha256.toLowerCase() !== sha256.toLowerCase()) {
      throw new TrestleError(
        'INTERNAL',
        `the server stored '${key.path}' with SHA-256 ${info.sha256}, but the bytes sent have ${sha256}; upload it again`,
        { path, expected: sha256, stored: info.sha256 },
      );
    }
    return { path: fullKey(key, key.path), size: info.size, sha256: info.sha256 };
  }

  async get(path: string): Promise<Readable> {
    const request = this.#request('GET', path);
    const { body } = await this.#http.stream(request);
    return body;
  }

  async stat(path: string): Promise<ArtifactInfo> {
    const request = this.#request('HEAD', path);
    const key = parseKey(path, false);
    const headers = await this.#http.head(request);
    const size = Number(headers.get('content-length') ?? Number.NaN);
    const sha256 = headers.get(CHECKSUM_HEADER);
    if (Number.isSafeInteger(size) && size >= 0 && sha256 !== null && /^[0-9a-f]{64}$/i.test(sha256)) {
      return { path: fullKey(key, key.path), size, sha256: sha256.toLowerCase() };
    }
    // The server did not say: measure the content ourselves.
    const { body } = await this.#http.stream({ ...request, method: 'GET' });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of body) {
      const b = chunk as Uint8Array;
      hash.update(b);
      bytes += b.byteLength;
    }
    return { path: fullKey(key, key.path), size: bytes, sha256: hash.digest('hex') };
  }

  async list(dir = ''): Promise<ArtifactEntry[]> {
    this.#assertOpen();
    const key = parseKey(dir, true);
    const { items } = await this.#http.json<WireArtifactList>({
      method: 'GET',
      path: `${API_V1_PREFIX}/runs/${pathSegment(key.runId, 'runId')}/artifacts`,
      query: { path: key.path === '' ? undefined : key.path },
    });
    return items.map((e) =>
      e.isDir ? { path: fullKey(key, e.path), isDir: true } : { ...e, path: fullKey(key, e.path) },
    );
  }

  /** Deletes a file or a folder of a run; the run's whole artifact folder cannot be deleted over HTTP. */
  async delete(path: string): Promise<void> {
    this.#assertOpen();
    const key = parseKey(path, false);
    await this.#http.empty({ method: 'DELETE', path: artifactsPath(key) });
  }

  /** Marks the store closed; fetch's connection pool is shared and needs no release. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #request(method: 'GET' | 'HEAD', path: string): HttpRequest {
    this.#assertOpen();
    return { method, path: artifactsPath(parseKey(path, false)) };
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `the connection to ${this.#http.baseUrl} is closed; connect again to make more calls`,
      );
    }
  }
}
