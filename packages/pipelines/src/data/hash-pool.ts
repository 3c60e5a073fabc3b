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
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, fstatSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 << 20);
parentPort.on('message', ({ id, paths }) => {
  const out = new Array(paths.length);
  for (let i = 0; i < paths.length; i++) {
    let fd;
    try {
      fd = openSync(paths[i], 'r');
      const st = fstatSync(fd);
      const hash = createHash('sha256');
      let n;
      while ((n = readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, n));
      out[i] = [hash.digest('hex'), st.size, st.mtimeMs, st.ino];
    } catch (err) {
      out[i] = { code: err.code || 'EIO', message: String(err.message || err) };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  parentPort.postMessage({ id, out });
});
`;

type WorkerAnswer = [string, number, number, number] | { code: string; message: string };

interface Pending {
  paths: string[];
  resolve: (out: WorkerAnswer[]) => void;
  reject: (err: Error) => void;
}

/** Options of {@link HashPool}. */
export interface HashPoolOptions {
  /** Worker threads; default the number of cores. */
  threads?: number;
}

/**
 * SHA-256 of many files on all cores: a pool of worker threads, each reading files with a
 * reusable 4 MiB buffer. Small files travel in batches (one message per ~64 files or 8 MiB) so
 * that a folder of 100,000 small files costs few messages; a big file is one job on one thread
 * (SHA-256 is sequential within a file). Threads start on first use and stop on
 * {@link close}; an idle pool keeps no thread alive (they are `unref`ed).
 *
 * @example
 * const pool = new HashPool();
 * const hashes = await pool.hashFiles(['/data/a.csv', '/data/b.csv'], [10_240, 2_000_000], (bytes) => bar.tick(bytes));
 * await pool.close();
 */
export class HashPool {
  readonly threads: number;
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #queue: Pending[] = [];
  #busy = new Map<Worker, Pending>();
  #nextId = 0;

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
    const results = new Array<FileHash>(paths.length);
    const batches: { start: number; paths: string[]; bytes: number }[] = [];
    const BATCH_FILES = 64;
    const BATCH_BYTES = 8 << 20;
    let current: { start: number; paths: string[]; bytes: number } | undefined;
    for (let i = 0; i < paths.length; i++) {
      const size = sizes?.[i] ?? 0;
      if (current === undefined || current.paths.length >= BATCH_FILES || current.bytes + size > BATCH_BYTES) {
        current = { start: i, paths: [], bytes: 0 };
        batches.push(current);
      }
      current.paths.push(paths[i]!);
      current.bytes += size;
    }
    await Promise.all(
      batches.map(async (batch) => {
        const out = await this.#run(batch.paths);
        let bytes = 0;
        for (let j = 0; j < out.length; j++) {
          const answer = out[j]!;
          const path = batch.paths[j]!;
          if (!Array.isArray(answer)) {
            throw new TrestleError(
              answer.code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
              `cannot read '${path}' to hash it: ${answer.message}`,
              { path, code: answer.code },
            );
          }
          const [sha256, size, mtimeMs, ino] = answer;
          results[batch.start + j] = { sha256, size, mtimeMs, ino };
          bytes += size;
        }
        onProgress?.(bytes, out.length);
      }),
    );
    return results;
  }

  /** Stops the threads; the pool may be used again afterwards (threads restart on demand). */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    this.#idle = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #run(paths: string[]): Promise<WorkerAnswer[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ paths, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined && this.#workers.length < this.threads) worker = this.#spawn();
      if (worker === undefined) return;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job);
      worker.ref();
      worker.postMessage({ id: this.#nextId++, paths: job.paths });
    }
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', ({ out }: { out: WorkerAnswer[] }) => {
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      job?.resolve(out);
      this.#pump();
    });
    worker.on('error', (err) => {
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      this.#workers = this.#workers.filter((w) => w !== worker);
      job?.reject(new TrestleError('INTERNAL', `a hashing thread failed: ${err.message}`, {}, { cause: err }));
      this.#pump();
    });
    this.#workers.push(worker);
    return worker;
  }
}
