import { createHash } from 'node:crypto';
import { createReadStream, ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  normalizeArtifactPath,
  TrestleError,
  type ArtifactBody,
  type ArtifactEntry,
  type ArtifactInfo,
  type PutOptions,
  type ArtifactStore,
} from '@trestle/core';
import { API_V1_PREFIX, CHECKSUM_HEADER, type WireArtifactInfo, type WireArtifactList } from '@trestle/core/rest';
import { assertOpen, pathSegment, type HttpClient, type HttpRequest } from './http.js';

/** A store key of the run convention, split: `<experimentId>/<runId>/artifacts/<path>`. */
interface RunArtifactKey {
  experimentId: string;
  runId: string;
  /** Relative to the run's artifact root, normal form (`''` is the root). */
  path: string;
}

// The key is checked as every store checks a path first (so a refusal names it the same
// way), then for the run convention, the only keys a server route can name.
function parseKey(key: string, allowRoot: boolean): RunArtifactKey {
  const normal = normalizeArtifactPath(key, { allowRoot: true });
  const [experimentId, runId, artifacts, ...rest] = normal.split('/');
  if (experimentId === undefined || runId === undefined || artifacts !== 'artifacts') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `artifact key ${JSON.stringify(key)} is not inside a run; over HTTP, keys must be run artifact keys '<experimentId>/<runId>/artifacts/<path>'`,
      { path: key },
    );
  }
  if (rest.length === 0 && !allowRoot) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `artifact key ${JSON.stringify(key)} names the run's artifact folder, not a file`,
      { path: key },
    );
  }
  return { experimentId, runId, path: rest.join('/') };
}

