import type { Tag } from './experiment.js';

/**
 * The model registry's entities (MLflow `RegisteredModel`, `ModelVersion`, aliases), plus the
 * audit trail of every change. Times are epoch milliseconds; versions are positive integers,
 * numbered per model from 1 and never reused.
 */

/** Status of a model version (MLflow's names). Only `READY` versions may carry an alias. */
export const MODEL_VERSION_STATUSES = ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

/** MLflow's deprecated stages, kept for the MLflow dialect's `transition-stage`. */
export const MODEL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** An alias (`champion`, `challenger`, any name) and the version it points to. */
export interface ModelAlias {
  alias: string;
  version: number;
}

/** A named model: the versions registered under it share its name, tags and aliases. */
export interface RegisteredModel {
  name: string;
  description: string;
  creationTime: number;
  lastUpdatedTime: number;
  /** Who created it (the token name when the server checks tokens); empty when unknown. */
  userId: string;
  tags: Tag[];
  aliases: ModelAlias[];
  /** The highest version number ever given (0 before the first version). */
  latestVersion: number;
}

/** One version of a registered model: a model package at `source`, made by `runId`. */
export interface ModelVersion {
  name: string;
  version: number;
  creationTime: number;
  lastUpdatedTime: number;
  description: string;
  userId: string;
  /**
   * Where the package is: an artifact URI such as `runs:/<run>/model`, `models:/m-<id>` (an
   * MLflow 3 logged model) or a store URI.
   */
  source: string;
  /** The run that made it; absent when registered from a file. */
  runId?: string;
  runLink?: string;
  /** The MLflow 3 logged model it was registered from (`m-<32 hex>`), if any. */
  modelId?: string;
  status: ModelVersionStatus;
  statusMessage?: string;
  /** MLflow's deprecated stage; `None` unless someone used `transition-stage`. */
  stage: ModelStage;
  tags: Tag[];
  /** Aliases pointing at this version. */
  aliases: string[];
}

/** Kinds of change recorded in the audit trail and sent on the event stream. */
export const REGISTRY_EVENT_TYPES = [
  'model.created',
  'model.updated',
  'model.renamed',
  'model.deleted',
  'version.created',
  'version.updated',
  'version.deleted',
  'alias.set',
  'alias.deleted',
] as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/**
 * One recorded change: the audit trail of the registry and the feed of `GET /api/v1/events`.
 * `id` grows with every change (in commit order), so a reader resumes after the last id it saw.
 *
 * @example
 * { id: 42, type: 'alias.set', time: 1718000000000, actor: 'ci', model: 'fraud', alias: 'champion',
 *   version: 7, oldVersion: 6, newVersion: 7, reason: 'beats v6 on AUC' }
 */
export interface RegistryEvent {
  id: number;
  type: RegistryEventType;
  time: number;
  /** Who made the change: the token name when the server checks tokens, else the OS user or ''. */
  actor: string;
  /** The model's name at the time of the change. */
  model: string;
  version?: number;
  alias?: string;
  /** For alias moves and version changes: the version before (absent when there was none). */
  oldVersion?: number;
  /** For alias moves: the version after (absent when the alias was deleted). */
  newVersion?: number;
  reason?: string;
  /** What changed, for updates: e.g. `{ field: 'status', old: 'PENDING_REGISTRATION', new: 'READY' }`. */
  details?: Record<string, unknown>;
}

/** Who makes a change and why: recorded in the audit trail. */
export interface ChangeContext {
  /** Default: the store's default actor (the server passes the caller's token name). */
  actor?: string;
  reason?: string;
}

/** The run behind a model version and the dataset versions it read. */
export interface ModelLineage {
  version: ModelVersion;
  run?: {
    runId: string;
    runName: string;
    experimentId: string;
    status: string;
    datasets: { name: string; digest: string; source: string; context?: string }[];
  };
}

/** Where a dataset version went: the runs that read it and the model versions those runs made. */
export interface DatasetLineage {
  digest: string;
  runs: { runId: string; runName: string; experimentId: string; datasetName: string; context?: string }[];
  versions: { name: string; version: number; runId: string; aliases: string[] }[];
}
