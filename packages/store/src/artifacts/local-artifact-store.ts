import { randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat as statPath,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type {
  AbandonedWrites,
  ArtifactBody,
  ArtifactEntry,
  ArtifactInfo,
  ArtifactStore,
  PutOptions,
} from '@trestle/core';
import {
  ABANDONED_WRITE_AGE_MS,
  ARTIFACT_META_DIR,
  byArtifactPath,
  isTempArtifactName,
  normalizeArtifactPath,
  tempArtifactName,
  TrestleError,
} from '@trestle/core';
import { checkSha256, chunkBytes, ContentDigest, expectedSha256, openPut } from './artifact-body.js';
import { fsErrorCode, mapFsError } from './map-fs-error.js';

/** What the checksum sidecar of one file holds; `ino`, `size` and `mtimeNs` tell whether it still describes the file. */
interface ChecksumRecord {
  sha256: string;
  size: number;
  ino: string;
  mtimeNs: string;
}

const READ_BUFFER_BYTES = 1 << 20;
// A concurrent delete may prune a directory between our mkdir and our open; a few retries absorb that.
const MKDIR_ATTEMPTS = 4;

function randomHex(): string {
  return randomBytes(8).toString('hex');
}

function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

function notFound(rel: string, why = 'it does not exist'): TrestleError {
  return new TrestleError('NOT_FOUND', `artifact '${rel}' not found: ${why}`, { path: rel });
}

function escapesRoot(rel: string): TrestleError {
  return new TrestleError(
    'PERMISSION_DENIED',
    `artifact '${rel}' resolves through a symbolic link to a place outside the store root; remove the link or keep the files inside the root`,
    { path: rel },
  );
}

// A path under a file (`a.txt/x`) is as missing as a path under nothing.
async function removeIfPresent(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    if (fsErrorCode(err) !== 'ENOTDIR') throw err;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

function parseChecksumRecord(text: string): ChecksumRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ChecksumRecord> | null;
    if (
      typeof value?.sha256 === 'string' &&
      typeof value.size === 'number' &&
      typeof value.ino === 'string' &&
      typeof value.mtimeNs === 'string'
    ) {
      return { sha256: value.sha256, size: value.size, ino: value.ino, mtimeNs: value.mtimeNs };
    }
  } catch {
    // A torn or foreign sidecar is the same as none: the file is hashed again.
  }
  return undefined;
}

function describes(record: ChecksumRecord, stats: BigIntStats): boolean {
  return (
    record.ino === stats.ino.toString() &&
    record.size === Number(stats.size) &&
    record.mtimeNs === stats.mtimeNs.toString()
  );
}

/**
 * An {@link ArtifactStore} on a local folder. The folder is created on the first write (the
 * constructor does no I/O). A `put` streams into a temporary file next to its target
 * (`.name.tmp-<random>`), hashes while writing, fsyncs and renames, so readers see the old
 * file or the whole new one. Each file's SHA-256 is recorded in a sidecar
 * `<root>/.trestle-meta/sha256/<path>` together with the file's inode, size and mtime; `stat`
 * trusts it only while those still match and hashes the file again otherwise (a crash
 * between rename and sidecar write, or a file copied in by hand). Directories exist only to
 * hold files, as on S3: deleting the last file of a directory removes the directory.
 * `list` returns direct children sorted by path and hides temporary files and
 * `.trestle-meta`. Symbolic links are followed only while their target stays inside the
 * root; otherwise reads, writes and deletes through them fail with `PERMISSION_DENIED`.
 *
 * @example
 * const store = new LocalArtifactStore('/home/me/.trestle/artifacts');
 * await store.put('1/4f2a/model.json', '{"w":[1,2]}'); // { path, size: 11, sha256: '…' }
 * await store.list('1/4f2a'); // [{ path: '1/4f2a/model.json', isDir: false, size: 11 }]
 */
export class LocalArtifactStore implements ArtifactStore {
  /** `file:` URL of the root folder. */
  readonly rootUri: string;
  /** Absolute path of the root folder. */
  readonly rootDir: string;
  #realRoot: string | undefined;

  /** @param rootDir the root folder; a relative path is resolved against the current directory. */
  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
    this.rootUri = pathToFileURL(this.rootDir).href;
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
    const target = this.#abs(rel);
    const dir = dirname(target);
    const tmpName = tempArtifactName(basename(target), randomHex());
    let tmp: string | undefined;

