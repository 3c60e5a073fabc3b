import { randomBytes } from 'node:crypto';
import { constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TrestleError } from '@trestle/core';
import { writeFileAtomicSync } from '../atomic-file.js';

/** How a file got into the cache or into the workspace. */
export type LinkKind = 'reflink' | 'hardlink' | 'copy';

/**
 * The default order of {@link ObjectCache} link attempts: a reflink (copy-on-write: free, and
 * safe to edit) where the file system has them (btrfs, XFS, APFS…), else a copy. Hard links
 * are opt-in (`['hardlink', 'copy']`): they cost nothing, but a program that rewrites a file
 * in place (most `open(path, 'w')` calls) then rewrites the cached object too, and file
 * modes do not stop root.
 */
export const DEFAULT_LINK_ORDER: readonly LinkKind[] = ['reflink', 'copy'];

const SHA256_HEX = /^[0-9a-f]{64}$/;
const HEX2 = /^[0-9a-f]{2}$/;
// From this many objects on, hasAll lists folders instead of checking each object.
const LIST_ABOVE = 1024;

function fsCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

function tmpNear(path: string): string {
  return join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The content-addressed cache: every object (a file's bytes, or a folder manifest) under
 * `<dir>/files/sha256/<first 2 hex>/<other 62 hex>`, read-only, written once. An object
 * enters by the cheapest link allowed (see {@link DEFAULT_LINK_ORDER}: reflink, else copy;
 * hard links on request) and leaves into the workspace the same way. With hard links a
 * workspace file shares the object's inode: replace it, never edit it in place (`trestle run`
 * deletes a stage's outputs before it runs). Writers go through a temporary name and a
 * rename, so two processes adding the same object never see half of it.
 *
 * @example
 * const cache = new ObjectCache('/repo/.trestle/cache');
 * await cache.saveFile('/repo/data/a.csv', hash);      // 'reflink' on btrfs or XFS, else 'copy'
 * await cache.place(hash, '/other/checkout/a.csv');    // the same
 */
export class ObjectCache {
  readonly dir: string;
  readonly #order: readonly LinkKind[];
  // Link kinds that failed once with "not supported here" are not tried again in this process.
  readonly #unsupported = new Set<LinkKind>();

  /** @param order link kinds to try, in order; default {@link DEFAULT_LINK_ORDER}. */
  constructor(dir: string, order: readonly LinkKind[] = DEFAULT_LINK_ORDER) {
    this.dir = dir;
    this.#order = order;
  }

  /** Where object `sha256` lives. `INVALID_ARGUMENT` for something that is not 64 hex digits. */
  objectPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) {
      throw new TrestleError('INVALID_ARGUMENT', `'${sha256}' is not a SHA-256 (64 lowercase hex digits)`);
    }
    return join(this.dir, 'files', 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  /** The object key in a remote: `files/sha256/ab/cdef…`. */
  static remoteKey(sha256: string): string {
    return `files/sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
  }

  has(sha256: string): boolean {
    return existsSync(this.objectPath(sha256));
  }

  /**
   * Whether every object of `hashes` is in the cache. Many objects are looked up by listing
   * the cache's folders they fall in (256 at most) rather than one system call each, as DVC
   * does: 100,000 objects cost ~256 directory reads instead of 100,000 `access` calls.
   */
  hasAll(hashes: readonly string[]): boolean {
    if (hashes.length < LIST_ABOVE) return hashes.every((h) => this.has(h));
    const byFolder = new Map<string, string[]>();
    for (const h of hashes) {
      if (h.length !== 64) return false;
      const folder = h.slice(0, 2);
      const rest = byFolder.get(folder);
      if (rest === undefined) byFolder.set(folder, [h]);
      else rest.push(h);
    }
    for (const [folder, wanted] of byFolder) {
      if (!HEX2.test(folder)) return false;
      let names: Set<string>;
      try {
        names = new Set(readdirSync(join(this.dir, 'files', 'sha256', folder)));
      } catch {
        return false;
      }
      for (const h of wanted) if (!names.has(h.slice(2))) return false;
    }
    return true;
  }

  /**
   * {@link hasAll}, remembered in file `memo` for a set of objects named `key` (a folder
   * version's digest): when the memo says they were all found and none of their `ab/` folders
   * changed since (removing an object changes its folder's mtime), the answer costs one stat
   * per folder instead of listing them. A folder modified in the 2 s before a check is not
   * remembered (like git's racily clean entries: on a coarse clock, a later removal could keep
   * its mtime). `hashes` is called only when the objects have to be looked at.
   *
   * @example cache.hasAllRemembered(join(stateDir, 'data.cached'), version.sha256, () => hashes)
   */
  hasAllRemembered(memo: string, key: string, hashes: () => readonly string[]): boolean {
    try {
      const m = JSON.parse(readFileSync(memo, 'utf8')) as { key?: unknown; folders?: Record<string, unknown> };
      if (m.key === key && typeof m.folders === 'object' && m.folders !== null) {
        const folders = Object.entries(m.folders);
        if (folders.length > 0 && folders.every(([f, t]) => HEX2.test(f) && this.#folderMtime(f) === t)) return true;
      }
    } catch {
      // No memo, or a torn one: look.
    }
    const wanted = hashes();
    const folders: Record<string, number> = {};
    const recent = Date.now() - 2000;
    let trusted = true;
    for (const h of wanted) {
      const f = h.slice(0, 2);
      if (f in folders || !HEX2.test(f)) continue;
      const t = this.#folderMtime(f); // before the folder is listed: a removal after this changes it
      if (t === undefined) return false;
      folders[f] = t;
      if (t > recent) trusted = false;
    }
    const all = this.hasAll(wanted);
    if (all && trusted && wanted.length > 0) {
      try {
        writeFileAtomicSync(memo, JSON.stringify({ key, folders }));
      } catch {
        // only a memo: the next check looks again
      }
    }
    return all;
  }

  #folderMtime(folder: string): number | undefined {
    return statSync(join(this.dir, 'files', 'sha256', folder), { throwIfNoEntry: false })?.mtimeMs;
  }

  /** Brings the file at `src` (whose hash the caller computed) into the cache; `undefined` if it was there. */
  async saveFile(src: string, sha256: string): Promise<LinkKind | undefined> {
    const target = this.objectPath(sha256);
    if (existsSync(target)) return undefined;
    await mkdir(dirname(target), { recursive: true });
    const kind = await this.#link(src, target);
    await chmod(target, 0o444).catch(() => undefined);
    return kind;
  }

  /** Stores bytes (a manifest) as an object. */
  async saveBytes(sha256: string, bytes: string | Uint8Array): Promise<void> {
    const target = this.objectPath(sha256);
    if (existsSync(target)) return;
    await mkdir(dirname(target), { recursive: true });
    const tmp = tmpNear(target);
    await writeFile(tmp, bytes, { mode: 0o444 });
    await rename(tmp, target);
  }

  /** The bytes of an object; `NOT_FOUND` naming the fix when it is not in the cache. */
  async read(sha256: string): Promise<Buffer> {
    try {
      return await readFile(this.objectPath(sha256));
    } catch (err) {
      if (fsCode(err) === 'ENOENT') throw missingObject(sha256);
      throw err;
    }
  }

  /** Puts object `sha256` at `dest` (replacing what is there) by the cheapest link; `NOT_FOUND` if absent. */
  async place(sha256: string, dest: string): Promise<LinkKind> {
    const src = this.objectPath(sha256);
    if (!existsSync(src)) throw missingObject(sha256);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = tmpNear(dest);
    const kind = await this.#link(src, tmp);
    try {
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return kind;
  }

  /** Adds a downloaded file (at a temporary path in the same file system) as object `sha256`. */
  async adopt(tmp: string, sha256: string): Promise<void> {
    const target = this.objectPath(sha256);
    await mkdir(dirname(target), { recursive: true });
    await chmod(tmp, 0o444);
    await rename(tmp, target);
  }

  /** A temporary path inside the cache, on its file system (for downloads). */
  tempPath(): string {
    return join(this.dir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
  }

  /** Every object hash in the cache. */
  async list(): Promise<string[]> {
    const base = join(this.dir, 'files', 'sha256');
    const out: string[] = [];
    let prefixes: string[];
    try {
      prefixes = await readdir(base);
    } catch {
      return out;
    }
    for (const prefix of prefixes) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const rest of await readdir(join(base, prefix))) {
        if (/^[0-9a-f]{62}$/.test(rest)) out.push(prefix + rest);
      }
    }
    return out;
  }

  /** Removes an object; returns its size in bytes (0 if it was gone). */
  async remove(sha256: string): Promise<number> {
    const path = this.objectPath(sha256);
    try {
      const { size } = await stat(path);
      await unlink(path);
      return size;
    } catch (err) {
      if (fsCode(err) === 'ENOENT') return 0;
      throw err;
    }
  }

  async #link(src: string, dest: string): Promise<LinkKind> {
    for (const kind of this.#order) {
      if (this.#unsupported.has(kind)) continue;
      try {
        if (kind === 'hardlink') {
          await link(src, dest);
        } else {
          const tmp = tmpNear(dest);
          try {
            await copyFile(src, tmp, kind === 'reflink' ? constants.COPYFILE_FICLONE_FORCE : 0);
            await rename(tmp, dest);
          } catch (err) {
            await rm(tmp, { force: true });
            throw err;
          }
        }
        return kind;
      } catch (err) {
        const code = fsCode(err);
        if (code === 'EEXIST') return kind; // someone else put the same content there first
        if (kind === 'copy') throw err;
        // Not supported by this file system (or across two): remember, and fall through.
        if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EINVAL' || code === 'EPERM')
          this.#unsupported.add(kind);
        if (code === 'ENOENT') throw err;
      }
    }
    throw new TrestleError('INTERNAL', `no way to link '${src}' to '${dest}'`);
  }
}

function missingObject(sha256: string): TrestleError {
  return new TrestleError(
    'NOT_FOUND',
    `object ${sha256.slice(0, 12)}… is not in the local cache; fetch it with 'trestle data pull'`,
    { sha256 },
  );
}
