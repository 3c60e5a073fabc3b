import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactStore } from '@trestle/core';
import type { Queue, QueueEvents } from 'bullmq';
import { TrestleError } from '@trestle/core';
import type { DataRepo } from '../data/data-repo.js';
import { pullObjects, pushObjects } from '../data/remote.js';
import type { Stage } from './definition.js';
import type { LockedPath } from './lockfile.js';
import { localExecutor, type Executor, type StageProcess } from './runner.js';

/** The BullMQ queue stages travel on. */
export const STAGE_QUEUE = 'trestle-stages';

/** What a worker needs to run a stage: the command and the exact versions of its inputs. */
export interface StageJob {
  stage: Pick<Stage, 'name' | 'cmd' | 'wdir' | 'outs' | 'deps'>;
  deps: LockedPath[];
  env: Record<string, string>;
}

/** What a worker reports back. */
export interface StageJobResult {
  exitCode: number;
  outs: LockedPath[];
  /** The end of the stage's log (at most 64 KB). */
  log: string;
  worker: string;
}

const LOG_BYTES = 64 * 1024;

/** Parses `redis://[user:pass@]host:port[/db]` into ioredis options. */
export function redisConnection(uri: string): {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
} {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TrestleError('INVALID_ARGUMENT', `TRESTLE_QUEUE must be a redis://host:port URL, got '${uri}'`);
  }
  if (url.protocol !== 'redis:')
    throw new TrestleError('INVALID_ARGUMENT', `TRESTLE_QUEUE must be a redis://host:port URL, got '${uri}'`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    host: url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    ...(db === undefined || Number.isNaN(db) ? {} : { db }),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    maxRetriesPerRequest: null,
  };
}

/**
 * Checks that the queue's Redis answers (within 3 s), so a stopped or mistyped queue is one
 * clear error instead of a client retrying forever.
 */
