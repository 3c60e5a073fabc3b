import {
  SYSTEM_TAGS,
  TrestleError,
  isTrestleError,
  loadConfig,
  type ArtifactStore,
  type ChangeContext,
  type CreateModelVersionInput,
  type Experiment,
  type Run,
  type ModelVersion,
  type RegisteredModel,
  type RegistryEvent,
  type LoggedModelStore,
  type RegistryStore,
  type TrackingBackend,
  type TrestleConfig,
} from '@trestle/core';
import { parseModelUri } from './model-uri.js';
import { watchEvents, type WatchOptions } from './watch-events.js';
import { ActiveRun } from './active-run.js';
import { exitGuard } from './exit/exit-guard.js';
import type { FinishTarget } from './exit/finish-job.js';
import type { MetricBufferOptions } from './metric-buffer.js';
import { importStore } from './embedded-store.js';

/** Options of {@link Trestle.connect}. Anything absent comes from the environment, then defaults. */
export interface ConnectOptions {
  /** A Trestle server URL; absent means the embedded store (`TRESTLE_TRACKING_URI`). */
  trackingUri?: string;
  /** Embedded metadata store: SQLite file or `postgres://…` (`TRESTLE_DB`). */
  db?: string;
  /** Embedded artifact root: folder or `s3://…` (`TRESTLE_ARTIFACTS`). */
  artifacts?: string;
  /** A fully parsed configuration; overrides the fields above and the environment. */
  config?: TrestleConfig;
  /** Metric buffering of every run started by this client. */
  buffer?: MetricBufferOptions;
  /**
   * When the process ends badly (an uncaught error, `process.exit()`, SIGINT, SIGTERM), how long
   * it may wait to write open runs' buffered points and final status, in ms. Default 10,000 for
   * the embedded store, 3,000 over HTTP (best effort).
   */
  exitTimeoutMs?: number;
  /** Over HTTP: retries of the transport (default 8 attempts, 250 ms … 8 s apart; a CLI wants fewer). */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * Embedded mode: create the store when there is none yet (default true). `false` for
   * programs that only read, so that looking never creates a store (a missing one is `NOT_FOUND`).
   */
  create?: boolean;
}

/**
 * Reads MLflow 3 logged models; `artifacts`, when given, holds their files (else the client's
 * own artifact store does).
 */
export type LoggedModelReader = Pick<LoggedModelStore, 'getLoggedModel'> & {
  readonly artifacts?: Pick<ArtifactStore, 'list' | 'get'>;
};

/** Input of {@link Trestle.startRun}. */
export interface StartRunOptions {
  /** Experiment name, created if missing. Default: the configured experiment (`Default`). */
  experiment?: string;
  name?: string;
  params?: Record<string, string | number | boolean>;
  tags?: Record<string, string>;
  /** Start a child run of this run. */
  parentRunId?: string;
  /**
   * Continue this existing run instead of creating one. Default: `TRESTLE_RUN_ID` from the
   * environment for the first run a process starts (a pipeline stage logs into its stage's
   * run this way, as MLflow's `start_run()` honours `MLFLOW_RUN_ID`).
   */
  runId?: string;
}

/**
 * The Trestle SDK. Logs to the embedded store (a SQLite file and a folder under `.trestle/`)
 * when no tracking URI is set, or to a Trestle server: the same interface either way.
 *
 * @example
 * const trestle = await Trestle.connect();
 * const run = await trestle.startRun({ experiment: 'flights', params: { l2: 1 } });
 * run.logMetric('loss', 0.5, 0);
 * await run.end();
 * await trestle.close();
 *
 * Runs left open end as MLflow's fluent API ends them: FINISHED when the script ends normally,
 * FAILED on an uncaught error or `process.exit(non-zero)`, KILLED on SIGINT/SIGTERM, their
 * buffered points written first (see `exit/exit-guard.ts`).
 */
export class Trestle {
  /** Experiments and runs (the store port, or its HTTP implementation). */
  readonly backend: TrackingBackend;
  /** Where run artifacts go. */
  readonly artifacts: ArtifactStore;
  readonly config: TrestleConfig;
  /** The model registry (the store port, or its HTTP implementation). */
  readonly registry: RegistryStore;
  /**
   * MLflow 3 logged models (`models:/m-<id>`, which `loadModel` reads): the store's own when
   * embedded (their files are in {@link artifacts}); over HTTP, read through the server's MLflow
   * dialect, with their own `artifacts` (the MLflow artifact proxy).
   */
  readonly loggedModels: LoggedModelReader | undefined;
  readonly #buffer: MetricBufferOptions | undefined;
  readonly #exitTimeoutMs: number | undefined;
  readonly #open = new Set<ActiveRun>();
  #envRunTaken = false;

