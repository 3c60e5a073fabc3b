/**
 * Kysely table types of the metadata schema (see `migrations/0001-initial.ts` for the DDL).
 * Times are epoch milliseconds in 64-bit integer columns; PostgreSQL `int8` is parsed to a
 * JavaScript number per pool (see `open.ts`), SQLite integers come back as numbers.
 *
 * NaN cannot be stored portably (SQLite turns a bound NaN into NULL, PostgreSQL orders NaN
 * above every number), so metric rows carry `is_nan = 1` with `value = 0` (MLflow's layout);
 * ±Infinity is stored as such on both engines.
 */
import type { Generated } from 'kysely';

/** `experiments`: MLflow's experiment table; names are unique among active and deleted ones. */
export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  /** `active` | `deleted`. */
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  /** While deleted: the batch its runs were deleted in (see migration 0003-deletion-batches); else null. */
  deleted_batch: string | null;
}

/** `experiment_tags`: primary key (experiment_id, key). */
interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

/** `runs`: one row per run; params, tags and metrics live in their own tables. */
export interface RunsTable {
  /** 32 lowercase hex characters. */
  run_id: string;
  experiment_id: number;
  run_name: string;
  user_id: string;
  /** One of `RUN_STATUSES`. */
  status: string;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
  /** When the run moved to `deleted`; null while active. */
  deleted_time: number | null;
  /** The batch of its experiment's deletion when it was deleted with it; null otherwise. */
  deleted_batch: string | null;
}

/** `params` and `tags`: primary key (run_id, key), index on (key, value). */
interface KeyValueTable {
  run_id: string;
  key: string;
  value: string;
}

/** One metric point. In `metrics` (SQLite's history, see `SqlDialect.metricHistory`) the primary key is (run_id, key, step, timestamp, value, is_nan): an identical point logged twice is kept once. */
export interface MetricsTable {
  run_id: string;
  key: string;
  step: number;
  timestamp: number;
  /** 0 when `is_nan` is 1. */
  value: number;
  /** 1 for NaN, else 0. */
  is_nan: number;
}

/** The latest point per (run, key): greatest step, then timestamp, then value (NaN lowest). */
type LatestMetricsTable = MetricsTable;

/**
 * PostgreSQL's metric history (see `SqlDialect.metricHistory`): one row per (run, key) of each
 * logged batch, its points packed (see `metric-chunks.ts`). Index (run_id, key, first_step).
 */
interface MetricChunksTable {
  chunk_id: Generated<number>;
  run_id: string;
  key: string;
  /** Smallest and greatest step of the chunk's points. */
  first_step: number;
  last_step: number;
  /** Points in the chunk. */
  count: number;
  /** Step, timestamp and value of each point as little-endian doubles (NaN as NaN). */
  points: Uint8Array;
}

/**
 * Per (run, key, bucket width, bucket) summary of the history, maintained at ingest, so that
 * a downsampled read touches a few hundred rows instead of the whole history.
 * `bucket = floor(step / width)`. `first`/`last` are the points with the smallest/greatest
 * (step, timestamp); `min`/`max` ignore NaN (null when the bucket holds only NaN).
 * In this table a null `first_value`/`last_value` means NaN.
 */
interface MetricRollupsTable {
  run_id: string;
  key: string;
  width: number;
  bucket: number;
  /** Points merged into the bucket (an upper bound: re-logged identical points count twice). */
  count: number;
  first_step: number;
  first_timestamp: number;
  first_value: number | null;
  last_step: number;
  last_timestamp: number;
  last_value: number | null;
  min_step: number | null;
  min_timestamp: number | null;
  min_value: number | null;
  max_step: number | null;
  max_timestamp: number | null;
  max_value: number | null;
}