function fullKey(key: RunArtifactKey, relative: string): string {
  return `${key.experimentId}/${key.runId}/artifacts${relative === '' ? '' : `/${relative}`}`;
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

function artifactsPath(runId: string, path: string): string {
  const base = `${API_V1_PREFIX}/runs/${pathSegment(runId, 'runId')}/artifacts`;
  return `${base}/${path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;
}

function isBody(body: unknown): body is ArtifactBody {
  return body instanceof Readable || body instanceof Uint8Array || typeof body === 'string';
}

/**
 * The artifacts of one run as an {@link ArtifactStore} over HTTP: paths are relative to the
 * run's artifact folder (`model/weights.bin`) and map to `/api/v1/runs/<runId>/artifacts/<path>`;
 * the server stores them wherever the run's artifact location is. Paths are checked as every
 * store checks them before anything is sent. Uploads and downloads stream: no file is held in
 * memory whole. Constructing it does no I/O. It passes the artifact store contract against a
 * real server (test/rest-contract.test.ts).
 *
 * @example
 * const store = new RestRunArtifactStore(new HttpClient({ trackingUri: 'http://localhost:5000' }), runId);
 * await store.put('model.json', createReadStream('model.json'));
 * const stream = await store.get('model.json');
 */
export class RestRunArtifactStore implements ArtifactStore {
  /** The run's artifact folder on the server, e.g. `http://localhost:5000/api/v1/runs/4f2…/artifacts`. */
  readonly rootUri: string;
  readonly #http: HttpClient;
  readonly #runId: string;
  #closed = false;

  constructor(http: HttpClient, runId: string) {
    this.#http = http;
    this.#runId = runId;
    this.rootUri = `${http.baseUrl}${API_V1_PREFIX}/runs/${encodeURIComponent(runId)}/artifacts`;
  }

  async put(path: string, body: ArtifactBody, options?: PutOptions): Promise<ArtifactInfo> {
    let rel: string;
    try {
      this.#assertOpen();
      rel = normalizeArtifactPath(path);
      if (!isBody(body)) {
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
      path: artifactsPath(this.#runId, rel),
      body,
      ...(sha256 === undefined ? {} : { headers: { [CHECKSUM_HEADER]: sha256 } }),
    });
    // Hex digits compare without case: the caller may give the checksum in upper case.
    if (sha256 !== undefined && info.sha256.toLowerCase() !== sha256.toLowerCase()) {
      throw new TrestleError(
        'INTERNAL',
        `the server stored '${rel}' with SHA-256 ${info.sha256}, but the bytes sent have ${sha256}; upload it again`,
        { path, expected: sha256, stored: info.sha256 },
      );
    }
    return { path: rel, size: info.size, sha256: info.sha256 };
  }

  async get(path: string): Promise<Readable> {
    const { body } = await this.#http.stream(this.#request('GET', path));
    return body;
  }

  async stat(path: string): Promise<ArtifactInfo> {
    const request = this.#request('HEAD', path);
    const rel = normalizeArtifactPath(path);
    const headers = await this.#http.head(request);
    const size = Number(headers.get('content-length') ?? Number.NaN);
    const sha256 = headers.get(CHECKSUM_HEADER);
    if (Number.isSafeInteger(size) && size >= 0 && sha256 !== null && /^[0-9a-f]{64}$/i.test(sha256)) {
      return { path: rel, size, sha256: sha256.toLowerCase() };
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
    return { path: rel, size: bytes, sha256: hash.digest('hex') };
  }

  async list(dir = ''): Promise<ArtifactEntry[]> {
    this.#assertOpen();
    const rel = normalizeArtifactPath(dir, { allowRoot: true });
    const { items } = await this.#http.json<WireArtifactList>({
      method: 'GET',
      path: `${API_V1_PREFIX}/runs/${pathSegment(this.#runId, 'runId')}/artifacts`,
      query: { path: rel === '' ? undefined : rel },
    });
    return items;
  }

  /**
   * Deletes a file or a folder of the run. The run's whole artifact folder (`''`) cannot be
   * deleted over HTTP: the server refuses a DELETE that names no file or folder in it.
   */
  async delete(path: string): Promise<void> {
    this.#assertOpen();
    const rel = normalizeArtifactPath(path);
    await this.#http.empty({ method: 'DELETE', path: artifactsPath(this.#runId, rel) });
  }

  /** Marks the store closed; fetch's connection pool is shared and needs no release. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #request(method: 'GET' | 'HEAD', path: string): HttpRequest {
    this.#assertOpen();
    return { method, path: artifactsPath(this.#runId, normalizeArtifactPath(path)) };
  }

  #assertOpen(): void {
    assertOpen(this.#closed, this.#http);
  }
}

/**
 * The {@link ArtifactStore} port over HTTP, for run artifacts: a key
 * `<experimentId>/<runId>/artifacts/<path>` (as `runArtifactKey` builds it) is `<path>` of
 * the run's {@link RestRunArtifactStore}. Other key shapes are `INVALID_ARGUMENT`. Constructing
 * it does no I/O.
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
      key = this.#key(path, false);
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      throw err;
    }
    const info = await this.#run(key).put(key.path, body, options);
    return { ...info, path: fullKey(key, info.path) };
  }

  async get(path: string): Promise<Readable> {
    const key = this.#key(path, false);
    return this.#run(key).get(key.path);
  }

  async stat(path: string): Promise<ArtifactInfo> {
    const key = this.#key(path, false);
    const info = await this.#run(key).stat(key.path);
    return { ...info, path: fullKey(key, info.path) };
  }

  async list(dir = ''): Promise<ArtifactEntry[]> {
    const key = this.#key(dir, true);
    const items = await this.#run(key).list(key.path);
    return items.map((e) => ({ ...e, path: fullKey(key, e.path) }));
  }

  /** Deletes a file or a folder of a run; the run's whole artifact folder cannot be deleted over HTTP. */
  async delete(path: string): Promise<void> {
    const key = this.#key(path, false);
    await this.#run(key).delete(key.path);
  }

  /** Marks the store closed; fetch's connection pool is shared and needs no release. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #key(path: string, allowRoot: boolean): RunArtifactKey {
    assertOpen(this.#closed, this.#http);
    return parseKey(path, allowRoot);
  }

  #run(key: RunArtifactKey): RestRunArtifactStore {
    return new RestRunArtifactStore(this.#http, key.runId);
  }
}
