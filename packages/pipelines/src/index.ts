/**
 * Data versioning (content-addressed cache, pointer files, remotes) and the pipeline engine.
 *
 * @example
 * const repo = new DataRepo({ root: process.cwd() });
 * await repo.add(['data/flights.parquet']);
 */
export * from './progress.js';
export { findWorkspace, type Workspace } from './workspace.js';
export { HashPool, type FileHash, type HashPoolOptions } from './data/hash-pool.js';
export { StatScope, type StatRecord } from './data/stat-cache.js';
export { walkTree, manifestText, parseManifest, sha256Hex, type FileStat, type ManifestEntry } from './data/tree.js';
export { ObjectCache, DEFAULT_LINK_ORDER, type LinkKind } from './data/object-cache.js';
export {
  POINTER_SUFFIX,
  formatPointer,
  parsePointer,
  readPointer,
  writePointer,
  type DataPointer,
} from './data/pointer.js';
export { ignoreInGit } from './data/gitignore.js';
export {
  DataRepo,
  diffEntries,
  type AddResult,
  type CheckoutResult,
  type DataRepoOptions,
  type DataStatus,
  type FileChange,
  type GcResult,
  type PathVersion,
} from './data/data-repo.js';
export {
  forEachLimit,
  pullObjects,
  pushObjects,
  remoteHas,
  withRetries,
  type TransferOptions,
  type TransferResult,
} from './data/remote.js';