  constructor(
    backend: TrackingBackend,
    artifacts: ArtifactStore,
    config: TrestleConfig,
    buffer?: MetricBufferOptions,
    options: {
      exitTimeoutMs?: number | undefined;
      registry?: RegistryStore | undefined;
      loggedModels?: LoggedModelReader | undefined;
    } = {},
  ) {
    this.backend = backend;
    this.artifacts = artifacts;
    this.config = config;
    this.#buffer = buffer;
    this.#exitTimeoutMs = options.exitTimeoutMs;
    const embedded = (backend as Partial<{ registry: RegistryStore }>).registry;
    this.registry = options.registry ?? embedded ?? missingRegistry();
    this.loggedModels = options.loggedModels ?? (backend as Partial<{ loggedModels: LoggedModelStore }>).loggedModels;
  }

  /** Connects to the configured backend; the embedded store is loaded only when used. */
  static async connect(options: ConnectOptions = {}): Promise<Trestle> {
    const config =
      options.config ??
      loadConfig({ trackingUri: options.trackingUri, db: options.db, artifacts: options.artifacts }, process.env);
    if (config.trackingUri !== undefined) {
      const { connectRest } = await import('./rest/index.js');
      const { backend, artifacts, registry, loggedModels } = connectRest({
        trackingUri: config.trackingUri,
        token: config.trackingToken,
        ...(options.retry === undefined ? {} : { retry: options.retry }),
      });
      return new Trestle(backend, artifacts, config, options.buffer, {
        exitTimeoutMs: options.exitTimeoutMs,
        registry,
        loggedModels,
      });
    }
    const { openStores } = await importStore();
    const { metadata, artifacts } = await openStores(config, process.cwd(), { create: options.create ?? true });
    return new Trestle(metadata, artifacts, config, options.buffer, {
      exitTimeoutMs: options.exitTimeoutMs,
      registry: metadata.registry,
    });
  }

  // ---------------------------------------------------------------- registry

  /**
   * Registers a model package as the next version of `name` (creating the model if needed),
   * atomically, optionally pointing aliases at it.
   *
   * @example
   * const v = await trestle.registerModel('flights-delay', `runs:/${run.id}/model`, { runId: run.id, aliases: ['champion'] });
   */
  registerModel(
    name: string,
    source: string,
    options: Omit<CreateModelVersionInput, 'name' | 'source'> = {},
    ctx?: ChangeContext,
  ): Promise<ModelVersion> {
    return this.registry.createModelVersion({ createModel: true, ...options, name, source }, ctx);
  }

  /** {@link RegistryStore.createModelVersion}. */
  createModelVersion(input: CreateModelVersionInput, ctx?: ChangeContext): Promise<ModelVersion> {
    return this.registry.createModelVersion(input, ctx);
  }

