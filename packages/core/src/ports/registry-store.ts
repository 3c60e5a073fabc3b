import type { Tag } from '../experiment.js';
import type { Page } from '../page.js';
import type {
  ChangeContext,
  DatasetLineage,
  ModelLineage,
  ModelStage,
  ModelVersion,
  ModelVersionStatus,
  RegisteredModel,
  RegistryEvent,
} from '../registry.js';

/** Input of {@link RegistryStore.createRegisteredModel}. */
export interface CreateRegisteredModelInput {
  name: string;
  description?: string;
  tags?: Tag[];
}

/** Input of {@link RegistryStore.createModelVersion}. */
export interface CreateModelVersionInput {
  /** The registered model; created in the same transaction when `createModel` is true. */
  name: string;
  source: string;
  runId?: string;
  runLink?: string;
  /** The MLflow 3 logged model (`m-<32 hex>`) this version registers. */
  modelId?: string;
  description?: string;
  tags?: Tag[];
  /** Default `READY`: the package is already in the artifact store. */
  status?: ModelVersionStatus;
  statusMessage?: string;
  /** Create the registered model if it does not exist (default false: `NOT_FOUND`). */
  createModel?: boolean;
  /** Point these aliases at the new version in the same transaction (needs status READY). */
  aliases?: string[];
}

/** Fields of {@link RegistryStore.updateModelVersion}; absent fields stay. */
export interface UpdateModelVersionInput {
  description?: string;
  status?: ModelVersionStatus;
  statusMessage?: string;
  stage?: ModelStage;
}

/** Options of the registry searches. */
export interface RegistrySearchOptions {
  /**
   * MLflow's registry filter (plus `OR` and parentheses). Models: `name` (`=`, `!=`, `LIKE`,
   * `ILIKE`) and `tags.<key>`; versions: `name`, `version_number`, `run_id` (also `IN`),
   * `source_path`, `tags.<key>`. `tags.k != 'v'` also matches what has no tag `k`.
   */
  filter?: string;
  /** e.g. `['name ASC']`, `['last_updated_timestamp DESC']`; models default `name ASC`. */
  orderBy?: string[];
  /** Default 100 (models) or 1000 (versions), at most 50,000. */
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link RegistryStore.listEvents}. */
export interface ListEventsOptions {
  /** Only events after this id (the `Last-Event-ID` of a reconnecting reader). */
  after?: number;
  /** Only events of this model (by its current name). */
  model?: string;
  /** Only these types. */
  types?: readonly string[];
  /** Default 1000, at most 10,000. */
  limit?: number;
  /** `asc` (default, for streams) or `desc` (newest first, for history). */
  order?: 'asc' | 'desc';
}

/**
 * The model registry in the metadata store: registered models, their versions, tags and
 * aliases, with an audit trail of every change that also feeds the event stream. Writes take
 * an optional {@link ChangeContext} (actor, reason) recorded with the change.
 *
 * @example
 * await store.registry.createModelVersion({ name: 'fraud', source: `runs:/${runId}/model`, runId, createModel: true });
 * await store.registry.setAlias('fraud', 'champion', 1, { actor: 'ci', reason: 'first model' });
 * (await store.registry.getModelVersionByAlias('fraud', 'champion')).version; // 1
 */
export interface RegistryStore {
  /** `ALREADY_EXISTS` when the name is taken. */
  createRegisteredModel(input: CreateRegisteredModelInput, ctx?: ChangeContext): Promise<RegisteredModel>;
  /** `NOT_FOUND` when there is no such model. */
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  searchRegisteredModels(options?: RegistrySearchOptions): Promise<Page<RegisteredModel>>;
  /** Versions, aliases and tags move with the model. `ALREADY_EXISTS` when `newName` is taken. */
  renameRegisteredModel(name: string, newName: string, ctx?: ChangeContext): Promise<RegisteredModel>;
  updateRegisteredModel(name: string, input: { description?: string }, ctx?: ChangeContext): Promise<RegisteredModel>;
  /** Deletes the model with its versions and aliases (the audit trail stays). */
  deleteRegisteredModel(name: string, ctx?: ChangeContext): Promise<void>;
  setRegisteredModelTag(name: string, key: string, value: string, ctx?: ChangeContext): Promise<void>;
  deleteRegisteredModelTag(name: string, key: string, ctx?: ChangeContext): Promise<void>;

  /**
   * Registers a new version (the next number), atomically: the model (with `createModel`), the
   * version, its tags and aliases are all written or none. `NOT_FOUND` for an unknown model or run.
   */
  createModelVersion(input: CreateModelVersionInput, ctx?: ChangeContext): Promise<ModelVersion>;
  /** `NOT_FOUND` when the model or version does not exist. */
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  /** The version an alias points to; `NOT_FOUND` when the alias is not set. */
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  /** The newest version (highest number), optionally of a stage; `undefined` when there is none. */
  getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<ModelVersion[]>;
  searchModelVersions(options?: RegistrySearchOptions): Promise<Page<ModelVersion>>;
  updateModelVersion(
    name: string,
    version: number,
    input: UpdateModelVersionInput,
    ctx?: ChangeContext,
  ): Promise<ModelVersion>;
  /**
   * MLflow's `transition-stage`: sets the stage; with `archiveExisting`, other versions in the
   * same stage (Staging or Production) move to Archived.
   */
  transitionStage(
    name: string,
    version: number,
    stage: ModelStage,
    archiveExisting: boolean,
    ctx?: ChangeContext,
  ): Promise<ModelVersion>;
  /** Deletes a version and the aliases on it (recorded). */
  deleteModelVersion(name: string, version: number, ctx?: ChangeContext): Promise<void>;
  setModelVersionTag(name: string, version: number, key: string, value: string, ctx?: ChangeContext): Promise<void>;
  deleteModelVersionTag(name: string, version: number, key: string, ctx?: ChangeContext): Promise<void>;

  /**
   * Points `alias` at `version` (creating or moving it). `FAILED_PRECONDITION` when the version
   * is not READY; `INVALID_ARGUMENT` for a bad alias name (`latest` and `v<digits>` are reserved).
   * The move is recorded with the old and new version.
   */
  setAlias(name: string, alias: string, version: number, ctx?: ChangeContext): Promise<void>;
  /** `NOT_FOUND` when the alias is not set. */
  deleteAlias(name: string, alias: string, ctx?: ChangeContext): Promise<void>;
  /**
   * Moves the alias back to the version it pointed to before its last move (recorded as an
   * alias move with the reason). `FAILED_PRECONDITION` when there is no earlier version (or it
   * was deleted or is not READY). Returns the version the alias now points to.
   */
  rollbackAlias(name: string, alias: string, ctx?: ChangeContext): Promise<ModelVersion>;

  /** Version → run → dataset digests. */
  getVersionLineage(name: string, version: number): Promise<ModelLineage>;
  /** Dataset digest → runs that read it → versions those runs made. */
  getDatasetLineage(digest: string): Promise<DatasetLineage>;

  /** The audit trail / event feed, in id order (or newest first). */
  listEvents(options?: ListEventsOptions): Promise<RegistryEvent[]>;
  /** The id of the newest event (0 when none), where a new stream reader starts. */
  lastEventId(): Promise<number>;
}
