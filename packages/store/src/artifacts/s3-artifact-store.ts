import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { ArtifactBody, ArtifactEntry, ArtifactInfo, ArtifactStore, PutOptions } from '@trestle/core';
import { checkSha256, chunkBytes, ContentDigest, expectedSha256, openPut } from './artifact-body.js';
import { ARTIFACT_META_DIR, byArtifactPath, normalizeArtifactPath, TrestleError } from '@trestle/core';
import { mapS3Error } from './map-s3-error.js';
import { formatS3Uri, parseS3Uri, type S3ConnectionOptions, type S3Location } from './s3-location.js';

/**
 * Options of {@link S3ArtifactStore}: the connection plus the multipart upload tuning.
 *
 * @example
 * const options: S3ArtifactStoreOptions = { endpoint: 'http://127.0.0.1:9000', partSize: 16 * 1024 * 1024 };
 */
export interface S3ArtifactStoreOptions extends S3ConnectionOptions {
  /** Bytes per part of a multipart upload; default 8 MiB, at least 5 MiB (an S3 rule). Bodies smaller than one part are sent in one request. */
  partSize?: number;
  /** Parts uploaded at the same time; default 4. Memory use is about `partSize × queueSize`. */
  queueSize?: number;
}

/** What the checksum sidecar object of one artifact holds; `etag` and `size` tell whether it still describes the object. */
interface ChecksumRecord {
  sha256: string;
  size: number;
  etag: string | null;
}

const DELETE_BATCH = 1000;
/** User metadata key (`x-amz-meta-trestle-sha256`) carrying the checksum of objects sent in one request. */
const SHA256_METADATA = 'trestle-sha256';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

function parseChecksumRecord(body: string): ChecksumRecord | undefined {
  try {
    const value = JSON.parse(body) as Partial<ChecksumRecord> | null;
    if (typeof value?.sha256 === 'string' && typeof value.size === 'number') {
      return { sha256: value.sha256, size: value.size, etag: typeof value.etag === 'string' ? value.etag : null };
    }
  } catch {
    // A foreign or torn sidecar is the same as none: the object is hashed again.
  }
  return undefined;
}

/**
 * An {@link ArtifactStore} on S3 or any S3-compatible server, under `s3://bucket/prefix`.
 * The constructor only builds the client (no I/O). Every write is atomic: the object appears
 * only when complete. `put` reads up to one part (`partSize`) of the body; a body that ends
 * there goes in one PutObject carrying its SHA-256 as user metadata
 * (`x-amz-meta-trestle-sha256`), atomic with the content. A bigger body goes through
 * `@aws-sdk/lib-storage`'s multipart `Upload`, hashed while it streams and aborted if the body
 * fails; its checksum is known only at the end, so it is recorded in a sidecar object
 * `<prefix>/.trestle-meta/sha256/<path>` with the object's ETag and size, which `stat` trusts
 * only while they still match (otherwise it hashes the object again). `list` uses
 * ListObjectsV2 with a `/` delimiter, following every page, and returns direct children
 * sorted by path; `delete` of a directory removes every key under it in batches of 1000.
 * S3 has no real directories: a directory is a common key prefix, and a file and a
 * directory may share a name (`a` and `a/b`), which the local folder refuses.
 *
 * @example
 * const store = new S3ArtifactStore(parseS3Uri('s3://ml-artifacts/team-a'), { region: 'eu-west-1' });
 * await store.put('runs/4f2a/model.onnx', createReadStream('model.onnx'));
 * const entries = await store.list('runs/4f2a'); // [{ path: 'runs/4f2a/model.onnx', isDir: false, size: … }]
 * await store.close();
 */
export class S3ArtifactStore implements ArtifactStore {
  /** `s3://bucket/prefix` of the store. */
  readonly rootUri: string;
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix without leading or trailing `/`; `''` for the whole bucket. */
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #endpoint: string;
  readonly #partSize: number;
  readonly #queueSize: number;

