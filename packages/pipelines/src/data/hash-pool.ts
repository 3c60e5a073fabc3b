import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrestleError } from '@trestle/core';

/** What hashing one file found: its SHA-256 and the stat of the version that was read. */
export interface FileHash {
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Bytes. */
  size: number;
  /** Modification time in ms (fractional: sub-ms precision where the file system has it). */
  mtimeMs: number;
  ino: number;
}

/** One file for {@link HashPool.hashTree}. */
export interface TreeFile {
  /** Absolute path. */
  path: string;
  /** What it was when last hashed: returned as is, unread, when its stat still matches. */
  known?: FileHash | undefined;
  /**
   * The directory listing did not say it is a regular file (a symbolic link, or a file system
   * that does not tell): stat it first and skip it unless it is one.
   */
  statFirst?: boolean;
}

// The worker is plain JavaScript evaluated from a string: it needs only `fs` and `crypto`,
// starts in a few milliseconds, and works the same under tsx, Vitest and plain Node (a
// TypeScript worker file would need the loader registered inside the worker thread).
//
// One job is a list of paths (one string, NUL-separated) sent to every thread that takes
// part; the threads claim chunks of it through a shared counter and write their answers into
// shared memory (per file: a state, size, mtime and inode; the hex digest), so the main
// thread does nothing per file while they work and no thread waits for another. Per file:
// open, fstat, one read (a file that fits the buffer is read as `size` bytes, so no second
// read is spent finding the end), close, and a one-shot hash where Node has crypto.hash
// (21.7+); a file whose known stat still matches costs one stat.
//
// States: 0 skipped (vanished, or not a regular file), 1 hashed, 2 unchanged (known stat), 3 failed.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, fstatSync, statSync, closeSync, existsSync } = require('node:fs');
const crypto = require('node:crypto');
const oneShot = typeof crypto.hash === 'function';
const buffer = Buffer.allocUnsafe(4 << 20);
const CHUNK = 32;
function hashOpen(path, meta, hexOut, i) {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    let total = 0;
    let n;
    let hex;
    if (st.size <= buffer.length) {
      while (total < st.size && (n = readSync(fd, buffer, total, st.size - total, null)) > 0) total += n;
      const view = buffer.subarray(0, total);
      hex = oneShot ? crypto.hash('sha256', view, 'hex') : crypto.createHash('sha256').update(view).digest('hex');
    } else {
      const hash = crypto.createHash('sha256');
      while ((n = readSync(fd, buffer, 0, buffer.length, null)) > 0) {
        hash.update(buffer.subarray(0, n));
        total += n;
      }
      hex = hash.digest('hex');
    }
    hexOut.write(hex, 64 * i, 64, 'latin1');
    meta[4 * i + 1] = total;
    meta[4 * i + 2] = st.mtimeMs;
    meta[4 * i + 3] = st.ino;
    meta[4 * i] = 1;
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', ({ id, op, paths, counter, metaBuffer, hexBuffer, knownBuffer, statFirst, missingIsSkip }) => {
  const list = paths.split('\\0');
  const n = list.length;
  const next = new Int32Array(counter);
  const meta = new Float64Array(metaBuffer);
  const hexOut = Buffer.from(hexBuffer);
  const known = knownBuffer === undefined ? undefined : new Float64Array(knownBuffer);
  let error;
  outer: for (;;) {
    if (Atomics.load(next, 1) !== 0) break;
    const start = Atomics.add(next, 0, CHUNK);
    if (start >= n) break;
    const end = Math.min(n, start + CHUNK);
    for (let i = start; i < end; i++) {
      const path = list[i];
      try {
        if (op === 'exists') {
          meta[4 * i] = existsSync(path) ? 1 : 0;
          continue;
        }
        const knownSize = known === undefined ? NaN : known[3 * i];
        if (knownSize === knownSize || (statFirst !== undefined && statFirst[i] === 1)) {
          const st = statSync(path, { throwIfNoEntry: false });
          if (st === undefined || !st.isFile()) {
            if (st === undefined && !missingIsSkip) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
            meta[4 * i] = 0;
            continue;
          }
          if (st.size === knownSize && st.mtimeMs === known[3 * i + 1] && st.ino === known[3 * i + 2]) {
            meta[4 * i] = 2;
            continue;
          }
        }
        hashOpen(path, meta, hexOut, i);
      } catch (err) {
        if (err.code === 'ENOENT' && missingIsSkip) {
          meta[4 * i] = 0;
          continue;
        }
        meta[4 * i] = 3;
        error = { index: i, code: err.code || 'EIO', message: String(err.message || err) };
        Atomics.store(next, 1, 1);
        break outer;
      }
    }
  }
  parentPort.postMessage({ id, error });
});
`;

interface Job {
  op: 'hash' | 'exists';
  paths: string;
  counter: SharedArrayBuffer;
  metaBuffer: SharedArrayBuffer;
  hexBuffer: SharedArrayBuffer;
  knownBuffer?: SharedArrayBuffer;
  statFirst?: Uint8Array;
  missingIsSkip: boolean;
}

interface WorkerError {
  index: number;
  code: string;
  message: string;
}

/** Options of {@link HashPool}. */
export interface HashPoolOptions {
  /** Worker threads; default the number of cores. */
  threads?: number;
}

// A thread takes part in a job for every this many files (a job of one big file is one thread's).
const FILES_PER_THREAD = 64;
const PROGRESS_MS = 200;

/**
 * SHA-256 of many files on all cores: a pool of worker threads, each reading files with one
 * reusable 4 MiB buffer and synchronous calls (no promise or stream per file). The threads
 * share each job's list through a counter and answer in shared memory, so a folder of
 * 100,000 small files costs a few messages, and the work balances itself across threads; a
 * big file is one thread's (SHA-256 is sequential within a file). Threads start on first use
 * and stop on {@link close}; an idle pool keeps no thread alive (they are `unref`ed).
 *
 * @example
 * const pool = new HashPool();
 * const hashes = await pool.hashFiles(['/data/a.csv', '/data/b.csv'], [10_240, 2_000_000], (bytes) => bar.tick(bytes));
 * await pool.close();
 */
export class HashPool {
  readonly threads: number;
  #workers: Worker[] = [];
  #waiting = new Map<number, { worker: Worker; resolve: (error: WorkerError | undefined) => void }>();
  #busy = new Map<Worker, number>();
  #nextId = 0;

  constructor(options: HashPoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
  }

  /**
   * Hashes `paths` (absolute). Results come back in the order of `paths`. A file that cannot
   * be read fails the whole call with `NOT_FOUND` (gone) or `UNAVAILABLE` (any other I/O error).
   */
  async hashFiles(paths: readonly string[], onProgress?: (bytes: number, files: number) => void): Promise<FileHash[]> {
    return (await this.#hash(
      paths.map((path) => ({ path })),
      false,
      onProgress,
    )) as FileHash[];
  }

  /**
   * Hashes the files of a folder walk: a file whose `known` stat still matches costs one stat
   * and is not read; `undefined` for a file that vanished since the walk or is not a regular
   * file. Results in the order of `files`.
   */
  async hashTree(
    files: readonly TreeFile[],
    onProgress?: (bytes: number, files: number) => void,
  ): Promise<(FileHash | undefined)[]> {
    return this.#hash(files, true, onProgress);
  }

  /** Whether each path exists, checked on the threads. */
  async exist(paths: readonly string[]): Promise<boolean[]> {
    if (paths.length === 0) return [];
    const { meta } = await this.#job('exists', paths, undefined, undefined, true);
    return paths.map((_, i) => meta[4 * i] === 1);
  }

  async #hash(
    files: readonly TreeFile[],
    missingIsSkip: boolean,
    onProgress?: (bytes: number, files: number) => void,
  ): Promise<(FileHash | undefined)[]> {
    const n = files.length;
    if (n === 0) return [];
    let known: Float64Array | undefined;
    let statFirst: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const f = files[i]!;
      if (f.known !== undefined) {
        known ??= new Float64Array(new SharedArrayBuffer(24 * n)).fill(NaN);
        known[3 * i] = f.known.size;
        known[3 * i + 1] = f.known.mtimeMs;
        known[3 * i + 2] = f.known.ino;
      }
      if (f.statFirst === true) (statFirst ??= new Uint8Array(n))[i] = 1;
    }
    let reported = 0;
    const { meta, hex, error } = await this.#job(
      'hash',
      files.map((f) => f.path),
      known,
      statFirst,
      missingIsSkip,
      (claimed) => {
        onProgress?.(0, claimed - reported);
        reported = claimed;
      },
    );
    if (error !== undefined) {
      const path = files[error.index]!.path;
      throw new TrestleError(
        error.code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
        `cannot read '${path}' to hash it: ${error.message}`,
        { path, code: error.code },
      );
    }
    const results = new Array<FileHash | undefined>(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const state = meta[4 * i];
      if (state === 1) {
        const size = meta[4 * i + 1]!;
        results[i] = {
          sha256: hex.toString('latin1', 64 * i, 64 * i + 64),
          size,
          mtimeMs: meta[4 * i + 2]!,
          ino: meta[4 * i + 3]!,
        };
        bytes += size;
      } else if (state === 2) {
        results[i] = files[i]!.known;
      }
    }
    onProgress?.(bytes, n - reported);
    return results;
  }

  // Runs one job on as many threads as it has use for; resolves when all of them are done.
  async #job(
    op: Job['op'],
    paths: readonly string[],
    known: Float64Array | undefined,
    statFirst: Uint8Array | undefined,
    missingIsSkip: boolean,
    onClaimed?: (files: number) => void,
  ): Promise<{ meta: Float64Array; hex: Buffer; error?: WorkerError }> {
    const n = paths.length;
    const counter = new SharedArrayBuffer(8);
    const metaBuffer = new SharedArrayBuffer(32 * n);
    const hexBuffer = new SharedArrayBuffer(op === 'hash' ? 64 * n : 1);
    const job: Job = { op, paths: paths.join('\0'), counter, metaBuffer, hexBuffer, missingIsSkip };
    if (known !== undefined) job.knownBuffer = known.buffer as SharedArrayBuffer;
    if (statFirst !== undefined) job.statFirst = statFirst;
    const threads = Math.min(this.threads, Math.ceil(n / FILES_PER_THREAD));
    const workers = this.#pick(threads);
    const claimed = new Int32Array(counter);
    // Progress: the files claimed so far, read from the shared counter a few times a second.
    const poll =
      onClaimed === undefined
        ? undefined
        : setInterval(() => onClaimed(Math.min(n, Atomics.load(claimed, 0))), PROGRESS_MS).unref();
    let errors: (WorkerError | undefined)[];
    try {
      errors = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<WorkerError | undefined>((resolve) => {
              const id = this.#nextId++;
              this.#waiting.set(id, { worker, resolve });
              const busy = this.#busy.get(worker) ?? 0;
              if (busy === 0) worker.ref();
              this.#busy.set(worker, busy + 1);
              worker.postMessage({ id, ...job });
            }),
        ),
      );
    } finally {
      if (poll !== undefined) clearInterval(poll);
    }
    const error = errors.find((e) => e !== undefined);
    return {
      meta: new Float64Array(metaBuffer),
      hex: Buffer.from(hexBuffer),
      ...(error === undefined ? {} : { error }),
    };
  }

  // The `count` least busy threads, starting threads up to the pool's size.
  #pick(count: number): Worker[] {
    while (this.#workers.length < count) this.#spawn();
    return [...this.#workers].sort((a, b) => (this.#busy.get(a) ?? 0) - (this.#busy.get(b) ?? 0)).slice(0, count);
  }

  /** Stops the threads; the pool may be used again afterwards (threads restart on demand). */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    this.#busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', ({ id, error }: { id: number; error?: WorkerError }) => {
      const busy = (this.#busy.get(worker) ?? 1) - 1;
      this.#busy.set(worker, busy);
      if (busy === 0) worker.unref();
      const waiting = this.#waiting.get(id);
      this.#waiting.delete(id);
      waiting?.resolve(error);
    });
    worker.on('error', (err) => {
      this.#workers = this.#workers.filter((w) => w !== worker);
      this.#busy.delete(worker);
      // Its share of a job is lost: fail the jobs it was in.
      for (const [id, waiting] of this.#waiting) {
        if (waiting.worker !== worker) continue;
        this.#waiting.delete(id);
        waiting.resolve({ index: 0, code: 'EIO', message: `a hashing thread failed: ${err.message}` });
      }
    });
    this.#workers.push(worker);
    return worker;
  }
}
