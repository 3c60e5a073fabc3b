import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { sep } from 'node:path';

/** The stat of a file that the stat cache compares: size in bytes, modification time in ms, inode. */
export interface FileStat {
  size: number;
  /** Fractional: sub-ms precision where the file system has it. */
  mtimeMs: number;
  ino: number;
}

/** One file of a folder version: its path inside the folder, content hash and size. */
export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
}

/** Names never taken into a folder's content: version-control folders. */
const SKIPPED = new Set(['.git', '.hg', '.svn']);

/**
 * Visits every regular file under `dir` (following symbolic links to files, not to folders),
 * in manifest order: sorted by whole path (`a-b` before `a/x`), so that a manifest is the
 * same on every machine. `rel` is `/`-separated. Only directory entries are read: a regular
 * file costs no stat here (the stat cache or the hasher stats it when it needs to); a
 * symbolic link is stat'ed to learn what it leads to, and `stat` is then passed. Each folder
 * is sorted on its own, a folder's name keyed with a trailing `/`, which gives the whole-path
 * order without sorting 100,000 long paths at once. Nothing is kept per file, so a caller
 * that keeps little (the stat cache's comparison) pays no memory for a big folder.
 * Synchronous on purpose: the thread pool would only slow down a walk of small system calls.
 *
 * @example walkTree('/repo/data', (rel, abs) => files.push(rel)) // 'a.csv', 'img/1.png', …
 */
export function walkTree(dir: string, visit: (rel: string, abs: string, stat?: FileStat) => void): void {
  const walk = (abs: string, rel: string): void => {
    // Keys sort with the default comparison (UTF-16 code units, like `<`), which is faster than a
    // comparator; links (rare) are noted by name, everything else is a file or a folder (`/`).
    const keys: string[] = [];
    let links: Set<string> | undefined;
    for (const dirent of readdirSync(abs, { withFileTypes: true })) {
      const name = dirent.name;
      if (dirent.isFile()) keys.push(name);
      else if (dirent.isDirectory()) {
        if (!SKIPPED.has(name)) keys.push(`${name}/`);
      } else if (dirent.isSymbolicLink()) {
        keys.push(name);
        (links ??= new Set()).add(name);
      }
      // FIFOs, sockets and devices are not data (and opening a FIFO would block).
    }
    keys.sort();
    const prefix = rel === '' ? '' : `${rel}/`;
    const base = abs.endsWith(sep) ? abs : abs + sep;
    for (const key of keys) {
      if (key.endsWith('/')) {
        const name = key.slice(0, -1);
        walk(base + name, prefix + name);
      } else if (links?.has(key) === true) {
        const st = statSync(base + key, { throwIfNoEntry: false }); // undefined: a dangling link
        if (st?.isFile() === true) visit(prefix + key, base + key, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
      } else visit(prefix + key, base + key);
    }
  };
  walk(dir, '');
}

/**
 * The manifest of a folder version as stored in the cache: one JSON array per line,
 * `["path","sha256",size]`, sorted by path. Its SHA-256 is the folder's hash, so a folder's
 * identity is its exact list of (path, content).
 *
 * @example manifestText([{ path: 'a.csv', sha256: '9f…', size: 10 }]) // '["a.csv","9f…",10]\n'
 */
export function manifestText(entries: readonly ManifestEntry[]): string {
  let text = '';
  for (const e of entries) text += `[${JSON.stringify(e.path)},"${e.sha256}",${e.size}]\n`;
  return text;
}

/** Parses {@link manifestText}; throws on a line that is not a manifest entry. */
export function parseManifest(text: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [path, sha256, size] = JSON.parse(line) as [unknown, unknown, unknown];
    if (typeof path !== 'string' || typeof sha256 !== 'string' || typeof size !== 'number') {
      throw new Error(`not a manifest line: ${line.slice(0, 80)}`);
    }
    out.push({ path, sha256, size });
  }
  return out;
}

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
