import type { Readable } from 'node:stream';

/** One entry of an artifact listing. Paths are relative to the store root, with `/` separators. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  /** Bytes; absent for directories. */
  size?: number;
}

/** What a completed write recorded. */
export interface ArtifactInfo {
  path: string;
  size: number;
  /** Hex SHA-256 of the content, recorded with the file. */
  sha256: string;
}

/** Body of a write: a stream, bytes or text. */
export type ArtifactBody = Readable | Uint8Array | string;

/** Options of {@link ArtifactStore.put}. */
export interface PutOptions {
  /**
   * Hex SHA-256 the content must have (as the client computed it). When the bytes received
   * hash to something else, the put fails with `INVALID_ARGUMENT` and nothing is replaced: an
   * existing file keeps its old content. A value that is not 64 hex digits is `INVALID_ARGUMENT`.
   *
   * @example await store.put('1/4f2a/artifacts/model.onnx', stream, { sha256: 'a3f1…' });
   */
  sha256?: string;
}

/**
 * A place for files (models, plots, data). Adapters are chosen by URI scheme
 * (`file:` or a plain path → local folder, `s3://bucket/prefix` → S3) and loaded on use.
 * Writes are atomic: readers see the old file or the whole new one, never a part.
 * Paths that escape the root (`..`, absolute, percent-encoded or backslash variants) are
 * rejected with `INVALID_ARGUMENT`.
 *
 * @example
 * const info = await store.put('1/4f2a/artifacts/model.json', JSON.stringify(model));
 * const stream = await store.get('1/4f2a/artifacts/model.json');
 */
export interface ArtifactStore {
  /** The root URI, e.g. `file:///home/me/.trestle/artifacts` or `s3://bucket/prefix`. */
  readonly rootUri: string;
  /** Streams `body` to `path` and records its checksum; with `options.sha256`, only if the content matches it. */
  put(path: string, body: ArtifactBody, options?: PutOptions): Promise<ArtifactInfo>;
  /** A stream of the file's bytes; `NOT_FOUND` if it does not exist. */
  get(path: string): Promise<Readable>;
  /** Size and checksum of one file; `NOT_FOUND` if it does not exist. */
  stat(path: string): Promise<ArtifactInfo>;
  /** Direct children of a directory (`''` is the root); an empty list for a missing directory. */
  list(dir?: string): Promise<ArtifactEntry[]>;
  /** Deletes a file, or a directory with everything under it. Missing paths are fine. */
  delete(path: string): Promise<void>;
  /**
   * Removes what writers that died mid-write (`kill -9`, power loss) left behind, such as a
   * local folder's hidden temporary files, when untouched for `olderThanMs` (default 15
   * minutes: a write in progress keeps touching its file, so it is never that old). Optional:
   * a store with nothing to clean omits it. Servers call it at start-up and then periodically.
   *
   * @example const { removed, bytes } = await store.removeAbandonedWrites?.({ olderThanMs: 0 }) ?? { removed: 0, bytes: 0 };
   */
  removeAbandonedWrites?(options?: { olderThanMs?: number }): Promise<AbandonedWrites>;
  /**
   * Checks that the store can be used with its settings (S3: credentials found and accepted,
   * bucket listable) and throws the error an operation would otherwise meet, saying what to
   * set (`FAILED_PRECONDITION` for configuration, `UNAVAILABLE` for an unreachable endpoint).
   * Optional: a store with nothing to check omits it. Servers call it at start-up and in `/ready`.
   *
   * @example await store.checkAccess?.(); // throws "… no S3 credentials were found: set AWS_ACCESS_KEY_ID …"
   */
  checkAccess?(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** What {@link ArtifactStore.removeAbandonedWrites} removed. */
export interface AbandonedWrites {
  /** Files removed. */
  removed: number;
  /** Their total size in bytes. */
  bytes: number;
}

/** Default age after which an unfinished write is taken for abandoned: 15 minutes. */
export const ABANDONED_WRITE_AGE_MS = 15 * 60_000;
