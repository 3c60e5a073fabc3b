import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileHash } from './hash-pool.js';

type Entry = [size: number, mtimeMs: number, ino: number, sha256: string];

/**
 * The hashes of one tracked path's files (a file or a folder, the "scope"), remembered with
 * the size, modification time and inode they had when hashed: a file whose stat still matches
 * is not read again. Kept as one JSON file per scope under `<home>/state/`, written atomically
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
    let entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { scope?: unknown; entries?: Record<string, Entry> };
      if (parsed.scope === scope && typeof parsed.entries === 'object' && parsed.entries !== null) {
        entries = new Map(Object.entries(parsed.entries));
      }
    } catch {
      // Missing or torn: start empty.
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

  /** Remembers a fresh hash. */
  set(rel: string, hash: FileHash): void {
    this.#entries.set(rel, [hash.size, hash.mtimeMs, hash.ino, hash.sha256]);
    this.#dirty = true;
  }

  /** Forgets every path not in `keep` (files deleted since). */
  retain(keep: ReadonlySet<string>): void {
    for (const rel of this.#entries.keys()) {
      if (!keep.has(rel)) {
        this.#entries.delete(rel);
        this.#dirty = true;
      }
    }
  }

  /** Writes the scope if anything changed. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const dir = join(this.file, '..');
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, JSON.stringify({ scope: this.#scope, entries: Object.fromEntries(this.#entries) }));
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.#dirty = false;
  }
}
