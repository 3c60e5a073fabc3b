import { existsSync, lstatSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TrestleError } from '@trestle/core';
import { SILENT_PROGRESS, type ProgressSink } from '../progress.js';
import { ignoreInGit } from './gitignore.js';
import { HashPool, type FileHash } from './hash-pool.js';
import { DEFAULT_LINK_ORDER, ObjectCache, type LinkKind } from './object-cache.js';
import { POINTER_SUFFIX, readPointer, writePointer, type DataPointer } from './pointer.js';
import { StatScope, type StatRecord } from './stat-cache.js';
import { manifestText, parseManifest, sha256Hex, type FileStat, type ManifestEntry, walkTree } from './tree.js';

/** One version of a file or folder as found in the workspace. */
export interface PathVersion {
  kind: 'file' | 'dir';
  /** The file's SHA-256, or the folder manifest's. */
  sha256: string;
  size: number;
  files: number;
  /** A folder's files, sorted by path. */
  entries?: ManifestEntry[];
}

/** Options of {@link DataRepo}. */
export interface DataRepoOptions {
  /** The workspace root: pointer files are searched under it, paths are shown relative to it. */
  root: string;
  /** Trestle's folder (`<root>/.trestle` by default): `cache/`, `state/`. */
  home?: string;
  /** Hashing threads; default the number of cores. */
  threads?: number;
  /** Link kinds to try in order; default reflink, hardlink, copy. */
  linkOrder?: readonly LinkKind[];
  progress?: ProgressSink;
}

/** What `add` did for one path. */
export interface AddResult extends DataPointer {
  /** Path of the data, relative to the root, `/`-separated. */
  target: string;
  /** The pointer file, relative to the root. */
  pointer: string;
  /** Objects newly stored in the cache. */
  stored: number;
  /** Whether the data was already tracked at this exact version. */
  unchanged: boolean;
}

/** How a file of a tracked path differs from the version its pointer names. */
export interface FileChange {
  path: string;
  change: 'added' | 'modified' | 'deleted';
}

/** `status` of one pointer. */
export interface DataStatus {
  target: string;
  pointer: string;
  kind: 'file' | 'dir';
  /** `unchanged`: the workspace holds the named version; `modified`: it holds another; `missing`: nothing there. */
  state: 'unchanged' | 'modified' | 'missing';
  /** Whether every object of the named version is in the local cache (else: `trestle data pull`). */
  cached: boolean;
  /** Per-file differences (folders; a file that changed is one entry). */
  changes: FileChange[];
  /** Set when the named folder's manifest is not in the cache, so per-file changes cannot be listed. */
  note?: string;
}

/** What `checkout` did for one pointer. */
export interface CheckoutResult {
  target: string;
  pointer: string;
  /** Files written (linked or copied) from the cache. */
  restored: number;
  /** Files removed because the version does not have them. */
  removed: number;
}

/** What `gc` found (and removed unless `dryRun`). */
export interface GcResult {
  /** Objects referenced, kept. */
  kept: number;
  /** Objects not referenced: removed, or to be removed with `dryRun`. */
  removed: string[];
  bytes: number;
  dryRun: boolean;
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.trestle', '.hg', '.svn']);

function posix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/**
 * Data versioning on one workspace: `add` (hash, store in the content-addressed cache, write
 * the pointer file and the `.gitignore` line), `status`, `checkout` and `gc`. Transfers to
 * remotes are in `remote.ts`. Hashes are remembered per path with the files' stat (see
 * {@link StatScope}), so unchanged files are never read twice; files are hashed on every core.
 * The constructor does no I/O.
 *
 * @example
 * const repo = new DataRepo({ root: '/repo' });
 * await repo.add(['data/images']);
 * (await repo.status())[0].state; // 'unchanged'
 * await repo.close();
 */
export class DataRepo {
  readonly root: string;
  readonly home: string;
  readonly cache: ObjectCache;
  readonly stateDir: string;
  readonly progress: ProgressSink;
  readonly #threads: number | undefined;
  #pool: HashPool | undefined;

  constructor(options: DataRepoOptions) {
    this.root = resolve(options.root);
    this.home = resolve(this.root, options.home ?? '.trestle');
    this.cache = new ObjectCache(join(this.home, 'cache'), options.linkOrder ?? DEFAULT_LINK_ORDER);
    this.stateDir = join(this.home, 'state');
    this.progress = options.progress ?? SILENT_PROGRESS;
    this.#threads = options.threads;
  }

