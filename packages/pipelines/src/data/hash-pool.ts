import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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

// The worker is plain JavaScript evaluated from a string: it needs only `fs` and `crypto`,
// starts in a few milliseconds, and works the same under tsx, Vitest and plain Node (a
// TypeScript worker file would need the loader registered inside the worker thread).
//
// Per file: open, fstat, read into one reused 4 MiB buffer, close, hash. A read that comes back
// short once the file's size is reached is the end, so a small file is one read, not two (the
// second one only to see 0). One answer per batch: the digests as one string, the stats as one
// Float64Array and a state per file (0 hashed, 1 gone or not a regular file, 2 failed), so a
// batch costs the main thread one message, not an object per file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, fstatSync, closeSync } = require('node:fs');
const crypto = require('node:crypto');
const oneShot = typeof crypto.hash === 'function';
const buffer = Buffer.allocUnsafe(4 << 20);
function hashFd(fd, size) {
  let hash;
  let filled = 0;
  let total = 0;
  for (;;) {
    const want = buffer.length - filled;
    const n = readSync(fd, buffer, filled, want, null);
    if (n === 0) break;
    filled += n;
    total += n;
    if (filled === buffer.length) {
      (hash ??= crypto.createHash('sha256')).update(buffer);
      filled = 0;
    } else if (n < want && total >= size) break;
  }
  const rest = buffer.subarray(0, filled);
  if (hash === undefined && oneShot) return [crypto.hash('sha256', rest, 'hex'), total];
  return [(hash ?? crypto.createHash('sha256')).update(rest).digest('hex'), total];
}
parentPort.on('message', ({ id, paths, gone }) => {
  const n = paths.length;
  const state = new Uint8Array(n);
  const stats = new Float64Array(3 * n);
  const errors = [];
  let hex = '';
  for (let i = 0; i < n; i++) {
    let fd;
    try {
      fd = openSync(paths[i], 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      const [digest, size] = hashFd(fd, st.size);
      hex += digest;
      stats[3 * i] = size;
      stats[3 * i + 1] = st.mtimeMs;
      stats[3 * i + 2] = st.ino;
    } catch (err) {
      hex += '0'.repeat(64);
      if (gone && (err.code === 'ENOENT' || err.code === 'EISDIR')) state[i] = 1;
      else {
        state[i] = 2;
        errors.push({ index: i, code: err.code || 'EIO', message: String(err.message || err) });
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  parentPort.postMessage({ id, hex, stats, state, errors });
});
`;

interface BatchAnswer {
  hex: string;
  stats: Float64Array;
  state: Uint8Array;
  errors: { index: number; code: string; message: string }[];
}

interface Pending {
  paths: string[];
  gone: boolean;
  resolve: (out: BatchAnswer) => void;
  reject: (err: Error) => void;
}

/** Options of {@link HashPool}. */
export interface HashPoolOptions {
  /** Worker threads; default the number of cores. */
  threads?: number;
}

// Below both, the files are hashed on the calling thread: starting threads would cost more.
const INLINE_FILES = 32;
const INLINE_BYTES = 32 << 20;
const BATCH_FILES = 256;
const BATCH_BYTES = 16 << 20;
// Batches sent ahead to each thread, so that it never waits for the main thread between two.
const IN_FLIGHT = 2;

/**
 * SHA-256 of many files on all cores: a pool of worker threads, each reading files with a
 * reusable 4 MiB buffer and synchronous calls (no promise or stream per file). Small files
 * travel in batches (one message per ~256 files or 16 MiB), two batches queued per thread so
 * none waits between them; a big file is one job on one thread (SHA-256 is sequential within
 * a file). A handful of files (fewer than 32, under 32 MiB) is hashed on the calling thread
 * and starts no thread, so that `data status` with a few changed files pays no thread
 * start-up. Threads start on first use and stop on {@link close}; an idle pool keeps no thread
 * alive (they are `unref`ed).
 *
 * @example
 * const pool = new HashPool();
 * const hashes = await pool.hashFiles(['/data/a.csv', '/data/b.csv'], [10_240, 2_000_000], (bytes) => bar.tick(bytes));
 * await pool.close();
 */
export class HashPool {
  readonly threads: number;
  #workers: Worker[] = [];
  #queue: Pending[] = [];
  #busy = new Map<Worker, Pending[]>();

  constructor(options: HashPoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
  }

  /**
   * Hashes `paths` (absolute); `sizes` (bytes, from a stat, may be estimates) shape the
   * batches and the progress. Results come back in the order of `paths`. A file that cannot
   * be read fails the whole call with `NOT_FOUND` (gone) or `UNAVAILABLE` (any other I/O error).
   */
  async hashFiles(
    paths: readonly string[],
    sizes?: readonly number[],
    onProgress?: (bytes: number, files: number) => void,
  ): Promise<FileHash[]> {
    return (await this.#hash(paths, sizes, false, onProgress)) as FileHash[];
  }

  /**
   * Like {@link hashFiles} for the files of a folder walk: a file gone since the walk, or no
   * longer a regular file, is `undefined` instead of an error.
   */
  async hashListed(
    paths: readonly string[],
    sizes?: readonly number[],
    onProgress?: (bytes: number, files: number) => void,
  ): Promise<(FileHash | undefined)[]> {
    return this.#hash(paths, sizes, true, onProgress);
  }

  async #hash(
    paths: readonly string[],
    sizes: readonly number[] | undefined,
    gone: boolean,
    onProgress?: (bytes: number, files: number) => void,
  ): Promise<(FileHash | undefined)[]> {
    const results = new Array<FileHash | undefined>(paths.length);
    const batches: { start: number; paths: string[]; bytes: number }[] = [];
    let total = 0;
    let current: { start: number; paths: string[]; bytes: number } | undefined;
    for (let i = 0; i < paths.length; i++) {
      const size = sizes?.[i] ?? 0;
      total += size;
      if (current === undefined || current.paths.length >= BATCH_FILES || current.bytes + size > BATCH_BYTES) {
        current = { start: i, paths: [], bytes: 0 };
        batches.push(current);
      }
      current.paths.push(paths[i]!);
      current.bytes += size;
    }
    const inline = paths.length < INLINE_FILES && total < INLINE_BYTES;
    await Promise.all(
      batches.map(async (batch) => {
        const out = inline ? hashHere(batch.paths, gone) : await this.#run(batch.paths, gone);
        const error = out.errors[0];
        if (error !== undefined) {
          const path = batch.paths[error.index]!;
          throw new TrestleError(
            error.code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
            `cannot read '${path}' to hash it: ${error.message}`,
            { path, code: error.code },
          );
        }
        let bytes = 0;
        for (let j = 0; j < batch.paths.length; j++) {
          if (out.state[j] !== 0) continue;
          const size = out.stats[3 * j]!;
          results[batch.start + j] = {
            sha256: out.hex.slice(64 * j, 64 * j + 64),
            size,
            mtimeMs: out.stats[3 * j + 1]!,
            ino: out.stats[3 * j + 2]!,
          };
          bytes += size;
        }
        onProgress?.(bytes, batch.paths.length);
      }),
    );
    return results;
  }

  /** Stops the threads; the pool may be used again afterwards (threads restart on demand). */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    this.#busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #run(paths: string[], gone: boolean): Promise<BatchAnswer> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ paths, gone, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker: Worker | undefined;
      let least = IN_FLIGHT;
      for (const w of this.#workers) {
        const n = this.#busy.get(w)!.length;
        if (n < least) [worker, least] = [w, n];
      }
      // A new thread only while every running one has work.
      if ((worker === undefined || least > 0) && this.#workers.length < this.threads) worker = this.#spawn();
      if (worker === undefined) return;
      const job = this.#queue.shift()!;
      const jobs = this.#busy.get(worker)!;
      if (jobs.length === 0) worker.ref();
      jobs.push(job);
      worker.postMessage({ paths: job.paths, gone: job.gone });
    }
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const jobs: Pending[] = [];
    worker.on('message', (answer: BatchAnswer) => {
      const job = jobs.shift();
      if (jobs.length === 0) worker.unref();
      job?.resolve(answer);
      this.#pump();
    });
    worker.on('error', (err) => {
      this.#workers = this.#workers.filter((w) => w !== worker);
      this.#busy.delete(worker);
      for (const job of jobs.splice(0)) {
        job.reject(new TrestleError('INTERNAL', `a hashing thread failed: ${err.message}`, {}, { cause: err }));
      }
      this.#pump();
    });
    this.#workers.push(worker);
    this.#busy.set(worker, jobs);
    return worker;
  }
}

// The worker's loop for a handful of files, on the calling thread (see INLINE_FILES).
function hashHere(paths: readonly string[], gone: boolean): BatchAnswer {
  const n = paths.length;
  const out: BatchAnswer = { hex: '', stats: new Float64Array(3 * n), state: new Uint8Array(n), errors: [] };
  for (let i = 0; i < n; i++) {
    let fd: number | undefined;
    try {
      fd = openSync(paths[i]!, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1, 1), 4 << 20));
      let size = 0;
      let n: number;
      while ((n = readSync(fd, buffer, 0, buffer.length, null)) > 0) {
        hash.update(buffer.subarray(0, n));
        size += n;
      }
      out.hex += hash.digest('hex');
      out.stats.set([size, st.mtimeMs, st.ino], 3 * i);
    } catch (err) {
      out.hex += '0'.repeat(64);
      const code = (err as { code?: string }).code ?? 'EIO';
      if (gone && (code === 'ENOENT' || code === 'EISDIR')) out.state[i] = 1;
      else {
        out.state[i] = 2;
        out.errors.push({ index: i, code, message: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return out;
}
