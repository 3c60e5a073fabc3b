import { createHash } from 'node:crypto';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** One file found under a folder. `rel` uses `/` separators. */
export interface ScannedFile {
  rel: string;
  abs: string;
  size: number;
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
 * Every regular file under `dir` (following symbolic links to files, not to folders), sorted
 * by path with a byte-wise comparison, so that a manifest is the same on every machine.
 * Synchronous on purpose: a walk of 100,000 files is a few hundred small system calls per
 * folder that the thread pool would only slow down.
 *
 * @example scanTree('/repo/data') // [{ rel: 'a.csv', abs: '/repo/data/a.csv', size: 10, … }]
 */
export function scanTree(dir: string): ScannedFile[] {
  const out: ScannedFile[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const dirent of readdirSync(abs, { withFileTypes: true })) {
      if (SKIPPED.has(dirent.name)) continue;
      const childAbs = join(abs, dirent.name);
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (dirent.isDirectory()) {
        walk(childAbs, childRel);
        continue;
      }
      let st: Stats;
      try {
        st = statSync(childAbs);
      } catch {
        continue; // vanished, or a dangling link
      }
      if (st.isFile()) out.push({ rel: childRel, abs: childAbs, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
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