/** `datasets`: a dataset version, unique per (experiment_id, name, digest). */
interface DatasetsTable {
  /** 32 hex characters. */
  dataset_id: string;
  experiment_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

/** A run read a dataset version; unique per (dataset, run). */
interface InputsTable {
  input_id: string;
  dataset_id: string;
  run_id: string;
}

/** `input_tags`: tags of an input, e.g. `mlflow.data.context`. */
interface InputTagsTable {
  input_id: string;
  key: string;
  value: string;
}

/**
 * `api_tokens`: tokens of a server started with access control (see `0002-api-tokens.ts`).
 * Only the SHA-256 of a secret is stored, never the secret.
 */
export interface ApiTokensTable {
  /** 16 lowercase hex characters. */
  token_id: string;
  name: string;
  /** `reader` | `editor` | `admin`. */
  role: string;
  /** The first characters of the secret, for display. */
  prefix: string;
  /** Hex SHA-256 of the whole secret; unique. */
  token_hash: string;
  created_time: number;
  last_used_time: number | null;
  revoked_time: number | null;
}

/**
 * `idempotency_keys`: answers kept for requests sent with an `Idempotency-Key` (see
 * `0003-idempotency-keys.ts`). `status` is null while the request is being handled.
 */
interface IdempotencyKeysTable {
  /** Hex SHA-256 of credential, key, method and path. */
  scope: string;
  /** Hex SHA-256 of the request body. */
  fingerprint: string;
  status: number | null;
  /** JSON object of the replayed response headers. */
  headers: string | null;
  body: string | null;
  created_time: number;
}

/** `data_versions`: dataset versions recorded by `trestle data add` (see `0006-data-versions.ts`). */
export interface DataVersionsTable {
  name: string;
  digest: string;
  source: string;
  /** `file` | `dir`. */
  kind: string;
  size: number;
  files: number;
  schema: string | null;
  profile: string | null;
  created_time: number;
}

/** `registered_models` (see `0004-registry.ts`). */
export interface RegisteredModelsTable {
  model_id: Generated<number>;
  name: string;
  description: string;
  user_id: string;
  creation_time: number;
  last_updated_time: number;
  /** Highest version number given so far; the next version is this plus one. */
  last_version: number;
}

/** `registered_model_tags`: primary key (model_id, key). */
interface RegisteredModelTagsTable {
  model_id: number;
  key: string;
  value: string;
}

/** `model_versions`: primary key (model_id, version). */
export interface ModelVersionsTable {
  model_id: number;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string;
  user_id: string;
  source: string;
  run_id: string | null;
  run_link: string | null;
  /** MLflow 3 logged model id (`m-…`). */
  logged_model_id: string | null;
  status: string;
  status_message: string | null;
  stage: string;
}

/** `model_version_tags`: primary key (model_id, version, key). */
interface ModelVersionTagsTable {
  model_id: number;
  version: number;
  key: string;
  value: string;
}

/** `model_aliases`: primary key (model_id, alias). */
interface ModelAliasesTable {
  model_id: number;
  alias: string;
  version: number;
}

/** `registry_events`: the audit trail and event feed; `event_id` grows in commit order. */
export interface RegistryEventsTable {
  event_id: Generated<number>;
  type: string;
  time: number;
  actor: string;
  model_id: number | null;
  model: string;
  version: number | null;
  alias: string | null;
  old_version: number | null;
  new_version: number | null;
  reason: string | null;
  /** JSON object. */
  details: string | null;
}

/** `logged_models` (see `0005-logged-models.ts`). */
export interface LoggedModelsTable {
  /** `m-` + 32 hex. */
  model_id: string;
  experiment_id: number;
  name: string;
  creation_time: number;
  last_updated_time: number;
  /** PENDING | READY | FAILED. */
  status: string;
  status_message: string | null;
  model_type: string | null;
  source_run_id: string | null;
  creator: string;
  lifecycle_stage: string;
}

/** `logged_model_tags` and `logged_model_params`: primary key (model_id, key). */
interface LoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}

/** `logged_model_metrics`: points attached to a logged model; NaN as `is_nan = 1`, `value = 0`. */
interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  step: number;
  timestamp: number;
  value: number;
  is_nan: number;
  /** '' when unknown. */
  run_id: string;
  dataset_name: string;
  dataset_digest: string;
}

/** `run_model_io`: models a run read (`input`) or produced (`output`). */
interface RunModelIoTable {
  run_id: string;
  model_id: string;
  direction: string;
  step: number;
}

/** `inference_log_batches`: predictions as shipped by serving, one row per batch, fields as JSON arrays (see `0007-monitoring-stored-batches.ts`). */
interface InferenceLogBatchesTable {
  batch_id: Generated<number>;
  model_name: string;
  model_version: string;
  alias: string | null;
  start_time: number;
  end_time: number;
  rows: number;
  received_time: number;
  request_ids: string;
  times: string;
  latency_ms: string | null;
  keys: string | null;
  inputs: string;
  outputs: string;
}

