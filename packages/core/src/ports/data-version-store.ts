import type { Page } from '../page.js';

/**
 * A version of a dataset as `trestle data add` recorded it: identified by its name (the
 * tracked path, relative to the workspace) and its digest (the SHA-256 of the file, or of a
 * folder's manifest), the same digest a run's dataset input carries, so that lineage joins
 * runs to the exact data they read. `schema` and `profile` are JSON strings (as MLflow's
 * dataset fields); times are epoch ms.
 *
 * @example
 * { name: 'data/flights.parquet', digest: '3b0c…', source: 'file:///repo/data/flights.parquet',
 *   kind: 'file', size: 16_112_004, files: 1, schema: '{"columns":[…]}', createdTime: 1718000000000 }
 */
export interface DataVersion {
  name: string;
  digest: string;
  /** Where the data lives: a `file://` URL of the workspace path (plus the remote, when one is set). */
  source: string;
  kind: 'file' | 'dir';
  /** Bytes. */
  size: number;
  files: number;
  /** For tabular files: `{"format":"csv"|"parquet","columns":[{"name","type"}],"rows"?}`. */
  schema?: string;
  /** For tabular files: a data profile (see `@trestle/monitoring`), when one was computed. */
  profile?: string;
  createdTime: number;
}

/** Input of {@link DataVersionStore.recordVersion}. */
export type DataVersionInput = Omit<DataVersion, 'createdTime'>;

/**
 * Dataset versions recorded by `trestle data add` (and by pipelines for their outputs).
 *
 * @example
 * await store.dataVersions.recordVersion({ name: 'data/a.csv', digest, source, kind: 'file', size: 10, files: 1 });
 * const versions = await store.dataVersions.listVersions({ name: 'data/a.csv' });
 */
export interface DataVersionStore {
  /**
   * Records a version; recording the same (name, digest) again keeps the first record but fills
   * in a schema or profile it lacked. Returns the stored record. `INVALID_ARGUMENT` for an
   * empty name or a digest that is not 64 hex digits.
   */
  recordVersion(input: DataVersionInput): Promise<DataVersion>;
  /** One version; `NOT_FOUND` when it was never recorded. */
  getVersion(name: string, digest: string): Promise<DataVersion>;
  /** Versions, newest first, optionally of one name; pages of `maxResults` (default 100, at most 1000). */
  listVersions(options?: { name?: string; maxResults?: number; pageToken?: string }): Promise<Page<DataVersion>>;
  /** Every recorded version with this digest (the same bytes may be tracked under several names). */
  findByDigest(digest: string): Promise<DataVersion[]>;
}