  /** The hashing pool (started on first use). */
  get pool(): HashPool {
    this.#pool ??= new HashPool(this.#threads === undefined ? {} : { threads: this.#threads });
    return this.#pool;
  }

  /** `abs` relative to the root, `/`-separated. */
  rel(abs: string): string {
    return posix(relative(this.root, abs)) || '.';
  }

  /**
   * Hashes a file or folder, reading only files whose size, mtime or inode changed since they
   * were last hashed. `NOT_FOUND` when nothing is at `abs`.
   */
  async hashPath(abs: string): Promise<PathVersion> {
    const m = await this.#measure(abs);
    return m.version.kind === 'dir' ? { ...m.version, entries: m.entries() } : m.version;
  }

  // The version at `abs` without listing a folder's entries unless asked (`entries()`): when
  // every file's stat matches the stat cache and no file came or went, the folder's digest is
  // the one recorded with the cache, and nothing is hashed, built or written.
  async #measure(abs: string): Promise<Measured> {
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st === undefined) {
      throw new TrestleError('NOT_FOUND', `nothing at '${this.rel(abs)}' to hash`, { path: this.rel(abs) });
    }
    const scope = StatScope.load(this.stateDir, abs);
    const label = `hashing ${this.rel(abs)}`;
    if (st.isDirectory()) return this.#measureDir(abs, scope, label);
    if (!st.isFile()) {
      throw new TrestleError('INVALID_ARGUMENT', `'${this.rel(abs)}' is neither a file nor a folder`);
    }
    let record: StatRecord;
    if (scope.size === 1 && scope.rel(0) === '' && scope.matches(0, st)) {
      record = { rel: '', size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: scope.sha256(0) };
    } else {
      const task = this.progress.start(label, 1, st.size);
      try {
        const [h] = await this.pool.hashFiles([abs], [st.size], (b, n) => task.tick(n, b));
        record = { rel: '', ...h! };
      } finally {
        task.done();
      }
      scope.save([record]);
    }
    const version: PathVersion = { kind: 'file', sha256: record.sha256, size: record.size, files: 1 };
    return { version, entries: () => [], objects: () => [record.sha256] };
  }

  async #measureDir(abs: string, scope: StatScope, label: string): Promise<Measured> {
    // Per file, in manifest order: its stat cache entry j ≥ 0 when its stat matches (the walk's
    // strings are then dropped: the entry has the path), else -(k + 1) for the k-th file to hash.
    const order: number[] = [];
    const todo: { rel: string; abs: string; size: number }[] = [];
    let hint = 0;
    let gone = 0;
    walkTree(abs, (rel, fileAbs, linkStat) => {
      const j = scope.size === 0 ? -1 : scope.indexOf(rel, hint);
      if (j >= 0) {
        hint = j + 1;
        const st = linkStat ?? fileStat(fileAbs);
        if (st === undefined) {
          gone++;
          return;
        }
        if (scope.matches(j, st)) {
          order.push(j);
          return;
        }
      }
      order.push(-(todo.length + 1));
      todo.push({ rel, abs: fileAbs, size: linkStat?.size ?? 0 });
    });
    const n = order.length;
    if (todo.length === 0 && gone === 0 && n === scope.size && scope.digest !== undefined) {
      let size = 0;
      for (let j = 0; j < n; j++) size += scope.bytes(j);
      const version: PathVersion = { kind: 'dir', sha256: scope.digest, size, files: n };
      const entries = (): ManifestEntry[] =>
        order.map((j) => ({ path: scope.rel(j), sha256: scope.sha256(j), size: scope.bytes(j) }));
      return { version, entries, objects: () => order.map((j) => scope.sha256(j)) };
    }
    let hashed: (FileHash | undefined)[] = [];
    if (todo.length > 0) {
      const task = this.progress.start(label, todo.length);
      try {
        hashed = await this.pool.hashListed(
          todo.map((t) => t.abs),
          todo.map((t) => t.size),
          (b, k) => task.tick(k, b),
        );
      } finally {
        task.done();
      }
    }
    const records: StatRecord[] = [];
    for (const j of order) {
      if (j >= 0) {
        const r = { rel: scope.rel(j), sha256: scope.sha256(j) };
        records.push({ ...r, size: scope.bytes(j), mtimeMs: scope.mtimeMs(j), ino: scope.ino(j) });
      } else {
        const h = hashed[-j - 1]; // undefined: gone since the walk
        if (h !== undefined) records.push({ rel: todo[-j - 1]!.rel, ...h });
      }
    }
    const entries = records.map((r) => ({ path: r.rel, sha256: r.sha256, size: r.size }));
    const sha256 = sha256Hex(manifestText(entries));
    scope.save(records, sha256);
    const version: PathVersion = {
      kind: 'dir',
      sha256,
      size: entries.reduce((s, e) => s + e.size, 0),
      files: entries.length,
    };
    return { version, entries: () => entries, objects: () => entries.map((e) => e.sha256) };
  }

  /** Stores a version's objects (its files, and a folder's manifest) in the cache; returns how many were new. */
  async commit(abs: string, version: PathVersion): Promise<number> {
    if (version.kind === 'file') return (await this.cache.saveFile(abs, version.sha256)) === undefined ? 0 : 1;
    const entries = version.entries ?? [];
    const task = this.progress.start(`caching ${this.rel(abs)}`, entries.length, version.size);
    let stored = 0;
    try {
      const seen = new Set<string>();
      const BATCH = 64;
      for (let i = 0; i < entries.length; i += BATCH) {
        const batch = entries.slice(i, i + BATCH).filter((e) => !seen.has(e.sha256) && !this.cache.has(e.sha256));
        for (const e of batch) seen.add(e.sha256);
        const added = await Promise.all(
          batch.map((e) => this.cache.saveFile(join(abs, ...e.path.split('/')), e.sha256)),
        );
        stored += added.filter((k) => k !== undefined).length;
        task.tick(
          Math.min(BATCH, entries.length - i),
          entries.slice(i, i + BATCH).reduce((s, e) => s + e.size, 0),
        );
      }
    } finally {
      task.done();
    }
    if (!this.cache.has(version.sha256)) {
      await this.cache.saveBytes(version.sha256, manifestText(entries));
      stored++;
    }
    return stored;
  }

  /** Resolves a user path (relative to `cwd`) to the data path it names (a pointer path names its data). */
  resolveTarget(path: string, cwd = process.cwd()): string {
    const abs = resolve(cwd, path);
    const target = abs.endsWith(POINTER_SUFFIX) ? abs.slice(0, -POINTER_SUFFIX.length) : abs;
    const rel = relative(this.root, target);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `'${path}' is outside the workspace ${this.root}; move it inside, or run trestle from a folder that contains it`,
      );
    }
    if (rel === '')
      throw new TrestleError('INVALID_ARGUMENT', `cannot track the workspace root itself; name a file or folder in it`);
    const first = rel.split(sep)[0]!;
    if (SKIP_DIRS.has(first) || resolve(target).startsWith(this.home + sep) || target === this.home) {
      throw new TrestleError('INVALID_ARGUMENT', `'${path}' is inside ${first}, which Trestle does not track`);
    }
    return target;
  }

  /**
   * Tracks files and folders: hashes them, stores their objects in the cache, writes
   * `PATH.trestle` next to each and adds the data to the `.gitignore` of its folder.
   */
  async add(paths: readonly string[], cwd = process.cwd()): Promise<AddResult[]> {
    const results: AddResult[] = [];
    for (const path of paths) {
      const target = this.resolveTarget(path, cwd);
      if (!existsSync(target)) {
        throw new TrestleError('NOT_FOUND', `nothing at '${path}' to add; check the path`, { path });
      }
      this.#refuseOverlap(target, path);
      const pointerFile = target + POINTER_SUFFIX;
      const version = await this.hashPath(target);
      let previous: DataPointer | undefined;
      try {
        previous = await readPointer(pointerFile);
      } catch {
        previous = undefined;
      }
      const stored = await this.commit(target, version);
      const pointer: DataPointer = {
        path: basename(target),
        kind: version.kind,
        sha256: version.sha256,
        size: version.size,
        files: version.files,
      };
      await writePointer(pointerFile, pointer);
      await ignoreInGit(dirname(target), basename(target));
      results.push({
        ...pointer,
        target: this.rel(target),
        pointer: this.rel(pointerFile),
        stored,
        unchanged: previous?.sha256 === version.sha256,
      });
    }
    return results;
  }

  /**
   * Pointer files under `dir` (default the root; skipping `.git`, `node_modules`, `.trestle`),
   * sorted, as absolute paths. A folder tracked as a whole (a `NAME.trestle` beside it) is not
   * entered: tracked data never holds pointers (`add` refuses overlaps), and listing a
   * 100,000-file folder would be most of the cost of `data status`.
   */
  findPointers(dir = this.root): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      let dirents;
      try {
        dirents = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      const tracked = new Set<string>();
      for (const d of dirents) {
        if (!d.isDirectory() && d.name.endsWith(POINTER_SUFFIX) && d.name.length > POINTER_SUFFIX.length) {
          out.push(join(dir, d.name));
          tracked.add(d.name.slice(0, -POINTER_SUFFIX.length));
        }
      }
      for (const d of dirents) {
        if (d.isDirectory() && !SKIP_DIRS.has(d.name) && !tracked.has(d.name)) walk(join(dir, d.name));
      }
    };
    walk(dir);
    return out.sort();
  }

  /**
   * Refuses to track `target` when it overlaps data tracked already, as DVC does: inside a
   * folder tracked as a whole (its files belong to that folder's versions), or a folder that
   * holds tracked data (two pointers would claim the same files).
   */
  #refuseOverlap(target: string, path: string): void {
    for (let dir = dirname(target); dir.length > this.root.length; dir = dirname(dir)) {
      if (existsSync(dir + POINTER_SUFFIX)) {
        const outer = this.rel(dir);
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `'${path}' is inside '${outer}', which is tracked as a whole (${outer}${POINTER_SUFFIX}); run 'trestle data add ${outer}' to record its new version`,
          { path, tracked: outer },
        );
      }
    }
    if (!statSync(target).isDirectory()) return;
    const inner = this.findPointers(target);
    if (inner.length > 0) {
      const first = this.rel(inner[0]!);
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `'${path}' holds data tracked on its own (${first}${inner.length > 1 ? ` and ${inner.length - 1} more` : ''}); remove ${inner.length > 1 ? 'those pointer files' : 'that pointer file'} first to track the folder as a whole`,
        { path, tracked: inner.map((f) => this.rel(f)) },
      );
    }
  }

  /** The pointer files that `paths` name (data paths or pointer paths), or every pointer when empty. */
  pointersFor(paths: readonly string[], cwd = process.cwd()): string[] {
    if (paths.length === 0) return this.findPointers();
    return paths.map((p) => this.resolveTarget(p, cwd) + POINTER_SUFFIX);
  }

  /** Reads a folder version's manifest from the cache. */
  async manifest(sha256: string): Promise<ManifestEntry[]> {
    return parseManifest((await this.cache.read(sha256)).toString('utf8'));
  }

  /** Compares the workspace with what each pointer names. */
  async status(pointerFiles: readonly string[]): Promise<DataStatus[]> {
    const out: DataStatus[] = [];
    for (const file of pointerFiles) {
      const p = await readPointer(file);
      const target = join(dirname(file), p.path);
      const base = { target: this.rel(target), pointer: this.rel(file), kind: p.kind };
      const current = existsSync(target) ? await this.#measure(target) : undefined;
      if (current !== undefined && current.version.sha256 === p.sha256 && current.version.kind === p.kind) {
        // The workspace holds the named version, so its files are the manifest's: no need to read it.
        const cached =
          this.cache.has(p.sha256) &&
          (p.kind === 'file' ||
            this.cache.hasAllRemembered(StatScope.fileOf(this.stateDir, target, 'cached'), p.sha256, current.objects));
        out.push({ ...base, state: 'unchanged', cached, changes: [] });
        continue;
      }
      let manifest: ManifestEntry[] | undefined;
      let note: string | undefined;
      if (p.kind === 'dir') {
        try {
          manifest = await this.manifest(p.sha256);
        } catch {
          note = `the manifest of ${p.sha256.slice(0, 12)}… is not in the cache; 'trestle data pull' fetches it`;
        }
      }
      const cached =
        p.kind === 'file'
          ? this.cache.has(p.sha256)
          : manifest !== undefined && this.cache.hasAll(manifest.map((e) => e.sha256));
      const extra = note === undefined ? {} : { note };
      if (current === undefined) {
        const changes = (manifest ?? [{ path: p.kind === 'file' ? p.path : '.' }]).map((e) => ({
          path: p.kind === 'file' ? p.path : e.path,
          change: 'deleted' as const,
        }));
        out.push({ ...base, state: 'missing', cached, changes, ...extra });
        continue;
      }
      const changes =
        current.version.kind === 'file' || p.kind === 'file'
          ? [{ path: p.path, change: 'modified' as const }]
          : diffEntries(manifest ?? [], current.entries());
      out.push({ ...base, state: 'modified', cached, changes, ...extra });
    }
    return out;
  }

  /**
   * Makes the workspace hold the versions the pointers name, linking files from the cache.
   * Refuses (`FAILED_PRECONDITION`) to overwrite or delete content that is not in the cache,
   * which would be lost, unless `force`.
   */
  async checkout(pointerFiles: readonly string[], options: { force?: boolean } = {}): Promise<CheckoutResult[]> {
    const out: CheckoutResult[] = [];
    for (const file of pointerFiles) {
      const p = await readPointer(file);
      const target = join(dirname(file), p.path);
      const r = await this.restore(target, { kind: p.kind, sha256: p.sha256 }, options);
      out.push({ target: this.rel(target), pointer: this.rel(file), ...r });
    }
    return out;
  }

  /** Puts version `version` of `target` in the workspace (see {@link checkout}). */
  async restore(
    target: string,
    version: { kind: 'file' | 'dir'; sha256: string },
    options: { force?: boolean } = {},
  ): Promise<{ restored: number; removed: number }> {
    const lose = (what: string): never => {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `checking out '${this.rel(target)}' would lose ${what}, which is not in the cache; save it with 'trestle data add ${this.rel(target)}' or pass --force`,
        { path: this.rel(target) },
      );
    };
    const present = lstatExists(target);
    if (version.kind === 'file') {
      if (present) {
        const st = statSync(target);
        if (st.isDirectory()) {
          const current = await this.hashPath(target);
          if (options.force !== true && current.entries?.some((e) => !this.cache.has(e.sha256))) lose('files in it');
          await rm(target, { recursive: true, force: true });
        } else {
          const current = await this.hashPath(target);
          if (current.sha256 === version.sha256) return { restored: 0, removed: 0 };
          if (options.force !== true && !this.cache.has(current.sha256)) lose('its current content');
        }
      }
      await this.cache.place(version.sha256, target);
      this.#remember(target, '', version.sha256);
      return { restored: 1, removed: 0 };
    }

    const wanted = await this.manifest(version.sha256);
    let current: ManifestEntry[] = [];
    if (present) {
      if (!statSync(target).isDirectory()) {
        const h = await this.hashPath(target);
        if (options.force !== true && !this.cache.has(h.sha256)) lose('its current content');
        await unlink(target);
      } else {
        current = (await this.hashPath(target)).entries ?? [];
      }
    }
    await mkdir(target, { recursive: true });
    const have = new Map(current.map((e) => [e.path, e.sha256]));
    const want = new Set(wanted.map((e) => e.path));
    const extra = current.filter((e) => !want.has(e.path));
    const changed = wanted.filter((e) => have.has(e.path) && have.get(e.path) !== e.sha256);
    if (options.force !== true) {
      const unsaved = [...extra, ...changed.map((e) => ({ path: e.path, sha256: have.get(e.path)! }))].filter(
        (e) => !this.cache.has(e.sha256),
      );
      if (unsaved.length > 0) lose(`${unsaved.length} file(s) such as '${unsaved[0]!.path}'`);
    }
    const missing = wanted.filter((e) => !this.cache.has(e.sha256));
    if (missing.length > 0) {
      throw new TrestleError(
        'NOT_FOUND',
        `${missing.length} file(s) of '${this.rel(target)}' are not in the local cache (such as '${missing[0]!.path}'); fetch them with 'trestle data pull'`,
        { path: this.rel(target), missing: missing.length },
      );
    }
    for (const e of extra) await rm(join(target, ...e.path.split('/')), { force: true });
    const todo = wanted.filter((e) => have.get(e.path) !== e.sha256);
    const task = this.progress.start(`checking out ${this.rel(target)}`, todo.length);
    try {
      const BATCH = 64;
      for (let i = 0; i < todo.length; i += BATCH) {
        const batch = todo.slice(i, i + BATCH);
        await Promise.all(batch.map((e) => this.cache.place(e.sha256, join(target, ...e.path.split('/')))));
        task.tick(batch.length);
      }
    } finally {
      task.done();
    }
    if (extra.length > 0) pruneEmptyDirs(target);
    if (todo.length > 0) await this.hashPath(target); // remember the new stats, so the next status reads nothing
    return { restored: todo.length, removed: extra.length };
  }

  #remember(abs: string, rel: string, sha256: string): void {
    const st = statSync(abs);
    StatScope.load(this.stateDir, abs).save([{ rel, sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }]);
  }

  /**
   * Every object the given versions need: their own hash, and a folder's files (read from its
   * manifest, which must be in the cache unless `allowMissingManifests`).
   */
  async objectsOf(
    versions: readonly { kind: 'file' | 'dir'; sha256: string }[],
    options: { allowMissingManifests?: boolean } = {},
  ): Promise<{ objects: Set<string>; missingManifests: string[] }> {
    const objects = new Set<string>();
    const missingManifests: string[] = [];
    for (const v of versions) {
      objects.add(v.sha256);
      if (v.kind !== 'dir') continue;
      try {
        for (const e of await this.manifest(v.sha256)) objects.add(e.sha256);
      } catch (err) {
        if (options.allowMissingManifests !== true) throw err;
        missingManifests.push(v.sha256);
      }
    }
    return { objects, missingManifests };
  }

  /**
   * Removes cache objects that no pointer under the root (nor `keep`) references. Refuses
   * when a referenced folder's manifest is missing (its files could not be told apart from
   * garbage).
   */
  async gc(
    options: { dryRun?: boolean; keep?: Iterable<{ kind: 'file' | 'dir'; sha256: string }> } = {},
  ): Promise<GcResult> {
    const versions: { kind: 'file' | 'dir'; sha256: string }[] = [];
    for (const file of this.findPointers()) {
      const p = await readPointer(file);
      versions.push({ kind: p.kind, sha256: p.sha256 });
    }
    versions.push(...(options.keep ?? []));
    const { objects, missingManifests } = await this.objectsOf(versions, { allowMissingManifests: true });
    if (missingManifests.length > 0) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `gc needs the manifests of every tracked folder, and ${missingManifests.length} are not in the cache (such as ${missingManifests[0]!.slice(0, 12)}…); run 'trestle data pull' first`,
      );
    }
    const all = await this.cache.list();
    const removed = all.filter((h) => !objects.has(h));
    let bytes = 0;
    for (const h of removed) {
      if (options.dryRun === true) {
        try {
          bytes += statSync(this.cache.objectPath(h)).size;
        } catch {
          // gone meanwhile
        }
      } else {
        bytes += await this.cache.remove(h);
      }
    }
    if (options.dryRun !== true) await rm(join(this.cache.dir, 'tmp'), { recursive: true, force: true });
    return { kept: all.length - removed.length, removed, bytes, dryRun: options.dryRun === true };
  }

  /** Stops the hashing threads. */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}

