import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  SYSTEM_TAGS,
  runArtifactKey,
  TrestleError,
  type ArtifactInfo,
  type ArtifactStore,
  type Dataset,
  type Metric,
  type Run,
  type RunStatus,
  type TrackingBackend,
} from '@trestle/core';
import { MetricBuffer, type DroppedMetrics, type MetricBufferOptions } from './metric-buffer.js';

/** A dataset version read by a run, and in what role (`training`, `evaluation`, …). */
export interface DatasetRef extends Omit<Dataset, 'sourceType'> {
  sourceType?: string;
  /** Recorded as the `mlflow.data.context` input tag. */
  context?: string;
}

/**
 * A run being logged to. Metrics are buffered and written in batches; params, tags,
 * inputs and artifacts are written at once. `end()` flushes and closes the run.
 *
 * @example
 * const run = await trestle.startRun({ experiment: 'flights', params: { l2: 0.1 } });
 * run.logMetric('loss', 0.42, 1);
 * await run.end();
 */
export class ActiveRun {
  readonly #backend: TrackingBackend;
  readonly #artifacts: ArtifactStore;
  readonly #buffer: MetricBuffer;
  readonly #onEnd: (run: ActiveRun) => void;
  #run: Run;
  #ended = false;

  constructor(
    backend: TrackingBackend,
    artifacts: ArtifactStore,
    run: Run,
    options: { buffer?: MetricBufferOptions; onEnd: (run: ActiveRun) => void },
  ) {
    this.#backend = backend;
    this.#artifacts = artifacts;
    this.#run = run;
    this.#onEnd = options.onEnd;
    const runId = run.info.runId;
    this.#buffer = new MetricBuffer((metrics) => backend.logBatch(runId, { metrics }), {
      label: `run ${runId}`,
      ...options.buffer,
    });
  }

  /** The run id (32 hex characters). */
  get id(): string {
    return this.#run.info.runId;
  }

  /** The run as it was at start or at `end()`. */
  get run(): Run {
    return this.#run;
  }

  /**
   * Metric points the store refused (and that were dropped so that the rest could be written):
   * how many, per error code, and the first refusal's message. Each kind of refusal is also
   * reported once on stderr.
   */
  get droppedMetrics(): DroppedMetrics {
    return this.#buffer.dropped;
  }

  /**
   * Buffers one metric point (`step` defaults to 0, timestamp now). Throws `INVALID_ARGUMENT`
   * at once for a point the store would refuse (key over 250 characters, a value that is not
   * a number, a step that is not an integer). Resolves at once unless the buffer is full;
   * await it in tight loops to get backpressure.
   */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): Promise<void> {
    this.#assertActive();
    return this.#buffer.add({ key, value, step, timestamp });
  }

  /** Buffers several metrics at one step. */
  logMetrics(metrics: Record<string, number>, step = 0, timestamp = Date.now()): Promise<void> {
    this.#assertActive();
    return this.#buffer.add(...Object.entries(metrics).map(([key, value]) => ({ key, value, step, timestamp })));
  }

  /** Logs params (immutable: the same value again is fine, another value is a `CONFLICT`). */
  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    this.#assertActive();
    const list = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
    for (let i = 0; i < list.length; i += 100) {
      await this.#backend.logBatch(this.id, { params: list.slice(i, i + 100) });
    }
  }

  /** Sets tags (overwriting). */
  async setTags(tags: Record<string, string>): Promise<void> {
    this.#assertActive();
    const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
    for (let i = 0; i < list.length; i += 100) {
      await this.#backend.logBatch(this.id, { tags: list.slice(i, i + 100) });
    }
  }

  /** Records a dataset version the run read. */
  async logInput(dataset: DatasetRef): Promise<void> {
    this.#assertActive();
    const { context, sourceType, ...rest } = dataset;
    await this.#backend.logInputs(this.id, [
      {
        dataset: { ...rest, sourceType: sourceType ?? 'local' },
        tags: context === undefined ? [] : [{ key: SYSTEM_TAGS.datasetContext, value: context }],
      },
    ]);
  }

  /**
   * Uploads a local file (or a folder, recursively) under the run's artifacts, streamed.
   * `artifactPath` is the folder inside the run's artifacts (default: the top).
   */
  async logArtifact(localPath: string, artifactPath = ''): Promise<ArtifactInfo[]> {
    this.#assertActive();
    const prefix = artifactPath === '' ? '' : `${artifactPath.replace(/\/+$/, '')}/`;
    const info = await stat(localPath).catch((err: unknown) => {
      throw new TrestleError('INVALID_ARGUMENT', `cannot read artifact '${localPath}': ${(err as Error).message}`);
    });
    if (!info.isDirectory()) {
      const key = runArtifactKey(this.#run.info, `${prefix}${basename(localPath)}`);
      return [await this.#artifacts.put(key, createReadStream(localPath))];
    }
    const out: ArtifactInfo[] = [];
    for (const entry of await readdir(localPath, { withFileTypes: true })) {
      const child = join(localPath, entry.name);
      if (entry.isDirectory()) out.push(...(await this.logArtifact(child, `${prefix}${entry.name}`)));
      else if (entry.isFile()) out.push(...(await this.logArtifact(child, artifactPath)));
    }
    return out;
  }

  /** Uploads text or bytes as an artifact at `artifactPath` (e.g. `model/model.json`). */
  async logText(artifactPath: string, content: string | Uint8Array): Promise<ArtifactInfo> {
    this.#assertActive();
    return this.#artifacts.put(runArtifactKey(this.#run.info, artifactPath), content);
  }

  /**
   * Stops the run at once, without writing anything, and returns its points not yet written:
   * for a process that is exiting and ends the run another way (see `exit/exit-guard.ts`).
   * @internal
   */
  abandon(): Metric[] {
    this.#ended = true;
    this.#onEnd(this);
    return this.#buffer.takeAll();
  }

  /** Writes buffered metrics now. */
  flush(): Promise<void> {
    return this.#buffer.flush();
  }

  /**
   * Flushes buffered metrics and ends the run with `status` (default `FINISHED`).
   * If the flush fails the run is marked `FAILED` and the error is thrown.
   */
  async end(status: Exclude<RunStatus, 'RUNNING' | 'SCHEDULED'> = 'FINISHED'): Promise<Run> {
    if (this.#ended) return this.#run;
    this.#ended = true;
    try {
      try {
        await this.#buffer.flush();
      } catch (err) {
        this.#buffer.dispose();
        await this.#backend.updateRun(this.id, { status: 'FAILED', endTime: Date.now() });
        throw err;
      }
      this.#buffer.dispose();
      await this.#backend.updateRun(this.id, { status, endTime: Date.now() });
      this.#run = await this.#backend.getRun(this.id);
      return this.#run;
    } finally {
      // Only now: a process that exits while this runs still finishes the run (exit guard).
      this.#onEnd(this);
    }
  }

  #assertActive(): void {
    if (this.#ended) {
      throw new TrestleError('FAILED_PRECONDITION', `run ${this.id} has ended; start a new run to log more`);
    }
  }
}
