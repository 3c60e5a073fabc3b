import type { ExperimentStore } from './experiment-store.js';
import type { RunStore } from './run-store.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { TokenStore } from './token-store.js';
import type { DataVersionStore } from './data-version-store.js';
import type { RegistryStore } from './registry-store.js';
import type { LoggedModelStore } from './logged-model-store.js';
import type { MonitoringStore } from './monitoring-store.js';
import type { TraceStore } from './trace-store.js';

/**
 * What the SDK, the CLI and the server need to track experiments: implemented by the SQL
 * store (embedded SQLite or PostgreSQL) and, over HTTP, by the REST client.
 */
export interface TrackingBackend extends ExperimentStore, RunStore {
  /** Releases connections; further calls fail. */
  close(): Promise<void>;
}

/** Read-only facts about a metadata backend, checked in one place instead of by dialect name. */
export interface StoreCapabilities {
  /** `sqlite` or `postgres`, for messages and benchmarks only. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Whether several processes may write at the same time. */
  readonly concurrentWriters: boolean;
}

/** A metadata store: a tracking backend with a schema to migrate. */
export interface MetadataStore extends TrackingBackend {
  readonly capabilities: StoreCapabilities;
  /** API tokens of servers started with access control (`trestle server --auth`). */
  readonly tokens: TokenStore;
  /** Answers kept for requests sent with an `Idempotency-Key` (see the server's idempotency hook). */
  readonly idempotency: IdempotencyStore;
  /** Dataset versions recorded by `trestle data add` and pipelines. */
  readonly dataVersions: DataVersionStore;
  /** The model registry: registered models, versions, aliases, their audit trail and events. */
  readonly registry: RegistryStore;
  /** MLflow 3 logged models and the model inputs/outputs of runs. */
  readonly loggedModels: LoggedModelStore;
  /** Inference logs, window summaries, monitoring results and alert state (`0007-monitoring`). */
  readonly monitoring: MonitoringStore;
  /** MLflow Tracing's trace records (`0008-traces`); spans are in the artifact store. */
  readonly traces: TraceStore;
  /** Applies pending migrations; returns the names of those applied. */
  migrate(): Promise<string[]>;
  /** Names of applied and pending migrations. */
  migrationStatus(): Promise<{ applied: string[]; pending: string[] }>;
  /**
   * Whether the last write failed because the store's disk (or quota) is full and no write has
   * succeeded since: readiness probes report it. Optional for stores that cannot tell.
   *
   * @example if (store.writeStatus?.().writable === false) reply.status(503)
   */
  writeStatus?(): { writable: true } | { writable: false; reason: string };
}