  /** One version; `NOT_FOUND` when the model or version does not exist. */
  getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.registry.getModelVersion(name, version);
  }

  /** The version an alias points to; `NOT_FOUND` when the alias is not set. */
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.registry.getModelVersionByAlias(name, alias);
  }

  /** A registered model with its tags and aliases. */
  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.registry.getRegisteredModel(name);
  }

  /** Points (or moves) an alias; `FAILED_PRECONDITION` when the version is not READY. Recorded with `ctx`. */
  setAlias(name: string, alias: string, version: number, ctx?: ChangeContext): Promise<void> {
    return this.registry.setAlias(name, alias, version, ctx);
  }

  /** Deletes an alias (recorded). */
  deleteAlias(name: string, alias: string, ctx?: ChangeContext): Promise<void> {
    return this.registry.deleteAlias(name, alias, ctx);
  }

  /**
   * The version a `models:/` URI names: `models:/<name>/<version>`, `models:/<name>@<alias>`
   * or `models:/<name>/latest` (the highest version).
   *
   * @example (await trestle.resolveModelUri('models:/flights-delay@champion')).source // 'runs:/4f2a…/model'
   */
  async resolveModelUri(uri: string): Promise<ModelVersion> {
    const ref = parseModelUri(uri);
    if (ref.alias !== undefined) return this.registry.getModelVersionByAlias(ref.name, ref.alias);
    if (ref.version !== undefined) return this.registry.getModelVersion(ref.name, ref.version);
    // The newest version of each stage; the highest of them is the newest overall.
    const newest = (await this.registry.getLatestVersions(ref.name)).sort((a, b) => b.version - a.version)[0];
    if (newest === undefined) {
      throw new TrestleError('NOT_FOUND', `registered model '${ref.name}' has no versions yet`, { name: ref.name });
    }
    return newest;
  }

  /**
   * Registry changes as they happen, across server replicas: an async iterable of events after
   * `after` (default: from now). Over HTTP it reads the server-sent event stream (reconnecting
   * with `Last-Event-ID`); embedded, it polls the store. Stop it with `signal`.
   *
   * @example
   * for await (const e of trestle.watchRegistry({ model: 'fraud', signal })) if (e.type === 'alias.set') reload(e);
   */
  watchRegistry(options: WatchOptions = {}): AsyncIterable<RegistryEvent> {
    return watchEvents(this.registry, this.config, options);
  }

  /** Gets an experiment by name, creating it if missing (safe against concurrent creators). */
  async experiment(name: string): Promise<Experiment> {
    try {
      return await this.backend.getExperimentByName(name);
    } catch (err) {
      if (!isTrestleError(err, 'NOT_FOUND')) throw err;
    }
    try {
      return await this.backend.createExperiment({ name });
    } catch (err) {
      if (isTrestleError(err, 'ALREADY_EXISTS')) return this.backend.getExperimentByName(name);
      throw err;
    }
  }

  /** Starts a run (or continues `runId` / `TRESTLE_RUN_ID`) and logs its initial params and tags. */
  async startRun(options: StartRunOptions = {}): Promise<ActiveRun> {
    const target = this.#finishTarget();
    // The exit worker loads while the run is created (see exit/exit-guard.ts).
    const prepared = exitGuard.prepare(target);
    const resume = options.runId ?? (this.#envRunTaken ? undefined : process.env['TRESTLE_RUN_ID']);
    this.#envRunTaken = true;
    let run: Run;
    if (resume !== undefined && resume !== '') {
      run = await this.backend.getRun(resume);
    } else {
      const experiment = await this.experiment(options.experiment ?? this.config.experiment);
      const tags = Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value }));
      if (!tags.some((t) => t.key === SYSTEM_TAGS.source) && process.argv[1] !== undefined) {
        tags.push({ key: SYSTEM_TAGS.source, value: process.argv[1] });
      }
      run = await this.backend.createRun({
        experimentId: experiment.experimentId,
        ...(options.name === undefined ? {} : { runName: options.name }),
        ...(options.parentRunId === undefined ? {} : { parentRunId: options.parentRunId }),
        tags,
      });
    }
    await prepared;
    const active = new ActiveRun(this.backend, this.artifacts, run, {
      ...(this.#buffer === undefined ? {} : { buffer: this.#buffer }),
      onEnd: (r) => this.#forget(r),
    });
    this.#open.add(active);
    exitGuard.add(active, target, this.#exitTimeoutMs ?? (target.kind === 'rest' ? 3000 : 10_000));
    if (options.params !== undefined) await active.logParams(options.params);
    return active;
  }

  #finishTarget(): FinishTarget {
    return this.config.trackingUri === undefined
      ? { kind: 'embedded', db: this.config.db, artifacts: this.config.artifacts }
      : {
          kind: 'rest',
          trackingUri: this.config.trackingUri,
          ...(this.config.trackingToken === undefined ? {} : { token: this.config.trackingToken }),
        };
  }

  /** Ends open runs as KILLED (after flushing them) and closes the stores. */
  async close(): Promise<void> {
    for (const run of [...this.#open]) await run.end('KILLED');
    await Promise.all([this.backend.close(), this.artifacts.close()]);
  }

  #forget(run: ActiveRun): void {
    this.#open.delete(run);
    exitGuard.delete(run);
  }
}

function missingRegistry(): RegistryStore {
  return new Proxy({} as RegistryStore, {
    get: () => () =>
      Promise.reject(new TrestleError('FAILED_PRECONDITION', 'this Trestle client was built without a model registry')),
  });
}
