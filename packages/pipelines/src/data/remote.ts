import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isTrestleError, TrestleError, type ArtifactStore } from '@trestle/core';
import { SILENT_PROGRESS, type ProgressSink } from '../progress.js';
import { ObjectCache } from './object-cache.js';

/** Options of {@link pushObjects} and {@link pullObjects}. */
export interface TransferOptions {
  /** Transfers at the same time; default 16. */
  jobs?: number;
  /** Attempts per object before giving up; default 5 (backoff 0.2 s, 0.4 s, 0.8 s, … with jitter). */
  attempts?: number;
  progress?: ProgressSink;
}

/** What a transfer did. */
export interface TransferResult {
  /** Objects moved. */
  transferred: number;
  /** Objects already at the destination. */
  skipped: number;
  bytes: number;
}

/** Errors that another attempt cannot fix. */
function isPermanent(err: unknown): boolean {
  return (
    isTrestleError(err, 'INVALID_ARGUMENT') ||
    isTrestleError(err, 'PERMISSION_DENIED') ||
    isTrestleError(err, 'UNAUTHENTICATED') ||
    // A store that is not set up (S3 without credentials, a missing bucket) stays so.
    isTrestleError(err, 'FAILED_PRECONDITION') ||
    isTrestleError(err, 'NOT_FOUND')
  );
}

/**
 * Runs `fn` until it succeeds, up to `attempts` times, waiting longer each time; permanent
 * errors (bad path, no permission, not found, a store that is not set up) fail at once.
 */
export async function withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || isPermanent(err)) throw err;
      const delay = 200 * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Runs `fn` over `items`, at most `jobs` at a time; the first failure stops new starts and is thrown. */
export async function forEachLimit<T>(
  items: readonly T[],
  jobs: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, lane));
  if (failed !== undefined) throw failed.err;
}

/**
 * Which of `hashes` the remote has, found by listing only the `files/sha256/<xx>/` folders
 * they fall in (at most 256 listings, in parallel), never one request per object.
 */
export async function remoteHas(remote: ArtifactStore, hashes: Iterable<string>, jobs = 16): Promise<Set<string>> {
  const prefixes = [...new Set([...hashes].map((h) => h.slice(0, 2)))];
  const found = new Set<string>();
  await forEachLimit(prefixes, jobs, async (prefix) => {
    const entries = await withRetries(5, () => remote.list(`files/sha256/${prefix}`));
    for (const e of entries) {
      if (e.isDir) continue;
      const rest = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (/^[0-9a-f]{62}$/.test(rest)) found.add(prefix + rest);
    }
  });
  return found;
}

/**
 * Uploads the objects of `hashes` that the remote lacks, `jobs` at a time, each retried.
 * Every object must be in the local cache (`NOT_FOUND` otherwise).
 */
export async function pushObjects(
  cache: ObjectCache,
  remote: ArtifactStore,
  hashes: Iterable<string>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const wanted = [...new Set(hashes)];
  const absent = wanted.filter((h) => !cache.has(h));
  if (absent.length > 0) {
    throw new TrestleError(
      'NOT_FOUND',
      `${absent.length} object(s) to push are not in the local cache (such as ${absent[0]!.slice(0, 12)}…); 'trestle data status' shows which data they belong to`,
    );
  }
  const there = await remoteHas(remote, wanted, options.jobs ?? 16);
  const todo = wanted.filter((h) => !there.has(h));
  const sizes = await Promise.all(todo.map(async (h) => (await stat(cache.objectPath(h))).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const task = (options.progress ?? SILENT_PROGRESS).start(`pushing to ${remote.rootUri}`, todo.length, totalBytes);
  let bytes = 0;
  try {
    await forEachLimit(
      todo.map((h, i) => [h, sizes[i]!] as const),
      options.jobs ?? 16,
      async ([h, size]) => {
        await withRetries(options.attempts ?? 5, () =>
          remote.put(ObjectCache.remoteKey(h), createReadStream(cache.objectPath(h))),
        );
        bytes += size;
        task.tick(1, size);
      },
    );
  } finally {
    task.done();
  }
  return { transferred: todo.length, skipped: wanted.length - todo.length, bytes };
}

/**
 * Downloads the objects of `hashes` that the local cache lacks, `jobs` at a time, each
 * retried, each checked against its hash before it enters the cache. `NOT_FOUND` when the
 * remote does not have one.
 */
export async function pullObjects(
  cache: ObjectCache,
  remote: ArtifactStore,
  hashes: Iterable<string>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const wanted = [...new Set(hashes)];
  const todo = wanted.filter((h) => !cache.has(h));
  const task = (options.progress ?? SILENT_PROGRESS).start(`pulling from ${remote.rootUri}`, todo.length);
  let bytes = 0;
  try {
    await forEachLimit(todo, options.jobs ?? 16, async (h) => {
      const size = await withRetries(options.attempts ?? 5, () => download(cache, remote, h));
      bytes += size;
      task.tick(1, size);
    });
  } catch (err) {
    if (isTrestleError(err, 'NOT_FOUND')) {
      throw new TrestleError(
        'NOT_FOUND',
        `the remote ${remote.rootUri} does not have every object needed: ${err.message}; push it from a machine that has the data ('trestle data push')`,
        {},
        { cause: err },
      );
    }
    throw err;
  } finally {
    task.done();
  }
  return { transferred: todo.length, skipped: wanted.length - todo.length, bytes };
}

async function download(cache: ObjectCache, remote: ArtifactStore, sha256: string): Promise<number> {
  const tmp = cache.tempPath();
  await mkdir(dirname(tmp), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  try {
    const body = await remote.get(ObjectCache.remoteKey(sha256));
    await pipeline(
      body,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(tmp),
    );
    const got = hash.digest('hex');
    if (got !== sha256) {
      throw new TrestleError(
        'UNAVAILABLE',
        `object ${sha256.slice(0, 12)}… arrived with another hash (${got.slice(0, 12)}…); it is corrupted on the remote or in transit`,
      );
    }
    await cache.adopt(tmp, sha256);
    return size;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