    // Set from a callback, so it lives in an object that control-flow narrowing leaves alone.
    const failed: { source?: Error } = {};
    source.once('error', (err: Error) => {
      failed.source = err;
    });
    let handle: FileHandle | undefined;
    try {
      ({ handle, tmp } = await this.#openTemp(dir, tmpName, rel));
      const digest = new ContentDigest();
      for await (const chunk of source) {
        const bytes = chunkBytes(chunk);
        digest.update(bytes);
        await writeAll(handle, bytes);
      }
      // Before anything is replaced: a wrong checksum leaves the old file as it was.
      checkSha256(rel, digest.sha256(), expected);
      await handle.sync();
      const stats = await handle.stat({ bigint: true });
      await handle.close();
      handle = undefined;
      await this.#moveInto(tmp, target, rel);
      await this.#syncDir(dir);
      return await this.#recordChecksum(rel, digest, stats);
    } catch (err) {
      source.destroy();
      await handle?.close().catch(() => undefined);
      if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
      await this.#pruneEmptyDirs(dir, this.rootDir);
      // The caller's own stream failing is reported as it is: the caller knows that error best.
      if (failed.source !== undefined) throw failed.source;
      throw mapFsError(err, 'write', rel);
    }
  }

  /**
   * Removes temporary files (`.name.tmp-<random>`, also in the checksum folder) untouched for
   * `olderThanMs`: the remains of writers killed mid-write. A write in progress keeps writing
   * to its file, so an old one is abandoned; other processes writing to the same folder are safe.
   */
  async removeAbandonedWrites(options: { olderThanMs?: number } = {}): Promise<AbandonedWrites> {
    const cutoff = Date.now() - (options.olderThanMs ?? ABANDONED_WRITE_AGE_MS);
    const found: AbandonedWrites = { removed: 0, bytes: 0 };
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // Gone, or never made: nothing to clean there.
      }
      for (const entry of entries) {
        const abs = join(dir, entry.name);
        // Symbolic links are never followed: what they lead to is not the store's to clean.
        if (entry.isDirectory()) {
          await walk(abs);
        } else if (entry.isFile() && isTempArtifactName(entry.name)) {
          try {
            const stats = await statPath(abs);
            if (stats.mtimeMs > cutoff) continue;
            await rm(abs, { force: true });
            found.removed += 1;
            found.bytes += stats.size;
          } catch {
            // Finished (renamed) or removed meanwhile: not abandoned.
          }
        }
      }
    };
    await walk(this.rootDir);
    return found;
  }

  async get(path: string): Promise<Readable> {
    const rel = normalizeArtifactPath(path);
    const handle = await this.#openFile(rel, 'read');
    return handle.createReadStream();
  }

  async stat(path: string): Promise<ArtifactInfo> {
    const rel = normalizeArtifactPath(path);
    const handle = await this.#openFile(rel, 'stat');
    try {
      const stats = await handle.stat({ bigint: true });
      const recorded = await this.#readChecksum(rel);
      if (recorded !== undefined && describes(recorded, stats)) {
        return { path: rel, size: recorded.size, sha256: recorded.sha256 };
      }
      const digest = new ContentDigest();
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, digest.size);
        if (bytesRead === 0) break;
        digest.update(buffer.subarray(0, bytesRead));
      }
      return await this.#recordChecksum(rel, digest, stats);
    } catch (err) {
      throw mapFsError(err, 'stat', rel);
    } finally {
      await handle.close();
    }
  }

  async list(dir = ''): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(dir, { allowRoot: true });
    const realRoot = await this.#realRootPath();
    if (realRoot === undefined) return [];
    let dirents: Dirent[];
    try {
      const real = await realpath(this.#abs(rel));
      if (!isInside(realRoot, real)) throw escapesRoot(rel);
      dirents = await readdir(real, { withFileTypes: true });
    } catch (err) {
      const code = fsErrorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw mapFsError(err, 'list', rel);
    }

    const entries = await Promise.all(dirents.map((dirent) => this.#entry(rel, dirent, realRoot)));
    return entries.filter((entry) => entry !== undefined).sort(byArtifactPath);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeArtifactPath(path, { allowRoot: true });
    try {
      if (rel === '') {
        const names = await readdir(this.rootDir).catch((err: unknown) => {
          if (fsErrorCode(err) === 'ENOENT') return [];
          throw err;
        });
        await Promise.all(names.map((name) => rm(join(this.rootDir, name), { recursive: true, force: true })));
        return;
      }
      const target = this.#abs(rel);
      const realRoot = await this.#realRootPath();
      if (realRoot === undefined) return;
      let realParent: string | undefined;
      try {
        realParent = await realpath(dirname(target));
      } catch (err) {
        const code = fsErrorCode(err);
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      }
      if (realParent !== undefined) {
        if (!isInside(realRoot, realParent)) throw escapesRoot(rel);
        // rm does not follow a symbolic link named by the path itself, nor links inside a directory.
        await removeIfPresent(join(realParent, basename(target)));
        await this.#pruneEmptyDirs(dirname(target), this.rootDir);
      }
      const sidecar = this.#sidecar(rel);
      await removeIfPresent(sidecar);
      await this.#pruneEmptyDirs(dirname(sidecar), this.#sidecar(''));
    } catch (err) {
      throw mapFsError(err, 'delete', rel);
    }
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {
    // No pooled resources.
  }

  #abs(rel: string): string {
    return rel === '' ? this.rootDir : join(this.rootDir, ...rel.split('/'));
  }

  #sidecar(rel: string): string {
    const base = join(this.rootDir, ARTIFACT_META_DIR, 'sha256');
    return rel === '' ? base : join(base, ...rel.split('/'));
  }

  async #realRootPath(): Promise<string | undefined> {
    if (this.#realRoot !== undefined) return this.#realRoot;
    try {
      this.#realRoot = await realpath(this.rootDir);
      return this.#realRoot;
    } catch (err) {
      if (fsErrorCode(err) === 'ENOENT') return undefined;
      throw mapFsError(err, 'open the root of', '');
    }
  }

  // Opens an existing regular file after checking that its real path stays under the root.
  async #openFile(rel: string, action: string): Promise<FileHandle> {
    const realRoot = await this.#realRootPath();
    if (realRoot === undefined) throw notFound(rel);
    let handle: FileHandle;
    try {
      const real = await realpath(this.#abs(rel));
      if (!isInside(realRoot, real)) throw escapesRoot(rel);
      handle = await open(real, 'r');
    } catch (err) {
      const code = fsErrorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(rel);
      throw mapFsError(err, action, rel);
    }
    try {
      if (!(await handle.stat()).isFile()) throw notFound(rel, 'it is a directory; list it instead');
      return handle;
    } catch (err) {
      await handle.close();
      throw mapFsError(err, action, rel);
    }
  }

  // The temporary file goes into the nearest folder of the target that exists (the target's
  // own when it does), and missing folders are made only when the file is complete: a write
  // that fails, or is still running, shows no new empty folders. That matters over HTTP,
  // where a client whose upload broke reads the folder before the server has cleaned up.
  // A rename within one folder tree stays on one filesystem.
  async #openTemp(dir: string, tmpName: string, rel: string): Promise<{ handle: FileHandle; tmp: string }> {
    for (let attempt = 1; ; attempt++) {
      const tmp = join(await this.#nearestDir(dir, rel), tmpName);
      try {
        return { handle: await open(tmp, 'wx'), tmp };
      } catch (err) {
        // A concurrent delete pruned the folder meanwhile: look again.
        if (fsErrorCode(err) !== 'ENOENT' || attempt >= MKDIR_ATTEMPTS) throw err;
      }
    }
  }

  // Makes the target's missing folders and renames the finished temporary file into place. A
  // temporary file already in the target's folder needs none: #nearestDir checked that folder.
  async #moveInto(tmp: string, target: string, rel: string): Promise<void> {
    const dir = dirname(target);
    for (let attempt = 1; ; attempt++) {
      if (dirname(tmp) !== dir) await this.#ensureDir(dir, rel);
      try {
        await rename(tmp, target);
        return;
      } catch (err) {
        // A concurrent delete pruned the new, still empty folder meanwhile: make it again.
        if (fsErrorCode(err) !== 'ENOENT' || attempt >= MKDIR_ATTEMPTS) throw err;
      }
    }
  }

  // The deepest existing folder on the way to `dir` (the root is made if missing), checked to
  // lie inside the root like every folder the store writes into.
  async #nearestDir(dir: string, rel: string): Promise<string> {
    for (let current = dir; current !== this.rootDir && current.startsWith(this.rootDir + sep);) {
      let real: string;
      try {
        real = await realpath(current);
      } catch (err) {
        if (fsErrorCode(err) !== 'ENOENT') throw err;
        current = dirname(current);
        continue;
      }
      const realRoot = await this.#realRootPath();
      if (realRoot === undefined || !isInside(realRoot, real)) throw escapesRoot(rel);
      return current;
    }
    await this.#ensureDir(this.rootDir, rel);
    return this.rootDir;
  }

  // Creates `dir` one missing level at a time and checks the real path of each level, so that
  // mkdir never creates anything through a symbolic link that leads outside the root.
  async #ensureDir(dir: string, rel: string): Promise<void> {
    if (dir === this.rootDir) {
      await mkdir(dir, { recursive: true });
      this.#realRoot ??= await realpath(dir);
      return;
    }
    let real: string | undefined;
    try {
      real = await realpath(dir);
    } catch (err) {
      if (fsErrorCode(err) !== 'ENOENT') throw err;
    }
    if (real === undefined) {
      await this.#ensureDir(dirname(dir), rel);
      try {
        await mkdir(dir);
      } catch (err) {
        if (fsErrorCode(err) !== 'EEXIST') throw err;
      }
      real = await realpath(dir);
    }
    const realRoot = await this.#realRootPath();
    if (realRoot === undefined || !isInside(realRoot, real)) throw escapesRoot(rel);
  }

  async #entry(parent: string, dirent: Dirent, realRoot: string): Promise<ArtifactEntry | undefined> {
    const path = parent === '' ? dirent.name : `${parent}/${dirent.name}`;
    if (isTempArtifactName(dirent.name)) return undefined;
    try {
      // Names the store would refuse (the meta folder, backslashes…) are not part of its content.
      if (normalizeArtifactPath(path) !== path) return undefined;
    } catch {
      return undefined;
    }
    const abs = this.#abs(path);
    try {
      if (dirent.isSymbolicLink() && !isInside(realRoot, await realpath(abs))) return undefined;
      const stats = await statPath(abs);
      if (stats.isDirectory()) return { path, isDir: true };
      if (stats.isFile()) return { path, isDir: false, size: stats.size };
    } catch (err) {
      // Gone since readdir, or a dangling link: not an entry.
      const code = fsErrorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP') throw mapFsError(err, 'list', path);
    }
    return undefined;
  }

  // Directories exist only to hold files (as on S3): once empty they go, up to but not including `stop`.
  async #pruneEmptyDirs(dir: string, stop: string): Promise<void> {
    for (let current = dir; current !== stop && current.startsWith(stop + sep); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  // Makes the rename durable; some platforms cannot open a directory, and the data is safe anyway.
  async #syncDir(dir: string): Promise<void> {
    try {
      const handle = await open(dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Best effort only.
    }
  }

  async #readChecksum(rel: string): Promise<ChecksumRecord | undefined> {
    try {
      return parseChecksumRecord(await readFile(this.#sidecar(rel), 'utf8'));
    } catch {
      return undefined;
    }
  }

  // The record is a cache checked against the file's inode, size and mtime, so losing it costs
  // only a re-hash on the next stat; it must not fail a put whose file has already landed.
  /** Records the checksum of `rel` for the file version `stats` describes, and returns its info. */
  async #recordChecksum(rel: string, digest: ContentDigest, stats: BigIntStats): Promise<ArtifactInfo> {
    const record: ChecksumRecord = {
      sha256: digest.sha256(),
      size: digest.size,
      ino: stats.ino.toString(),
      mtimeNs: stats.mtimeNs.toString(),
    };
    await this.#writeChecksum(rel, record);
    return { path: rel, size: record.size, sha256: record.sha256 };
  }

  async #writeChecksum(rel: string, record: ChecksumRecord): Promise<void> {
    const file = this.#sidecar(rel);
    const attempt = async (): Promise<void> => {
      await mkdir(dirname(file), { recursive: true });
      const tmp = join(dirname(file), tempArtifactName(basename(file), randomHex()));
      await writeFile(tmp, JSON.stringify(record), { flag: 'wx' });
      try {
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    };
    try {
      await attempt();
    } catch {
      // A stale sidecar directory left by an interrupted delete blocks the rename: clear it once.
      await rm(file, { recursive: true, force: true }).catch(() => undefined);
      await attempt().catch(() => undefined);
    }
  }
}
