import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../atomic-file.js';
import type { FileStat } from './tree.js';

/** One file as the stat cache keeps it: its path in the scope, stat and hash. */
export interface StatRecord extends FileStat {
  /** Path inside the scope, `/`-separated (`''` for a scope that is one file). */
  rel: string;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

// File layout (host byte order, which is little-endian on every platform Node runs on):
//   'TRSTAT02', u32 count, u32 header bytes, u32 path bytes, u32 0,
//   header JSON { scope, digest } padded to 8 bytes,
//   count × f64 [size, mtimeMs, ino], count × 64 hex digits, paths joined by NUL.
// Loading is a read, one copy of the numbers, one string of all the digests (an entry's digest
// is a slice of it) and one split of the paths: no object per entry, which is what made the
// JSON form (100,000 entries: 12 MB, ~0.4 s to parse) the largest cost of `data status`.
const MAGIC = 'TRSTAT02';
const FIXED = 24;

/**
 * The hashes of one tracked path's files (a file or a folder, the "scope"), remembered with
 * the size, modification time and inode they had when hashed: a file whose stat still matches
 * is not read again. For a folder it also keeps the manifest digest of exactly these entries,
 * so a folder whose every file still matches is known unchanged without building and hashing
 * its manifest. Kept as one binary file per scope under `<home>/state/`, entries in manifest
 * order, written atomically (temporary file + rename), so two processes at worst both
 * re-hash; a missing, torn or older-format file only costs a re-hash.
 *
 * @example
 * const scope = StatScope.load(stateDir, '/repo/data');
 * const i = scope.indexOf('a.csv');
 * const known = i >= 0 && scope.matches(i, st) ? scope.sha256(i) : undefined; // hex or undefined
 * scope.save(records, digest);
 */
export class StatScope {
  readonly file: string;
  readonly scope: string;
  /** Manifest digest of exactly the loaded entries (folders), when it was recorded. */
  readonly digest: string | undefined;
  readonly #rels: string[];
  readonly #stats: Float64Array;
  // The digests as read; decoded to one string on first use (a status that finds the folder
  // unchanged, with its objects known to be cached, never needs them).
  readonly #hexBytes: Buffer;
  #hex: string | undefined;
  #index: Map<string, number> | undefined;

  private constructor(
    file: string,
    scope: string,
    digest: string | undefined,
    rels: string[],
    stats: Float64Array,
    hexBytes: Buffer,
  ) {
    this.file = file;
    this.scope = scope;
    this.digest = digest;
    this.#rels = rels;
    this.#stats = stats;
    this.#hexBytes = hexBytes;
  }