export async function assertQueueReachable(uri: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({
    ...redisConnection(uri),
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: string | undefined;
  client.on('error', (err: Error) => (cause ??= err.message)); // reported below, once
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new TrestleError(
      'UNAVAILABLE',
      `cannot reach the queue at ${uri} (${cause ?? (err as Error).message}); start Redis there, fix TRESTLE_QUEUE, or run the stages here with --local`,
    );
  } finally {
    client.disconnect();
  }
}

/** Every object of the given versions, from the cache (`repo.objectsOf`), manifests included. */
async function objectsOf(repo: DataRepo, versions: readonly LockedPath[]): Promise<Set<string>> {
  return (await repo.objectsOf(versions)).objects;
}

/** Fetches versions from the remote into the cache and puts them in the workspace. */
async function materialize(repo: DataRepo, remote: ArtifactStore, versions: readonly LockedPath[]): Promise<void> {
  await pullObjects(
    repo.cache,
    remote,
    versions.map((v) => v.sha256),
  ); // folder manifests first
  await pullObjects(repo.cache, remote, await objectsOf(repo, versions));
  for (const v of versions) await repo.restore(join(repo.root, v.path), v, { force: true });
}

/**
 * Runs stages on `trestle worker` processes through a BullMQ queue on Redis. Before a stage is
 * queued its inputs are stored in the cache and pushed to the remote; the worker pulls them,
 * runs the command, pushes the outputs; here they are pulled and checked out, so the runner
 * records them exactly as after a local run. A worker that dies mid-stage loses its lock and
 * BullMQ hands the stage to another worker.
 */
export class QueueExecutor implements Executor {
  readonly #queue: Queue;
  readonly #events: QueueEvents;

  private constructor(
    readonly repo: DataRepo,
    readonly remote: ArtifactStore,
    queue: Queue,
    events: QueueEvents,
  ) {
    this.#queue = queue;
    this.#events = events;
  }

  static async open(repo: DataRepo, remote: ArtifactStore, queueUri: string): Promise<QueueExecutor> {
    await assertQueueReachable(queueUri);
    const { Queue, QueueEvents } = await import('bullmq');
    const connection = redisConnection(queueUri);
    const queue = new Queue(STAGE_QUEUE, { connection });
    const events = new QueueEvents(STAGE_QUEUE, { connection });
    await events.waitUntilReady();
    return new QueueExecutor(repo, remote, queue, events);
  }

  async run(proc: StageProcess): Promise<number> {
    const { repo } = this;
    for (const d of proc.deps) {
      const abs = join(repo.root, d.path);
      await repo.commit(abs, await repo.hashPath(abs));
    }
    await pushObjects(repo.cache, this.remote, await objectsOf(repo, proc.deps));
    const data: StageJob = {
      stage: {
        name: proc.stage.name,
        cmd: proc.stage.cmd,
        wdir: proc.stage.wdir,
        outs: proc.stage.outs,
        deps: proc.stage.deps,
      },
      deps: proc.deps,
      env: proc.env,
    };
    const job = await this.#queue.add(proc.stage.name, data, {
      attempts: 1,
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
    let result: StageJobResult;
    try {
      result = (await job.waitUntilFinished(this.#events)) as StageJobResult;
    } catch (err) {
      const message = `the worker could not run it: ${(err as Error).message}`;
      await writeFile(proc.log, `${message}\n`);
      proc.onLine(message);
      return 1;
    }
    await writeFile(proc.log, result.log);
    for (const line of result.log.split('\n').filter((l) => l !== '')) proc.onLine(line);
    proc.onLine(`(ran on worker ${result.worker})`);
    if (result.exitCode === 0) await materialize(repo, this.remote, result.outs);
    return result.exitCode;
  }

  async close(): Promise<void> {
    await this.#events.close();
    await this.#queue.close();
  }
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  repo: DataRepo;
  remote: ArtifactStore;
  queueUri: string;
  /** Stages at a time. */
  concurrency?: number;
  /** How long a stage's lock lasts without renewal before BullMQ hands it to another worker. */
  lockDurationMs?: number;
  name?: string;
  onEvent?: (message: string) => void;
}

/**
 * A `trestle worker`: takes stages from the queue, pulls their inputs from the remote into its
 * own workspace, runs them, pushes their outputs. A failing command is a result (its exit code
 * and log go back); only a dead worker makes BullMQ retry the stage elsewhere.
 */
export async function startWorker(options: WorkerOptions): Promise<{ close(): Promise<void> }> {
  const { Worker } = await import('bullmq');
  const { repo, remote } = options;
  const name = options.name ?? `${(await import('node:os')).hostname()}:${process.pid}`;
  const say = options.onEvent ?? (() => undefined);
  await assertQueueReachable(options.queueUri);
  const worker = new Worker<StageJob, StageJobResult>(
    STAGE_QUEUE,
    async (job) => {
      const { stage, deps, env } = job.data;
      say(`taking stage ${stage.name} (job ${job.id})`);
      await materialize(repo, remote, deps);
      for (const o of stage.outs) {
        await rm(join(repo.root, o), { recursive: true, force: true });
        await mkdir(dirname(join(repo.root, o)), { recursive: true });
      }
      const logDir = join(repo.home, 'logs');
      await mkdir(logDir, { recursive: true });
      const log = join(logDir, `${stage.name.replace(/[^\w.@-]/g, '_')}.log`);
      const exitCode = await localExecutor.run({
        stage: { ...stage, params: [], metrics: [], uncached: [], alwaysChanged: false, line: 0 },
        cwd: join(repo.root, stage.wdir),
        env,
        log,
        deps,
        onLine: () => undefined,
      });
      const text = await readFile(log, 'utf8');
      const tail = text.length > LOG_BYTES ? text.slice(-LOG_BYTES) : text;
      if (exitCode !== 0) {
        say(`stage ${stage.name} failed with exit code ${exitCode}`);
        return { exitCode, outs: [], log: tail, worker: name };
      }
      const outs: LockedPath[] = [];
      for (const o of stage.outs) {
        const abs = join(repo.root, o);
        const v = await repo.hashPath(abs).catch(() => undefined);
        if (v === undefined)
          return { exitCode: 1, outs: [], log: `${tail}\nthe stage did not write its output '${o}'\n`, worker: name };
        await repo.commit(abs, v);
        outs.push({ path: o, kind: v.kind, sha256: v.sha256, size: v.size, files: v.files });
      }
      await pushObjects(repo.cache, remote, await objectsOf(repo, outs));
      say(`stage ${stage.name} done`);
      return { exitCode: 0, outs, log: tail, worker: name };
    },
    {
      connection: redisConnection(options.queueUri),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(1000, Math.floor((options.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 2,
      name,
    },
  );
  // A lost connection is retried by BullMQ; say so once instead of an unhandled-error stack per retry.
  let told = false;
  worker.on('error', (err) => {
    if (!told) say(`queue connection problem, retrying: ${err.message}`);
    told = true;
  });
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