  /**
   * Builds the S3 client; no request is sent until the first operation.
   *
   * @example
   * new S3ArtifactStore({ bucket: 'b', prefix: 'p' }, { endpoint: 'http://127.0.0.1:4568', credentials });
   */
  constructor(location: S3Location, options: S3ArtifactStoreOptions = {}) {
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.rootUri = formatS3Uri(location);
    const region = options.region ?? 'us-east-1';
    this.#endpoint = options.endpoint ?? `AWS S3 (${region})`;
    this.#partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, MIN_PART_SIZE);
    this.#queueSize = Math.max(1, options.queueSize ?? 4);
    const config: S3ClientConfig = {
      region,
      // With the default ('WHEN_SUPPORTED') the SDK sends streamed bodies with aws-chunked
      // trailing checksums, which S3-compatible servers such as s3rver store verbatim (corrupted).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    };
    this.#client = new S3Client(config);
  }

  /**
   * Opens `s3://bucket/prefix`.
   *
   * @example
   * const store = S3ArtifactStore.fromUri('s3://ml-artifacts/team-a', { region: 'eu-west-1' });
   */
  static fromUri(uri: string, options: S3ArtifactStoreOptions = {}): S3ArtifactStore {
    return new S3ArtifactStore(parseS3Uri(uri), options);
  }

  async put(path: string, body: ArtifactBody, options?: PutOptions): Promise<ArtifactInfo> {
    const { rel, source } = openPut(path, body);
    let expected: string | undefined;
    try {
      expected = expectedSha256(options);
    } catch (err) {
      source.destroy();
      throw err;
    }
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;
    const head: Uint8Array[] = [];
    let headSize = 0;
    let ended = false;
    try {
      while (!ended && headSize < this.#partSize) {
        const next = await chunks.next();
        if (next.done === true) ended = true;
        else {
          const bytes = chunkBytes(next.value);
          head.push(bytes);
          headSize += bytes.byteLength;
        }
      }
    } catch (err) {
      // The caller's own stream failing is reported as it is: the caller knows that error best.
      source.destroy();
      throw err;
    }
    return ended
      ? this.#putWhole(rel, Buffer.concat(head), expected)
      : this.#putMultipart(rel, head, chunks, source, expected);
  }

  // Bodies that fit in one part: one request that carries the checksum as object metadata,
  // so the checksum lands atomically with the content.
  async #putWhole(rel: string, bytes: Buffer, expected: string | undefined): Promise<ArtifactInfo> {
    const digest = new ContentDigest();
    digest.update(bytes);
    const sha256 = digest.sha256();
    checkSha256(rel, sha256, expected);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.#key(rel),
          Body: bytes,
          ContentLength: bytes.byteLength,
          Metadata: { [SHA256_METADATA]: sha256 },
        }),
      );
    } catch (err) {
      throw this.#fail(err, 'write', rel);
    }
    return { path: rel, size: bytes.byteLength, sha256 };
  }

  // Bigger bodies: a multipart upload hashed while it streams; the checksum is known only at
  // the end, after the object exists, so it goes to a sidecar object.
  async #putMultipart(
    rel: string,
    head: Uint8Array[],
    rest: AsyncIterator<unknown>,
    source: Readable,
    expected: string | undefined,
  ): Promise<ArtifactInfo> {
    const digest = new ContentDigest();
    // Set inside the generator, so it lives in an object that control-flow narrowing leaves alone.
    const failed: { source?: unknown } = {};
    async function* measured(): AsyncGenerator<Uint8Array> {
      for (const bytes of head) {
        digest.update(bytes);
        yield bytes;
      }
      try {
        for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
          const bytes = chunkBytes(next.value);
          digest.update(bytes);
          yield bytes;
        }
      } catch (err) {
        failed.source = err;
        throw err;
      }
      // The last part is still unsent and the upload uncompleted: failing here aborts it, so a
      // wrong checksum never replaces the old object.
      try {
        checkSha256(rel, digest.sha256(), expected);
      } catch (err) {
        failed.source = err;
        throw err;
      }
    }
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key: this.#key(rel), Body: Readable.from(measured()) },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // On any failure, lib-storage aborts the multipart upload: no object appears, an old one stays.
      leavePartsOnError: false,
    });
    let etag: string | undefined;
    try {
      etag = (await upload.done()).ETag;
    } catch (err) {
      source.destroy();
      // The caller's own stream failing is reported as it is: the caller knows that error best.
      if ('source' in failed) throw failed.source;
      throw this.#fail(err, 'write', rel);
    }
    const record: ChecksumRecord = { sha256: digest.sha256(), size: digest.size, etag: etag ?? null };
    await this.#writeChecksum(rel, record);
    return { path: rel, size: record.size, sha256: record.sha256 };
  }

  async get(path: string): Promise<Readable> {
    const rel = normalizeArtifactPath(path);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(rel) }));
      if (!(out.Body instanceof Readable)) {
        throw new TrestleError('INTERNAL', `S3 returned no byte stream for artifact '${rel}' in ${this.rootUri}`, {
          path: rel,
        });
      }
      return out.Body;
    } catch (err) {
      throw this.#fail(err, 'read', rel);
    }
  }

  async stat(path: string): Promise<ArtifactInfo> {
    const rel = normalizeArtifactPath(path);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(rel) }));
      const size = head.ContentLength ?? 0;
      const attached = head.Metadata?.[SHA256_METADATA];
      if (attached !== undefined && SHA256_HEX.test(attached)) return { path: rel, size, sha256: attached };
      const recorded = await this.#readChecksum(rel);
      if (recorded !== undefined && recorded.size === size && recorded.etag === (head.ETag ?? null)) {
        return { path: rel, size, sha256: recorded.sha256 };
      }
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(rel) }));
      const digest = new ContentDigest();
      if (out.Body instanceof Readable) {
        for await (const chunk of out.Body) digest.update(chunkBytes(chunk));
      }
      const record: ChecksumRecord = { sha256: digest.sha256(), size: digest.size, etag: out.ETag ?? null };
      await this.#writeChecksum(rel, record);
      return { path: rel, size: record.size, sha256: record.sha256 };
    } catch (err) {
      throw this.#fail(err, 'stat', rel);
    }
  }

  async list(dir = ''): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(dir, { allowRoot: true });
    const listPrefix = this.#dirPrefix(rel);
    const entries: ArtifactEntry[] = [];
    const add = (name: string, entry: (path: string) => ArtifactEntry): void => {
      const path = rel === '' ? name : `${rel}/${name}`;
      try {
        // Keys the store would refuse as paths (its meta folder, `..`, empty names from `a//b`) are not part of its content.
        if (name !== '' && normalizeArtifactPath(path) === path) entries.push(entry(path));
      } catch {
        // Not a valid artifact path: skip it.
      }
    };
    try {
      let token: string | undefined;
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: listPrefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const common of page.CommonPrefixes ?? []) {
          const name = (common.Prefix ?? '').slice(listPrefix.length, -1);
          add(name, (path) => ({ path, isDir: true }));
        }
        for (const object of page.Contents ?? []) {
          const name = (object.Key ?? '').slice(listPrefix.length);
          add(name, (path) => ({ path, isDir: false, size: object.Size ?? 0 }));
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw this.#fail(err, 'list', rel);
    }
    return entries.sort(byArtifactPath);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeArtifactPath(path, { allowRoot: true });
    try {
      if (rel === '') {
        await this.#deleteKeys(await this.#keysUnder(this.#dirPrefix('')));
        return;
      }
      const key = this.#key(rel);
      const sidecar = this.#sidecarKey(rel);
      const [under, sidecarsUnder] = await Promise.all([this.#keysUnder(`${key}/`), this.#keysUnder(`${sidecar}/`)]);
      await this.#deleteKeys([key, sidecar, ...under, ...sidecarsUnder]);
    } catch (err) {
      throw this.#fail(err, 'delete', rel);
    }
  }

  /**
   * Resolves the credentials (without sending anything when there are none) and lists at most
   * one key under the prefix: missing or rejected credentials, refused access and a missing
   * bucket throw `FAILED_PRECONDITION` saying what to set; an unreachable endpoint `UNAVAILABLE`.
   */
  async checkAccess(): Promise<void> {
    try {
      await this.#client.config.credentials();
      await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.#dirPrefix(''), MaxKeys: 1 }),
      );
    } catch (err) {
      throw this.#fail(err, 'list', '');
    }
  }

  /** Closes the client's connections; the store must not be used afterwards. */
  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }

  #key(rel: string): string {
    return this.prefix === '' ? rel : `${this.prefix}/${rel}`;
  }

  #dirPrefix(rel: string): string {
    return rel === '' ? (this.prefix === '' ? '' : `${this.prefix}/`) : `${this.#key(rel)}/`;
  }

  #sidecarKey(rel: string): string {
    return `${this.#dirPrefix('')}${ARTIFACT_META_DIR}/sha256/${rel}`;
  }

  #fail(err: unknown, action: string, path: string): TrestleError {
    return mapS3Error(err, { action, path, rootUri: this.rootUri, endpoint: this.#endpoint });
  }

  async #keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async #deleteKeys(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const out = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = out.Errors?.[0];
      if (failed !== undefined) {
        throw new TrestleError(
          'UNAVAILABLE',
          `S3 at ${this.#endpoint} could not delete ${out.Errors?.length ?? 1} key(s) under ${this.rootUri}, first '${failed.Key ?? '?'}': ${failed.Code ?? 'unknown'} ${failed.Message ?? ''}; retry the delete`,
          { keys: out.Errors?.map((error) => error.Key ?? null) ?? [] },
        );
      }
    }
  }

  async #readChecksum(rel: string): Promise<ChecksumRecord | undefined> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#sidecarKey(rel) }));
      return out.Body instanceof Readable ? parseChecksumRecord(await text(out.Body)) : undefined;
    } catch {
      return undefined;
    }
  }

  // The record is a cache checked against the object's ETag and size, so losing it costs only
  // a re-hash on the next stat; it must not fail a put whose object has already landed.
  async #writeChecksum(rel: string, record: ChecksumRecord): Promise<void> {
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.#sidecarKey(rel),
          Body: JSON.stringify(record),
          ContentType: 'application/json',
        }),
      );
    } catch {
      // Best effort only.
    }
  }
}