  /** Loads the scope of absolute path `scope` from `stateDir` (empty when there is none or it is unreadable). */
  static load(stateDir: string, scope: string): StatScope {
    const file = StatScope.fileOf(stateDir, scope, 'stat');
    try {
      const buf = readFileSync(file);
      if (buf.length < FIXED || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a stat file');
      const count = buf.readUInt32LE(8);
      const headerBytes = buf.readUInt32LE(12);
      const pathBytes = buf.readUInt32LE(16);
      const statsAt = FIXED + align8(headerBytes);
      const hexAt = statsAt + 24 * count;
      const pathsAt = hexAt + 64 * count;
      if (pathsAt + pathBytes !== buf.length) throw new Error('torn stat file');
      const header = JSON.parse(buf.toString('utf8', FIXED, FIXED + headerBytes)) as {
        scope?: unknown;
        digest?: unknown;
      };
      if (header.scope !== scope) throw new Error('another scope');
      const stats = new Float64Array(3 * count);
      new Uint8Array(stats.buffer).set(buf.subarray(statsAt, hexAt));
      const rels = count === 0 ? [] : buf.toString('utf8', pathsAt, pathsAt + pathBytes).split('\0');
      if (rels.length !== count) throw new Error('torn stat file');
      const digest = typeof header.digest === 'string' ? header.digest : undefined;
      return new StatScope(file, scope, digest, rels, stats, buf.subarray(hexAt, pathsAt));
    } catch {
      return new StatScope(file, scope, undefined, [], new Float64Array(0), Buffer.alloc(0));
    }
  }

  /** The state file of `scope` with extension `ext` (`stat`: this class's; others keep what else is known of the scope). */
  static fileOf(stateDir: string, scope: string, ext: string): string {
    return join(stateDir, `${createHash('sha256').update(scope).digest('hex').slice(0, 32)}.${ext}`);
  }

  /** Number of entries. */
  get size(): number {
    return this.#rels.length;
  }

  /** Path of entry `i`. */
  rel(i: number): string {
    return this.#rels[i]!;
  }

  /** Hex SHA-256 of entry `i`. */
  sha256(i: number): string {
    this.#hex ??= this.#hexBytes.toString('latin1');
    return this.#hex.slice(64 * i, 64 * i + 64);
  }

  /** Size in bytes of entry `i`. */
  bytes(i: number): number {
    return this.#stats[3 * i]!;
  }

  /** Modification time in ms of entry `i`. */
  mtimeMs(i: number): number {
    return this.#stats[3 * i + 1]!;
  }

  /** Inode of entry `i`. */
  ino(i: number): number {
    return this.#stats[3 * i + 2]!;
  }

  /** Whether entry `i` was hashed with this very stat. */
  matches(i: number, st: FileStat): boolean {
    const s = this.#stats;
    return s[3 * i] === st.size && s[3 * i + 1] === st.mtimeMs && s[3 * i + 2] === st.ino;
  }

  /**
   * The entry of `rel`, or -1. `hint` is where it is expected (the entries are in manifest
   * order, so a walk in the same order finds each one at the next position without a lookup).
   */
  indexOf(rel: string, hint = -1): number {
    if (hint >= 0 && hint < this.#rels.length && this.#rels[hint] === rel) return hint;
    this.#index ??= new Map(this.#rels.map((r, i) => [r, i]));
    return this.#index.get(rel) ?? -1;
  }

  /** Whether `records` (with `digest`) are exactly what is stored, so saving would change nothing. */
  same(records: readonly StatRecord[], digest: string | undefined): boolean {
    if (records.length !== this.size || digest !== this.digest) return false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.rel !== this.#rels[i] || !this.matches(i, r) || r.sha256 !== this.sha256(i)) return false;
    }
    return true;
  }

  /**
   * Replaces the stored entries with `records` (in manifest order) and, for a folder, the
   * digest of their manifest. Writes nothing when they are what is stored.
   */
  save(records: readonly StatRecord[], digest?: string): void {
    if (this.same(records, digest)) return;
    const count = records.length;
    const header = Buffer.from(JSON.stringify({ scope: this.scope, ...(digest === undefined ? {} : { digest }) }));
    const paths = Buffer.from(records.map((r) => r.rel).join('\0'));
    const stats = new Float64Array(3 * count);
    let hex = '';
    for (let i = 0; i < count; i++) {
      const r = records[i]!;
      stats[3 * i] = r.size;
      stats[3 * i + 1] = r.mtimeMs;
      stats[3 * i + 2] = r.ino;
      hex += r.sha256;
    }
    const statsAt = FIXED + align8(header.length);
    const hexAt = statsAt + 24 * count;
    const pathsAt = hexAt + 64 * count;
    const buf = Buffer.alloc(pathsAt + paths.length);
    buf.write(MAGIC, 0, 'latin1');
    buf.writeUInt32LE(count, 8);
    buf.writeUInt32LE(header.length, 12);
    buf.writeUInt32LE(paths.length, 16);
    header.copy(buf, FIXED);
    buf.set(new Uint8Array(stats.buffer), statsAt);
    buf.write(hex, hexAt, 'latin1');
    paths.copy(buf, pathsAt);
    writeFileAtomicSync(this.file, buf);
    // The JSON file of earlier versions, which nothing reads any more.
    rmSync(this.file.replace(/\.stat$/, '.json'), { force: true });
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
