import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileHash } from './hash-pool.js';

type Entry = [size: number, mtimeMs: number, ino: number, sha256: string];

// On disk: parallel arrays (paths; size, mtime, inode triples; the hashes as one string),
// which JSON parses and writes several times faster than an object keyed by path.
const FORMAT = 2;
interface Stored {
  scope: string;
  v: number;
  rels: string[];
  stats: number[];
  shas: string;
}

/**
 * The hashes of one tracked path's files (a file or a folder, the "scope"), remembered with
 * the size, modification time and inode they had when hashed: a file whose stat still matches
 * is not read again. Kept as one JSON file per scope under `<home>/state/` (compact parallel
 * arrays, see `Stored`), written atomically
 * (temporary file + rename), so two processes at worst both re-hash; a lost or torn file only
 * costs a re-hash.
 *
 * @example
 * const scope = await StatScope.load(stateDir, '/repo/data');
 * const known = scope.get('a.csv', stats.size, stats.mtimeMs, stats.ino); // hex or undefined
 * scope.set('a.csv', hashed); await scope.save();
 */
export class StatScope {
  readonly file: string;
  #entries: Map<string, Entry>;
  #dirty = false;

  private constructor(file: string, entries: Map<string, Entry>) {
    this.file = file;
    this.#entries = entries;
  }

  /** Loads the scope of absolute path `scope` from `stateDir` (empty when there is none yet). */
  static async load(stateDir: string, scope: string): Promise<StatScope> {
    const file = join(stateDir, `${createHash('sha256').update(scope).digest('hex').slice(0, 32)}.json`);
    const entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Stored>;
      const { rels, stats, shas } = parsed;
      if (
        parsed.scope === scope &&
        parsed.v === FORMAT &&
        Array.isArray(rels) &&
        Array.isArray(stats) &&
        typeof shas === 'string' &&
        stats.length === rels.length * 3 &&
        shas.length === rels.length * 64
      ) {
        for (let i = 0; i < rels.length; i++) {
          entries.set(rels[i]!, [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!, shas.slice(64 * i, 64 * i + 64)]);
        }
      }
    } catch {
      // Missing, torn or of an older format: start empty.
    }
    const loaded = new StatScope(file, entries);
    loaded.#scope = scope;
    return loaded;
  }

  #scope = '';

  /** The remembered hash of `rel` if its stat is unchanged. */
  get(rel: string, size: number, mtimeMs: number, ino: number): string | undefined {
    const e = this.#entries.get(rel);
    return e !== undefined && e[0] === size && e[1] === mtimeMs && e[2] === ino ? e[3] : undefined;
  }

  /** What `rel` was when last hashed, whatever its stat now. */
  known(rel: string): FileHash | undefined {
    const e = this.#entries.get(rel);
    return e === undefined ? undefined : { size: e[0], mtimeMs: e[1], ino: e[2], sha256: e[3] };
  }

  /** Replaces every entry by the files of a fresh walk (`hashes[i]` of `rels[i]`). */
  replace(rels: readonly string[], hashes: readonly FileHash[]): void {
    const entries = new Map<string, Entry>();
    let dirty = rels.length !== this.#entries.size;
    for (let i = 0; i < rels.length; i++) {
      const h = hashes[i]!;
      const rel = rels[i]!;
      if (!dirty) {
        const e = this.#entries.get(rel);
        dirty = e === undefined || e[0] !== h.size || e[1] !== h.mtimeMs || e[2] !== h.ino || e[3] !== h.sha256;
      }
      entries.set(rel, [h.size, h.mtimeMs, h.ino, h.sha256]);
    }
    this.#entries = entries;
    this.#dirty ||= dirty;
  }

  /** Remembers a fresh hash. */
  set(rel: string, hash: FileHash): void {
    this.#entries.set(rel, [hash.size, hash.mtimeMs, hash.ino, hash.sha256]);
    this.#dirty = true;
  }

  /** Writes the scope if anything changed. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const dir = join(this.file, '..');
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp-${randomBytes(6).toString('hex')}`;
    const rels: string[] = [];
    const stats: number[] = [];
    let shas = '';
    for (const [rel, e] of this.#entries) {
      rels.push(rel);
      stats.push(e[0], e[1], e[2]);
      shas += e[3];
    }
    const stored: Stored = { scope: this.#scope, v: FORMAT, rels, stats, shas };
    await writeFile(tmp, JSON.stringify(stored));
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.#dirty = false;
  }
}