// What #measure found: the version, and its entries and objects when wanted.
interface Measured {
  version: PathVersion;
  entries: () => ManifestEntry[];
  objects: () => string[];
}

// The stat of a regular file at `abs`, or undefined when it is gone or no longer a regular file.
function fileStat(abs: string): FileStat | undefined {
  const st = statSync(abs, { throwIfNoEntry: false });
  return st?.isFile() === true ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : undefined;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

// Folders left empty after removing files the version does not have (a version has no empty folders).
function pruneEmptyDirs(dir: string): void {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const child = join(dir, d.name);
    pruneEmptyDirs(child);
    try {
      rmdirSync(child); // fails, as it should, unless empty
    } catch {
      // not empty
    }
  }
}

/** Per-file differences from `before` to `after` (both sorted by path). */
export function diffEntries(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): FileChange[] {
  const old = new Map(before.map((e) => [e.path, e.sha256]));
  const changes: FileChange[] = [];
  const seen = new Set<string>();
  for (const e of after) {
    seen.add(e.path);
    const was = old.get(e.path);
    if (was === undefined) changes.push({ path: e.path, change: 'added' });
    else if (was !== e.sha256) changes.push({ path: e.path, change: 'modified' });
  }
  for (const e of before) if (!seen.has(e.path)) changes.push({ path: e.path, change: 'deleted' });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