/** `inference_log_ids`: one row per logged prediction (its batch and position), labels joined in place. */
interface InferenceLogIdsTable {
  request_id: string;
  model_name: string;
  model_version: string;
  batch_id: number;
  row: number;
  time: number;
  key: string | null;
  label: string | null;
  label_time: number | null;
}

/** `monitor_windows`: one row per window of a model version, with when it changed and was computed. */
interface MonitorWindowsTable {
  model_name: string;
  model_version: string;
  start_time: number;
  end_time: number;
  alias: string | null;
  changed_time: number;
  computed_time: number | null;
}

/** `monitor_window_parts`: window summaries as shipped (one per replica and window). */
interface MonitorWindowPartsTable {
  part_id: Generated<number>;
  model_name: string;
  model_version: string;
  start_time: number;
  end_time: number;
  summary: string;
  received_time: number;
}

/** `monitor_references`: the reference profile of a model version. */
interface MonitorReferencesTable {
  model_name: string;
  model_version: string;
  profile: string;
  created_time: number;
}

/** `monitor_results`: the computed result of a window. */
export interface MonitorResultsTable {
  model_name: string;
  model_version: string;
  start_time: number;
  end_time: number;
  alias: string | null;
  computed_time: number;
  rows: number;
  labelled: number;
  drift_share: number | null;
  dataset_drift: number;
  drift: string | null;
  quality: string | null;
  performance: string | null;
  error: string | null;
}

/** `monitor_alert_state`: whether an alert rule fires, per rule and model version. */
interface MonitorAlertStateTable {
  key: string;
  firing: number;
  since: number;
  value: number | null;
}

/** `monitor_pending_labels`: labels waiting for their prediction (see `0007-monitoring-pending-labels.ts`). */
interface MonitorPendingLabelsTable {
  pending_id: Generated<number>;
  request_id: string | null;
  key: string | null;
  label: string;
  label_time: number;
  received_time: number;
}

/** `monitor_leases`: named leases (one server replica runs the window job). */
interface MonitorLeasesTable {
  name: string;
  holder: string;
  expires_time: number;
}

/** The Kysely database type of the metadata store. */
/** `trace_info` (see `0008-traces.ts`): one row per trace. */
export interface TraceInfoTable {
  trace_id: string;
  experiment_id: number;
  request_time: number;
  /** Null while the trace is in progress. */
  execution_duration: number | null;
  /** One of `TRACE_STATES`. */
  state: string;
  client_request_id: string | null;
  request_preview: string | null;
  response_preview: string | null;
}

/** `trace_tags` and `trace_request_metadata`: primary key (trace_id, key). */
interface TraceKeyValueTable {
  trace_id: string;
  key: string;
  value: string;
}

/** `trace_run_links`: primary key (run_id, trace_id). */
interface TraceRunLinksTable {
  trace_id: string;
  run_id: string;
  created_time: number;
}

export interface MetadataDatabase {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  params: KeyValueTable;
  tags: KeyValueTable;
  metrics: MetricsTable;
  metric_chunks: MetricChunksTable;
  latest_metrics: LatestMetricsTable;
  metric_rollups: MetricRollupsTable;
  datasets: DatasetsTable;
  inputs: InputsTable;
  input_tags: InputTagsTable;
  api_tokens: ApiTokensTable;
  idempotency_keys: IdempotencyKeysTable;
  data_versions: DataVersionsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  model_aliases: ModelAliasesTable;
  registry_events: RegistryEventsTable;
  logged_models: LoggedModelsTable;
  logged_model_tags: LoggedModelKeyValueTable;
  logged_model_params: LoggedModelKeyValueTable;
  logged_model_metrics: LoggedModelMetricsTable;
  run_model_io: RunModelIoTable;
  inference_log_batches: InferenceLogBatchesTable;
  inference_log_ids: InferenceLogIdsTable;
  monitor_windows: MonitorWindowsTable;
  monitor_window_parts: MonitorWindowPartsTable;
  monitor_references: MonitorReferencesTable;
  monitor_results: MonitorResultsTable;
  monitor_alert_state: MonitorAlertStateTable;
  monitor_leases: MonitorLeasesTable;
  trace_info: TraceInfoTable;
  trace_tags: TraceKeyValueTable;
  trace_request_metadata: TraceKeyValueTable;
  trace_run_links: TraceRunLinksTable;
  monitor_pending_labels: MonitorPendingLabelsTable;
}
