import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One file found under a folder, not yet stat'ed. `rel` uses `/` separators. */
export interface ListedFile {
  rel: string;
  abs: string;
  /** The listing did not say it is a regular file (a symbolic link, or an unknown type): stat before reading. */
  statFirst: boolean;
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
 * Every file under `dir` from directory listings alone (no stat: the hashing threads stat
 * in parallel), sorted by path. Symbolic links and entries of unknown type are listed with
 * `statFirst` (a link to a file counts, a link to a folder does not, see
 * {@link HashPool.hashTree}); sockets, FIFOs and devices are not listed. Each folder's
 * entries are sorted by name, a folder's name with a trailing `/`, which yields the order of
 * a comparison of whole paths, so that a manifest is the same on every machine. `onFolder`
 * receives each run of files as soon as it is listed, in that order (to start hashing them
 * while the walk goes on).
 *
 * @example listTree('/repo/data') // [{ rel: 'a.csv', abs: '/repo/data/a.csv', statFirst: false }, …]
 */
export function listTree(dir: string, onFolder?: (files: ListedFile[]) => void): ListedFile[] {
  const out: ListedFile[] = [];
  const walk = (abs: string, rel: string): void => {
    const entries: { key: string; name: string; kind: 'dir' | 'file' | 'other' }[] = [];
    for (const dirent of readdirSync(abs, { withFileTypes: true })) {
      if (SKIPPED.has(dirent.name)) continue;
      if (dirent.isDirectory()) entries.push({ key: `${dirent.name}/`, name: dirent.name, kind: 'dir' });
      else if (dirent.isFile()) entries.push({ key: dirent.name, name: dirent.name, kind: 'file' });
      else if (
        dirent.isSymbolicLink() ||
        !(dirent.isFIFO() || dirent.isSocket() || dirent.isBlockDevice() || dirent.isCharacterDevice())
      )
        entries.push({ key: dirent.name, name: dirent.name, kind: 'other' });
    }
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const prefix = rel === '' ? '' : `${rel}/`;
    let here: ListedFile[] = [];
    const flush = (): void => {
      if (here.length > 0) onFolder?.(here);
      here = [];
    };
    for (const e of entries) {
      const childAbs = join(abs, e.name);
      if (e.kind === 'dir') {
        flush();
        walk(childAbs, prefix + e.name);
      } else {
        const file = { rel: prefix + e.name, abs: childAbs, statFirst: e.kind === 'other' };
        out.push(file);
        here.push(file);
      }
    }
    flush();
  };
  walk(dir, '');
  return out;
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

/** Parses {@link manifestText} (one JSON parse for the whole text); throws on a line that is not a manifest entry. */
export function parseManifest(text: string): ManifestEntry[] {
  const body = text.trimEnd();
  const rows = (body === '' ? [] : JSON.parse(`[${body.replaceAll('\n', ',')}]`)) as unknown[];
  const out = new Array<ManifestEntry>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const [path, sha256, size] = (Array.isArray(row) ? row : []) as unknown[];
    if (typeof path !== 'string' || typeof sha256 !== 'string' || typeof size !== 'number') {
      throw new Error(`not a manifest line: ${JSON.stringify(row).slice(0, 80)}`);
    }
    out[i] = { path, sha256, size };
  }
  return out;
}

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
